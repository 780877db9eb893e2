//! GPU textures for thumbnails and the live preview: created once per source
//! and updated in place (`TextureHandle::set`) only when the picture's `seq`
//! changed. Nothing here captures anything: it reads what the capture
//! workers (or the link, remotely) already produced.

use crate::media::{Frame, SharePreview, ThumbnailState};
use std::collections::HashMap;

pub fn color_image(frame: &Frame) -> Option<egui::ColorImage> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    if w == 0 || h == 0 || frame.rgba.len() != w * h * 4 {
        return None;
    }
    Some(egui::ColorImage::from_rgba_unmultiplied(
        [w, h],
        &frame.rgba,
    ))
}

struct Slot {
    texture: egui::TextureHandle,
    seq: u64,
    /// The frame this slot last saw (bookkeeping for eviction).
    used: u64,
}

/// One texture per source id.
#[derive(Default)]
pub struct TileTextures {
    slots: HashMap<String, Slot>,
    frame_no: u64,
    /// Texture uploads (creations + in-place updates) so far, for tests and benches.
    pub uploads: u64,
}

impl TileTextures {
    /// Call once per frame before drawing tiles.
    pub fn begin_frame(&mut self) {
        self.frame_no += 1;
    }

    /// The texture for `id` in its latest state, uploading only if `seq` changed.
    pub fn get(
        &mut self,
        ctx: &egui::Context,
        id: &str,
        state: &ThumbnailState,
    ) -> Option<&egui::TextureHandle> {
        let ThumbnailState::Ready(thumb) = state else {
            return self.slots.get_mut(id).map(|s| {
                s.used = self.frame_no;
                &s.texture
            });
        };
        let frame_no = self.frame_no;
        match self.slots.get_mut(id) {
            Some(slot) => {
                if slot.seq != thumb.seq
                    && let Some(img) = color_image(&thumb.frame)
                {
                    slot.texture.set(img, egui::TextureOptions::LINEAR);
                    slot.seq = thumb.seq;
                    self.uploads += 1;
                }
                slot.used = frame_no;
            }
            None => {
                let img = color_image(&thumb.frame)?;
                let texture =
                    ctx.load_texture(format!("thumb:{id}"), img, egui::TextureOptions::LINEAR);
                self.uploads += 1;
                self.slots.insert(
                    id.to_string(),
                    Slot {
                        texture,
                        seq: thumb.seq,
                        used: frame_no,
                    },
                );
            }
        }
        self.slots.get(id).map(|s| &s.texture)
    }

    /// Drop textures of sources that are gone (not in `alive`).
    pub fn retain(&mut self, alive: &dyn Fn(&str) -> bool) {
        self.slots.retain(|id, _| alive(id));
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// The live "now sharing" picture.
#[derive(Default)]
pub struct PreviewTexture {
    texture: Option<egui::TextureHandle>,
    seq: u64,
    pub source_id: String,
    pub fps: f32,
    pub size: egui::Vec2,
}

impl PreviewTexture {
    /// Update from the latest preview; returns the texture if one is live.
    pub fn update(&mut self, ctx: &egui::Context, preview: Option<&SharePreview>) -> bool {
        let Some(p) = preview else {
            self.texture = None;
            self.source_id.clear();
            return false;
        };
        self.fps = p.fps;
        self.source_id.clone_from(&p.source_id);
        self.size = egui::vec2(p.frame.width as f32, p.frame.height as f32);
        let fresh = self.texture.is_none() || self.seq != p.seq;
        if fresh && let Some(img) = color_image(&p.frame) {
            match &mut self.texture {
                Some(t) => t.set(img, egui::TextureOptions::LINEAR),
                None => {
                    self.texture =
                        Some(ctx.load_texture("share-preview", img, egui::TextureOptions::LINEAR))
                }
            }
            self.seq = p.seq;
        }
        self.texture.is_some()
    }

    /// The texture, if the preview shows `source_id` (or any source when `None`).
    pub fn texture_for(&self, source_id: Option<&str>) -> Option<&egui::TextureHandle> {
        match source_id {
            Some(id) if id != self.source_id => None,
            _ => self.texture.as_ref(),
        }
    }
}

/// "29.7 fps", or "measuring…" before the rate is known.
pub fn fps_text(fps: f32, lang: super::i18n::Lang) -> String {
    if fps > 0.0 {
        format!("{fps:.1} {}", lang.tr("fps"))
    } else {
        match lang {
            super::i18n::Lang::En => "measuring fps…".into(),
            super::i18n::Lang::Zh => "正在测量帧率…".into(),
        }
    }
}
