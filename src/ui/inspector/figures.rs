//! What the inspection measured so far: health now, rates, frame
//! intervals (figures and a plot of the last 10 s), a timeline of the
//! health since the inspector opened, the sizes and the input signal.

use crate::protocol::SourceHealthState;
use crate::protocol::inspect::{InspectReport, LiveInspection, SignalStatus, Span};
use crate::ui::i18n::Lang;
use crate::ui::style;
use crate::ui::wall;
use egui::{Color32, Rect, RichText, Sense, vec2};
use egui_plot::{Line, Plot};

/// The figures, or a word that they are coming.
pub fn ui(ui: &mut egui::Ui, live: Option<&LiveInspection>, lang: Lang) {
    let Some(live) = live else {
        ui.label(RichText::new(lang.tr("measuring")).color(style::MUTED));
        return;
    };
    let r = &live.report;
    health_line(ui, live, lang);
    ui.add_space(6.0);
    egui::Grid::new("inspector-rates")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            row(
                ui,
                lang.tr("capture_rate"),
                format!("{:.1} fps", r.capture_fps),
            );
            row(
                ui,
                lang.tr("content_rate"),
                format!("{:.1} fps", r.content_fps),
            );
            let ms = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1}"));
            let i = &r.interval_ms;
            row(
                ui,
                lang.tr("interval"),
                format!(
                    "p50 {} · p95 {} · max {} ms",
                    ms(i.p50),
                    ms(i.p95),
                    ms(i.max)
                ),
            );
            row(
                ui,
                lang.tr("frames"),
                format!(
                    "{} ({} {}, {} {})",
                    r.frames,
                    r.changed,
                    lang.tr("frames_changed"),
                    live.failures,
                    lang.tr("frames_failed")
                ),
            );
            row(
                ui,
                lang.tr("signal"),
                signal_text(r.signal, lang).to_string(),
            );
            // A capture device's extras (absent for screens and windows).
            if let Some(format) = &live.pixel_format {
                row(ui, lang.tr("pixel_format"), format.clone());
            }
            if let Some(timings) = &r.timings {
                row(ui, lang.tr("timings"), timings.clone());
            }
            if let Some(corrupt) = r.corrupt {
                row(ui, lang.tr("corrupt"), corrupt.to_string());
            }
            row(ui, lang.tr("sizes"), sizes_text(r));
        });
    ui.add_space(8.0);
    ui.label(RichText::new(lang.tr("interval_plot")).strong());
    interval_plot(ui, &live.recent_intervals);
    ui.add_space(8.0);
    ui.label(RichText::new(lang.tr("timeline")).strong());
    timeline(ui, r, lang);
}

fn row(ui: &mut egui::Ui, name: &str, value: String) {
    ui.label(RichText::new(name).color(style::MUTED));
    ui.monospace(value);
    ui.end_row();
}

/// "Live since 0:12", in the state's colour.
fn health_line(ui: &mut egui::Ui, live: &LiveInspection, lang: Lang) {
    let (word, colour) = state_look(live.health, lang);
    let since = live
        .health_since
        .map(|s| format!(" {} {}", lang.tr("since"), seconds(s)))
        .unwrap_or_default();
    ui.label(
        RichText::new(format!("{word}{since}"))
            .size(18.0)
            .color(colour),
    );
}

/// A state's word and colour (faults red, stillness quiet).
pub fn state_look(state: SourceHealthState, lang: Lang) -> (&'static str, Color32) {
    match state {
        SourceHealthState::Live => (lang.tr("health_live"), style::OK),
        SourceHealthState::Static => (lang.tr("health_still"), style::MUTED),
        SourceHealthState::Black => (lang.tr("health_black"), style::ERR),
        SourceHealthState::Stalled => (lang.tr("health_stalled"), style::WARN),
        SourceHealthState::NoSignal => (lang.tr("health_no_signal"), style::ERR),
        SourceHealthState::NoPower => (lang.tr("health_no_power"), style::ERR),
        SourceHealthState::Gone => (lang.tr("health_gone"), style::ERR),
    }
}

fn signal_text(signal: Option<SignalStatus>, lang: Lang) -> &'static str {
    match signal {
        None => "–",
        Some(SignalStatus::Ok) => lang.tr("signal_ok"),
        Some(SignalStatus::NoSignal) => lang.tr("health_no_signal"),
        Some(SignalStatus::NoPower) => lang.tr("health_no_power"),
    }
}

/// "1920×1080", then "→ 1280×720 at 0:04" for each change.
fn sizes_text(r: &InspectReport) -> String {
    let mut parts = Vec::new();
    for (i, s) in r.sizes.iter().enumerate() {
        if i == 0 {
            parts.push(format!("{}×{}", s.width, s.height));
        } else {
            parts.push(format!("→ {}×{} @{}", s.width, s.height, seconds(s.at)));
        }
    }
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join(" ")
    }
}

/// Seconds from the start as the wall's clock (`m:ss`, `h:mm:ss`).
fn seconds(s: f64) -> String {
    wall::clock(s as i64)
}

/// Milliseconds between grabs over the last 10 s.
fn interval_plot(ui: &mut egui::Ui, points: &[[f64; 2]]) {
    // The last 10 s, or the first 10 s until there are that many.
    let start = points.last().map_or(0.0, |p| (p[0] - 10.0).max(0.0));
    Plot::new("inspector-intervals")
        .height(130.0)
        .include_y(0.0)
        .include_x(start)
        .include_x(start + 10.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_label("s")
        .y_axis_label("ms")
        .show(ui, |plot| {
            plot.line(Line::new("interval", points.to_vec()).color(style::ACCENT));
        });
}

/// A bar from the start to now: live where nothing else was, then the
/// black, still and stalled stretches over it, and a legend.
fn timeline(ui: &mut egui::Ui, r: &InspectReport, lang: Lang) {
    let (rect, _) = ui.allocate_exact_size(vec2(ui.available_width(), 18.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let total = r.seconds.max(0.001);
    painter.rect_filled(rect, 2.0, style::OK);
    let x = |t: f64| rect.min.x + rect.width() * (t / total).clamp(0.0, 1.0) as f32;
    let layers = [
        (&r.still, SourceHealthState::Static),
        (&r.black, SourceHealthState::Black),
        (&r.stalls, SourceHealthState::Stalled),
    ];
    for (spans, state) in layers {
        let colour = state_look(state, lang).1;
        for Span { start, end } in spans {
            let (x0, x1) = (x(*start), x(end.unwrap_or(total)));
            let band = Rect::from_x_y_ranges(x0..=x1.max(x0 + 1.0), rect.y_range());
            painter.rect_filled(band, 0.0, colour);
        }
    }
    ui.horizontal_wrapped(|ui| {
        for state in [
            SourceHealthState::Live,
            SourceHealthState::Static,
            SourceHealthState::Black,
            SourceHealthState::Stalled,
        ] {
            let (word, colour) = state_look(state, lang);
            ui.label(RichText::new(format!("■ {word}")).color(colour).small());
        }
        ui.label(
            RichText::new(format!("0:00 – {}", seconds(r.seconds)))
                .small()
                .color(style::MUTED),
        );
    });
}
