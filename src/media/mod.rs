//! The picture types: what capture produces and the engine, the link and
//! the UI consume. No I/O and no threads here.
//!
//! # Glossary
//!
//! - a **picture** is captured pixels: a [`Frame`] (RGBA8, whatever its
//!   size). In this module, and wherever a `media` type is meant, "frame"
//!   means a picture and nothing else;
//! - a **thumbnail** ([`Thumbnail`]) is a small picture of one source with a
//!   sequence number that moves when the picture changed;
//! - a **thumbnail state** ([`ThumbnailState`]) is what is known of one
//!   source's thumbnail: not captured yet, ready, or unavailable and why
//!   (the UI draws a source's tile from it);
//! - the [`ThumbnailStore`] holds the latest thumbnail state of every
//!   source;
//! - a **share preview** ([`SharePreview`]) is the live picture of the
//!   source being shared.
//!
//! - a **colour-bars check** ([`bars::check`]) compares a picture with 75 %
//!   colour bars (a capture device's test signal).
//!
//! Not pictures, and never called a bare "frame" next to one: a **wire
//! frame** is one WebSocket text message (`protocol`), a **repaint** is one
//! UI frame drawn (`ui`). Inside capture, a backend's own buffer before it
//! becomes a picture is named for where it comes from (a device's
//! `DeviceFrame`, a PipeWire stream's `PipewireFrame`).

pub mod bars;

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// An RGBA8 picture, row-major, `width * height * 4` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Frame {
    /// Take over an `image` buffer without copying.
    pub fn from_image(img: image::RgbaImage) -> Frame {
        Frame {
            width: img.width(),
            height: img.height(),
            rgba: img.into_raw(),
        }
    }
}

/// The latest small picture of a source.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub frame: Arc<Frame>,
    /// Increases whenever the picture changed: the UI re-uploads its
    /// texture only then.
    pub seq: u64,
    pub captured_at: Instant,
}

/// What is known of one source's thumbnail (a source's tile shows it).
#[derive(Debug, Clone)]
pub enum ThumbnailState {
    /// Not captured yet.
    Pending,
    Ready(Thumbnail),
    /// The last capture failed, for this reason (the UI shows it).
    Unavailable(String),
}

/// The latest thumbnail state by source id: written by the thumbnailer (or, remotely, by
/// the link), read by the UI and by the engine's thumbnail answers.
#[derive(Clone, Default)]
pub struct ThumbnailStore {
    states: Arc<Mutex<HashMap<String, ThumbnailState>>>,
}

impl ThumbnailStore {
    pub fn get(&self, source_id: &str) -> ThumbnailState {
        self.states
            .lock()
            .get(source_id)
            .cloned()
            .unwrap_or(ThumbnailState::Pending)
    }

    pub fn set(&self, source_id: &str, state: ThumbnailState) {
        self.states.lock().insert(source_id.to_string(), state);
    }

    /// Mark a source unavailable for `reason`; true if that changed its
    /// state.
    pub fn set_unavailable(&self, source_id: &str, reason: String) -> bool {
        let mut states = self.states.lock();
        if matches!(states.get(source_id), Some(ThumbnailState::Unavailable(r)) if *r == reason) {
            return false;
        }
        states.insert(source_id.to_string(), ThumbnailState::Unavailable(reason));
        true
    }

    /// Forget the states of sources that are no longer listed; true if any
    /// was removed.
    pub fn retain_ids(&self, keep: &[&str]) -> bool {
        let mut states = self.states.lock();
        let before = states.len();
        states.retain(|id, _| keep.contains(&id.as_str()));
        states.len() != before
    }
}

/// BT.601 luma of one pixel, full range, in integers (the weights add up
/// to 256): as the health rules and the inspector's pixel probe read it.
#[inline]
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

/// A thumbnail as the engine serves it (`["RoomShare","Thumbnail"]`).
#[derive(Debug, Clone)]
pub struct JpegThumbnail {
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

/// Where the engine's sessions get thumbnails from, so that the engine
/// does not own capture.
pub trait ThumbnailSource: Send + Sync {
    /// The latest thumbnail of `source_id` as a JPEG, or why there is none.
    fn jpeg(&self, source_id: &str) -> Result<JpegThumbnail, String>;
}

impl ThumbnailSource for ThumbnailStore {
    fn jpeg(&self, source_id: &str) -> Result<JpegThumbnail, String> {
        match self.get(source_id) {
            ThumbnailState::Ready(t) => encode_jpeg(&t.frame),
            ThumbnailState::Pending => Err("not captured yet".into()),
            ThumbnailState::Unavailable(why) => Err(why),
        }
    }
}

/// JPEG (quality 80) of an opaque RGBA frame.
pub fn encode_jpeg(frame: &Frame) -> Result<JpegThumbnail, String> {
    let rgb: Vec<u8> = frame
        .rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    if rgb.len() != frame.width as usize * frame.height as usize * 3 {
        return Err("malformed frame".into());
    }
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode(
            &rgb,
            frame.width,
            frame.height,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| e.to_string())?;
    Ok(JpegThumbnail {
        width: frame.width,
        height: frame.height,
        jpeg,
    })
}

/// Decode a JPEG into a frame (remote thumbnails).
pub fn decode_jpeg(bytes: &[u8]) -> Result<Frame, String> {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .map(|img| Frame::from_image(img.to_rgba8()))
        .map_err(|e| format!("not a readable JPEG: {e}"))
}

/// The live "now sharing" picture and its measured rate.
#[derive(Debug, Clone)]
pub struct SharePreview {
    pub source_id: String,
    pub frame: Arc<Frame>,
    pub seq: u64,
    pub fps: f32,
}

/// The latest share preview, written by the share capture and read by the
/// UI. Cheap to clone.
#[derive(Clone, Default)]
pub struct PreviewSlot(Arc<Mutex<Option<SharePreview>>>);

impl PreviewSlot {
    pub fn get(&self) -> Option<SharePreview> {
        self.0.lock().clone()
    }

    /// Replace the preview; true if that changed whether one is shown.
    pub fn set(&self, preview: Option<SharePreview>) -> bool {
        let mut slot = self.0.lock();
        let changed = slot.is_some() || preview.is_some();
        *slot = preview;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_round_trip_keeps_size_and_colour() {
        let frame = Frame {
            width: 64,
            height: 36,
            rgba: [200u8, 40, 30, 255].repeat(64 * 36),
        };
        let jpeg = encode_jpeg(&frame).unwrap();
        let back = decode_jpeg(&jpeg.jpeg).unwrap();
        assert_eq!((back.width, back.height), (64, 36));
        let p = &back.rgba[..3];
        assert!(p[0].abs_diff(200) < 8 && p[1].abs_diff(40) < 8 && p[2].abs_diff(30) < 8);
        assert!(
            encode_jpeg(&Frame {
                width: 2,
                height: 2,
                rgba: vec![0; 4]
            })
            .is_err()
        );
    }

    #[test]
    fn unavailable_reports_only_changes() {
        let store = ThumbnailStore::default();
        assert!(store.set_unavailable("a", "gone".into()));
        assert!(!store.set_unavailable("a", "gone".into()));
        assert!(store.set_unavailable("a", "busy".into()));
        assert!(store.retain_ids(&[]));
        assert!(matches!(store.get("a"), ThumbnailState::Pending));
    }
}
