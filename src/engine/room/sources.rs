//! The source list: what the capture layer publishes, how it is numbered,
//! and how a `StartShare` finds its source in it.

use super::{Room, SHARE_STOPPED_SOURCE_GONE, Step};
use crate::protocol::actions::ShareTarget;
use crate::protocol::answers::{CaptureDeviceListAnswer, SourcesAnswer};
use crate::protocol::codes::PARAMETER_ERROR;
use crate::protocol::model::{CaptureState, CaptureStatus, SourceInfo, SourceKind, number_sources};
use crate::protocol::{Event, EventEnvelope, RpcError, StartShare};

/// What the capture state says between `RetryCapture` and the capture
/// layer's own answer.
const ASKING_AGAIN: &str = "asking again for permission to capture";

impl Room {
    /// The `device_id`s of the capture devices, in list order.
    pub(super) fn capture_device_list(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter_map(|s| s.device_id.clone())
            .collect()
    }

    pub(super) fn sources_answer(&self) -> SourcesAnswer {
        SourcesAnswer {
            sources: self.sources.clone(),
            generation: self.generation,
            capture: self.capture.clone(),
        }
    }

    /// Where capture stands (from the capture catalog): a change is told
    /// as `SourcesChanged`, so remote consoles show the same reason.
    pub fn set_capture(&mut self, status: CaptureStatus) -> Step {
        let mut step = Step::default();
        if status != self.capture {
            self.capture = status;
            step.events.push(EventEnvelope::new(Event::SourcesChanged(
                self.sources_answer(),
            )));
        }
        step
    }

    /// `RetryCapture`: the capture catalog sees the count move (in the
    /// snapshot) and asks again. A failed capture shows as waiting at once,
    /// so the console does not keep showing the old refusal meanwhile.
    pub(super) fn retry_capture(&mut self, step: &mut Step) {
        self.capture_retries += 1;
        if !self.capture.is_ok() {
            let waiting = CaptureStatus::not_ok(CaptureState::Waiting, ASKING_AGAIN);
            step.events.extend(self.set_capture(waiting).events);
        }
    }

    /// Replace the source list (from the capture catalog). Indices are
    /// assigned here: desktop 0, windows 1..n in the given order; capture
    /// devices keep their id as `device_id`.
    pub fn set_sources(&mut self, sources: Vec<SourceInfo>) -> Step {
        let mut step = Step::default();
        let sources = number_sources(sources);
        if sources == self.sources {
            return step;
        }
        let ids = |list: &[SourceInfo]| {
            list.iter()
                .map(|s| (s.id.clone(), s.select_index))
                .collect::<Vec<_>>()
        };
        if ids(&sources) != ids(&self.sources) {
            self.generation += 1;
        }
        let devices_before = self.capture_device_list();
        self.sources = sources;
        step.events.push(EventEnvelope::new(Event::SourcesChanged(
            self.sources_answer(),
        )));
        let devices = self.capture_device_list();
        if devices != devices_before {
            step.events
                .push(EventEnvelope::new(Event::CaptureDeviceListChanged(
                    CaptureDeviceListAnswer {
                        capture_device_list: devices,
                    },
                )));
        }
        self.follow_shared_source(&mut step);
        step
    }

    /// After a new source list: the own share stops if its source is gone,
    /// and takes the new details if it was renamed or resized.
    fn follow_shared_source(&mut self, step: &mut Step) {
        let Some(own) = &self.own_share else {
            return;
        };
        match self.sources.iter().find(|s| s.id == own.source.id) {
            None => {
                let reason = format!("{SHARE_STOPPED_SOURCE_GONE}: {:?} closed", own.source.title);
                self.stop_own_share(step, &reason);
            }
            Some(now) if now != &own.source => {
                // Renamed or resized: keep sharing, with the new details.
                let session_before = self.own_share.clone();
                if let Some(own) = self.own_share.as_mut() {
                    own.source = now.clone();
                }
                self.push_share_changes(&self.share_info(), &session_before, step, None);
            }
            Some(_) => {}
        }
    }

    /// Find the source a StartShare names, against the current list.
    pub(super) fn resolve(&self, start: &StartShare) -> Result<SourceInfo, RpcError> {
        if let (ShareTarget::Index(_), Some(generation)) = (&start.target, start.generation)
            && generation != self.generation
        {
            return Err(RpcError::new(
                PARAMETER_ERROR,
                format!(
                    "stale source list: select_index was computed against generation {generation}, the current list is generation {}; refresh and try again",
                    self.generation
                ),
            ));
        }
        let source = match &start.target {
            ShareTarget::Index(i) => self.by_index(*i)?,
            ShareTarget::Device(id) => self.by_device(id.as_deref())?,
        };
        match &source.unavailable {
            Some(why) => Err(RpcError::new(
                PARAMETER_ERROR,
                format!("{:?} cannot be shared right now: {why}", source.title),
            )),
            None => Ok(source),
        }
    }

    /// The screen or window a `select_index` names.
    fn by_index(&self, i: u32) -> Result<SourceInfo, RpcError> {
        if let Some(s) = self.sources.iter().find(|s| s.select_index == Some(i)) {
            return Ok(s.clone());
        }
        let count = |kind| self.sources.iter().filter(|s| s.kind == kind).count();
        let (monitors, windows) = (count(SourceKind::Monitor), count(SourceKind::Window));
        Err(RpcError::new(
            PARAMETER_ERROR,
            format!(
                "`select_index` {i} is beyond the source list: 0 = desktop, then {monitors} monitor(s), then {windows} window(s)"
            ),
        ))
    }

    /// The capture device a `device_id` names (`None`: the first one).
    fn by_device(&self, id: Option<&str>) -> Result<SourceInfo, RpcError> {
        let devices = || {
            self.sources
                .iter()
                .filter(|s| s.kind == SourceKind::CaptureDevice)
        };
        let found = match id {
            None => devices().next(),
            Some(id) => devices().find(|s| s.device_id.as_deref() == Some(id)),
        };
        found.cloned().ok_or_else(|| {
            let list = self.capture_device_list();
            let message = match id {
                None => {
                    "no capture device is available (`capture_device_list` is empty)".to_string()
                }
                Some(id) => format!("unknown `device_id` {id:?}; capture_device_list: {list:?}"),
            };
            RpcError::new(PARAMETER_ERROR, message)
        })
    }
}
