//! Many rooms at once: every room's share state live, and actions on many
//! of them — the engine room of the console's Rooms view and of `roomshare
//! rooms …`.
//!
//! # The parts
//!
//! - [`RoomsFile`]: the rooms list (TOML), loaded with every check done
//!   (errors carry the line), edited and written back atomically
//!   ([`RoomsFile::add`], [`RoomsFile::update`], [`RoomsFile::remove`]),
//!   passwords by the `.pgpass` rule: an inline `password` or a
//!   `password_file` only in a file that its owner alone can read.
//! - [`Fleet`]: one light link per room, each independent of the others
//!   (its own connection task and its own task here), so a room that is
//!   slow, unreachable, refuses the password or sends garbage delays no
//!   other room's state or actions. Connecting is parallel but bounded
//!   ([`FleetOptions::max_connecting`]); reconnects back off with jitter,
//!   capped ([`FleetOptions::backoff_max`]); rooms that do not push their
//!   share state are polled by one poller within one budget for the whole
//!   fleet, round-robin ([`FleetOptions::poll_budget`]).
//! - [`probe`] and [`call_once`]: one-shot visits for the command line.
//!
//! # For the Rooms view
//!
//! The view never blocks: [`Fleet::rooms`] is a cheap snapshot (rebuilt at
//! most once per change, shared as an `Arc` until the next), `on_change`
//! wakes the UI, and every action returns at once; its per-room outcome
//! appears in [`RoomStatus::last_call`] ("done", or the code and its
//! meaning: [`CallOutcome::summary`]).
//!
//! ```no_run
//! # fn wiring(runtime: &tokio::runtime::Handle, embedded: roomshare::link::Target,
//! #           ctx_repaint: std::sync::Arc<dyn Fn() + Send + Sync>) -> Result<(), Box<dyn std::error::Error>> {
//! use roomshare::link::fleet::{self, Fleet, FleetOptions, PasswordSource, RoomEntry, RoomsFile};
//! use roomshare::protocol::ShareAction;
//!
//! // At start (app.rs): the file, or the embedded engine alone when there is none yet.
//! let path = RoomsFile::default_path().expect("a config folder");
//! let mut file = RoomsFile::load_or_new(&path)?; // Err: show `e` (path:line: reason)
//! let rooms = fleet::starting_rooms(&file, Some(embedded))?;
//! let fleet = Fleet::start(rooms, runtime, ctx_repaint, FleetOptions::default());
//!
//! // Every frame: one row per room.
//! for room in fleet.rooms().iter() {
//!     let _row = (&room.name, &room.group, room.conn.to_string(), room.meeting_text(),
//!                 room.sharer(), &room.cast_code, &room.error,
//!                 room.last_call.as_ref().map(|c| c.summary()));
//! }
//!
//! // Stop sharing in the selected rooms; results arrive in `last_call`.
//! let selected = vec!["12F Everest".to_string(), "12F K2".to_string()];
//! fleet.call(&selected, ShareAction::StopShare);
//!
//! // Add a room from the dialog: written to the file, then the fleet follows.
//! fleet.add(&mut file, RoomEntry::new("13F Lhotse", "ws://10.0.13.7:6295", "13F",
//!                                     PasswordSource::Env("ROOMS_PW_LHOTSE".into())))?;
//!
//! // Open one room in the single-room view.
//! if let Some(target) = fleet.target("12F Everest") {
//!     let _link = roomshare::link::Link::start(target, runtime, std::sync::Arc::new(|| {}));
//! }
//! # Ok(()) }
//! ```

// Windows access lists: used on Windows, tested everywhere.
#[cfg(any(windows, test))]
mod acl;
mod edit;
mod file;
pub mod keychain;
mod outcome;
mod poll;
mod probe;
mod requests;
mod room;
mod secrets;
mod status;

pub use file::{PasswordSource, RoomEntry, RoomsFile, RoomsFileError};
pub use outcome::{CallOutcome, Reach, Tally};
pub use probe::{Probe, call_once, probe};
pub use requests::{RequestCounts, RequestResult};
pub use status::{FleetAction, RoomStatus};

use crate::client::ClientOptions;
use crate::link::Target;
use parking_lot::Mutex;
use poll::Roster;
use room::{Board, FollowedRoom, Intervals};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::AbortHandle;

/// The name the embedded engine has in the list when no rooms file exists.
pub const EMBEDDED_NAME: &str = "This computer";

/// A room to follow: how to reach it, and the name and group it is
/// listed under.
#[derive(Clone)]
pub struct NamedTarget {
    pub name: String,
    pub group: String,
    pub target: Target,
}

impl NamedTarget {
    pub fn new(name: &str, group: &str, target: Target) -> NamedTarget {
        NamedTarget {
            name: name.to_string(),
            group: group.to_string(),
            target,
        }
    }
}

impl RoomsFile {
    /// Every room of the file with its password read now.
    pub fn fleet_rooms(&self) -> Result<Vec<NamedTarget>, RoomsFileError> {
        let passwords = self.resolve_passwords()?;
        let rooms = self.entries().iter().zip(passwords);
        Ok(rooms
            .map(|(e, password)| {
                NamedTarget::new(&e.name, &e.group, Target::remote(&e.url, password))
            })
            .collect())
    }
}

/// The rooms the console starts with: the file's, or — when there is no
/// file yet — the embedded engine alone, so a first start is never empty.
pub fn starting_rooms(
    file: &RoomsFile,
    embedded: Option<Target>,
) -> Result<Vec<NamedTarget>, RoomsFileError> {
    match (file.exists(), embedded) {
        (false, Some(target)) => Ok(vec![NamedTarget::new(EMBEDDED_NAME, "", target)]),
        _ => file.fleet_rooms(),
    }
}

/// How the fleet behaves. The defaults suit a console over a campus.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Per answer.
    pub request_timeout: Duration,
    /// Per handshake.
    pub connect_timeout: Duration,
    /// Reconnect waits: doubled per failure from `backoff_min`, capped at
    /// `backoff_max`, each drawn in the upper half (jitter).
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Rooms connecting at the same moment, at most.
    pub max_connecting: usize,
    /// Polls (a Share and a Meeting read) per second for the whole fleet.
    pub poll_budget: f64,
    /// A room that does not push is read again at most this often.
    pub poll_interval: Duration,
    /// A room that pushes its share events is still read this often, in
    /// case an event was lost.
    pub pushing_poll_interval: Duration,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            max_connecting: 64,
            poll_budget: 20.0,
            poll_interval: Duration::from_secs(2),
            pushing_poll_interval: Duration::from_secs(30),
        }
    }
}

impl FleetOptions {
    fn client(&self, gate: &Arc<Semaphore>) -> ClientOptions {
        ClientOptions {
            connect_gate: Some(gate.clone()),
            traffic: false,
            // Pushed events only, read at once; a lag means a full re-read.
            event_capacity: 64,
            // Answers are small; a bigger frame grows the buffer as needed.
            read_buffer: 8 * 1024,
            request_timeout: self.request_timeout,
            connect_timeout: self.connect_timeout,
            backoff_min: self.backoff_min,
            backoff_max: self.backoff_max,
            reconnect: true,
            // Not `[]`: roomshare engines would also push their source
            // lists, which the Rooms view does not show.
            subscriptions: vec![vec!["Share".into()], vec!["Meeting".into()]],
        }
    }
}

/// The outcomes of one [`Fleet::call`] as they arrive, each with its
/// room's name (the view can ignore it and read [`RoomStatus::last_call`]
/// instead).
pub struct CallBatch {
    rx: mpsc::UnboundedReceiver<(String, CallOutcome)>,
    expected: usize,
}

impl CallBatch {
    /// How many results will come: one per name given.
    pub fn expected(&self) -> usize {
        self.expected
    }

    /// The next result, in the order they are answered.
    pub async fn next(&mut self) -> Option<(String, CallOutcome)> {
        self.rx.recv().await
    }

    /// Every result.
    pub async fn all(mut self) -> Vec<(String, CallOutcome)> {
        let mut results = Vec::with_capacity(self.expected);
        while let Some(r) = self.next().await {
            results.push(r);
        }
        results
    }
}

/// Many rooms followed live. Cheap to clone; everything stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct Fleet {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: tokio::runtime::Handle,
    options: FleetOptions,
    board: Arc<Board>,
    roster: Roster,
    snapshot: Mutex<Arc<Vec<RoomStatus>>>,
    gate: Arc<Semaphore>,
    poller: AbortHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.poller.abort();
        for room in self.roster.lock().iter() {
            room.stop();
        }
    }
}

impl Fleet {
    /// Start following `rooms` on `runtime`. `on_change` is called from a
    /// background task whenever a room's status changed (the UI passes
    /// `ctx.request_repaint`). Rooms with the same name: the first wins.
    pub fn start(
        rooms: Vec<NamedTarget>,
        runtime: &tokio::runtime::Handle,
        on_change: Arc<dyn Fn() + Send + Sync>,
        options: FleetOptions,
    ) -> Fleet {
        let roster: Roster = Arc::new(Mutex::new(Arc::new(Vec::new())));
        let intervals = Intervals {
            silent: options.poll_interval,
            pushing: options.pushing_poll_interval,
        };
        let poller = runtime
            .spawn(poll::run(roster.clone(), options.poll_budget, intervals))
            .abort_handle();
        let fleet = Fleet {
            inner: Arc::new(Inner {
                runtime: runtime.clone(),
                gate: Arc::new(Semaphore::new(options.max_connecting.max(1))),
                options,
                board: Arc::new(Board::new(on_change, intervals)),
                roster,
                snapshot: Mutex::new(Arc::new(Vec::new())),
                poller,
            }),
        };
        fleet.set_rooms(rooms);
        fleet
    }

    /// Every room's status, in list order (cheap: an `Arc` clone unless
    /// something changed since the last call).
    pub fn rooms(&self) -> Arc<Vec<RoomStatus>> {
        let inner = &self.inner;
        let mut snapshot = inner.snapshot.lock();
        if inner.board.take_dirty() {
            let rooms = inner.roster.lock().clone();
            *snapshot = Arc::new(rooms.iter().map(|f| f.status()).collect());
        }
        snapshot.clone()
    }

    /// Every room's requests so far by how they ended, in list order, by
    /// name (read at once: the counts are not part of the snapshot).
    pub fn request_counts(&self) -> Vec<(String, [(RequestResult, u64); 4])> {
        let rooms = self.inner.roster.lock().clone();
        rooms
            .iter()
            .map(|f| (f.name.clone(), f.requests.snapshot()))
            .collect()
    }

    /// How to reach `name` (to open it in the single-room view).
    pub fn target(&self, name: &str) -> Option<Target> {
        self.followed(name).map(|f| f.target.clone())
    }

    /// Send `action` to every room in `names` at once. Returns at once;
    /// each room's outcome lands in its [`RoomStatus::last_call`] and in
    /// the returned batch (one result per name; an unknown name gets
    /// [`NO_ANSWER`](crate::link::NO_ANSWER) "no room named …").
    pub fn call(&self, names: &[String], action: impl Into<FleetAction>) -> CallBatch {
        let action = action.into();
        let (tx, rx) = mpsc::unbounded_channel();
        // Actions may wait for a connection and then an answer.
        let timeout = self.inner.options.connect_timeout + self.inner.options.request_timeout;
        for name in names {
            let Some(room) = self.followed(name) else {
                let why = format!("no room named {name:?}");
                let outcome = CallOutcome::unanswered(action.clone(), Reach::Unreachable, why);
                let _ = tx.send((name.clone(), outcome));
                continue;
            };
            let (tx, action) = (tx.clone(), action.clone());
            self.inner.runtime.spawn(async move {
                let name = room.name.clone();
                let outcome = room.call(action, timeout).await;
                let _ = tx.send((name, outcome));
            });
        }
        CallBatch {
            rx,
            expected: names.len(),
        }
    }

    /// Retry now in these rooms (after an auth failure, or to skip the
    /// backoff wait).
    pub fn reconnect(&self, names: &[String]) {
        for room in names.iter().filter_map(|n| self.followed(n)) {
            room.reconnect();
        }
    }

    /// Follow `rooms` from now on: rooms whose name and target are
    /// unchanged keep their connection (a new group is just shown); new
    /// or changed ones start; the others stop.
    pub fn set_rooms(&self, rooms: Vec<NamedTarget>) {
        let inner = &self.inner;
        let old = inner.roster.lock().clone();
        let mut next: Vec<Arc<FollowedRoom>> = Vec::with_capacity(rooms.len());
        for room in rooms {
            if next.iter().any(|f| f.name == room.name) {
                continue;
            }
            let kept = old
                .iter()
                .find(|f| f.name == room.name && f.target.same_room(&room.target));
            let followed = match kept {
                Some(followed) => {
                    followed.set_group(&room.group);
                    followed.clone()
                }
                None => {
                    let board = inner.board.clone();
                    let followed = FollowedRoom::new(&room.name, &room.group, room.target, board);
                    followed.start(&inner.runtime, inner.options.client(&inner.gate));
                    followed
                }
            };
            next.push(followed);
        }
        for gone in old
            .iter()
            .filter(|s| !next.iter().any(|n| Arc::ptr_eq(n, s)))
        {
            gone.stop();
        }
        *inner.roster.lock() = Arc::new(next);
        inner.board.changed();
    }

    /// Add a room: written to `file` (atomically, passwords by the file
    /// rules), then followed. Nothing changes when the file refuses it.
    pub fn add(&self, file: &mut RoomsFile, entry: RoomEntry) -> Result<(), RoomsFileError> {
        file.add(entry)?;
        self.set_rooms(file.fleet_rooms()?);
        Ok(())
    }

    /// Replace the room `old_name` in `file` and follow the new entry (its
    /// connection is kept when its URL and password did not change).
    pub fn update(
        &self,
        file: &mut RoomsFile,
        old_name: &str,
        entry: RoomEntry,
    ) -> Result<(), RoomsFileError> {
        file.update(old_name, entry)?;
        self.set_rooms(file.fleet_rooms()?);
        Ok(())
    }

    /// Remove the room `name` from `file` and stop following it.
    pub fn remove(&self, file: &mut RoomsFile, name: &str) -> Result<(), RoomsFileError> {
        file.remove(name)?;
        self.set_rooms(file.fleet_rooms()?);
        Ok(())
    }

    fn followed(&self, name: &str) -> Option<Arc<FollowedRoom>> {
        let rooms = self.inner.roster.lock().clone();
        rooms.iter().find(|f| f.name == name).cloned()
    }
}
