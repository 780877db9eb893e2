//! The console's pages, panels and widgets. Each frame the console draws
//! its toolbar and one page — the single-room page ([`RoomPage`], over a
//! [`RoomDesk`]) or the Rooms view ([`rooms::RoomsView`], over a
//! [`rooms::RoomsDesk`]) — and carries out the [`Intent`]s they answer
//! with. Nothing here blocks: no network or capture call runs inside
//! `ui()`; the link and the capture workers call `request_repaint` when
//! they have news, and the console otherwise sleeps.

pub mod connect;
mod console;
pub mod fonts;
pub mod header;
pub mod i18n;
pub mod inspector;
pub mod keys;
pub mod meeting;
pub mod room_desk;
pub mod room_page;
pub mod rooms;
pub mod settings;
pub mod share_card;
pub mod simulator;
pub mod style;
pub mod textures;
pub mod toasts;
pub mod toolbar;
pub mod traffic;
pub mod wall;

pub use console::ConsoleApp;
pub use i18n::Lang;
pub use room_desk::{FixedRoomDesk, RoomDesk, Sent};
pub use room_page::RoomPage;
pub use settings::{ChangeCounter, RepaintCounter, Settings};

use crate::link::{Notice, Target};
use crate::protocol::{MeetingAction, RoomShareAction, ShareAction, ShareTarget};
use connect::ConnectTo;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// What a page or panel asks for. The console carries them out after drawing.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Share this tile with the current options and source generation.
    ShareTile(ShareTarget),
    Share(ShareAction),
    Meeting(MeetingAction),
    RoomShare(RoomShareAction),
    ClearTraffic,
    Reconnect,
    /// Put text on the clipboard (and say so).
    Copy(String),
    Connect(ConnectTo),
    /// Open the connection dialog, on this remote room's address if any.
    OpenConnect(Option<String>),
    /// Tell the user (a toast).
    Notify(Notice),
    /// Back to the Rooms view.
    ShowRooms,
    /// Open the inspector on this source (by id).
    Inspect(String),
}

/// What the console needs to start a new link from the connection dialog.
pub struct Services {
    pub runtime: tokio::runtime::Handle,
    /// The embedded engine's target, when this session runs one.
    pub embedded: Option<Target>,
    /// Called by links when something changed (requests a repaint).
    pub on_change: Arc<dyn Fn() + Send + Sync>,
    /// Set while the console shows the embedded room: the embedded
    /// capture's news wakes the UI only then (a remote room's console does
    /// not redraw for thumbnails it does not show).
    pub showing_embedded: Arc<AtomicBool>,
}

/// Which view fills the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// One room: its wall of sources, its share, its meeting.
    Room,
    /// Every room of the rooms list.
    Rooms,
}
