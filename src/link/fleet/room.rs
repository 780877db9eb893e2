//! One room of the fleet ([`FollowedRoom`]): its client, its task, and its
//! side of [following](crate::link) a room — what a fleet room adds to the
//! one loop: it counts its connections, keeps its link's last error,
//! marks when its state changed, and is polled by the fleet's poller
//! within the fleet's budget (not on a timer of its own).
//!
//! Each room has its own client (its own connection task) and its own
//! task here, so a room that is slow, refuses the password or sends
//! garbage holds up nothing but itself. It is kept light for hundreds of
//! rooms: no traffic log (the client reports no traffic, and its event
//! channel is small), no thumbnails, no source list (only `Share` and
//! `Meeting` are subscribed to, not roomshare's `RoomShare` extension).

use super::status::{FleetAction, RoomStatus};
use super::{CallOutcome, Reach, RequestCounts, RequestResult};
use crate::client::{Client, ClientOptions, ConnState};
use crate::link::follow::{Depth, Follow, Room};
use crate::link::{RoomView, Target};
use crate::protocol::EventEnvelope;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
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
struct Known {
    /// The row; answers and events fold into its view.
    status: RoomStatus,
    /// The link's last error (kept while it reconnects).
    conn_error: Option<String>,
    /// Why the last read of the share or meeting state failed.
    read_error: Option<String>,
}

/// One room the fleet follows: what it is, what is known about it, and
/// its running parts.
pub(super) struct FollowedRoom {
    pub name: String,
    pub target: Target,
    known: Mutex<Known>,
    client: Mutex<Option<Client>>,
    poll: Mutex<PollState>,
    task: Mutex<Option<AbortHandle>>,
    board: Arc<Board>,
    /// Every request sent to the room, by how it ended (not in the status:
    /// see `requests.rs`).
    pub requests: RequestCounts,
}

impl Room for FollowedRoom {
    const EXTENSION: bool = false;

    fn update(&self, f: impl FnOnce(&mut RoomView)) {
        self.change(|k| f(&mut k.status.view));
    }

    fn read<T>(&self, f: impl FnOnce(&RoomView) -> T) -> T {
        f(&self.known.lock().status.view)
    }

    /// A read that failed is the row's error while connected.
    fn answered(&self, fold: impl FnOnce(&mut RoomView), failed: Option<String>) {
        self.change(|k| {
            fold(&mut k.status.view);
            k.read_error = failed;
        });
    }

    /// Not connected: not polled. The link's error is kept until the
    /// next connection.
    fn show_conn(&self, conn: ConnState) {
        if conn != ConnState::Connected {
            *self.poll.lock() = PollState::default();
        }
        self.change(|k| {
            match &conn {
                ConnState::Reconnecting { last_error, .. } => {
                    k.conn_error = Some(last_error.clone());
                }
                ConnState::AuthFailed { .. } | ConnState::Closed { .. } => {
                    k.conn_error = Some(conn.to_string());
                }
                ConnState::Connected => k.conn_error = None,
                ConnState::Connecting => {}
            }
            k.status.view.conn = conn;
        });
    }

    /// Counted; a remote room is polled from one interval on (the
    /// connection's own full read is on its way); the in-process engine
    /// pushes every change and is not polled.
    fn connected(&self) {
        self.change(|k| k.status.connects += 1);
        if !self.target.is_embedded() {
            let mut poll = self.poll.lock();
            *poll = PollState::default();
            poll.due = Some(Instant::now() + self.board.intervals.silent);
        }
    }

    fn requested(&self, result: RequestResult) {
        self.requests.add(result);
    }

    /// A room that pushes its share state is polled less.
    fn event(&self, envelope: &EventEnvelope) {
        if matches!(envelope.event.node().0, "Share") {
            self.poll.lock().pushes = true;
        }
        self.update(|v| v.apply_event(envelope));
    }
}

impl FollowedRoom {
    pub fn new(name: &str, group: &str, target: Target, board: Arc<Board>) -> Arc<FollowedRoom> {
        let status = RoomStatus::new(name, group, target.label(), target.is_embedded());
        Arc::new(FollowedRoom {
            name: name.to_string(),
            known: Mutex::new(Known {
                status,
                conn_error: None,
                read_error: None,
            }),
            target,
            client: Mutex::new(None),
            poll: Mutex::new(PollState::default()),
            task: Mutex::new(None),
            board,
            requests: RequestCounts::default(),
        })
    }

    pub fn status(&self) -> RoomStatus {
        self.known.lock().status.clone()
    }

    pub fn set_group(&self, group: &str) {
        let changed = {
            let mut known = self.known.lock();
            let changed = known.status.group != group;
            known.status.group = group.to_string();
            changed
        };
        if changed {
            self.board.changed();
        }
    }

    /// Start the room's task on `runtime`.
    pub fn start(
        self: &Arc<FollowedRoom>,
        runtime: &tokio::runtime::Handle,
        options: ClientOptions,
    ) {
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

    /// Apply `f`; work out the row's error; mark the change time when the
    /// room's state moved, and tell the board when anything shown moved.
    fn change(&self, f: impl FnOnce(&mut Known)) {
        let changed = {
            let mut known = self.known.lock();
            let before = known.status.clone();
            f(&mut known);
            let k = &mut *known;
            k.status.error = match k.status.is_connected() {
                true => k.read_error.clone(),
                false => k.conn_error.clone(),
            };
            if !k.status.same_state(&before) {
                k.status.changed_at = Some(Instant::now());
            }
            k.status != before
        };
        if changed {
            self.board.changed();
        }
    }

    /// The room's life: start the client (which takes a turn at the
    /// fleet's connect gate for every attempt), then follow it until
    /// stopped; the fleet's poller does the polling.
    async fn run(self: Arc<FollowedRoom>, options: ClientOptions) {
        let endpoint = self.target.endpoint().clone();
        let (client, events) = Client::start_observed(endpoint, options);
        *self.client.lock() = Some(client.clone());
        Follow::new(self, client).run(events, None).await;
    }

    /// Claim the room for a poll if it is due; the caller then runs
    /// [`FollowedRoom::poll`].
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
    pub async fn poll(self: Arc<FollowedRoom>, intervals: Intervals) {
        let client = self.client.lock().clone();
        if let Some(client) = client {
            Follow::new(self.clone(), client).refresh(Depth::Poll).await;
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

    /// Send `action`; its outcome goes into the status and is returned.
    pub async fn call(
        self: Arc<FollowedRoom>,
        action: FleetAction,
        timeout: Duration,
    ) -> CallOutcome {
        let pending = CallOutcome::pending(action.clone());
        self.change(|k| k.status.last_call = Some(pending));
        let client = self.client.lock().clone();
        let outcome = match client {
            None => CallOutcome::unanswered(action, Reach::Unreachable, "not connected yet".into()),
            Some(c) => {
                Follow::new(self.clone(), c)
                    .call(action, Some(timeout))
                    .await
            }
        };
        let shown = outcome.clone();
        self.change(|k| k.status.last_call = Some(shown));
        outcome
    }
}
