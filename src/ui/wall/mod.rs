//! The source wall: screens, capture devices, then windows, each a live
//! thumbnail with its title and app. One click (or Enter on the focused
//! tile) asks the room to share it; the shared tile is marked with a live
//! preview. Only visible tiles are laid out, painted and uploaded.

mod capture;
mod health;
mod keys;
mod tile;
mod tiles;

pub use health::clock;
pub use tile::one_line;
pub use tiles::{Tile, tiles_of};

use super::Intent;
use super::i18n::Lang;
use super::style;
use super::textures::{PreviewTexture, TileTextures};
use crate::link::{Extension, RoomView};
use crate::media::{ThumbnailState, ThumbnailStore};
use crate::protocol::SourceKind;
use egui::{Rect, Sense, Vec2, vec2};
use std::time::{Duration, Instant};
use tile::{Picture, TileLook};

/// How long a click waits for the room's answer before the tile stops
/// saying "Starting…".
pub const PENDING_TIMEOUT: Duration = Duration::from_secs(6);

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

/// What a click on a tile asked for.
enum TileClick {
    None,
    Share,
    Inspect,
}

/// What the wall draws with, besides its own state.
pub struct WallInputs<'a> {
    pub view: &'a RoomView,
    pub tiles: &'a [Tile],
    pub store: &'a ThumbnailStore,
    /// The live picture of the shared source.
    pub preview: &'a PreviewTexture,
}

/// Tile columns for a width: as many as fit at least `MIN_TILE` wide.
struct Grid {
    width: f32,
    cols: usize,
    tile_w: f32,
    img_h: f32,
    tile_h: f32,
}

const GAP: f32 = 12.0;
const MIN_TILE: f32 = 230.0;

impl Grid {
    fn for_width(width: f32) -> Grid {
        let width = width.max(160.0);
        let cols = (((width + GAP) / (MIN_TILE + GAP)).floor() as usize).max(1);
        let tile_w = ((width - GAP * (cols as f32 - 1.0)) / cols as f32).floor();
        let img_h = (tile_w * 9.0 / 16.0).round();
        Grid {
            width,
            cols,
            tile_w,
            img_h,
            tile_h: img_h + 52.0,
        }
    }

    /// Height of `n` tiles' rows.
    fn height(&self, n: usize) -> f32 {
        let rows = n.div_ceil(self.cols);
        rows as f32 * self.tile_h + rows.saturating_sub(1) as f32 * GAP
    }

    fn rect(&self, origin: egui::Pos2, i: usize) -> Rect {
        let (r, c) = (i / self.cols, i % self.cols);
        let min = origin
            + vec2(
                c as f32 * (self.tile_w + GAP),
                r as f32 * (self.tile_h + GAP),
            );
        Rect::from_min_size(min, vec2(self.tile_w, self.tile_h))
    }
}

impl Wall {
    /// Visible tiles after the filter.
    pub fn visible<'a>(&self, tiles: &'a [Tile]) -> Vec<&'a Tile> {
        tiles.iter().filter(|t| t.matches(&self.filter)).collect()
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

    fn share(&mut self, tile: &Tile, out: &mut Vec<Intent>) {
        self.focused = Some(tile.id.clone());
        self.pending = Some((tile.id.clone(), Instant::now()));
        out.push(Intent::ShareTile(tile.target.clone()));
    }

    /// The wall: its header, a line about the room's extension, the grid.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        inputs: &WallInputs,
        lang: Lang,
        out: &mut Vec<Intent>,
    ) {
        self.textures.begin_frame();
        self.header_ui(ui, lang);
        extension_line(ui, inputs.view, inputs.tiles, lang);
        ui.add_space(4.0);
        let capture = &inputs.view.capture;
        if !capture.is_ok() {
            capture::panel(ui, capture, lang, out);
            ui.add_space(8.0);
        }
        let visible = self.visible(inputs.tiles);
        if visible.is_empty() {
            if capture.is_ok() {
                empty_wall(ui, inputs.tiles.is_empty(), lang);
            }
            return;
        }
        let scroll_to_focus = std::mem::take(&mut self.scroll_to_focus);
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.grid_ui(ui, &visible, inputs, scroll_to_focus, lang, out)
            });
        // Forget textures of sources that are gone.
        if self.textures.len() > inputs.tiles.len() {
            let tiles = inputs.tiles;
            self.textures.retain(&|id| tiles.iter().any(|t| t.id == id));
        }
    }

    /// "Sources", the filter box, and the keyboard help.
    fn header_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
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
            let help = egui::RichText::new(lang.tr("keys_help")).small();
            ui.label(help.color(style::MUTED));
        });
    }

    /// Both groups of tiles; records where each tile is for the keyboard.
    fn grid_ui(
        &mut self,
        ui: &mut egui::Ui,
        visible: &[&Tile],
        inputs: &WallInputs,
        scroll_to_focus: bool,
        lang: Lang,
        out: &mut Vec<Intent>,
    ) {
        let grid = Grid::for_width(ui.available_width());
        let names = [lang.tr("screens_devices"), lang.tr("windows")];
        let mut rects = Vec::with_capacity(visible.len());
        for (g, name) in names.into_iter().enumerate() {
            // Tiles are sorted by group, so each group is one run.
            let group: Vec<&Tile> = visible.iter().copied().filter(|t| t.group() == g).collect();
            if group.is_empty() {
                continue;
            }
            ui.label(egui::RichText::new(name).strong().color(style::MUTED));
            let size = vec2(grid.width, grid.height(group.len()));
            let (area, _) = ui.allocate_exact_size(size, Sense::hover());
            for (i, tile) in group.into_iter().enumerate() {
                let rect = grid.rect(area.min, i);
                rects.push((tile.id.clone(), rect));
                match self.tile_ui(ui, rect, tile, &grid, inputs, scroll_to_focus, lang) {
                    TileClick::Share => self.share(tile, out),
                    TileClick::Inspect => {
                        self.focused = Some(tile.id.clone());
                        out.push(Intent::Inspect(tile.id.clone()));
                    }
                    TileClick::None => {}
                }
            }
            ui.add_space(GAP);
        }
        self.rects = rects;
    }

    /// One tile, if on screen; what a click on it asked for.
    #[allow(clippy::too_many_arguments)]
    fn tile_ui(
        &mut self,
        ui: &mut egui::Ui,
        rect: Rect,
        tile: &Tile,
        grid: &Grid,
        inputs: &WallInputs,
        scroll_to_focus: bool,
        lang: Lang,
    ) -> TileClick {
        let focused = self.focused.as_deref() == Some(tile.id.as_str());
        if focused && scroll_to_focus {
            ui.scroll_to_rect(rect, None);
        }
        if !ui.is_rect_visible(rect) {
            return TileClick::None;
        }
        let shared = inputs
            .view
            .share_session
            .as_ref()
            .is_some_and(|s| s.source_id == tile.id);
        let look = TileLook {
            shared,
            focused,
            pending: self.pending.as_ref().is_some_and(|(id, _)| id == &tile.id),
            img_h: grid.img_h,
        };
        let state = if tile.live {
            inputs.store.get(&tile.id)
        } else {
            ThumbnailState::Pending
        };
        let picture = self.picture(ui.ctx(), tile, &state, shared, inputs.preview);
        let response = tile::paint(ui, rect, tile, &look, &picture, lang);
        let mut inspect = false;
        response.context_menu(|ui| {
            if ui.button(lang.tr("inspect_key")).clicked() {
                inspect = true;
                ui.close();
            }
        });
        // The button shows while the pointer is anywhere over the tile (the
        // tile itself is not "hovered" while the pointer is on the button),
        // on this computer's own sources only: a remote room's are
        // inspected by that room (`roomshare inspect --url`).
        let own = inputs.view.embedded;
        if own && tile.live && (focused || ui.rect_contains_pointer(rect)) {
            inspect |= tile::inspect_button(ui, rect, grid.img_h, lang);
        }
        match (inspect, response.clicked()) {
            (true, _) => TileClick::Inspect,
            (false, true) => TileClick::Share,
            _ => TileClick::None,
        }
    }

    /// The live preview when this tile is shared, else its thumbnail.
    fn picture<'a>(
        &mut self,
        ctx: &egui::Context,
        tile: &Tile,
        state: &'a ThumbnailState,
        shared: bool,
        preview: &PreviewTexture,
    ) -> Picture<'a> {
        let live = shared
            .then(|| preview.texture_for(Some(&tile.id)))
            .flatten();
        let (texture, live_fps) = match live {
            Some(tex) => (Some((tex.id(), tex.size_vec2())), Some(preview.fps)),
            None => {
                let thumb = self.textures.get(ctx, &tile.id, state);
                (thumb.map(|t| (t.id(), t.size_vec2())), None)
            }
        };
        Picture {
            state,
            texture,
            live_fps,
        }
    }
}

/// When a visible tile's health words next change (a running clock, a
/// minute more of stillness), so the console repaints then and only then.
pub fn next_health_change(tiles: &[Tile]) -> Option<Duration> {
    let now = crate::protocol::unix_now();
    tiles
        .iter()
        .filter_map(|t| t.health.as_ref())
        .filter_map(|h| health::next_change(h, now))
        .min()
}

/// The shared source's fault in words ("Black 0:14"), if it has one: the
/// room is watching it.
pub fn shared_fault(view: &RoomView, lang: Lang) -> Option<String> {
    let own = view.share_session.as_ref()?;
    let source = view.sources.iter().find(|s| s.id == own.source_id)?;
    let health = source.health.filter(health::is_fault)?;
    health::badge(&health, crate::protocol::unix_now(), lang).map(|(text, _)| text)
}

/// No tile to show although capture works: nothing listed, or the filter.
fn empty_wall(ui: &mut egui::Ui, nothing_listed: bool, lang: Lang) {
    ui.add_space(20.0);
    let why = if nothing_listed {
        lang.tr("no_sources")
    } else {
        lang.tr("no_match")
    };
    ui.label(egui::RichText::new(why).size(18.0).color(style::MUTED));
    if nothing_listed {
        ui.label(egui::RichText::new(lang.tr("no_sources_hint")).color(style::MUTED));
    }
}

/// Why there are no live thumbnails, or that the list is still coming.
fn extension_line(ui: &mut egui::Ui, view: &RoomView, tiles: &[Tile], lang: Lang) {
    match &view.extension {
        Extension::Absent(reason) => {
            let text = format!("{}{reason}. {}", lang.tr("no_ext"), lang.tr("no_ext_tail"));
            ui.colored_label(style::WARN, text);
        }
        Extension::Unknown if tiles.is_empty() || view.sources.is_empty() => {
            ui.colored_label(style::MUTED, lang.tr("connecting"));
        }
        _ => {}
    }
}

pub fn kind_name(kind: SourceKind, lang: Lang) -> &'static str {
    match kind {
        SourceKind::Desktop => lang.tr("desktop"),
        SourceKind::Monitor => lang.tr("monitor"),
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
