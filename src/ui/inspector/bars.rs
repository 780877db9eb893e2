//! The colour-bars table: each bar's expected and measured colour and its
//! error, and what the errors point at (swapped channels, levels, black).

use crate::media::Frame;
use crate::media::bars::{self, Finding, TOLERANCE};
use crate::ui::i18n::Lang;
use crate::ui::style;
use egui::{Color32, RichText, Sense, vec2};

pub fn ui(ui: &mut egui::Ui, picture: Option<&Frame>, lang: Lang) {
    ui.add_space(8.0);
    ui.label(RichText::new(lang.tr("bars_check")).strong());
    let Some(check) = picture.and_then(bars::check) else {
        ui.label(RichText::new(lang.tr("waiting_first")).color(style::MUTED));
        return;
    };
    for finding in &check.findings {
        let (text, colour) = finding_text(finding, lang);
        ui.label(RichText::new(text).color(colour));
    }
    egui::Grid::new("inspector-bars")
        .num_columns(4)
        .spacing([10.0, 2.0])
        .show(ui, |ui| {
            let head = |ui: &mut egui::Ui, key| {
                ui.label(RichText::new(lang.tr(key)).small().color(style::MUTED))
            };
            ui.label("");
            head(ui, "bars_expected");
            head(ui, "bars_measured");
            head(ui, "bars_error");
            ui.end_row();
            for bar in &check.bars {
                ui.label(bar.name);
                swatch(ui, bar.expected);
                swatch(ui, bar.measured);
                let [r, g, b] = bar.error;
                let colour = if bar.worst() > TOLERANCE {
                    style::ERR
                } else {
                    style::MUTED
                };
                ui.label(
                    RichText::new(format!("{r:+} {g:+} {b:+}"))
                        .monospace()
                        .color(colour),
                );
                ui.end_row();
            }
        });
}

fn swatch(ui: &mut egui::Ui, [r, g, b]: [u8; 3]) {
    let (rect, _) = ui.allocate_exact_size(vec2(22.0, 12.0), Sense::hover());
    ui.painter()
        .rect_filled(rect, 2.0, Color32::from_rgb(r, g, b));
}

fn finding_text(finding: &Finding, lang: Lang) -> (String, Color32) {
    match finding {
        Finding::Ok => (lang.tr("bars_ok").to_string(), style::OK),
        Finding::NotBars => (lang.tr("bars_not_bars").to_string(), style::MUTED),
        Finding::Swapped(a, b) => (format!("{} {a} ↔ {b}", lang.tr("bars_swapped")), style::ERR),
        Finding::WhiteLevel(pct) => (
            format!("{} {pct} % (75 %)", lang.tr("bars_white")),
            style::WARN,
        ),
        Finding::BlackLifted(v) => (format!("{} {v}", lang.tr("bars_black")), style::WARN),
        Finding::BarsOff => (lang.tr("bars_off").to_string(), style::ERR),
    }
}
