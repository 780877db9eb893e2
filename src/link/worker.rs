//! The link's background work: keep the [`RoomView`] current from typed
//! answers and pushed events, poll remote rooms (devices may not push),
//! fetch remote thumbnails, and turn failed calls into notices.

use super::thumbnails::RemoteThumbnails;
use super::view::{Extension, stop_reason};
use super::{NO_ANSWER, Notice, Shared, Subject};
use crate::client::{Client, ClientError, ClientEvent, ConnState};
use crate::media::ThumbnailStore;
use crate::protocol::EventEnvelope;
use crate::protocol::answers::{
    MeetingInfoAnswer, ShareAnswer, ShareGuideAnswer, ShareSessionAnswer, SourcesAnswer,
};
use crate::protocol::codes;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

/// How often a remote room is re-queried: real devices may not push Share
/// events (protocol.md §5), and field controllers poll about once a second.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How often remote thumbnails are refreshed.
const THUMBNAIL_INTERVAL: Duration = Duration::from_millis(1500);

/// How much of the room to read again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// Share and meeting (and the extension's nodes once known to exist).
    Poll,
    /// Everything, after (re)connecting or missing events.
    Full,
}

/// The link's view of the client, cheap to clone into tasks.
#[derive(Clone)]
pub(super) struct Worker {
    client: Client,
    shared: Arc<Shared>,
    /// The in-process engine pushes every change: no polling.
    embedded: bool,
}

impl Worker {
    pub fn new(client: Client, shared: Arc<Shared>, embedded: bool) -> Worker {
        Worker {
            client,
            shared,
            embedded,
        }
    }

    /// Run until the client stops.
    pub async fn run(self, mut events: broadcast::Receiver<ClientEvent>, store: ThumbnailStore) {
        // `events` predates the connection task, so no frame is missed; the
        // state may have moved on before this task ran, so show it now.
        let mut state = self.client.state();
        let initial = state.borrow_and_update().clone();
        if initial == ConnState::Connected {
            self.spawn_refresh(Depth::Full);
        }
        self.show_conn(initial);
        let mut poll = interval(POLL_INTERVAL);
        let mut thumb_tick = interval(THUMBNAIL_INTERVAL);
        let mut remote_thumbnails = RemoteThumbnails::default();
        loop {
            tokio::select! {
                changed = state.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let conn = state.borrow_and_update().clone();
                    self.show_conn(conn);
                }
                event = events.recv() => {
                    if !self.on_client_event(event) {
                        return;
                    }
                }
                _ = poll.tick(), if !self.embedded => {
                    if self.shared.view().conn == ConnState::Connected {
                        self.spawn_refresh(Depth::Poll);
                    }
                }
                _ = thumb_tick.tick(), if !self.embedded => {
                    let view = self.shared.view();
                    if view.conn == ConnState::Connected && view.extension == Extension::Present {
                        remote_thumbnails.fetch_all(&self.client, &view.sources, &store, &self.shared).await;
                    }
                }
            }
        }
    }

    /// Handle what the client reported; false when it has stopped.
    fn on_client_event(&self, event: Result<ClientEvent, RecvError>) -> bool {
        match event {
            Ok(ClientEvent::Connected) => self.spawn_refresh(Depth::Full),
            Ok(ClientEvent::Event(envelope)) => self.apply_event(&envelope),
            // Wakes the UI only when the pane shows it.
            Ok(ClientEvent::Traffic(entry)) => self.shared.record((*entry).clone()),
            // Missed events: the view may be stale, so read it all again.
            Err(RecvError::Lagged(_)) => self.spawn_refresh(Depth::Full),
            Err(RecvError::Closed) => return false,
        }
        true
    }

    /// Show the connection state; an auth failure is also a toast.
    fn show_conn(&self, conn: ConnState) {
        if let ConnState::AuthFailed { code, message } = &conn {
            self.shared.notify(Notice {
                subject: Subject::Connect,
                code: *code,
                message: message.clone(),
            });
        }
        self.shared.update(|v| v.conn = conn);
    }

    fn apply_event(&self, envelope: &EventEnvelope) {
        self.shared.update(|v| v.apply_event(envelope));
        if let Some(reason) = stop_reason(envelope) {
            self.shared.notify(Notice {
                subject: Subject::ShareStopped,
                code: envelope.error_code,
                message: reason.to_string(),
            });
        }
    }

    fn spawn_refresh(&self, depth: Depth) {
        let worker = self.clone();
        tokio::spawn(async move { worker.refresh(depth).await });
    }

    /// Read the room's state. A full read also reads the nodes that change
    /// only by events (sources, share guide, share session).
    async fn refresh(&self, depth: Depth) {
        let c = &self.client;
        let (share, meeting) = tokio::join!(
            c.fetch_background::<ShareAnswer>(),
            c.fetch_background::<MeetingInfoAnswer>()
        );
        if let Ok(a) = share {
            self.shared.update(|v| v.apply_share(a.share));
        }
        if let Ok(a) = meeting {
            self.shared.update(|v| v.meeting = Some(a.meeting_info));
        }
        if depth == Depth::Poll && self.shared.view().extension != Extension::Present {
            return;
        }
        let (guide, sources, session) = tokio::join!(
            c.fetch_background::<ShareGuideAnswer>(),
            c.fetch_background::<SourcesAnswer>(),
            c.fetch_background::<ShareSessionAnswer>()
        );
        if let Ok(a) = guide {
            self.shared
                .update(|v| v.share_guide_open = Some(a.share_guide_open));
        }
        match sources {
            Ok(a) => self.shared.update(|v| v.apply_sources(a)),
            Err(e @ (ClientError::Refused { .. } | ClientError::Malformed { .. })) => {
                let reason = no_extension(&e);
                self.shared.update(|v| {
                    v.extension = Extension::Absent(reason);
                    v.sources.clear();
                    v.generation = None;
                });
            }
            Err(_) => {}
        }
        if let Ok(a) = session {
            self.shared.update(|v| v.apply_session(a.share_session));
        }
    }

    /// Send one call; a failure becomes a notice. A remote room is read
    /// again afterwards (real devices may not push the change); the embedded
    /// engine has already pushed it.
    pub async fn call(&self, method: &'static str, params: Value, subject: Subject) {
        let failure = match self.client.request(method, params).await {
            Ok(r) if r.is_ok() => None,
            Ok(r) => Some((r.error_code, r.message)),
            Err(ClientError::Protocol { code, message })
            | Err(ClientError::AuthFailed { code, message }) => Some((code, message)),
            Err(e) => Some((NO_ANSWER, e.to_string())),
        };
        if let Some((code, message)) = failure {
            self.shared.notify(Notice {
                subject,
                code,
                message,
            });
        }
        if !self.embedded {
            self.refresh(Depth::Poll).await;
        }
    }
}

/// Why a room has no source extension, in words for the wall.
fn no_extension(error: &ClientError) -> String {
    match error {
        ClientError::Refused { code, .. } => format!(
            "the room answered {code} {} to [\"RoomShare\",\"Sources\"]: it is a Rooms device without roomshare's source extension, so only its capture devices are listed and no thumbnails are available",
            codes::meaning(*code).unwrap_or("")
        ),
        other => format!("the room's source list could not be read: {other}"),
    }
}

fn interval(period: Duration) -> tokio::time::Interval {
    let mut i = tokio::time::interval(period);
    i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    i
}
