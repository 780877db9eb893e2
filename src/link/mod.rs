//! One interface for the UI over "embedded engine" and "remote connection",
//! for one room ([`Link`]) or many ([`fleet`]). The UI reads a snapshot and
//! sends commands; it never blocks and never knows which kind of room it
//! drives. Both go through the same client, so the traffic pane shows the
//! same frames.
//!
//! # Words
//!
//! - A *room* is a meeting-room device (Tencent Meeting Rooms, or another
//!   roomshare engine) or the embedded engine in this process.
//! - A room's *view* ([`RoomView`]) is everything the console shows about
//!   one room; typed answers and pushed events fold into it, in one place
//!   (`view`).
//! - A *status* ([`fleet::RoomStatus`]) is one row of the Rooms view: a
//!   room's view plus what the fleet adds (name, group, the last call,
//!   when it changed). A command-line visit's [`fleet::Probe`] is a view
//!   too, with how far the visit got.
//! - A call's *outcome* ([`fleet::CallOutcome`]) is one room's answer to
//!   one action ([`fleet::FleetAction`]); a [`fleet::Tally`] counts a
//!   batch of them.
//! - To *follow* a room is to keep its view current: the one loop in
//!   `follow`, used by the single-room link (`worker`) and by every
//!   fleet room. It connects, subscribes, folds events, reads the room
//!   again after a (re)connection or missed events, and polls a room that
//!   may not push its share state (never the embedded engine).
//! - A *picture* is captured pixels ([`crate::media`]); a *wire frame* is
//!   one WebSocket text message (a [`TrafficEntry`]); a *repaint* is one
//!   UI frame (what `on_change` asks for).
//!
//! Remote rooms' thumbnails are fetched (`thumbnails`) when the peer is
//! another roomshare engine.

pub mod fleet;
mod follow;
pub mod inspector;
mod thumbnails;
mod view;
mod worker;

pub use crate::client::{ConnState, Direction, TrafficEntry};
pub use inspector::{InspectorLive, LocalInspector, SnapshotTicket};
pub use view::{Extension, RoomView};

use crate::client::{Client, ClientOptions, Endpoint};
use crate::media::{PreviewSlot, SharePreview, ThumbnailStore};
use crate::protocol::{MeetingAction, RoomShareAction, ShareAction, normalise_url};
use fleet::FleetAction;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the console drives: a room to connect to and, for the embedded
/// engine, the pictures its capture layer makes locally.
#[derive(Clone)]
pub struct Target {
    endpoint: Endpoint,
    local: Option<(ThumbnailStore, PreviewSlot)>,
    /// The embedded capture's live inspector.
    inspector: Option<Arc<dyn LocalInspector>>,
}

impl Target {
    /// The in-process engine behind `endpoint`, with its capture's
    /// thumbnails and share preview.
    pub fn embedded(
        endpoint: Endpoint,
        thumbnails: ThumbnailStore,
        preview: PreviewSlot,
    ) -> Target {
        Target {
            endpoint,
            local: Some((thumbnails, preview)),
            inspector: None,
        }
    }

    /// The embedded capture's sources can be inspected with `inspector`.
    pub fn with_inspector(mut self, inspector: Arc<dyn LocalInspector>) -> Target {
        self.inspector = Some(inspector);
        self
    }

    /// A Rooms device or another roomshare engine (`ws://host:6295`, or a
    /// bare host).
    pub fn remote(url: &str, password: Option<String>) -> Target {
        Target {
            endpoint: Endpoint::Remote {
                url: normalise_url(url),
                password,
            },
            local: None,
            inspector: None,
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.local.is_some()
    }

    /// Where the client connects (the fleet starts its own light clients).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// "embedded" or the URL.
    pub fn label(&self) -> String {
        self.endpoint.label()
    }

    /// The same room reached the same way: the embedded engine (there is
    /// one per process), or the same URL with the same password.
    pub fn same_room(&self, other: &Target) -> bool {
        match (&self.endpoint, &other.endpoint) {
            (Endpoint::Embedded { .. }, Endpoint::Embedded { .. }) => true,
            (
                Endpoint::Remote { url, password },
                Endpoint::Remote {
                    url: other_url,
                    password: other_password,
                },
            ) => url == other_url && password == other_password,
            _ => false,
        }
    }
}

/// What a notice is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Share(ShareAction),
    Meeting(MeetingAction),
    RoomShare(RoomShareAction),
    /// Connecting (an auth failure).
    Connect,
    /// This room's share stopped by itself (its source vanished).
    ShareStopped,
}

impl Subject {
    /// A short name for toasts: `StartShare`, `connect`, …
    pub fn label(&self) -> &'static str {
        match self {
            Subject::Share(a) => a.name(),
            Subject::Meeting(a) => a.name(),
            Subject::RoomShare(a) => a.name(),
            Subject::Connect => "connect",
            Subject::ShareStopped => "share stopped",
        }
    }
}

/// Something the user should be told about: becomes a toast.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub subject: Subject,
    /// The device's code, or [`NO_ANSWER`].
    pub code: i64,
    pub message: String,
}

/// Traffic entries kept for the pane (oldest dropped first).
pub const TRAFFIC_LIMIT: usize = 2000;

/// Code of notices about requests that got no answer at all (timeout, not
/// connected): not a device code.
pub const NO_ANSWER: i64 = -1;

/// State shared between the handle and the worker task. Locks are never
/// held across a call out, and a panic while one is held cannot poison it
/// (parking_lot), so one failed task cannot take the UI down with it.
struct Shared {
    view: Mutex<Arc<RoomView>>,
    traffic: Mutex<VecDeque<TrafficEntry>>,
    notices: Mutex<Vec<Notice>>,
    on_change: Arc<dyn Fn() + Send + Sync>,
    /// The UI shows background (polling) traffic: recording it must wake
    /// the UI. Otherwise it is recorded silently.
    wake_on_background: AtomicBool,
}

impl Shared {
    fn view(&self) -> Arc<RoomView> {
        self.view.lock().clone()
    }

    /// Apply `f` to the view; tell the UI only if something changed.
    fn update(&self, f: impl FnOnce(&mut RoomView)) {
        let changed = {
            let mut guard = self.view.lock();
            let mut next = RoomView::clone(&guard);
            f(&mut next);
            let changed = next != **guard;
            if changed {
                *guard = Arc::new(next);
            }
            changed
        };
        if changed {
            (self.on_change)();
        }
    }

    fn notify(&self, notice: Notice) {
        tracing::info!(
            "{}: {} {}",
            notice.subject.label(),
            notice.code,
            notice.message
        );
        self.notices.lock().push(notice);
        (self.on_change)();
    }

    /// Keep a traffic entry; wake the UI when what the pane shows changed
    /// (a foreground entry came or went, or background traffic is shown).
    fn record(&self, entry: TrafficEntry) {
        let shown = !entry.background || self.wake_on_background.load(Ordering::Relaxed);
        let evicted_shown = {
            let mut traffic = self.traffic.lock();
            let evicted = if traffic.len() >= TRAFFIC_LIMIT {
                traffic.pop_front()
            } else {
                None
            };
            traffic.push_back(entry);
            evicted.is_some_and(|e| !e.background)
        };
        if shown || evicted_shown {
            (self.on_change)();
        }
    }
}

/// The UI's handle. Cheap to clone; every method returns at once (the work
/// happens on the runtime the link was started on).
#[derive(Clone)]
pub struct Link {
    shared: Arc<Shared>,
    client: Client,
    runtime: tokio::runtime::Handle,
    thumbnails: ThumbnailStore,
    preview: Option<PreviewSlot>,
    inspector: Option<Arc<dyn LocalInspector>>,
}

impl Link {
    /// Start driving `target` on `runtime`. `on_change` is called from a
    /// background task whenever the view, traffic or notices changed (the UI
    /// passes `ctx.request_repaint`).
    pub fn start(
        target: Target,
        runtime: &tokio::runtime::Handle,
        on_change: Arc<dyn Fn() + Send + Sync>,
    ) -> Link {
        let embedded = target.is_embedded();
        let inspector = target.inspector.clone();
        let (thumbnails, preview) = match target.local {
            Some((thumbnails, preview)) => (thumbnails, Some(preview)),
            None => (ThumbnailStore::default(), None),
        };
        let view = RoomView::empty(target.endpoint.label(), embedded);
        let shared = Arc::new(Shared {
            view: Mutex::new(Arc::new(view)),
            traffic: Mutex::new(VecDeque::new()),
            notices: Mutex::new(Vec::new()),
            on_change,
            wake_on_background: AtomicBool::new(false),
        });
        let (client, events) = {
            let _entered = runtime.enter();
            let options = ClientOptions {
                subscriptions: vec![vec![]],
                ..ClientOptions::default()
            };
            Client::start_observed(target.endpoint, options)
        };
        runtime.spawn(worker::run(
            shared.clone(),
            client.clone(),
            events,
            thumbnails.clone(),
        ));
        Link {
            shared,
            client,
            runtime: runtime.clone(),
            thumbnails,
            preview,
            inspector,
        }
    }

    /// The latest view (cheap: an `Arc` clone).
    pub fn view(&self) -> Arc<RoomView> {
        self.shared.view()
    }

    /// Send a Call/Share. Its outcome arrives as a view change or a notice.
    pub fn share(&self, action: ShareAction) {
        self.call(Subject::Share(action.clone()), action.into());
    }

    /// Send a Call/Meeting.
    pub fn meeting(&self, action: MeetingAction) {
        self.call(Subject::Meeting(action.clone()), action.into());
    }

    /// Send a room-simulator action (embedded engines and roomshare peers).
    pub fn room_share(&self, action: RoomShareAction) {
        self.call(Subject::RoomShare(action.clone()), action.into());
    }

    fn call(&self, subject: Subject, action: FleetAction) {
        let call = worker::call(self.shared.clone(), self.client.clone(), action, subject);
        self.runtime.spawn(call);
    }

    /// Notices since the last call.
    pub fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(&mut *self.shared.notices.lock())
    }

    /// The traffic log (newest last, bounded by [`TRAFFIC_LIMIT`]).
    pub fn traffic(&self) -> Vec<TrafficEntry> {
        self.shared.traffic.lock().iter().cloned().collect()
    }

    /// Whether background traffic (polling) is on screen: only then does
    /// recording it wake the UI.
    pub fn show_background_traffic(&self, shown: bool) {
        self.shared
            .wake_on_background
            .store(shown, Ordering::Relaxed);
    }

    pub fn clear_traffic(&self) {
        self.shared.traffic.lock().clear();
        (self.shared.on_change)();
    }

    /// Thumbnails of the sources: the local capture's in embedded mode,
    /// fetched over `["RoomShare","Thumbnail"]` in remote mode.
    pub fn thumbnails(&self) -> ThumbnailStore {
        self.thumbnails.clone()
    }

    /// The live "now sharing" picture (embedded mode; `None` remotely).
    pub fn preview(&self) -> Option<SharePreview> {
        self.preview.as_ref().and_then(PreviewSlot::get)
    }

    /// Retry now (after an auth failure, or to skip the backoff wait).
    pub fn reconnect(&self) {
        self.client.reconnect();
    }

    /// Inspect one of this computer's own sources (the embedded engine's);
    /// `Err` says why not.
    pub fn open_inspector(&self, source_id: &str) -> Result<(), String> {
        match &self.inspector {
            Some(inspector) => inspector.open(source_id),
            None => Err(inspector::REMOTE_INSPECT.into()),
        }
    }

    pub fn close_inspector(&self) {
        if let Some(inspector) = &self.inspector {
            inspector.close();
        }
    }

    /// The inspected source's picture and figures, while inspecting.
    pub fn inspection(&self) -> Option<InspectorLive> {
        self.inspector.as_ref()?.latest()
    }

    /// Write `live` as a snapshot off the UI thread (see
    /// [`inspector::write_snapshot`]); the ticket says where, once done.
    pub fn save_snapshot(&self, live: InspectorLive) -> SnapshotTicket {
        inspector::save_in_background(&self.runtime, live, self.shared.on_change.clone())
    }
}
