//! The source wall: screens & capture devices, then windows, each a live
//! thumbnail with its title and app. One click (or Enter on the focused
//! tile) asks the room to share it; the shared tile is marked with a live
//! preview. Only visible tiles are laid out, painted and uploaded.

use super::Intent;
use super::i18n::Lang;
use super::style;
use super::textures::{PreviewTexture, TileTextures};
use crate::link::{Extension, RoomView};
use crate::media::{ThumbnailStore, TileState};
use crate::protocol::{ShareTarget, SourceKind};
use egui::{Align2, Color32, FontId, Rect, Sense, Stroke, StrokeKind, Vec2, pos2, vec2};
use std::time::{Duration, Instant};

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

    fn group(&self) -> u8 {
        match self.kind {
            SourceKind::Desktop | SourceKind::CaptureDevice => 0,
            SourceKind::Window => 1,
        }
    }
}

/// The tiles a view offers, screens & capture devices first, then windows.
/// Without the extension: the desktop (index 0) and `capture_device_list`.
pub fn tiles_of(view: &RoomView, lang: Lang) -> Vec<Tile> {
    let mut tiles: Vec<Tile> = if view.extension == Extension::Present || !view.sources.is_empty() {
        view.sources
            .iter()
            .filter_map(|s| {
                let target = match s.kind {
                    SourceKind::CaptureDevice => ShareTarget::Device(Some(
                        s.device_id.clone().unwrap_or_else(|| s.id.clone()),
                    )),
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
                })
            })
            .collect()
    } else {
        let mut t = vec![Tile {
            id: "index:0".into(),
            kind: SourceKind::Desktop,
            title: lang.tr("desktop").into(),
            app: String::new(),
            width: 0,
            height: 0,
            target: ShareTarget::Index(0),
            live: false,
        }];
        t.extend(view.capture_device_list.iter().map(|d| Tile {
            id: format!("device:{d}"),
            kind: SourceKind::CaptureDevice,
            title: d.clone(),
            app: lang.tr("capture_device").into(),
            width: 0,
            height: 0,
            target: ShareTarget::Device(Some(d.clone())),
            live: false,
        }));
        t
    };
    tiles.sort_by_key(Tile::group); // stable: keeps the engine's order inside a group
    tiles
}

fn matches(tile: &Tile, filter: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let f = filter.to_lowercase();
    tile.title.to_lowercase().contains(&f)
        || tile.app.to_lowercase().contains(&f)
        || tile.id.to_lowercase().contains(&f)
}

/// The wall's own state (runtime only; the filter is not persisted).
pub struct Wall {
    pub filter: String,
    pub filter_id: egui::Id,
    /// The focused tile (by stable id, so it survives list changes).
    pub focused: Option<String>,
    /// A tile clicked but not yet confirmed by the room.
    pub pending: Option<(String, Instant)>,
    pub textures: TileTextures,
    /// Last frame's tile rects in wall coordinates, in display order.
    rects: Vec<(String, Rect)>,
    scroll_to_focus: bool,
    focus_filter: bool,
}

impl Default for Wall {
    fn default() -> Self {
        Wall {
            filter: String::new(),
            filter_id: egui::Id::unique("roomshare-source-filter"),
            focused: None,
            pending: None,
            textures: TileTextures::default(),
            rects: Vec::new(),
            scroll_to_focus: false,
            focus_filter: false,
        }
    }
}

#[derive(Clone, Copy)]
enum Step {
    Left,
    Right,
    Up,
    Down,
}

/// How long a click waits for the room's answer before the tile stops saying "Starting…".
pub const PENDING_TIMEOUT: Duration = Duration::from_secs(6);

/// Keys the wall reacts to this frame.
#[derive(Debug, Default, Clone, Copy)]
pub struct Keys {
    /// Presses of each arrow this frame.
    pub left: usize,
    pub right: usize,
    pub up: usize,
    pub down: usize,
    pub enter: bool,
    pub focus_filter: bool,
    /// Home / End: the first / last tile.
    pub home: bool,
    pub end: bool,
}

impl Keys {
    pub fn moves(&self) -> usize {
        self.left
            + self.right
            + self.up
            + self.down
            + usize::from(self.home)
            + usize::from(self.end)
    }
}

impl Wall {
    /// Visible tiles after the filter.
    pub fn visible<'a>(&self, tiles: &'a [Tile]) -> Vec<&'a Tile> {
        tiles.iter().filter(|t| matches(t, &self.filter)).collect()
    }

    /// The room answered (the source is now shared, or a notice came back).
    pub fn settle(&mut self, view: &RoomView, notice_for_start: bool) {
        if let Some((id, at)) = &self.pending {
            let shared = view
                .share_session
                .as_ref()
                .is_some_and(|s| &s.source_id == id);
            if shared || notice_for_start || at.elapsed() > PENDING_TIMEOUT {
                self.pending = None;
            }
        }
    }

    /// Move focus / share with the keyboard.
    pub fn keys(&mut self, keys: Keys, tiles: &[Tile], out: &mut Vec<Intent>) {
        if keys.focus_filter {
            self.focus_filter = true;
        }
        let visible = self.visible(tiles);
        if visible.is_empty() {
            return;
        }
        let mut pos = self
            .focused
            .as_ref()
            .and_then(|f| visible.iter().position(|t| &t.id == f));
        if keys.home {
            pos = Some(0);
        }
        if keys.end {
            pos = Some(visible.len() - 1);
        }
        let steps = [
            (keys.left, Step::Left),
            (keys.right, Step::Right),
            (keys.up, Step::Up),
            (keys.down, Step::Down),
        ];
        for (count, step) in steps {
            for _ in 0..count {
                let next = match (pos, step) {
                    // The first arrow press focuses the first tile.
                    (None, _) => 0,
                    (Some(p), Step::Left) => p.saturating_sub(1),
                    (Some(p), Step::Right) => (p + 1).min(visible.len() - 1),
                    (Some(p), Step::Up) => self.vertical(&visible, p, false).unwrap_or(p),
                    (Some(p), Step::Down) => self.vertical(&visible, p, true).unwrap_or(p),
                };
                pos = Some(next);
            }
        }
        if keys.moves() > 0
            && let Some(p) = pos
        {
            self.focused = Some(visible[p].id.clone());
            self.scroll_to_focus = true;
        }
        if keys.enter
            && let Some(p) = pos
        {
            self.share(visible[p], out);
        }
    }

    /// The tile in the next row up or down that is nearest horizontally.
    fn vertical(&self, visible: &[&Tile], p: usize, down: bool) -> Option<usize> {
        let rect_of = |id: &str| self.rects.iter().find(|(i, _)| i == id).map(|(_, r)| *r);
        let cur = rect_of(&visible[p].id)?;
        let cy = cur.center().y;
        let rows: Vec<(usize, Rect)> = visible
            .iter()
            .enumerate()
            .filter_map(|(i, t)| rect_of(&t.id).map(|r| (i, r)))
            .filter(|(_, r)| {
                if down {
                    r.center().y > cy + 1.0
                } else {
                    r.center().y < cy - 1.0
                }
            })
            .collect();
        let row_y = rows.iter().map(|(_, r)| r.center().y).min_by(|a, b| {
            let (da, db) = ((a - cy).abs(), (b - cy).abs());
            da.total_cmp(&db)
        })?;
        rows.iter()
            .filter(|(_, r)| (r.center().y - row_y).abs() < 1.0)
            .min_by(|(_, a), (_, b)| {
                (a.center().x - cur.center().x)
                    .abs()
                    .total_cmp(&(b.center().x - cur.center().x).abs())
            })
            .map(|(i, _)| *i)
    }

    fn share(&mut self, tile: &Tile, out: &mut Vec<Intent>) {
        self.focused = Some(tile.id.clone());
        self.pending = Some((tile.id.clone(), Instant::now()));
        out.push(Intent::ShareTile(tile.target.clone()));
    }

    /// The wall. `preview` is the live picture of the shared source.
    #[allow(clippy::too_many_arguments)]
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &RoomView,
        tiles: &[Tile],
        store: &ThumbnailStore,
        preview: &PreviewTexture,
        lang: Lang,
        out: &mut Vec<Intent>,
    ) {
        self.textures.begin_frame();
        ui.horizontal(|ui| {
            ui.heading(lang.tr("sources"));
            ui.add_space(12.0);
            let edit = egui::TextEdit::singleline(&mut self.filter)
                .id(self.filter_id)
                .hint_text(lang.tr("filter_hint"))
                .desired_width(260.0);
            let r = ui.add(edit);
            if std::mem::take(&mut self.focus_filter) {
                r.request_focus();
            }
            if !self.filter.is_empty()
                && ui
                    .small_button("×")
                    .on_hover_text(lang.tr("clear"))
                    .clicked()
            {
                self.filter.clear();
            }
            ui.add_space(12.0);
            ui.label(
                egui::RichText::new(lang.tr("keys_help"))
                    .small()
                    .color(style::MUTED),
            );
        });
        match &view.extension {
            Extension::Absent(reason) => {
                ui.colored_label(
                    style::WARN,
                    format!("{}{reason}. {}", lang.tr("no_ext"), lang.tr("no_ext_tail")),
                );
            }
            Extension::Unknown if tiles.is_empty() || view.sources.is_empty() => {
                ui.colored_label(style::MUTED, lang.tr("connecting"));
            }
            _ => {}
        }
        ui.add_space(4.0);

        let visible = self.visible(tiles);
        if visible.is_empty() {
            ui.add_space(20.0);
            ui.label(
                egui::RichText::new(if tiles.is_empty() {
                    lang.tr("no_sources")
                } else {
                    lang.tr("no_match")
                })
                .size(18.0)
                .color(style::MUTED),
            );
            return;
        }
        let shared_id = view.share_session.as_ref().map(|s| s.source_id.as_str());
        let split = visible
            .iter()
            .position(|t| t.group() == 1)
            .unwrap_or(visible.len());
        let groups: [(&str, &[&Tile]); 2] = [
            (lang.tr("screens_devices"), &visible[..split]),
            (lang.tr("windows"), &visible[split..]),
        ];

        let scroll_to_focus = std::mem::take(&mut self.scroll_to_focus);
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let width = ui.available_width().max(160.0);
                let gap = 12.0;
                let min_tile = 230.0;
                let cols = (((width + gap) / (min_tile + gap)).floor() as usize).max(1);
                let tile_w = ((width - gap * (cols as f32 - 1.0)) / cols as f32).floor();
                let img_h = (tile_w * 9.0 / 16.0).round();
                let tile_h = img_h + 52.0;
                let mut rects = Vec::with_capacity(visible.len());
                for (name, group) in groups {
                    if group.is_empty() {
                        continue;
                    }
                    ui.label(egui::RichText::new(name).strong().color(style::MUTED));
                    let rows = group.len().div_ceil(cols);
                    let height = rows as f32 * tile_h + (rows.saturating_sub(1)) as f32 * gap;
                    let (area, _) = ui.allocate_exact_size(vec2(width, height), Sense::hover());
                    for (i, tile) in group.iter().enumerate() {
                        let (r, c) = (i / cols, i % cols);
                        let min =
                            area.min + vec2(c as f32 * (tile_w + gap), r as f32 * (tile_h + gap));
                        let rect = Rect::from_min_size(min, vec2(tile_w, tile_h));
                        rects.push((tile.id.clone(), rect));
                        let focused = self.focused.as_deref() == Some(tile.id.as_str());
                        if focused && scroll_to_focus {
                            ui.scroll_to_rect(rect, None);
                        }
                        if !ui.is_rect_visible(rect) {
                            continue;
                        }
                        let ctx = TileCtx {
                            shared: shared_id == Some(tile.id.as_str()),
                            focused,
                            pending: self.pending.as_ref().is_some_and(|(id, _)| id == &tile.id),
                            img_h,
                        };
                        if self.tile_ui(ui, rect, tile, &ctx, store, preview, lang) {
                            self.share(tile, out);
                        }
                    }
                    ui.add_space(gap);
                }
                self.rects = rects;
            });
        // Forget textures of sources that are gone.
        if self.textures.len() > tiles.len() {
            self.textures.retain(&|id| tiles.iter().any(|t| t.id == id));
        }
    }

    /// One tile; returns true when clicked.
    #[allow(clippy::too_many_arguments)]
    fn tile_ui(
        &mut self,
        ui: &mut egui::Ui,
        rect: Rect,
        tile: &Tile,
        t: &TileCtx,
        store: &ThumbnailStore,
        preview: &PreviewTexture,
        lang: Lang,
    ) -> bool {
        let id = ui.scope_id().with(("tile", &tile.id));
        let response = ui.interact(rect, id, Sense::click());
        let kind = kind_name(tile.kind, lang);
        response.widget_info(|| {
            egui::WidgetInfo::selected(egui::Role::Button, true, t.shared, &tile.title)
        });
        let state = if tile.live {
            store.get(&tile.id)
        } else {
            TileState::Pending
        };
        let painter = ui.painter_at(rect.expand(4.0));
        let bg = if response.hovered() {
            style::TILE_BG_HOVER
        } else {
            style::TILE_BG
        };
        painter.rect_filled(rect, 8.0, bg);
        let img_rect = Rect::from_min_size(
            rect.min + vec2(6.0, 6.0),
            vec2(rect.width() - 12.0, t.img_h - 6.0),
        );
        painter.rect_filled(img_rect, 4.0, style::PLACEHOLDER);

        // The picture: the live preview when this tile is shared, else the thumbnail.
        let live_preview = if t.shared {
            preview.texture_for(Some(&tile.id))
        } else {
            None
        };
        let ctx = ui.ctx().clone();
        let tex = match live_preview {
            Some(tex) => Some((tex.id(), tex.size_vec2())),
            None => self
                .textures
                .get(&ctx, &tile.id, &state)
                .map(|tex| (tex.id(), tex.size_vec2())),
        };
        let unavailable = matches!(state, TileState::Unavailable(_));
        if let Some((tex_id, size)) = tex {
            let fit = fit_rect(img_rect, size);
            let tint = if unavailable {
                Color32::from_gray(70)
            } else {
                Color32::WHITE
            };
            painter.image(
                tex_id,
                fit,
                Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                tint,
            );
        }
        let small = FontId::proportional(13.0);
        match (&state, tile.live, tex.is_some()) {
            (TileState::Unavailable(reason), _, _) => {
                painter.rect_filled(img_rect, 4.0, Color32::from_black_alpha(150));
                let text = format!("⚠ {}\n{reason}", lang.tr("unavailable"));
                let galley =
                    painter.layout(text, small.clone(), style::WARN, img_rect.width() - 16.0);
                painter.galley(img_rect.center() - galley.size() / 2.0, galley, style::WARN);
            }
            (_, false, _) => {
                let text = format!("{kind}\n{}", tile.wire_name());
                let galley = painter.layout(
                    text,
                    FontId::proportional(16.0),
                    style::MUTED,
                    img_rect.width() - 16.0,
                );
                painter.galley(
                    img_rect.center() - galley.size() / 2.0,
                    galley,
                    style::MUTED,
                );
            }
            (_, true, false) => {
                painter.text(
                    img_rect.center(),
                    Align2::CENTER_CENTER,
                    lang.tr("pending_thumb"),
                    small.clone(),
                    style::MUTED,
                );
            }
            _ => {}
        }

        // Title and the app / kind / wire name line.
        let text_w = rect.width() - 12.0;
        let title_pos = pos2(rect.min.x + 6.0, rect.min.y + t.img_h + 5.0);
        let title_color = if unavailable {
            style::MUTED
        } else {
            ui.visuals().strong_text_color()
        };
        let title = one_line(
            &painter,
            &tile.title,
            FontId::proportional(16.0),
            title_color,
            text_w,
        );
        painter.galley(title_pos, title, title_color);
        let sub = if tile.app.is_empty() || tile.app == kind {
            format!("{kind} · {}", tile.wire_name())
        } else {
            format!("{} · {kind} · {}", tile.app, tile.wire_name())
        };
        let sub = one_line(&painter, &sub, small.clone(), style::MUTED, text_w);
        painter.galley(title_pos + vec2(0.0, 22.0), sub, style::MUTED);

        // Marks: shared (thick green border + badge with fps), pending, focus.
        if t.shared {
            painter.rect_stroke(
                rect,
                8.0,
                Stroke::new(4.0, style::SHARING),
                StrokeKind::Inside,
            );
            let fps = if live_preview.is_some() {
                format!(" · {}", super::textures::fps_text(preview.fps, lang))
            } else {
                String::new()
            };
            let badge = format!("● {}{fps}", lang.tr("now_sharing"));
            let galley = painter.layout_no_wrap(badge, FontId::proportional(14.0), Color32::BLACK);
            let badge_rect = Rect::from_min_size(
                img_rect.min + vec2(6.0, 6.0),
                galley.size() + vec2(12.0, 6.0),
            );
            painter.rect_filled(badge_rect, 4.0, style::SHARING);
            painter.galley(badge_rect.min + vec2(6.0, 3.0), galley, Color32::BLACK);
        } else if t.pending {
            painter.rect_stroke(rect, 8.0, Stroke::new(2.0, style::WARN), StrokeKind::Inside);
            let galley = painter.layout_no_wrap(
                lang.tr("requested").into(),
                FontId::proportional(14.0),
                Color32::BLACK,
            );
            let badge_rect = Rect::from_min_size(
                img_rect.min + vec2(6.0, 6.0),
                galley.size() + vec2(12.0, 6.0),
            );
            painter.rect_filled(badge_rect, 4.0, style::WARN);
            painter.galley(badge_rect.min + vec2(6.0, 3.0), galley, Color32::BLACK);
        }
        if t.focused {
            painter.rect_stroke(
                rect.expand(3.0),
                10.0,
                Stroke::new(2.5, style::ACCENT),
                StrokeKind::Outside,
            );
        } else if response.hovered() && !t.shared {
            painter.rect_stroke(
                rect,
                8.0,
                Stroke::new(1.0, style::MUTED),
                StrokeKind::Inside,
            );
        }
        let clicked = response.clicked();
        let hover = if t.shared {
            format!("{} — {}", tile.title, lang.tr("now_sharing"))
        } else {
            format!("{} — {}", tile.title, tile.wire_name())
        };
        response.on_hover_text(hover);
        clicked
    }
}

struct TileCtx {
    shared: bool,
    focused: bool,
    pending: bool,
    img_h: f32,
}

pub fn kind_name(kind: SourceKind, lang: Lang) -> &'static str {
    match kind {
        SourceKind::Desktop => lang.tr("desktop"),
        SourceKind::CaptureDevice => lang.tr("capture_device"),
        SourceKind::Window => match lang {
            Lang::En => "Window",
            Lang::Zh => "窗口",
        },
    }
}

/// A rect of `size`'s aspect ratio centred in `outer`.
pub fn fit_rect(outer: Rect, size: Vec2) -> Rect {
    if size.x <= 0.0 || size.y <= 0.0 {
        return outer;
    }
    let scale = (outer.width() / size.x).min(outer.height() / size.y);
    Rect::from_center_size(outer.center(), size * scale)
}

/// Lay out `text` on one line, cut with "…" at `width`.
pub fn one_line(
    painter: &egui::Painter,
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
