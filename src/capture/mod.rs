//! Capture: the source catalog (xcap or synthetic), thumbnails off the UI
//! thread, and the share session that captures the shared source
//! continuously. Platform-specific code lives here, behind `cfg`.
//!
//! SKELETON: the types below are the contract other layers use; the
//! implementation is being written.

use crate::engine::{EngineHandle, Thumbnail, ThumbnailProvider};
use crate::protocol::SourceInfo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An RGBA8 picture, row-major, `width * height * 4` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// The latest thumbnail of a source.
#[derive(Debug, Clone)]
pub struct Thumb {
    pub frame: Arc<Frame>,
    /// Increases whenever the picture changed (UI re-uploads its texture only then).
    pub seq: u64,
    pub captured_at: Instant,
}

/// What a source tile can show.
#[derive(Debug, Clone)]
pub enum TileState {
    /// Not captured yet.
    Pending,
    Ready(Thumb),
    /// The last capture failed; the reason is shown on the tile.
    Unavailable(String),
}

/// Why a capture failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CaptureError {
    #[error("source {0:?} is gone")]
    Gone(String),
    #[error("capture failed: {0}")]
    Failed(String),
}

/// Where sources and pictures come from.
pub trait Backend: Send + 'static {
    /// A short name for logs and the UI ("x11", "synthetic").
    fn name(&self) -> &'static str;
    /// The desktop, the capture devices and the windows (front to back).
    fn list(&mut self) -> Result<Vec<SourceInfo>, CaptureError>;
    /// A full-resolution picture of one source.
    fn capture(&mut self, source_id: &str) -> Result<image::RgbaImage, CaptureError>;
}

/// Latest thumbnails by source id, shared between the thumbnailer (writer),
/// the UI and the engine's `["RoomShare","Thumbnail"]` answers (readers).
#[derive(Clone, Default)]
pub struct ThumbnailStore {
    tiles: Arc<Mutex<HashMap<String, TileState>>>,
}

impl ThumbnailStore {
    pub fn get(&self, source_id: &str) -> TileState {
        self.tiles
            .lock()
            .expect("thumbnail store poisoned")
            .get(source_id)
            .cloned()
            .unwrap_or(TileState::Pending)
    }

    pub fn set(&self, source_id: &str, state: TileState) {
        self.tiles
            .lock()
            .expect("thumbnail store poisoned")
            .insert(source_id.to_string(), state);
    }
}

impl ThumbnailProvider for ThumbnailStore {
    fn thumbnail(&self, source_id: &str) -> Result<Thumbnail, String> {
        match self.get(source_id) {
            TileState::Ready(t) => {
                let img =
                    image::RgbaImage::from_raw(t.frame.width, t.frame.height, t.frame.rgba.clone())
                        .ok_or("malformed frame")?;
                let rgb = image::DynamicImage::ImageRgba8(img).to_rgb8();
                let mut jpeg = Vec::new();
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
                    .encode_image(&rgb)
                    .map_err(|e| e.to_string())?;
                Ok(Thumbnail {
                    width: t.frame.width,
                    height: t.frame.height,
                    jpeg,
                })
            }
            TileState::Pending => Err("not captured yet".into()),
            TileState::Unavailable(why) => Err(why),
        }
    }
}

/// The live "now sharing" picture and its measured rate.
#[derive(Debug, Clone)]
pub struct SharePreview {
    pub source_id: String,
    pub frame: Arc<Frame>,
    pub seq: u64,
    pub fps: f32,
}

/// Tuning of the capture workers.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// How often the catalog is re-read.
    pub catalog_interval: Duration,
    /// How often each source's thumbnail is refreshed.
    pub thumbnail_interval: Duration,
    /// Thumbnail bounding box (aspect ratio kept).
    pub thumbnail_size: (u32, u32),
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            catalog_interval: Duration::from_secs(1),
            thumbnail_interval: Duration::from_secs(1),
            thumbnail_size: (320, 180),
        }
    }
}

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourcesMode {
    /// Real capture where a display exists, synthetic otherwise.
    Auto,
    /// Real capture (xcap) only.
    Real,
    /// Animated test patterns.
    Synthetic,
}

/// Running capture workers. Dropping it stops them.
pub struct Capture {
    pub thumbnails: ThumbnailStore,
    pub preview: Arc<Mutex<Option<SharePreview>>>,
    pub backend_name: &'static str,
}

impl Capture {
    /// Start the catalog, thumbnailer and share-session workers for `engine`.
    /// `on_change` is called (from a worker thread) whenever something the UI
    /// shows changed, so it can request a repaint.
    pub fn start(
        _mode: SourcesMode,
        _engine: EngineHandle,
        _options: CaptureOptions,
        _on_change: Arc<dyn Fn() + Send + Sync>,
    ) -> Capture {
        todo!("capture workers")
    }

    /// The thumbnails, as the engine's sessions serve them.
    pub fn provider(&self) -> Arc<dyn ThumbnailProvider> {
        Arc::new(self.thumbnails.clone())
    }
}
