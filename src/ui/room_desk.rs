//! What the room page drives ([`RoomDesk`]): the [`Link`] in the real
//! console, or a [`FixedRoomDesk`] for snapshot tests and benchmarks of
//! specific states. The UI never knows which; it reads a snapshot and sends
//! commands. (The Rooms view's counterpart: `rooms::RoomsDesk`, with
//! `FleetDesk` and `FixedRoomsDesk`.)

use crate::link::inspector::write_snapshot;
use crate::link::{InspectorLive, Link, Notice, RoomView, SnapshotTicket, TrafficEntry};
use crate::media::{PreviewSlot, SharePreview, ThumbnailStore};
use crate::protocol::{MeetingAction, RoomShareAction, ShareAction};
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;

/// The room page's side of one room. Every method returns at once.
pub trait RoomDesk: Send + Sync {
    fn view(&self) -> Arc<RoomView>;
    fn share(&self, action: ShareAction);
    fn meeting(&self, action: MeetingAction);
    fn room_share(&self, action: RoomShareAction);
    fn take_notices(&self) -> Vec<Notice>;
    fn traffic(&self) -> Vec<TrafficEntry>;
    fn clear_traffic(&self);
    /// Background (polling) traffic is on screen, so it must wake the UI.
    fn show_background_traffic(&self, _shown: bool) {}
    fn thumbnails(&self) -> ThumbnailStore;
    fn preview(&self) -> Option<SharePreview>;
    fn reconnect(&self);
    /// Inspect one of the room's sources (this computer's own only);
    /// `Err` says why not.
    fn open_inspector(&self, source_id: &str) -> Result<(), String>;
    fn close_inspector(&self);
    /// The inspected source's picture and figures, while inspecting.
    fn inspection(&self) -> Option<InspectorLive>;
    /// Save the inspector's picture and figures (off the UI thread).
    fn save_snapshot(&self, live: InspectorLive) -> SnapshotTicket;
}

impl RoomDesk for Link {
    fn view(&self) -> Arc<RoomView> {
        Link::view(self)
    }
    fn share(&self, action: ShareAction) {
        Link::share(self, action)
    }
    fn meeting(&self, action: MeetingAction) {
        Link::meeting(self, action)
    }
    fn room_share(&self, action: RoomShareAction) {
        Link::room_share(self, action)
    }
    fn take_notices(&self) -> Vec<Notice> {
        Link::take_notices(self)
    }
    fn traffic(&self) -> Vec<TrafficEntry> {
        Link::traffic(self)
    }
    fn clear_traffic(&self) {
        Link::clear_traffic(self)
    }
    fn show_background_traffic(&self, shown: bool) {
        Link::show_background_traffic(self, shown)
    }
    fn thumbnails(&self) -> ThumbnailStore {
        Link::thumbnails(self)
    }
    fn preview(&self) -> Option<SharePreview> {
        Link::preview(self)
    }
    fn reconnect(&self) {
        Link::reconnect(self)
    }
    fn open_inspector(&self, source_id: &str) -> Result<(), String> {
        Link::open_inspector(self, source_id)
    }
    fn close_inspector(&self) {
        Link::close_inspector(self)
    }
    fn inspection(&self) -> Option<InspectorLive> {
        Link::inspection(self)
    }
    fn save_snapshot(&self, live: InspectorLive) -> SnapshotTicket {
        Link::save_snapshot(self, live)
    }
}

/// Something a [`FixedRoomDesk`] was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    Share(ShareAction),
    Meeting(MeetingAction),
    RoomShare(RoomShareAction),
    ClearTraffic,
    Reconnect,
    OpenInspector(String),
    CloseInspector,
}

/// A fixed room: shows exactly the view it is given and records what it
/// was asked to do. For snapshot tests of specific states and for
/// frame-time benchmarks.
#[derive(Clone)]
pub struct FixedRoomDesk {
    pub view: Arc<RoomView>,
    pub notices: Arc<Mutex<Vec<Notice>>>,
    pub traffic: Arc<Mutex<Vec<TrafficEntry>>>,
    pub thumbnails: ThumbnailStore,
    pub preview: PreviewSlot,
    pub sent: Arc<Mutex<Vec<Sent>>>,
    /// What the inspector shows once opened (set by the test).
    pub inspection: Arc<Mutex<Option<InspectorLive>>>,
    /// Where "Save snapshot" writes (at once, on the calling thread).
    pub snapshot_dir: Option<PathBuf>,
}

impl FixedRoomDesk {
    pub fn new(view: RoomView) -> FixedRoomDesk {
        FixedRoomDesk {
            view: Arc::new(view),
            notices: Default::default(),
            traffic: Default::default(),
            thumbnails: ThumbnailStore::default(),
            preview: PreviewSlot::default(),
            sent: Default::default(),
            inspection: Default::default(),
            snapshot_dir: None,
        }
    }

    pub fn push_notice(&self, notice: Notice) {
        self.notices.lock().push(notice);
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().clone()
    }

    fn record(&self, s: Sent) {
        self.sent.lock().push(s);
    }
}

impl RoomDesk for FixedRoomDesk {
    fn view(&self) -> Arc<RoomView> {
        self.view.clone()
    }
    fn share(&self, action: ShareAction) {
        self.record(Sent::Share(action));
    }
    fn meeting(&self, action: MeetingAction) {
        self.record(Sent::Meeting(action));
    }
    fn room_share(&self, action: RoomShareAction) {
        self.record(Sent::RoomShare(action));
    }
    fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(&mut *self.notices.lock())
    }
    fn traffic(&self) -> Vec<TrafficEntry> {
        self.traffic.lock().clone()
    }
    fn clear_traffic(&self) {
        self.traffic.lock().clear();
        self.record(Sent::ClearTraffic);
    }
    fn thumbnails(&self) -> ThumbnailStore {
        self.thumbnails.clone()
    }
    fn preview(&self) -> Option<SharePreview> {
        self.preview.get()
    }
    fn reconnect(&self) {
        self.record(Sent::Reconnect);
    }
    fn open_inspector(&self, source_id: &str) -> Result<(), String> {
        self.record(Sent::OpenInspector(source_id.to_string()));
        Ok(())
    }
    fn close_inspector(&self) {
        self.record(Sent::CloseInspector);
    }
    fn inspection(&self) -> Option<InspectorLive> {
        let opened = self.sent.lock().iter().rev().find_map(|s| match s {
            Sent::OpenInspector(id) => Some(Some(id.clone())),
            Sent::CloseInspector => Some(None),
            _ => None,
        });
        let live = self.inspection.lock().clone()?;
        (opened.flatten().as_deref() == Some(live.source_id.as_str())).then_some(live)
    }
    fn save_snapshot(&self, live: InspectorLive) -> SnapshotTicket {
        let dir = self.snapshot_dir.clone().unwrap_or_else(std::env::temp_dir);
        Arc::new(Mutex::new(Some(write_snapshot(&dir, &live))))
    }
}
