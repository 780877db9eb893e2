//! The rooms table: a header whose titles sort, then group headers and
//! room rows. Only the rows in view are laid out (`show_rows`), so 200
//! rooms cost what 20 do. A click selects a row (Ctrl adds, Shift takes a
//! range), a double click opens the room, the check box toggles it.

use super::filter::{Line, SortBy};
use super::text;
use crate::link::fleet::RoomStatus;
use crate::ui::i18n::Lang;
use crate::ui::style;
use egui::{Color32, Rect, RichText, Sense};
use std::collections::BTreeSet;
use std::time::Instant;

pub const ROW_HEIGHT: f32 = 30.0;

/// Column widths as shares of the row, after the check box.
const COLUMNS: [(&str, f32); 8] = [
    ("room", 0.15),
    ("link", 0.20),
    ("meeting", 0.15),
    ("sharing_col", 0.17),
    ("cast_code", 0.08),
    ("guide_col", 0.06),
    ("changed", 0.07),
    ("last_action", 0.12),
];
const CHECK_WIDTH: f32 = 30.0;

/// What happened in the table this frame.
#[derive(Debug, Default, PartialEq)]
pub struct TableInput {
    /// A row was clicked: its room index and the modifiers held.
    pub clicked: Option<(usize, egui::Modifiers)>,
    /// A check box was toggled.
    pub toggled: Option<usize>,
    pub opened: Option<usize>,
    pub sort: Option<SortBy>,
}

/// What the table needs to draw.
pub struct TableData<'a> {
    pub rooms: &'a [RoomStatus],
    pub lines: &'a [Line],
    pub selected: &'a BTreeSet<String>,
    /// The keyboard cursor (a room index).
    pub cursor: Option<usize>,
    /// Scroll the cursor's row into view this frame.
    pub reveal_cursor: bool,
    pub sort: SortBy,
    pub now: Instant,
    /// The "changed … ago" column's clock ([`text::AgoClock`]).
    pub ago_tick: Instant,
}

pub fn ui(ui: &mut egui::Ui, data: &TableData<'_>, lang: Lang) -> TableInput {
    let mut input = TableInput::default();
    header(ui, data.sort, lang, &mut input);
    ui.separator();
    let mut scroll = egui::ScrollArea::vertical().auto_shrink([false, false]);
    if data.reveal_cursor
        && let Some(line) = data
            .lines
            .iter()
            .position(|l| Some(l) == data.cursor.map(Line::Room).as_ref())
    {
        scroll = scroll.vertical_scroll_offset(reveal_offset(ui, line));
    }
    let spacing = ui.spacing().item_spacing.y;
    scroll.show_rows(ui, ROW_HEIGHT, data.lines.len(), |ui, range| {
        ui.spacing_mut().item_spacing.y = spacing;
        for line in &data.lines[range] {
            match line {
                Line::Group(g) => group_row(ui, g, lang),
                Line::Room(i) => room_row(ui, data, *i, lang, &mut input),
            }
        }
    });
    input
}

/// Scroll so that `line` sits in the middle third of the view.
fn reveal_offset(ui: &egui::Ui, line: usize) -> f32 {
    let pitch = ROW_HEIGHT + ui.spacing().item_spacing.y;
    let view = ui.available_height();
    (line as f32 * pitch - view / 3.0).max(0.0)
}

/// Splits a row into its cells.
fn cells(row: Rect) -> Vec<Rect> {
    let rest = (row.width() - CHECK_WIDTH).max(0.0);
    let mut x = row.left() + CHECK_WIDTH;
    let mut out = vec![Rect::from_x_y_ranges(row.left()..=x, row.y_range())];
    for (_, share) in COLUMNS {
        let w = rest * share;
        out.push(Rect::from_x_y_ranges(x..=x + w - 8.0, row.y_range()));
        x += w;
    }
    out
}

fn header(ui: &mut egui::Ui, sort: SortBy, lang: Lang, input: &mut TableInput) {
    let (row, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), ROW_HEIGHT - 6.0),
        Sense::hover(),
    );
    for (cell, (key, _)) in cells(row).into_iter().skip(1).zip(COLUMNS) {
        let sorts_by = match key {
            "room" => Some(SortBy::Name),
            "link" => Some(SortBy::State),
            "changed" => Some(SortBy::Changed),
            _ => None,
        };
        let mut title = lang.tr(key).to_string();
        if sorts_by == Some(sort) {
            title.push_str(" ↓");
        }
        let rich = RichText::new(title).strong().color(style::MUTED);
        let Some(by) = sorts_by else {
            put_left(
                ui,
                cell,
                egui::Label::new(rich).selectable(false).truncate(),
            );
            continue;
        };
        let button = egui::Button::new(rich).frame(false);
        let response = put_left(ui, cell, button).on_hover_text(lang.tr("sort_by_this"));
        if response.clicked() {
            input.sort = Some(by);
        }
    }
}

fn group_row(ui: &mut egui::Ui, g: &super::filter::GroupSummary, lang: Lang) {
    let (row, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), ROW_HEIGHT), Sense::hover());
    let name = if g.name.is_empty() {
        lang.tr("no_group")
    } else {
        g.name.as_str()
    };
    let counts = match lang {
        Lang::En => {
            let rooms = if g.rooms == 1 { "room" } else { "rooms" };
            format!(
                "{} {rooms} · {} sharing · {} with problems",
                g.rooms, g.sharing, g.problems
            )
        }
        Lang::Zh => format!(
            "{} 间 · {} 间共享中 · {} 间有问题",
            g.rooms, g.sharing, g.problems
        ),
    };
    let painter = ui.painter();
    painter.line_segment(
        [row.left_bottom(), row.right_bottom()],
        egui::Stroke::new(1.0, style::MUTED.gamma_multiply(0.4)),
    );
    let text = RichText::new(name).heading().strong();
    let inner = Rect::from_x_y_ranges(row.left() + 6.0..=row.right(), row.y_range());
    let builder = egui::UiBuilder::new()
        .max_rect(inner)
        .layout(egui::Layout::left_to_right(egui::Align::Center));
    ui.scope_builder(builder, |ui| {
        ui.add(egui::Label::new(text).selectable(false));
        ui.add_space(12.0);
        ui.add(egui::Label::new(RichText::new(counts).color(style::MUTED)).selectable(false));
    });
}

fn room_row(
    ui: &mut egui::Ui,
    data: &TableData<'_>,
    index: usize,
    lang: Lang,
    input: &mut TableInput,
) {
    let room = &data.rooms[index];
    let selected = data.selected.contains(&room.name);
    let (row, response) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), ROW_HEIGHT), Sense::click());
    // The row is one button for a screen reader (and for tests): its name.
    response
        .widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &room.name));
    paint_background(ui, row, &response, selected, data.cursor == Some(index));
    let cells = cells(row);
    let mut check = selected;
    let check_box = egui::Checkbox::without_text(&mut check);
    let toggle = ui.put(cells[0], check_box);
    toggle.widget_info(|| {
        egui::WidgetInfo::selected(
            egui::Role::CheckBox,
            true,
            selected,
            format!("select {}", room.name),
        )
    });
    if toggle.changed() {
        input.toggled = Some(index);
    }
    let texts = row_texts(room, ui.visuals().strong_text_color(), data, lang);
    for (cell, (text, color)) in cells[1..].iter().zip(texts) {
        let label = egui::Label::new(RichText::new(text).color(color))
            .selectable(false)
            .truncate();
        put_left(ui, *cell, label);
    }
    if response.double_clicked() {
        input.opened = Some(index);
    } else if response.clicked() {
        input.clicked = Some((index, ui.input(|i| i.modifiers)));
    }
}

/// Like `ui.put`, but left-aligned in the cell (a table reads down its
/// left edges).
fn put_left(ui: &mut egui::Ui, cell: Rect, widget: impl egui::Widget) -> egui::Response {
    let layout = egui::Layout::left_to_right(egui::Align::Center);
    let builder = egui::UiBuilder::new().max_rect(cell).layout(layout);
    ui.scope_builder(builder, |ui| ui.add(widget)).inner
}

fn paint_background(
    ui: &egui::Ui,
    row: Rect,
    response: &egui::Response,
    selected: bool,
    cursor: bool,
) {
    let fill = if selected {
        style::ACCENT.gamma_multiply(0.25)
    } else if response.hovered() {
        style::TILE_BG_HOVER
    } else {
        Color32::TRANSPARENT
    };
    ui.painter().rect_filled(row, 4.0, fill);
    if cursor {
        let stroke = egui::Stroke::new(2.0, style::ACCENT);
        ui.painter()
            .rect_stroke(row.shrink(1.0), 4.0, stroke, egui::StrokeKind::Inside);
    }
}

/// The texts of one row, column by column.
fn row_texts(
    room: &RoomStatus,
    strong: Color32,
    data: &TableData<'_>,
    lang: Lang,
) -> [(String, Color32); 8] {
    let cast_code = room.cast_code.clone().unwrap_or_else(|| "—".into());
    let changed = room.changed_at.map_or_else(
        || "—".into(),
        |t| text::ago(data.ago_tick.saturating_duration_since(t), lang),
    );
    let last = room.last_call.as_ref().map_or_else(
        || ("".into(), style::MUTED),
        |c| {
            let color = match (c.is_pending(), c.is_done()) {
                (true, _) => style::WARN,
                (false, true) => style::OK,
                (false, false) => style::ERR,
            };
            (format!("{}: {}", c.action.name(), c.summary()), color)
        },
    );
    [
        (room.name.clone(), strong),
        text::link(room, lang, data.now),
        text::meeting(room, lang),
        text::sharing(room, lang),
        (cast_code, strong),
        (text::guide(room, lang).into(), style::MUTED),
        (changed, style::MUTED),
        last,
    ]
}
