//! The portal session shared by every capture worker, started on first use.

use super::LOG;
use super::error::PortalError;
use super::session::{PortalConfig, PortalSession};
use crate::capture::{Backend, CaptureError};
use crate::protocol::{CaptureState, CaptureStatus, SourceInfo};
use image::RgbaImage;
use parking_lot::{Condvar, Mutex};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Where the shared session stands.
#[derive(Clone)]
pub enum PortalStatus {
    /// Not asked yet (nothing has listed or captured).
    Idle,
    /// The portal is being asked (the dialog may be open).
    Asking,
    Ready(Arc<PortalSession>),
    /// Asking failed; it is not asked again until [`Portal::reset`].
    Failed(PortalError),
}

impl std::fmt::Debug for PortalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortalStatus::Idle => f.write_str("Idle"),
            PortalStatus::Asking => f.write_str("Asking"),
            PortalStatus::Ready(s) => write!(f, "Ready({} streams)", s.streams().len()),
            PortalStatus::Failed(e) => write!(f, "Failed({e})"),
        }
    }
}

struct Shared {
    config: PortalConfig,
    state: Mutex<(PortalStatus, u64)>,
    changed: Condvar,
}

/// One portal session for the whole process, started in the background on
/// first use so no capture worker (nor `Capture`'s shutdown) waits on the
/// dialog. Cheap to clone; every clone is the same session.
///
/// A failure (no portal, dialog cancelled) is kept and returned, never
/// retried on its own: a retry is a new dialog, which is for the user to
/// ask for ([`Portal::reset`]).
#[derive(Clone)]
pub struct Portal {
    shared: Arc<Shared>,
}

impl Portal {
    pub fn new(config: PortalConfig) -> Portal {
        Portal {
            shared: Arc::new(Shared {
                config,
                state: Mutex::new((PortalStatus::Idle, 0)),
                changed: Condvar::new(),
            }),
        }
    }

    /// A [`Backend`] on this session (one per capture worker).
    pub fn backend(&self) -> PortalBackend {
        PortalBackend {
            portal: self.clone(),
        }
    }

    /// Where it stands, without starting anything.
    pub fn status(&self) -> PortalStatus {
        self.shared.state.lock().0.clone()
    }

    /// The status, starting the background request when still `Idle`.
    pub fn poll(&self) -> PortalStatus {
        let mut state = self.shared.state.lock();
        if matches!(state.0, PortalStatus::Idle) {
            state.0 = PortalStatus::Asking;
            state.1 += 1;
            self.spawn_request(state.1);
        }
        state.0.clone()
    }

    /// Start if needed and wait up to `timeout` for the answer (for tools
    /// and tests; the UI uses [`Portal::poll`]). `Asking` when it timed out.
    pub fn wait(&self, timeout: Duration) -> PortalStatus {
        self.poll();
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state.lock();
        while matches!(state.0, PortalStatus::Asking) {
            if self
                .shared
                .changed
                .wait_until(&mut state, deadline)
                .timed_out()
            {
                break;
            }
        }
        state.0.clone()
    }

    /// Forget the session or the failure; the next use asks again (a
    /// dialog, unless the stored token restores the grant). The old
    /// session's streams stop once no capture holds it.
    pub fn reset(&self) {
        let mut state = self.shared.state.lock();
        let old = std::mem::replace(&mut state.0, PortalStatus::Idle);
        // A request still running belongs to the old generation: its
        // answer is dropped.
        state.1 += 1;
        drop(state);
        self.shared.changed.notify_all();
        // Closing the old session talks to PipeWire and D-Bus: not under
        // the lock.
        drop(old);
    }

    fn spawn_request(&self, generation: u64) {
        let weak = Arc::downgrade(&self.shared);
        let config = self.shared.config.clone();
        let spawned = std::thread::Builder::new()
            .name("roomshare-portal".into())
            .spawn(move || finish(&weak, generation, PortalSession::start(&config)));
        if let Err(e) = spawned {
            let mut state = self.shared.state.lock();
            state.0 = PortalStatus::Failed(PortalError::Protocol(format!(
                "cannot start the portal thread: {e}"
            )));
        }
    }
}

/// Publish a request's answer, unless the portal was reset or dropped
/// meanwhile (the session, if any, is then dropped and closed here).
fn finish(shared: &Weak<Shared>, generation: u64, result: Result<PortalSession, PortalError>) {
    let Some(shared) = shared.upgrade() else {
        return;
    };
    let mut state = shared.state.lock();
    if state.1 != generation {
        return;
    }
    state.0 = match result {
        Ok(session) => PortalStatus::Ready(Arc::new(session)),
        Err(e) => {
            tracing::warn!(target: LOG, "screen sharing portal: {e}");
            PortalStatus::Failed(e)
        }
    };
    drop(state);
    shared.changed.notify_all();
}

/// [`Backend`] over the shared [`Portal`] session: `list()` gives the chosen
/// streams (empty while the portal is being asked), `capture()` the newest
/// frame of one.
pub struct PortalBackend {
    portal: Portal,
}

impl Backend for PortalBackend {
    fn name(&self) -> &'static str {
        "portal"
    }

    fn list(&mut self) -> Result<Vec<SourceInfo>, CaptureError> {
        match self.portal.poll() {
            PortalStatus::Ready(session) => Ok(session.sources()),
            PortalStatus::Failed(e) => Err(e.into()),
            PortalStatus::Idle | PortalStatus::Asking => Ok(Vec::new()),
        }
    }

    fn capture(&mut self, source_id: &str) -> Result<RgbaImage, CaptureError> {
        match self.portal.poll() {
            PortalStatus::Ready(session) => session.capture(source_id),
            PortalStatus::Failed(e) => Err(e.into()),
            PortalStatus::Idle | PortalStatus::Asking => Err(CaptureError::Failed(
                "waiting for the screen sharing permission".into(),
            )),
        }
    }

    fn frame_age(&mut self, source_id: &str) -> Option<Duration> {
        match self.portal.status() {
            PortalStatus::Ready(session) => session.frame_age(source_id),
            _ => None,
        }
    }

    fn status(&mut self) -> CaptureStatus {
        match self.portal.status() {
            PortalStatus::Ready(_) => CaptureStatus::ok(),
            PortalStatus::Idle | PortalStatus::Asking => {
                CaptureStatus::not_ok(CaptureState::Waiting, WAITING)
            }
            PortalStatus::Failed(e) => e.capture_status(),
        }
    }

    /// Only a failure is asked again: a granted session keeps working, and
    /// a request under way already has its dialog open.
    fn retry(&mut self) {
        if let PortalStatus::Failed(e) = self.portal.status() {
            tracing::info!(target: LOG, "asking the screen sharing portal again (was: {e})");
            self.portal.reset();
        }
    }
}

/// What the wall and the tools say while the portal's dialog is up.
const WAITING: &str =
    "waiting for permission to capture the screen: allow screen sharing in the dialog that opened";
