//! One interface for the UI over "embedded engine" and "remote connection".
//! The UI reads a [`RoomView`] snapshot and sends commands; it never blocks
//! and never knows which of the two it drives. Both go through the same
//! client (`crate::client`), so the traffic pane shows the same frames.
//!
//! SKELETON: types and method signatures are the contract for the UI; the
//! bodies are being written.

use crate::capture::{SharePreview, ThumbnailStore};
use crate::engine::EngineHandle;
use crate::protocol::model::{MeetingInfo, ShareInfo, SourceInfo};
use crate::protocol::{MeetingAction, ShareAction, SimAction};
use std::sync::Arc;

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
#[derive(Debug, Clone)]
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

/// The UI's handle. Cheap to clone; every method returns at once.
#[derive(Clone)]
pub struct Link {
    _private: Arc<()>,
}

impl Link {
    /// Start driving `target` on `runtime`. `on_change` is called from a
    /// background task whenever the view, traffic or notices changed (the UI
    /// passes `ctx.request_repaint`).
    pub fn start(
        _target: Target,
        _runtime: &tokio::runtime::Handle,
        _on_change: Arc<dyn Fn() + Send + Sync>,
    ) -> Link {
        todo!("link")
    }

    /// The latest view (cheap: an `Arc` clone).
    pub fn view(&self) -> Arc<RoomView> {
        todo!()
    }

    /// Send a Call/Share. Its outcome arrives as a view change or a notice.
    pub fn share(&self, _action: ShareAction) {
        todo!()
    }

    /// Send a Call/Meeting.
    pub fn meeting(&self, _action: MeetingAction) {
        todo!()
    }

    /// Send a room-simulator action (embedded engines and roomshare peers).
    pub fn simulate(&self, _action: SimAction) {
        todo!()
    }

    /// Notices since the last call.
    pub fn take_notices(&self) -> Vec<Notice> {
        todo!()
    }

    /// The traffic log (newest last, bounded).
    pub fn traffic(&self) -> Vec<TrafficEntry> {
        todo!()
    }

    pub fn clear_traffic(&self) {
        todo!()
    }

    /// Thumbnails of the sources: the local capture's in embedded mode,
    /// fetched over `["RoomShare","Thumbnail"]` in remote mode.
    pub fn thumbnails(&self) -> ThumbnailStore {
        todo!()
    }

    /// The live "now sharing" picture (embedded mode; `None` remotely).
    pub fn preview(&self) -> Option<SharePreview> {
        todo!()
    }

    /// Retry now (after an auth failure, or to skip the backoff wait).
    pub fn reconnect(&self) {
        todo!()
    }
}
