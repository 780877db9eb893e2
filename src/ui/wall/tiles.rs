//! What the wall shows: one [`Tile`] per source the room can share, in
//! display order (screens and capture devices first, then windows).

use crate::link::{Extension, RoomView};
use crate::protocol::{ShareTarget, SourceHealth, SourceInfo, SourceKind, TEST_PATTERN_APP};
use crate::ui::i18n::Lang;

/// One tile: a source the room can share.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    pub id: String,
    pub kind: SourceKind,
    pub title: String,
    pub app: String,
    pub width: u32,
    pub height: u32,
    pub target: ShareTarget,
    /// Thumbnails exist for this tile (the roomshare extension is present).
    pub live: bool,
    /// How its picture is doing, when the engine measures it.
    pub health: Option<SourceHealth>,
}

impl Tile {
    /// What the wire calls it: `select_index 3` or `device_id "HDMI-1"`.
    pub fn wire_name(&self) -> String {
        match &self.target {
            ShareTarget::Index(i) => format!("select_index {i}"),
            ShareTarget::Device(Some(d)) => format!("device_id {d}"),
            ShareTarget::Device(None) => "device_id (first)".into(),
        }
    }

    /// Display order: screens (the desktop and monitors), capture
    /// devices, windows.
    fn order(&self) -> u8 {
        match self.kind {
            SourceKind::Desktop | SourceKind::Monitor => 0,
            SourceKind::CaptureDevice => 1,
            SourceKind::Window => 2,
        }
    }

    /// The wall's section: 0 screens & capture devices (one section, so a
    /// lone desktop and a lone grabber share a row), 1 windows.
    pub fn group(&self) -> usize {
        usize::from(self.kind == SourceKind::Window)
    }

    /// A synthetic test pattern, not a real screen, window or device.
    pub fn is_test_pattern(&self) -> bool {
        self.app == TEST_PATTERN_APP
    }

    /// True when `filter` (any case) is in the title, app or id.
    pub fn matches(&self, filter: &str) -> bool {
        if filter.is_empty() {
            return true;
        }
        let f = filter.to_lowercase();
        [&self.title, &self.app, &self.id]
            .iter()
            .any(|t| t.to_lowercase().contains(&f))
    }

    /// A tile for a numbered source of the extension's list.
    fn of_source(s: &SourceInfo) -> Option<Tile> {
        let target = match s.kind {
            SourceKind::CaptureDevice => {
                ShareTarget::Device(Some(s.device_id.clone().unwrap_or_else(|| s.id.clone())))
            }
            _ => ShareTarget::Index(s.select_index?),
        };
        // Some windows have no title: show their app, or their id.
        let title = [&s.title, &s.app, &s.id]
            .into_iter()
            .find(|t| !t.trim().is_empty())
            .cloned()
            .unwrap_or_default();
        Some(Tile {
            id: s.id.clone(),
            kind: s.kind,
            title,
            app: s.app.clone(),
            width: s.width,
            height: s.height,
            target,
            live: true,
            health: s.health,
        })
    }
}

/// The tiles a view offers: screens, then capture devices, then windows.
/// Without the extension: the desktop (index 0) and `capture_device_list`.
pub fn tiles_of(view: &RoomView, lang: Lang) -> Vec<Tile> {
    let mut tiles: Vec<Tile> = if view.extension == Extension::Present || !view.sources.is_empty() {
        view.sources.iter().filter_map(Tile::of_source).collect()
    } else {
        device_tiles(view, lang)
    };
    tiles.sort_by_key(Tile::order); // stable: keeps the engine's order inside a kind
    tiles
}

/// A real device's wall: its desktop and its capture devices, no pictures.
fn device_tiles(view: &RoomView, lang: Lang) -> Vec<Tile> {
    let desktop = Tile {
        id: "index:0".into(),
        kind: SourceKind::Desktop,
        title: lang.tr("desktop").into(),
        app: String::new(),
        width: 0,
        height: 0,
        target: ShareTarget::Index(0),
        live: false,
        health: None,
    };
    let devices = view.capture_device_list.iter().map(|d| Tile {
        id: format!("device:{d}"),
        kind: SourceKind::CaptureDevice,
        title: d.clone(),
        app: lang.tr("capture_device").into(),
        width: 0,
        height: 0,
        target: ShareTarget::Device(Some(d.clone())),
        live: false,
        health: None,
    });
    std::iter::once(desktop).chain(devices).collect()
}
