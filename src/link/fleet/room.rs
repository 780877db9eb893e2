//! One room of the fleet: its client, its task, and how answers and events
//! fold into its [`RoomStatus`].
//!
//! Each room has its own client (its own connection task) and its own
//! task here, so a room that is slow, refuses the password or sends
//! garbage holds up nothing but itself. It is kept light for hundreds of
//! rooms: no traffic log (the client reports no traffic, and its event
//! channel is small),
//! no thumbnails, no source list (only `Share` and `Meeting` are
//! subscribed to, not roomshare's `RoomShare` extension).

use super::status::{CallResult, FleetAction, RoomStatus};
use crate::client::{Client, ClientError, ClientEvent, ClientOptions, ConnState};
use crate::link::{NO_ANSWER, RoomView, Target};
use crate::protocol::answers::{MeetingInfoAnswer, ShareAnswer, ShareGuideAnswer};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::AbortHandle;

/// Where rooms report that something changed: the snapshot is rebuilt on
/// the next read, and the UI is woken.
pub(super) struct Board {
    dirty: AtomicBool,
    on_change: Arc<dyn Fn() + Send + Sync>,
    /// The fleet's poll intervals (for a room's first poll).
    intervals: Intervals,
}

impl Board {
    pub fn new(on_change: Arc<dyn Fn() + Send + Sync>, intervals: Intervals) -> Board {
        Board {
            dirty: AtomicBool::new(true),
            on_change,
            intervals,
        }
    }

    pub fn changed(&self) {
        self.dirty.store(true, Ordering::Release);
        (self.on_change)();
    }

    /// True once per change (or batch of changes) since the last call.
    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }
}

/// How often a room is read again when it does not push (or does).
#[derive(Debug, Clone, Copy)]
pub(super) struct Intervals {
    pub silent: Duration,
    pub pushing: Duration,
}

/// When the room is next read by the poller.
#[derive(Debug, Default)]
struct PollState {
    /// `None`: not to be polled now (not connected, or in-process).
    due: Option<Instant>,
    in_flight: bool,
    /// It pushed a Share event on this connection: it can be trusted to
    /// push, and is polled only as a safety net.
    pushes: bool,
}

/// The room's state, behind one lock.
struct Fold {
    status: RoomStatus,
    /// Answers and events fold into a [`RoomView`] exactly as in the
    /// single-room console; the status copies what the Rooms view shows.
    view: RoomView,
    conn_error: Option<String>,
    read_error: Option<String>,
}

impl Fold {
    /// Copy the view into the status.
    fn sync(&mut self) {
        let v = &self.view;
        self.status.conn = v.conn.clone();
        self.status.meeting = v.meeting.clone();
        self.status.share_info = v.share_info.clone();
        self.status.cast_code = v.cast_code.clone();
        self.status.share_guide_open = v.share_guide_open;
        self.status.error = if v.conn == ConnState::Connected {
            self.read_error.clone()
        } else {
            self.conn_error.clone()
        };
    }
}

/// One room: what it is, what is known about it, and its running parts.
pub(super) struct Slot {
    pub name: String,
    pub target: Target,
    fold: Mutex<Fold>,
    client: Mutex<Option<Client>>,
    poll: Mutex<PollState>,
    task: Mutex<Option<AbortHandle>>,
    board: Arc<Board>,
}

impl Slot {
    pub fn new(name: &str, group: &str, target: Target, board: Arc<Board>) -> Arc<Slot> {
        let label = target.label();
        let embedded = target.is_embedded();
        Arc::new(Slot {
            name: name.to_string(),
            fold: Mutex::new(Fold {
                status: RoomStatus::new(name, group, label.clone(), embedded),
                view: RoomView::empty(label, embedded),
                conn_error: None,
                read_error: None,
            }),
            target,
            client: Mutex::new(None),
            poll: Mutex::new(PollState::default()),
            task: Mutex::new(None),
            board,
        })
    }

    pub fn status(&self) -> RoomStatus {
        self.fold.lock().status.clone()
    }

    pub fn set_group(&self, group: &str) {
        let changed = {
            let mut fold = self.fold.lock();
            let changed = fold.status.group != group;
            fold.status.group = group.to_string();
            changed
        };
        if changed {
            self.board.changed();
        }
    }

    /// Start the room's task on `runtime`.
    pub fn start(self: &Arc<Slot>, runtime: &tokio::runtime::Handle, options: ClientOptions) {
        let task = runtime.spawn(self.clone().run(options));
        *self.task.lock() = Some(task.abort_handle());
    }

    /// Stop the task; the client's connection ends with the last handle.
    pub fn stop(&self) {
        if let Some(task) = self.task.lock().take() {
            task.abort();
        }
        self.client.lock().take();
    }

    pub fn reconnect(&self) {
        if let Some(client) = self.client.lock().as_ref() {
            client.reconnect();
        }
    }

    /// Apply `f`; mark the change time when the room's state moved, and
    /// tell the board when anything shown moved.
    fn update(&self, f: impl FnOnce(&mut Fold)) {
        let changed = {
            let mut fold = self.fold.lock();
            let before = fold.status.clone();
            f(&mut fold);
            fold.sync();
            if !fold.status.same_state(&before) {
                fold.status.changed_at = Some(Instant::now());
            }
            fold.status != before
        };
        if changed {
            self.board.changed();
        }
    }

    /// The room's life: start the client (which takes a turn at the
    /// fleet's connect gate for every attempt), then follow its state and
    /// events until stopped.
    async fn run(self: Arc<Slot>, options: ClientOptions) {
        let endpoint = self.target.endpoint().clone();
        let (client, mut events) = Client::start_observed(endpoint, options);
        *self.client.lock() = Some(client.clone());
        let mut state = client.state();
        let initial = state.borrow_and_update().clone();
        self.show_conn(initial);
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
                    if !self.on_client_event(event, &client) {
                        return;
                    }
                }
            }
        }
    }

    fn show_conn(&self, conn: ConnState) {
        let connected = conn == ConnState::Connected;
        if !connected {
            *self.poll.lock() = PollState::default();
        }
        self.update(|f| {
            match &conn {
                ConnState::Reconnecting { last_error, .. } => {
                    f.conn_error = Some(last_error.clone());
                }
                ConnState::AuthFailed { .. } | ConnState::Closed { .. } => {
                    f.conn_error = Some(conn.to_string());
                }
                ConnState::Connected => f.conn_error = None,
                ConnState::Connecting => {}
            }
            f.view.conn = conn;
        });
    }

    /// Handle what the client reported; false when it has stopped.
    fn on_client_event(
        self: &Arc<Slot>,
        event: Result<ClientEvent, RecvError>,
        client: &Client,
    ) -> bool {
        match event {
            Ok(ClientEvent::Connected) => {
                self.update(|f| f.status.connects += 1);
                self.schedule_first_poll();
                self.spawn_refresh(client, true);
            }
            Ok(ClientEvent::Event(envelope)) => {
                if matches!(envelope.event.node().0, "Share") {
                    self.poll.lock().pushes = true;
                }
                self.update(|f| f.view.apply_event(&envelope));
            }
            // Off in the fleet's clients (`traffic: false`).
            Ok(ClientEvent::Traffic(_)) => {}
            // Missed events: read it all again.
            Err(RecvError::Lagged(_)) => self.spawn_refresh(client, true),
            Err(RecvError::Closed) => return false,
        }
        true
    }

    /// Remote rooms are polled from one interval on (the connection's own
    /// full read has just been sent); the in-process engine pushes every
    /// change and is not polled.
    fn schedule_first_poll(&self) {
        if !self.target.is_embedded() {
            let mut poll = self.poll.lock();
            *poll = PollState::default();
            poll.due = Some(Instant::now() + self.board.intervals.silent);
        }
    }

    fn spawn_refresh(self: &Arc<Slot>, client: &Client, full: bool) {
        let (slot, client) = (self.clone(), client.clone());
        tokio::spawn(async move { slot.refresh(&client, full).await });
    }

    /// Read the share and meeting state (and, in full, the share guide:
    /// it changes only by events, and real devices answer 6 to it).
    async fn refresh(&self, client: &Client, full: bool) {
        let (share, meeting) = tokio::join!(
            client.fetch_background::<ShareAnswer>(),
            client.fetch_background::<MeetingInfoAnswer>()
        );
        let guide = match full {
            true => client.fetch_background::<ShareGuideAnswer>().await.ok(),
            false => None,
        };
        self.update(|f| {
            let mut errors = Vec::new();
            match share {
                Ok(a) => f.view.apply_share(a.share),
                Err(e) => errors.push(format!("Query Share: {e}")),
            }
            match meeting {
                Ok(a) => f.view.meeting = Some(a.meeting_info),
                Err(e) => errors.push(format!("Query Meeting/MeetingInfo: {e}")),
            }
            if let Some(g) = guide {
                f.view.share_guide_open = Some(g.share_guide_open);
            }
            f.read_error = (!errors.is_empty()).then(|| errors.join("; "));
        });
    }

    /// Claim the room for a poll if it is due; the caller then runs
    /// [`Slot::poll`].
    pub fn take_due(&self, now: Instant) -> bool {
        let mut poll = self.poll.lock();
        let due = poll.due.is_some_and(|d| d <= now) && !poll.in_flight;
        if due {
            poll.in_flight = true;
        }
        due
    }

    /// One poll; the next is due an interval after this one ends, so a
    /// slow room is never asked again before it answered.
    pub async fn poll(self: Arc<Slot>, intervals: Intervals) {
        let client = self.client.lock().clone();
        if let Some(client) = client {
            self.refresh(&client, false).await;
        }
        let mut poll = self.poll.lock();
        poll.in_flight = false;
        if poll.due.is_some() {
            let wait = match poll.pushes {
                true => intervals.pushing,
                false => intervals.silent,
            };
            poll.due = Some(Instant::now() + wait);
        }
    }

    /// Send `action`; its outcome goes into the status and is returned. A
    /// remote room is read again afterwards (devices may not push).
    pub async fn call(self: Arc<Slot>, action: FleetAction, timeout: Duration) -> CallResult {
        let pending = CallResult::pending(action.clone());
        self.update(|f| f.status.last_call = Some(pending));
        let client = self.client.lock().clone();
        let (code, message) = match &client {
            None => (NO_ANSWER, "not connected yet".to_string()),
            Some(c) => ask(c, &action, timeout).await,
        };
        let result = CallResult {
            action,
            code: Some(code),
            message,
            at: Instant::now(),
        };
        let shown = result.clone();
        self.update(|f| f.status.last_call = Some(shown));
        if let Some(c) = client.filter(|_| !self.target.is_embedded()) {
            self.spawn_refresh(&c, false);
        }
        result
    }
}

/// One request, as `(code, message)`; [`NO_ANSWER`] when none came.
async fn ask(client: &Client, action: &FleetAction, timeout: Duration) -> (i64, String) {
    let (method, params) = action.request();
    match tokio::time::timeout(timeout, client.request(method, params)).await {
        Err(_) => (NO_ANSWER, format!("no answer within {timeout:?}")),
        Ok(Ok(r)) => (r.error_code, r.message),
        Ok(Err(ClientError::Protocol { code, message }))
        | Ok(Err(ClientError::AuthFailed { code, message })) => (code, message),
        Ok(Err(e)) => (NO_ANSWER, e.to_string()),
    }
}
