//! The inspector of one of this computer's own sources, as the UI sees it:
//! the live full-size picture and the figures measured so far
//! ([`InspectorLive`]), and "Save snapshot", which writes the picture as a
//! full-resolution PNG with a JSON sidecar of the same figures. The
//! capture layer does the measuring (`app.rs`/`embedded.rs` plug it in as
//! a [`LocalInspector`]); a remote room's sources are inspected by that
//! room (`roomshare inspect --url`).

use crate::media::Frame;
use crate::protocol::inspect::LiveInspection;
use parking_lot::Mutex;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the inspector shows of the inspected source.
#[derive(Debug, Clone)]
pub struct InspectorLive {
    pub source_id: String,
    /// The latest full-size picture (none before the first grab).
    pub picture: Option<Arc<Frame>>,
    /// Moves with every new picture.
    pub seq: u64,
    /// None until the first figures are in.
    pub live: Option<LiveInspection>,
}

/// The capture side of the inspector.
pub trait LocalInspector: Send + Sync {
    /// Inspect `source_id` (ending any other inspection); `Err` in words.
    fn open(&self, source_id: &str) -> Result<(), String>;
    fn close(&self);
    fn latest(&self) -> Option<InspectorLive>;
}

/// Where a "Save snapshot" ends up, once written: the PNG's path, or why not.
pub type SnapshotTicket = Arc<Mutex<Option<Result<PathBuf, String>>>>;

/// Why a remote room's source cannot be inspected here.
pub const REMOTE_INSPECT: &str = "only this computer's own sources can be inspected here; for a remote room's, run `roomshare inspect --url`";

/// Write a snapshot on `runtime`'s blocking threads into [`snapshot_dir`];
/// `on_done` wakes the UI to show the ticket's answer.
pub fn save_in_background(
    runtime: &tokio::runtime::Handle,
    live: InspectorLive,
    on_done: Arc<dyn Fn() + Send + Sync>,
) -> SnapshotTicket {
    let ticket = SnapshotTicket::default();
    let answer = ticket.clone();
    runtime.spawn_blocking(move || {
        *answer.lock() = Some(write_snapshot(&snapshot_dir(), &live));
        on_done();
    });
    ticket
}

/// The environment variable that overrides where snapshots are saved.
pub const SNAPSHOT_DIR_ENV: &str = "ROOMSHARE_SNAPSHOT_DIR";

/// Where snapshots are saved: `$ROOMSHARE_SNAPSHOT_DIR`, else the user's
/// pictures folder's `roomshare/`, else `roomshare-snapshots/` in the
/// home folder.
pub fn snapshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(SNAPSHOT_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    match dirs::picture_dir() {
        Some(pictures) => pictures.join("roomshare"),
        None => dirs::home_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("roomshare-snapshots"),
    }
}

/// The sidecar: what was inspected, when, and the figures at that moment.
#[derive(Serialize)]
struct Sidecar<'a> {
    source_id: &'a str,
    /// Unix seconds when the snapshot was saved.
    saved_at: i64,
    width: u32,
    height: u32,
    inspection: Option<&'a LiveInspection>,
}

/// Write `live`'s picture as `<dir>/<source>-<unix time>.png` and the
/// figures beside it as `.json`; the PNG's path. Blocking (PNG encoding):
/// run it off the UI thread.
pub fn write_snapshot(dir: &Path, live: &InspectorLive) -> Result<PathBuf, String> {
    let frame = live
        .picture
        .as_ref()
        .ok_or("nothing has been captured yet")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let now = crate::protocol::unix_now();
    let stem = format!("{}-{now}", file_safe(&live.source_id));
    let png = unique_path(dir, &stem, "png");
    image::save_buffer(
        &png,
        &frame.rgba,
        frame.width,
        frame.height,
        image::ExtendedColorType::Rgba8,
    )
    .map_err(|e| format!("cannot write {}: {e}", png.display()))?;
    let sidecar = Sidecar {
        source_id: &live.source_id,
        saved_at: now,
        width: frame.width,
        height: frame.height,
        inspection: live.live.as_ref(),
    };
    let json = serde_json::to_string_pretty(&sidecar).map_err(|e| e.to_string())?;
    let json_path = png.with_extension("json");
    std::fs::write(&json_path, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    Ok(png)
}

/// A source id as part of a file name (`window:1234` → `window-1234`).
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `<dir>/<stem>.<ext>`, or with `-2`, `-3`… when that exists (two
/// snapshots within a second).
fn unique_path(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut path = dir.join(format!("{stem}.{ext}"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.{ext}"));
        n += 1;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_a_png_and_its_sidecar() {
        let dir = tempfile::tempdir().unwrap();
        let live = InspectorLive {
            source_id: "window:42".into(),
            picture: Some(Arc::new(Frame {
                width: 3,
                height: 2,
                rgba: [10u8, 20, 30, 255].repeat(6),
            })),
            seq: 1,
            live: None,
        };
        let first = write_snapshot(dir.path(), &live).unwrap();
        let second = write_snapshot(dir.path(), &live).unwrap();
        assert_ne!(
            first, second,
            "a second snapshot in the same second is kept too"
        );
        assert!(
            first
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("window-42-")
        );
        let img = image::open(&first).unwrap().to_rgba8();
        assert_eq!((img.width(), img.height()), (3, 2));
        assert_eq!(img.get_pixel(2, 1).0, [10, 20, 30, 255]);
        let sidecar: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(first.with_extension("json")).unwrap())
                .unwrap();
        assert_eq!(sidecar["source_id"], "window:42");
        assert_eq!(sidecar["width"], 3);
        let empty = InspectorLive {
            picture: None,
            ..live
        };
        assert_eq!(
            write_snapshot(dir.path(), &empty).unwrap_err(),
            "nothing has been captured yet"
        );
    }
}
