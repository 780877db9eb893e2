//! Painting one tile: the picture (live preview, thumbnail or a reason),
//! the title and wire name, and the marks (shared, requested, focused).

use super::tiles::Tile;
use crate::media::ThumbnailState;
use crate::ui::i18n::Lang;
use crate::ui::style;
use crate::ui::textures::fps_text;
use egui::{Align2, Color32, FontId, Painter, Rect, Response, Sense, Stroke, StrokeKind, vec2};

/// How a tile is drawn this frame.
pub(super) struct TileLook {
    pub shared: bool,
    pub focused: bool,
    pub pending: bool,
    /// Height of the picture area.
    pub img_h: f32,
}

/// What the picture area shows.
pub(super) struct Picture<'a> {
    pub state: &'a ThumbnailState,
    /// The texture to draw (the live preview or the thumbnail) and its size.
    pub texture: Option<(egui::TextureId, egui::Vec2)>,
    /// The measured rate, when the texture is the live share preview.
    pub live_fps: Option<f32>,
}

/// Paint one tile; the response tells whether it was clicked.
pub(super) fn paint(
    ui: &mut egui::Ui,
    rect: Rect,
    tile: &Tile,
    look: &TileLook,
    picture: &Picture,
    lang: Lang,
) -> Response {
    let id = ui.scope_id().with(("tile", &tile.id));
    let response = ui.interact(rect, id, Sense::click());
    let now = crate::protocol::unix_now();
    let health = tile
        .health
        .and_then(|h| super::health::badge(&h, now, lang));
    // A screen reader hears the health too ("Desktop — Black 0:14").
    let label = match &health {
        Some((words, _)) => format!("{} — {words}", tile.title),
        None => tile.title.clone(),
    };
    response
        .widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, look.shared, &label));
    let painter = ui.painter_at(rect.expand(4.0));
    let bg = if response.hovered() {
        style::TILE_BG_HOVER
    } else {
        style::TILE_BG
    };
    painter.rect_filled(rect, 8.0, bg);
    let img_rect = Rect::from_min_size(
        rect.min + vec2(6.0, 6.0),
        vec2(rect.width() - 12.0, look.img_h - 6.0),
    );
    painter.rect_filled(img_rect, 4.0, style::PLACEHOLDER);
    paint_picture(&painter, img_rect, tile, picture, lang);
    paint_caption(ui, &painter, rect, tile, look, picture, lang);
    paint_marks(
        &painter,
        rect,
        img_rect,
        look,
        picture,
        response.hovered(),
        lang,
    );
    if tile.is_test_pattern() {
        test_pattern_badge(&painter, img_rect, lang);
    }
    if let Some((text, colour)) = health {
        health_badge(&painter, img_rect, text, colour);
    }
    let hover = if look.shared {
        format!("{} — {}", tile.title, lang.tr("now_sharing"))
    } else {
        format!("{} — {}", tile.title, tile.wire_name())
    };
    response.on_hover_text(hover)
}

/// The texture, dimmed when the last capture failed, and what to say
/// instead of (or over) it.
fn paint_picture(painter: &Painter, img_rect: Rect, tile: &Tile, picture: &Picture, lang: Lang) {
    let unavailable = matches!(picture.state, ThumbnailState::Unavailable(_));
    if let Some((tex_id, size)) = picture.texture {
        let tint = if unavailable {
            Color32::from_gray(70)
        } else {
            Color32::WHITE
        };
        let uv = Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
        painter.image(tex_id, super::fit_rect(img_rect, size), uv, tint);
    }
    let small = FontId::proportional(13.0);
    match (picture.state, tile.live, picture.texture.is_some()) {
        (ThumbnailState::Unavailable(reason), _, _) => {
            painter.rect_filled(img_rect, 4.0, Color32::from_black_alpha(150));
            let text = format!("⚠ {}\n{reason}", lang.tr("unavailable"));
            centred_text(painter, img_rect, text, small, style::WARN);
        }
        (_, false, _) => {
            let kind = super::kind_name(tile.kind, lang);
            let text = format!("{kind}\n{}", tile.wire_name());
            centred_text(
                painter,
                img_rect,
                text,
                FontId::proportional(16.0),
                style::MUTED,
            );
        }
        (_, true, false) => {
            painter.text(
                img_rect.center(),
                Align2::CENTER_CENTER,
                lang.tr("pending_thumb"),
                small,
                style::MUTED,
            );
        }
        _ => {}
    }
}

fn centred_text(painter: &Painter, rect: Rect, text: String, font: FontId, color: Color32) {
    let galley = painter.layout(text, font, color, rect.width() - 16.0);
    painter.galley(rect.center() - galley.size() / 2.0, galley, color);
}

/// Title, then `app · kind · wire name`, each on one line.
fn paint_caption(
    ui: &egui::Ui,
    painter: &Painter,
    rect: Rect,
    tile: &Tile,
    look: &TileLook,
    picture: &Picture,
    lang: Lang,
) {
    let text_w = rect.width() - 12.0;
    let title_pos = egui::pos2(rect.min.x + 6.0, rect.min.y + look.img_h + 5.0);
    let title_color = if matches!(picture.state, ThumbnailState::Unavailable(_)) {
        style::MUTED
    } else {
        ui.visuals().strong_text_color()
    };
    let title = one_line(
        painter,
        &tile.title,
        FontId::proportional(16.0),
        title_color,
        text_w,
    );
    painter.galley(title_pos, title, title_color);
    let kind = super::kind_name(tile.kind, lang);
    let sub = if tile.app.is_empty() || tile.app == kind {
        format!("{kind} · {}", tile.wire_name())
    } else {
        format!("{} · {kind} · {}", tile.app, tile.wire_name())
    };
    let small = FontId::proportional(13.0);
    let sub = one_line(painter, &sub, small, style::MUTED, text_w);
    painter.galley(title_pos + vec2(0.0, 22.0), sub, style::MUTED);
}

/// Shared: a thick green border and a badge with the rate; requested: an
/// amber border and badge; focused: an accent ring; hovered: a thin border.
fn paint_marks(
    painter: &Painter,
    rect: Rect,
    img_rect: Rect,
    look: &TileLook,
    picture: &Picture,
    hovered: bool,
    lang: Lang,
) {
    if look.shared {
        painter.rect_stroke(
            rect,
            8.0,
            Stroke::new(4.0, style::SHARING),
            StrokeKind::Inside,
        );
        let fps = picture
            .live_fps
            .map(|fps| format!(" · {}", fps_text(fps, lang)))
            .unwrap_or_default();
        badge(
            painter,
            img_rect,
            format!("● {}{fps}", lang.tr("now_sharing")),
            style::SHARING,
        );
    } else if look.pending {
        painter.rect_stroke(rect, 8.0, Stroke::new(2.0, style::WARN), StrokeKind::Inside);
        badge(painter, img_rect, lang.tr("requested").into(), style::WARN);
    }
    if look.focused {
        let ring = Stroke::new(2.5, style::ACCENT);
        painter.rect_stroke(rect.expand(3.0), 10.0, ring, StrokeKind::Outside);
    } else if hovered && !look.shared {
        painter.rect_stroke(
            rect,
            8.0,
            Stroke::new(1.0, style::MUTED),
            StrokeKind::Inside,
        );
    }
}

/// A label on a coloured plate in the picture's top-left corner.
fn badge(painter: &Painter, img_rect: Rect, text: String, fill: Color32) {
    let galley = painter.layout_no_wrap(text, FontId::proportional(14.0), Color32::BLACK);
    let plate = Rect::from_min_size(
        img_rect.min + vec2(6.0, 6.0),
        galley.size() + vec2(12.0, 6.0),
    );
    painter.rect_filled(plate, 4.0, fill);
    painter.galley(plate.min + vec2(6.0, 3.0), galley, Color32::BLACK);
}

/// "Test pattern" in the picture's bottom-right corner, on every synthetic
/// tile, so nobody takes the colour bars for this machine's screen.
fn test_pattern_badge(painter: &Painter, img_rect: Rect, lang: Lang) {
    let text = format!("▦ {}", lang.tr("test_pattern"));
    let galley = painter.layout_no_wrap(text, FontId::proportional(13.0), Color32::WHITE);
    let size = galley.size() + vec2(12.0, 6.0);
    let plate = Rect::from_min_size(img_rect.max - size - vec2(6.0, 6.0), size);
    painter.rect_filled(plate, 4.0, Color32::from_black_alpha(190));
    painter.galley(plate.min + vec2(6.0, 3.0), galley, Color32::WHITE);
}

/// The source's health in words in the picture's bottom-left corner: a
/// dark plate with the words in the state's colour (words, not colour
/// alone).
fn health_badge(painter: &Painter, img_rect: Rect, text: String, colour: Color32) {
    let galley = painter.layout_no_wrap(text, FontId::proportional(13.0), colour);
    let size = galley.size() + vec2(12.0, 6.0);
    let min = egui::pos2(img_rect.min.x + 6.0, img_rect.max.y - size.y - 6.0);
    let plate = Rect::from_min_size(min, size);
    painter.rect_filled(plate, 4.0, Color32::from_black_alpha(200));
    painter.rect_stroke(plate, 4.0, Stroke::new(1.0, colour), StrokeKind::Inside);
    painter.galley(plate.min + vec2(6.0, 3.0), galley, colour);
}

/// Lay out `text` on one line, cut with "…" at `width`.
pub fn one_line(
    painter: &Painter,
    text: &str,
    font: FontId,
    color: Color32,
    width: f32,
) -> std::sync::Arc<egui::Galley> {
    let mut job = egui::text::LayoutJob::simple_singleline(text.to_string(), font, color);
    job.wrap = egui::text::TextWrapping {
        max_width: width.max(10.0),
        max_rows: 1,
        break_anywhere: true,
        overflow_character: Some('…'),
    };
    painter.layout_job(job)
}

/// The small "Inspect" button in a tile's picture's top right corner; true
/// when clicked.
pub(super) fn inspect_button(ui: &mut egui::Ui, rect: Rect, img_h: f32, lang: Lang) -> bool {
    let text = egui::RichText::new(lang.tr("inspect")).size(12.0);
    let size = vec2(72.0, 20.0);
    let at = Rect::from_min_size(
        rect.min + vec2(rect.width() - size.x - 10.0, img_h - size.y - 4.0),
        size,
    );
    ui.put(at, egui::Button::new(text))
        .on_hover_text(lang.tr("inspect_key"))
        .clicked()
}
