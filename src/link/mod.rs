//! One interface for the UI over "embedded engine" and "remote connection".
//! The UI reads a [`RoomView`] snapshot and sends commands; it never blocks
//! and never knows which of the two it drives. Both go through the same
//! client (`crate::client`), so the traffic pane shows the same frames.

mod driver;

use crate::capture::{SharePreview, ThumbnailStore};
use crate::client::{Client, ClientOptions, Endpoint};
use crate::engine::{EngineHandle, ThumbnailProvider};
use crate::protocol::model::{MeetingInfo, ShareInfo, SourceInfo};
use crate::protocol::{MeetingAction, ShareAction, SimAction};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// What the console drives.
#[derive(Clone)]
pub enum Target {
    /// The in-process engine; `thumbnails` are the local capture's.
    Embedded {
        engine: EngineHandle,
        thumbnails: ThumbnailStore,
        preview: Arc<std::sync::Mutex<Option<SharePreview>>>,
    },
    /// A Rooms device or another roomshare engine.
    Remote {
        url: String,
        password: Option<String>,
    },
}

pub use crate::client::{ConnState, Direction, TrafficEntry};

/// Whether the peer speaks roomshare's `RoomShare` extension (sources and
/// thumbnails). Real devices do not.
#[derive(Debug, Clone, PartialEq)]
pub enum Extension {
    Unknown,
    Present,
    /// Why thumbnails are absent (e.g. "the device answered 6 Query Path Error").
    Absent(String),
}

/// The shared source of this engine (from `["RoomShare","ShareSession"]`).
#[derive(Debug, Clone, PartialEq)]
pub struct SharedSource {
    pub source_id: String,
    pub fluency_first: bool,
    pub share_voice: bool,
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
    pub shared_source: Option<SharedSource>,
    /// A reason the last share stopped by itself (source vanished).
    pub last_stop_reason: Option<String>,
}

/// Something the user should be told about: becomes a toast.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// What was attempted ("StartShare", "connect").
    pub action: String,
    pub code: i64,
    pub message: String,
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
            shared_source: None,
            last_stop_reason: None,
        }
    }
}

/// Traffic entries kept for the pane (oldest dropped first).
pub const TRAFFIC_LIMIT: usize = 2000;

/// Code of notices about requests that got no answer at all (timeout, not
/// connected): not a device code.
pub const NO_ANSWER: i64 = -1;

/// State shared between the handle and the driver task.
struct Shared {
    view: Mutex<Arc<RoomView>>,
    traffic: Mutex<VecDeque<TrafficEntry>>,
    notices: Mutex<Vec<Notice>>,
    on_change: Arc<dyn Fn() + Send + Sync>,
}

impl Shared {
    fn view(&self) -> Arc<RoomView> {
        self.view.lock().expect("view lock").clone()
    }

    /// Apply `f` to the view; tell the UI only if something changed.
    fn update(&self, f: impl FnOnce(&mut RoomView)) {
        let changed = {
            let mut guard = self.view.lock().expect("view lock");
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
        tracing::info!("{}: {} {}", notice.action, notice.code, notice.message);
        self.notices.lock().expect("notice lock").push(notice);
        (self.on_change)();
    }

    fn record(&self, entry: TrafficEntry) {
        let mut traffic = self.traffic.lock().expect("traffic lock");
        if traffic.len() >= TRAFFIC_LIMIT {
            traffic.pop_front();
        }
        traffic.push_back(entry);
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
    preview: Option<Arc<Mutex<Option<SharePreview>>>>,
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
        let (endpoint, thumbnails, preview, embedded) = match target {
            Target::Embedded {
                engine,
                thumbnails,
                preview,
            } => {
                let provider: Arc<dyn ThumbnailProvider> = Arc::new(thumbnails.clone());
                (
                    Endpoint::Embedded {
                        engine,
                        thumbnails: Some(provider),
                    },
                    thumbnails,
                    Some(preview),
                    true,
                )
            }
            Target::Remote { url, password } => (
                Endpoint::Remote { url, password },
                ThumbnailStore::default(),
                None,
                false,
            ),
        };
        let view = RoomView::empty(endpoint.label(), embedded);
        let shared = Arc::new(Shared {
            view: Mutex::new(Arc::new(view)),
            traffic: Mutex::new(VecDeque::new()),
            notices: Mutex::new(Vec::new()),
            on_change,
        });
        let (client, events) = {
            let _entered = runtime.enter();
            Client::start_observed(
                endpoint,
                ClientOptions {
                    subscriptions: vec![vec![]],
                    ..ClientOptions::default()
                },
            )
        };
        runtime.spawn(driver::drive(
            client.clone(),
            events,
            shared.clone(),
            thumbnails.clone(),
            embedded,
        ));
        Link {
            shared,
            client,
            runtime: runtime.clone(),
            thumbnails,
            preview,
        }
    }

    /// The latest view (cheap: an `Arc` clone).
    pub fn view(&self) -> Arc<RoomView> {
        self.shared.view()
    }

    /// Send a Call/Share. Its outcome arrives as a view change or a notice.
    pub fn share(&self, action: ShareAction) {
        self.call("Call/Share", action.name(), action.to_params());
    }

    /// Send a Call/Meeting.
    pub fn meeting(&self, action: MeetingAction) {
        self.call("Call/Meeting", action.name(), action.to_params());
    }

    /// Send a room-simulator action (embedded engines and roomshare peers).
    pub fn simulate(&self, action: SimAction) {
        self.call("Call/RoomShare", action.name(), action.to_params());
    }

    fn call(&self, method: &'static str, action: &'static str, params: serde_json::Value) {
        let client = self.client.clone();
        let shared = self.shared.clone();
        self.runtime
            .spawn(driver::call(client, shared, method, action, params));
    }

    /// Notices since the last call.
    pub fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(&mut *self.shared.notices.lock().expect("notice lock"))
    }

    /// The traffic log (newest last, bounded by [`TRAFFIC_LIMIT`]).
    pub fn traffic(&self) -> Vec<TrafficEntry> {
        self.shared
            .traffic
            .lock()
            .expect("traffic lock")
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear_traffic(&self) {
        self.shared.traffic.lock().expect("traffic lock").clear();
        (self.shared.on_change)();
    }

    /// Thumbnails of the sources: the local capture's in embedded mode,
    /// fetched over `["RoomShare","Thumbnail"]` in remote mode.
    pub fn thumbnails(&self) -> ThumbnailStore {
        self.thumbnails.clone()
    }

    /// The live "now sharing" picture (embedded mode; `None` remotely).
    pub fn preview(&self) -> Option<SharePreview> {
        self.preview
            .as_ref()
            .and_then(|p| p.lock().expect("preview lock").clone())
    }

    /// Retry now (after an auth failure, or to skip the backoff wait).
    pub fn reconnect(&self) {
        self.client.reconnect();
    }
}
