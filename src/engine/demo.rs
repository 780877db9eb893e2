//! Demo data: what an engine shows before (or without) a capture backend.

use crate::protocol::model::{SourceInfo, SourceKind};

/// A small fixed source set: the desktop, three windows, one capture device.
/// Used by tests and until a capture backend publishes real sources.
pub fn demo_sources() -> Vec<SourceInfo> {
    let src = |id: &str, kind, title: &str, app: &str| SourceInfo {
        id: id.into(),
        kind,
        select_index: None,
        device_id: None,
        title: title.into(),
        app: app.into(),
        width: 1920,
        height: 1080,
        unavailable: None,
    };
    vec![
        src("desktop", SourceKind::Desktop, "Desktop", "roomshare"),
        src("hdmi-1", SourceKind::CaptureDevice, "HDMI-1", "capture"),
        src(
            "win-slides",
            SourceKind::Window,
            "Quarterly review — Slides",
            "slides",
        ),
        src("win-terminal", SourceKind::Window, "Terminal", "terminal"),
        src(
            "win-board",
            SourceKind::Window,
            "白板 Whiteboard",
            "whiteboard",
        ),
    ]
}
