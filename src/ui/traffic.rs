//! The traffic pane: every JSON-RPC frame in and out with its time,
//! direction, method/action, error code and round trip; filterable,
//! copyable, clearable. Background polling is hidden unless asked for.

use super::Intent;
use super::i18n::Lang;
use super::style;
use crate::link::{Direction, TrafficEntry};
use egui::RichText;
use std::time::{SystemTime, UNIX_EPOCH};

/// `HH:MM:SS.mmm` (UTC) of a wall-clock time.
pub fn clock(at: SystemTime) -> String {
    let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
        d.subsec_millis()
    )
}

/// One line of text per frame (for "copy all").
pub fn line(e: &TrafficEntry) -> String {
    let dir = match e.direction {
        Direction::Out => "→",
        Direction::In => "←",
    };
    format!("{} {dir} {}", clock(e.at), e.text)
}

/// Height of one row of the table.
const ROW_H: f32 = 20.0;

#[derive(Default)]
pub struct TrafficPane {
    pub filter: String,
    /// The selected frame's index in the unfiltered log and its text.
    selected: Option<(SystemTime, String)>,
}

impl TrafficPane {
    fn shows(&self, e: &TrafficEntry, show_background: bool) -> bool {
        if e.background && !show_background {
            return false;
        }
        if self.filter.is_empty() {
            return true;
        }
        let f = self.filter.to_lowercase();
        e.method.to_lowercase().contains(&f)
            || e.action
                .as_deref()
                .is_some_and(|a| a.to_lowercase().contains(&f))
            || e.error_code.is_some_and(|c| c.to_string() == f)
            || e.text.to_lowercase().contains(&f)
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        entries: &[TrafficEntry],
        show_background: &mut bool,
        lang: Lang,
        out: &mut Vec<Intent>,
    ) {
        let shown: Vec<&TrafficEntry> = entries
            .iter()
            .filter(|e| self.shows(e, *show_background))
            .collect();
        // Hidden background frames are not counted either: polling then
        // changes nothing on screen, and the console need not redraw for it.
        let total = entries
            .iter()
            .filter(|e| *show_background || !e.background)
            .count();
        self.toolbar_ui(ui, &shown, total, show_background, lang, out);
        let detail_h = if self.selected.is_some() { 64.0 } else { 22.0 };
        let table_h = (ui.available_height() - detail_h).max(ROW_H * 2.0);
        egui::ScrollArea::vertical()
            .id_salt("traffic-rows")
            .max_height(table_h)
            .auto_shrink([false, false])
            .stick_to_bottom(true)
            .show_rows(ui, ROW_H, shown.len(), |ui, range| {
                for e in &shown[range] {
                    self.row_ui(ui, e);
                }
            });
        self.detail_ui(ui, lang, out);
    }

    /// Title, counts, filter, and the clear / copy buttons.
    fn toolbar_ui(
        &mut self,
        ui: &mut egui::Ui,
        shown: &[&TrafficEntry],
        total: usize,
        show_background: &mut bool,
        lang: Lang,
        out: &mut Vec<Intent>,
    ) {
        ui.horizontal(|ui| {
            ui.heading(lang.tr("traffic"));
            let counts = RichText::new(format!("{}/{total}", shown.len()));
            ui.label(counts.color(style::MUTED));
            ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text(lang.tr("filter"))
                    .desired_width(200.0),
            );
            ui.checkbox(show_background, lang.tr("show_background"));
            if ui.button(lang.tr("clear")).clicked() {
                self.selected = None;
                out.push(Intent::ClearTraffic);
            }
            if ui.button(lang.tr("copy_all")).clicked() {
                let all = shown.iter().map(|e| line(e)).collect::<Vec<_>>().join("\n");
                out.push(Intent::Copy(all));
            }
        });
    }

    /// One frame: time, direction, method, action, code, round trip, text.
    fn row_ui(&mut self, ui: &mut egui::Ui, e: &TrafficEntry) {
        let mono = egui::FontId::monospace(13.0);
        let (dir, dir_color) = match e.direction {
            Direction::Out => ("→", style::ACCENT),
            Direction::In => ("←", style::OK),
        };
        let code = match e.error_code {
            Some(0) => RichText::new("0").color(style::OK),
            Some(c) => RichText::new(c.to_string()).color(style::ERR).strong(),
            None => RichText::new(""),
        };
        let rtt = e
            .round_trip
            .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_default();
        let cell = |ui: &mut egui::Ui, w: f32, t: RichText| {
            let label = egui::Label::new(t.font(mono.clone())).truncate();
            ui.add_sized([w, ROW_H], label);
        };
        let r = ui.horizontal(|ui| {
            ui.set_height(ROW_H);
            cell(ui, 96.0, RichText::new(clock(e.at)).color(style::MUTED));
            cell(ui, 16.0, RichText::new(dir).color(dir_color).strong());
            cell(ui, 110.0, RichText::new(&e.method));
            cell(ui, 150.0, RichText::new(e.action.as_deref().unwrap_or("")));
            cell(ui, 52.0, code);
            cell(ui, 72.0, RichText::new(rtt).color(style::MUTED));
            let text: String = e.text.chars().take(300).collect();
            let text = RichText::new(text).font(mono.clone()).color(style::MUTED);
            ui.add(egui::Label::new(text).truncate());
        });
        let r = r.response.interact(egui::Sense::click());
        let selected = self
            .selected
            .as_ref()
            .is_some_and(|(at, text)| *at == e.at && *text == e.text);
        if selected {
            let stroke = egui::Stroke::new(1.0, style::ACCENT);
            ui.painter()
                .rect_stroke(r.rect, 2.0, stroke, egui::StrokeKind::Inside);
        }
        if r.clicked() {
            self.selected = Some((e.at, e.text.clone()));
        }
    }

    /// The selected frame in full, with a copy button.
    fn detail_ui(&mut self, ui: &mut egui::Ui, lang: Lang, out: &mut Vec<Intent>) {
        let Some((_, text)) = &self.selected else {
            let hint = RichText::new(lang.tr("select_frame")).small();
            ui.label(hint.color(style::MUTED));
            return;
        };
        ui.horizontal(|ui| {
            if ui.button(lang.tr("copy")).clicked() {
                out.push(Intent::Copy(text.clone()));
            }
            egui::ScrollArea::vertical()
                .id_salt("traffic-detail")
                .max_height(56.0)
                .show(ui, |ui| {
                    ui.add(egui::Label::new(RichText::new(text).monospace()).wrap());
                });
        });
    }
}
