//! What the portal's streams are called in the catalog.
//!
//! The portal says little about a stream: its PipeWire node, its type
//! (monitor, window, virtual), its size and position, and since version 4 an
//! `id` that stays the same when a session is restored from a token. Source
//! ids are built from that id where given, else from the stream's place
//! among streams of its type (the portal restores in the order the user
//! chose them), never from the node id, which changes every session.

use crate::protocol::{SourceInfo, SourceKind};

/// The id of the desktop (the primary monitor stream), as elsewhere.
pub const DESKTOP_ID: &str = "desktop";
const MONITOR_PREFIX: &str = "portal-monitor:";
const WINDOW_PREFIX: &str = "portal-window:";

/// The portal's source types (`AvailableSourceTypes` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Monitor,
    Window,
    Virtual,
}

/// One stream as the portal described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalStream {
    pub node_id: u32,
    /// `None` when the portal does not say (before version 3): a monitor.
    pub kind: Option<StreamKind>,
    /// The restore-stable `id` property (version 4+).
    pub portal_id: Option<String>,
    pub position: Option<(i32, i32)>,
    pub size: Option<(i32, i32)>,
}

/// A stream with the names the catalog shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    pub node_id: u32,
    pub kind: StreamKind,
    /// The catalog id (`portal-monitor:…` / `portal-window:…`).
    pub source_id: String,
    /// "Screen 1", "Shared window 2" (the portal gives no titles).
    pub title: String,
    /// The size the portal announced (compositor units; the pixel size is
    /// known once the stream has negotiated its format).
    pub size: Option<(u32, u32)>,
    /// Whether this monitor also stands for the desktop.
    pub primary: bool,
}

/// Names for the streams, in the portal's order.
pub fn describe(streams: &[PortalStream]) -> Vec<StreamInfo> {
    let mut counts = [0usize; 3];
    let mut out: Vec<StreamInfo> = streams
        .iter()
        .map(|s| {
            let kind = s.kind.unwrap_or(StreamKind::Monitor);
            let n = &mut counts[kind as usize];
            *n += 1;
            StreamInfo {
                node_id: s.node_id,
                kind,
                source_id: source_id(kind, s.portal_id.as_deref(), *n),
                title: title(kind, *n),
                size: s
                    .size
                    .and_then(|(w, h)| Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?))),
                primary: false,
            }
        })
        .collect();
    if let Some(i) = primary_monitor(streams, &out) {
        out[i].primary = true;
    }
    out
}

/// The monitor at the origin, else the first monitor.
fn primary_monitor(streams: &[PortalStream], infos: &[StreamInfo]) -> Option<usize> {
    let monitors = || (0..infos.len()).filter(|&i| infos[i].kind == StreamKind::Monitor);
    monitors()
        .find(|&i| streams[i].position == Some((0, 0)))
        .or_else(|| monitors().next())
}

fn source_id(kind: StreamKind, portal_id: Option<&str>, n: usize) -> String {
    let prefix = match kind {
        StreamKind::Window => WINDOW_PREFIX,
        StreamKind::Monitor | StreamKind::Virtual => MONITOR_PREFIX,
    };
    let virt = if kind == StreamKind::Virtual { "v" } else { "" };
    match portal_id.filter(|id| !id.is_empty()) {
        Some(id) => format!("{prefix}{virt}{id}"),
        None => format!("{prefix}{virt}#{n}"),
    }
}

fn title(kind: StreamKind, n: usize) -> String {
    match kind {
        StreamKind::Monitor => format!("Screen {n}"),
        StreamKind::Window => format!("Shared window {n}"),
        StreamKind::Virtual => format!("Virtual screen {n}"),
    }
}

/// The catalog entries for live streams: each monitor as a screen, the
/// primary one also as the desktop (as the X11 backend lists them), and
/// each window. `size` is the stream's pixel size once known.
pub fn catalog(streams: &[(StreamInfo, Option<(u32, u32)>)]) -> Vec<SourceInfo> {
    let mut out = Vec::with_capacity(streams.len() + 1);
    for (info, pixels) in streams {
        let (width, height) = pixels.or(info.size).unwrap_or((0, 0));
        let entry = |id: &str, kind, title: &str, app: &str| SourceInfo {
            id: id.to_string(),
            kind,
            select_index: None,
            device_id: None,
            title: title.to_string(),
            app: app.to_string(),
            width,
            height,
            unavailable: None,
            health: None,
        };
        match info.kind {
            StreamKind::Window => {
                out.push(entry(&info.source_id, SourceKind::Window, &info.title, ""))
            }
            StreamKind::Monitor | StreamKind::Virtual => {
                if info.primary {
                    out.push(entry(
                        DESKTOP_ID,
                        SourceKind::Desktop,
                        "Desktop",
                        &info.title,
                    ));
                }
                out.push(entry(
                    &info.source_id,
                    SourceKind::Monitor,
                    &info.title,
                    "monitor",
                ));
            }
        }
    }
    out
}
