//! [`RoomView`]: everything the console shows about a room, and how typed
//! answers and events fold into it.

use crate::client::ConnState;
use crate::protocol::answers::{ShareNode, ShareSession, SourcesAnswer};
use crate::protocol::model::{MeetingInfo, ShareInfo, SourceInfo};
use crate::protocol::{Event, EventEnvelope};

/// Whether the peer speaks roomshare's `RoomShare` extension (sources and
/// thumbnails). Real devices do not.
#[derive(Debug, Clone, PartialEq)]
pub enum Extension {
    Unknown,
    Present,
    /// Why thumbnails are absent (e.g. "the device answered 6 Query Path Error").
    Absent(String),
}

/// Everything the console shows about the room. `None` = not known yet.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomView {
    /// "embedded" or the URL.
    pub label: String,
    pub embedded: bool,
    pub conn: ConnState,
    pub share_info: Option<ShareInfo>,
    pub meeting: Option<MeetingInfo>,
    pub cast_code: Option<String>,
    pub capture_device_list: Vec<String>,
    pub share_guide_open: Option<bool>,
    pub extension: Extension,
    /// The source list and its generation (with the extension). Without it,
    /// the UI builds tiles from `capture_device_list` and the desktop.
    pub sources: Vec<SourceInfo>,
    pub generation: Option<u64>,
    /// This engine's own share (with the extension), while it shares.
    pub share_session: Option<ShareSession>,
    /// A reason the last share stopped by itself (source vanished).
    pub last_stop_reason: Option<String>,
}

impl RoomView {
    /// Nothing known yet: the view before the first answer.
    pub fn empty(label: String, embedded: bool) -> RoomView {
        RoomView {
            label,
            embedded,
            conn: ConnState::Connecting,
            share_info: None,
            meeting: None,
            cast_code: None,
            capture_device_list: Vec::new(),
            share_guide_open: None,
            extension: Extension::Unknown,
            sources: Vec::new(),
            generation: None,
            share_session: None,
            last_stop_reason: None,
        }
    }

    /// The Share module's answer; members the device left out keep their
    /// last known value.
    pub fn apply_share(&mut self, node: ShareNode) {
        if let Some(info) = node.share_info {
            self.share_info = Some(info);
        }
        if let Some(code) = node.cast_code {
            self.cast_code = Some(code);
        }
        self.capture_device_list = node.capture_device_list;
    }

    pub fn apply_sources(&mut self, answer: SourcesAnswer) {
        self.extension = Extension::Present;
        self.sources = answer.sources;
        self.generation = Some(answer.generation);
    }

    pub fn apply_session(&mut self, session: ShareSession) {
        self.share_session = session.is_active().then_some(session);
    }

    /// Fold one pushed event into the view.
    pub fn apply_event(&mut self, envelope: &EventEnvelope) {
        match &envelope.event {
            Event::ShareInfoChanged(a) => {
                self.share_info = Some(a.share_info.clone());
                if let Some(reason) = stop_reason(envelope) {
                    self.last_stop_reason = Some(reason.to_string());
                }
            }
            Event::CastCodeChanged(a) => self.cast_code = Some(a.cast_code.clone()),
            Event::CaptureDeviceListChanged(a) => {
                self.capture_device_list = a.capture_device_list.clone();
            }
            Event::ShareGuideChanged(a) => self.share_guide_open = Some(a.share_guide_open),
            Event::SourcesChanged(a) => self.apply_sources(a.clone()),
            Event::ShareSessionChanged(a) => self.apply_session(a.share_session.clone()),
            Event::JoinMeetingCompleted(a) => self.meeting = Some(a.meeting_info.clone()),
            Event::MeetingStatusChanged(a) | Event::LeaveMeeting(a) | Event::DissolveMeeting(a) => {
                self.meeting = Some(a.meeting_info.clone());
            }
            Event::Other { .. } => {}
        }
    }
}

/// Why a share stopped by itself, when an event says so.
pub fn stop_reason(envelope: &EventEnvelope) -> Option<&str> {
    let forced = envelope.error_code != 0 && !envelope.message.is_empty();
    (forced && matches!(envelope.event, Event::ShareInfoChanged(_))).then_some(&envelope.message)
}
