//! Demo data: what an engine shows before (or without) a capture backend.

use crate::protocol::model::{SourceInfo, SourceKind, TEST_PATTERN_APP};

/// A small fixed source set: the desktop, three windows, one capture device,
/// each saying it is a test pattern (`app`), so no console takes them for
/// this machine's own. Used by tests, by `serve --no-capture` and by the
/// synthetic capture backend.
pub fn demo_sources() -> Vec<SourceInfo> {
    let src = |id: &str, kind, title: &str| SourceInfo {
        id: id.into(),
        kind,
        select_index: None,
        device_id: None,
        title: title.into(),
        app: TEST_PATTERN_APP.into(),
        width: 1920,
        height: 1080,
        unavailable: None,
        health: None,
    };
    vec![
        src("desktop", SourceKind::Desktop, "Desktop"),
        src("hdmi-1", SourceKind::CaptureDevice, "HDMI-1"),
        src(
            "win-slides",
            SourceKind::Window,
            "Quarterly review — Slides",
        ),
        src("win-terminal", SourceKind::Window, "Terminal"),
        src("win-board", SourceKind::Window, "白板 Whiteboard"),
    ]
}
