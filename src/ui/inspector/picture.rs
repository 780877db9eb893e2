//! The inspected picture: fitted to the panel, or at 1:1 (one picture
//! pixel to one screen pixel) or 2:1 with drag to pan; the pixel probe
//! reads the picture under the pointer.

use crate::link::InspectorLive;
use crate::media::{Frame, luma};
use crate::ui::i18n::Lang;
use crate::ui::style;
use crate::ui::textures::color_image;
use egui::{Color32, Pos2, Rect, RichText, Sense, Vec2, vec2};

/// How the picture is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Zoom {
    /// The whole picture in the panel.
    #[default]
    Fit,
    /// This many screen pixels a picture pixel (1 or 2).
    Pixels(f32),
}

/// The picture's texture, zoom, pan and what the probe last read.
#[derive(Default)]
pub struct PictureView {
    texture: Option<egui::TextureHandle>,
    seq: u64,
    zoom: Zoom,
    /// Where the picture's top left lies from the panel's, in points, at
    /// a fixed zoom.
    pan: Vec2,
    /// The pixel under the pointer: x, y and its RGB.
    probe: Option<(u32, u32, [u8; 3])>,
}

impl PictureView {
    pub fn zoom_buttons(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let choices = [
            (Zoom::Fit, lang.tr("fit")),
            (Zoom::Pixels(1.0), "1:1"),
            (Zoom::Pixels(2.0), "2:1"),
        ];
        for (zoom, label) in choices {
            if ui.selectable_label(self.zoom == zoom, label).clicked() {
                self.zoom = zoom;
                self.pan = Vec2::ZERO;
            }
        }
    }

    /// The picture (or why there is none yet) filling the space given.
    pub fn ui(&mut self, ui: &mut egui::Ui, id: &str, live: Option<&InspectorLive>, lang: Lang) {
        let size = ui.available_size();
        let (rect, response) = ui.allocate_exact_size(size, Sense::drag());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, style::PLACEHOLDER);
        let frame = live.and_then(|l| l.picture.clone());
        let Some(frame) = frame else {
            let text = lang.tr("waiting_first");
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                text,
                egui::FontId::proportional(16.0),
                style::MUTED,
            );
            return;
        };
        self.upload(ui.ctx(), id, live.map_or(0, |l| l.seq), &frame);
        let Some(texture) = &self.texture else { return };
        let shown = self.placement(ui, rect, &frame);
        if response.dragged() && self.zoom != Zoom::Fit {
            self.pan += response.drag_delta();
            self.pan = clamp_pan(self.pan, rect.size(), shown.size());
        }
        let shown = self.placement(ui, rect, &frame);
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        painter.image(texture.id(), shown, uv, Color32::WHITE);
        self.probe = response
            .hover_pos()
            .and_then(|p| pixel_at(&frame, shown, p));
    }

    /// Upload the picture when it is new (nearest-neighbour: at 1:1 and 2:1
    /// a pixel must look like one).
    fn upload(&mut self, ctx: &egui::Context, id: &str, seq: u64, frame: &Frame) {
        if self.texture.is_some() && self.seq == seq {
            return;
        }
        let Some(img) = color_image(frame) else {
            return;
        };
        let options = egui::TextureOptions::NEAREST;
        match &mut self.texture {
            Some(t) => t.set(img, options),
            None => self.texture = Some(ctx.load_texture(format!("inspect-{id}"), img, options)),
        }
        self.seq = seq;
    }

    /// Where the picture is drawn in `rect` at the current zoom and pan.
    fn placement(&self, ui: &egui::Ui, rect: Rect, frame: &Frame) -> Rect {
        let pixels = vec2(frame.width as f32, frame.height as f32);
        match self.zoom {
            Zoom::Fit => crate::ui::wall::fit_rect(rect, pixels),
            Zoom::Pixels(n) => {
                let size = pixels * n / ui.ctx().pixels_per_point();
                // Centred when smaller than the panel, else from the pan.
                let centred = rect.center() - size / 2.0;
                let min = Pos2::new(
                    if size.x <= rect.width() {
                        centred.x
                    } else {
                        rect.min.x + self.pan.x
                    },
                    if size.y <= rect.height() {
                        centred.y
                    } else {
                        rect.min.y + self.pan.y
                    },
                );
                Rect::from_min_size(min, size)
            }
        }
    }

    /// The pixel under the pointer: position, RGB and luma.
    pub fn probe_ui(&self, ui: &mut egui::Ui, lang: Lang) {
        ui.add_space(8.0);
        ui.label(RichText::new(lang.tr("probe")).strong());
        let Some((x, y, [r, g, b])) = self.probe else {
            ui.label(RichText::new(lang.tr("probe_hint")).color(style::MUTED));
            return;
        };
        ui.horizontal(|ui| {
            let (swatch, _) = ui.allocate_exact_size(vec2(14.0, 14.0), Sense::hover());
            ui.painter()
                .rect_filled(swatch, 2.0, Color32::from_rgb(r, g, b));
            ui.monospace(format!("({x}, {y})  RGB {r} {g} {b}  Y {}", luma(r, g, b)));
        });
    }
}

/// A pan that keeps the picture covering the panel.
fn clamp_pan(pan: Vec2, panel: Vec2, picture: Vec2) -> Vec2 {
    vec2(
        pan.x.clamp((panel.x - picture.x).min(0.0), 0.0),
        pan.y.clamp((panel.y - picture.y).min(0.0), 0.0),
    )
}

/// The picture pixel drawn at `pos` when the picture fills `shown`.
fn pixel_at(frame: &Frame, shown: Rect, pos: Pos2) -> Option<(u32, u32, [u8; 3])> {
    if !shown.contains(pos) || shown.width() <= 0.0 || shown.height() <= 0.0 {
        return None;
    }
    let fx = (pos.x - shown.min.x) / shown.width();
    let fy = (pos.y - shown.min.y) / shown.height();
    let x = ((fx * frame.width as f32) as u32).min(frame.width.saturating_sub(1));
    let y = ((fy * frame.height as f32) as u32).min(frame.height.saturating_sub(1));
    let at = (y as usize * frame.width as usize + x as usize) * 4;
    let p = frame.rgba.get(at..at + 3)?;
    Some((x, y, [p[0], p[1], p[2]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_reads_the_pixel_under_the_pointer() {
        // 4×2: pixel (x, y) has red = 10 x + y.
        let rgba = (0..2u8)
            .flat_map(|y| (0..4u8).flat_map(move |x| [10 * x + y, 0, 0, 255]))
            .collect();
        let frame = Frame {
            width: 4,
            height: 2,
            rgba,
        };
        let shown = Rect::from_min_size(Pos2::new(100.0, 100.0), vec2(40.0, 20.0));
        assert_eq!(
            pixel_at(&frame, shown, Pos2::new(135.0, 115.0)),
            Some((3, 1, [31, 0, 0]))
        );
        assert_eq!(
            pixel_at(&frame, shown, Pos2::new(100.0, 100.0)),
            Some((0, 0, [0, 0, 0]))
        );
        assert_eq!(pixel_at(&frame, shown, Pos2::new(99.0, 100.0)), None);
    }

    #[test]
    fn panning_stops_at_the_picture_edges() {
        let panel = vec2(100.0, 100.0);
        let picture = vec2(300.0, 50.0);
        assert_eq!(clamp_pan(vec2(50.0, -20.0), panel, picture), vec2(0.0, 0.0));
        assert_eq!(
            clamp_pan(vec2(-500.0, 0.0), panel, picture),
            vec2(-200.0, 0.0)
        );
    }
}
