//! Following a room: the one loop that keeps a room's [`RoomView`] current
//! from its client, for the single-room link and for every fleet room.
//!
//! The loop shows each connection state; on (re)connecting, and after
//! missed events (lag), reads the whole room again; folds pushed events
//! into the view; and re-reads a room that may not push (real devices may
//! not push their share state, protocol.md §5) — on the link's own
//! interval, or, for fleet rooms, when the fleet's poller says so within
//! its budget; never the in-process engine, which pushes every change.
//!
//! What differs is in the [`Room`] hooks: the single-room link records
//! traffic, reads roomshare's extension and turns failures into notices;
//! a fleet room counts its connections, schedules its polls and keeps its
//! link's last error.

use super::RoomView;
use super::fleet::{CallOutcome, FleetAction, Reach, RequestResult};
use super::view::Extension;
use crate::client::{Client, ClientError, ClientEvent, ConnState, TrafficEntry};
use crate::protocol::EventEnvelope;
use crate::protocol::answers::{
    MeetingInfoAnswer, ShareAnswer, ShareGuideAnswer, ShareSessionAnswer, SourcesAnswer,
};
use crate::protocol::codes;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Interval;

/// How much of the room to read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Depth {
    /// Share and meeting (and the extension's nodes once known to exist).
    Poll,
    /// Everything, after (re)connecting or missing events.
    Full,
}

/// A followed room: where its view lives, and what it does besides
/// folding answers and events into it.
pub(super) trait Room: Send + Sync + 'static {
    /// Read roomshare's extension too (sources, share session): the
    /// single-room console shows it; the fleet's light rooms do not.
    const EXTENSION: bool;

    /// Change the view (and tell whoever shows it, if it changed).
    fn update(&self, f: impl FnOnce(&mut RoomView));

    /// Look at the view.
    fn read<T>(&self, f: impl FnOnce(&RoomView) -> T) -> T;

    /// A read's answers came: fold them in (`failed`: why some read
    /// failed, `None` when all worked).
    fn answered(&self, fold: impl FnOnce(&mut RoomView), _failed: Option<String>) {
        self.update(fold);
    }

    /// The connection state moved.
    fn show_conn(&self, conn: ConnState) {
        self.update(|v| v.conn = conn);
    }

    /// The client (re)connected; a full read follows.
    fn connected(&self) {}

    /// The room pushed an event.
    fn event(&self, envelope: &EventEnvelope) {
        self.update(|v| v.apply_event(envelope));
    }

    /// A frame went out or came in (only clients that record traffic).
    fn traffic(&self, _entry: &TrafficEntry) {}

    /// A request to the room ended so (read, poll or call).
    fn requested(&self, _result: RequestResult) {}
}

/// A room and its client, cheap to clone into tasks.
pub(super) struct Follow<R> {
    room: Arc<R>,
    client: Client,
}

impl<R> Clone for Follow<R> {
    fn clone(&self) -> Self {
        Follow {
            room: self.room.clone(),
            client: self.client.clone(),
        }
    }
}

impl<R: Room> Follow<R> {
    pub fn new(room: Arc<R>, client: Client) -> Follow<R> {
        Follow { room, client }
    }

    /// Follow until the client stops; read the room again every
    /// `poll_every` while connected (`None`: someone else polls, or the
    /// room pushes everything).
    pub async fn run(
        self,
        mut events: broadcast::Receiver<ClientEvent>,
        poll_every: Option<Duration>,
    ) {
        // `events` predates the connection task, so no frame is missed; the
        // state may have moved on before this task ran, so show it now.
        let mut state = self.client.state();
        let initial = state.borrow_and_update().clone();
        if initial == ConnState::Connected {
            self.spawn_refresh(Depth::Full);
        }
        self.room.show_conn(initial);
        let mut poll = poll_every.map(interval);
        loop {
            tokio::select! {
                changed = state.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let conn = state.borrow_and_update().clone();
                    self.room.show_conn(conn);
                }
                event = events.recv() => {
                    if !self.on_client_event(event) {
                        return;
                    }
                }
                () = tick(&mut poll) => {
                    if self.room.read(RoomView::is_connected) {
                        self.spawn_refresh(Depth::Poll);
                    }
                }
            }
        }
    }

    /// Handle what the client reported; false when it has stopped.
    fn on_client_event(&self, event: Result<ClientEvent, RecvError>) -> bool {
        match event {
            Ok(ClientEvent::Connected) => {
                self.room.connected();
                self.spawn_refresh(Depth::Full);
            }
            Ok(ClientEvent::Event(envelope)) => self.room.event(&envelope),
            Ok(ClientEvent::Traffic(entry)) => self.room.traffic(&entry),
            // Missed events: the view may be stale, so read it all again.
            Err(RecvError::Lagged(_)) => self.spawn_refresh(Depth::Full),
            Err(RecvError::Closed) => return false,
        }
        true
    }

    pub fn spawn_refresh(&self, depth: Depth) {
        let follow = self.clone();
        tokio::spawn(async move { follow.refresh(depth).await });
    }

    /// Read the room's share and meeting state. A full read also reads the
    /// nodes that change only by events: the share guide (real devices
    /// answer 6 to it) and the extension's sources and share session; a
    /// poll reads the extension's too once it is known to exist.
    pub async fn refresh(&self, depth: Depth) {
        let c = &self.client;
        let (share, meeting) = tokio::join!(
            c.fetch_background::<ShareAnswer>(),
            c.fetch_background::<MeetingInfoAnswer>()
        );
        // Without the extension, the guide comes in the same change as the
        // share state (one `rooms watch` line, not two).
        let guide = match !R::EXTENSION && depth == Depth::Full {
            true => {
                let guide = c.fetch_background::<ShareGuideAnswer>().await;
                self.room.requested(RequestResult::of_read(&guide));
                guide.ok()
            }
            false => None,
        };
        self.room.requested(RequestResult::of_read(&share));
        self.room.requested(RequestResult::of_read(&meeting));
        let mut errors = Vec::new();
        if let Err(e) = &share {
            errors.push(format!("Query Share: {e}"));
        }
        if let Err(e) = &meeting {
            errors.push(format!("Query Meeting/MeetingInfo: {e}"));
        }
        let failed = (!errors.is_empty()).then(|| errors.join("; "));
        let fold = |v: &mut RoomView| {
            if let Ok(a) = share {
                v.apply_share(a.share);
            }
            if let Ok(a) = meeting {
                v.meeting = Some(a.meeting_info);
            }
            if let Some(g) = guide {
                v.share_guide_open = Some(g.share_guide_open);
            }
        };
        self.room.answered(fold, failed);
        let known = || self.room.read(|v| v.extension == Extension::Present);
        if R::EXTENSION && (depth == Depth::Full || known()) {
            self.read_extension().await;
        }
    }

    /// The share guide, and roomshare's source list and share session.
    async fn read_extension(&self) {
        let c = &self.client;
        let (guide, sources, session) = tokio::join!(
            c.fetch_background::<ShareGuideAnswer>(),
            c.fetch_background::<SourcesAnswer>(),
            c.fetch_background::<ShareSessionAnswer>()
        );
        self.room.requested(RequestResult::of_read(&guide));
        self.room.requested(RequestResult::of_read(&sources));
        self.room.requested(RequestResult::of_read(&session));
        self.room.update(|v| {
            if let Ok(a) = guide {
                v.share_guide_open = Some(a.share_guide_open);
            }
            match sources {
                Ok(a) => v.apply_sources(a),
                Err(e @ (ClientError::Refused { .. } | ClientError::Malformed { .. })) => {
                    v.without_extension(no_extension(&e));
                }
                Err(_) => {}
            }
            if let Ok(a) = session {
                v.apply_session(a.share_session);
            }
        });
    }

    /// Send `action` (waiting at most `timeout` for the answer, if given).
    /// A remote room is read again afterwards (real devices may not push
    /// the change); the in-process engine has already pushed it.
    pub async fn call(&self, action: FleetAction, timeout: Option<Duration>) -> CallOutcome {
        let (method, params) = action.request();
        let method = method.to_owned();
        let sent = self.client.request(&method, params);
        let answer = match timeout {
            None => Some(sent.await),
            Some(t) => tokio::time::timeout(t, sent).await.ok(),
        };
        let outcome = match answer {
            Some(answer) => {
                self.room.requested(RequestResult::of_answer(&answer));
                CallOutcome::of(action, answer)
            }
            None => {
                self.room.requested(RequestResult::Timeout);
                let t = timeout.unwrap_or_default();
                CallOutcome::unanswered(action, Reach::Timeout, format!("no answer within {t:?}"))
            }
        };
        if !self.room.read(|v| v.embedded) {
            self.spawn_refresh(Depth::Poll);
        }
        outcome
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

/// A periodic tick that runs late rather than in bursts.
pub(super) fn interval(period: Duration) -> Interval {
    let mut i = tokio::time::interval(period);
    i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    i
}

/// The next tick; never, without an interval.
async fn tick(poll: &mut Option<Interval>) {
    match poll {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}
