//! Why the wall cannot show this machine's sources: waiting for the user's
//! permission, refused, or unavailable — with the engine's reason (what
//! happened and what to do) and "Ask again". The same state reaches remote
//! consoles through `capture` in the `Sources` answer, so a technician sees
//! the room PC's reason, not an empty wall.

use super::Intent;
use crate::protocol::{CaptureState, CaptureStatus, RoomShareAction};
use crate::ui::i18n::Lang;
use crate::ui::style;
use egui::{Color32, RichText};

/// The headline, what to do, and the colour of a state other than `ok`.
fn words(state: CaptureState, lang: Lang) -> (&'static str, &'static str, Color32) {
    match state {
        CaptureState::Ok => ("", "", style::MUTED),
        CaptureState::Waiting => (
            lang.tr("capture_waiting"),
            lang.tr("capture_waiting_do"),
            style::ACCENT,
        ),
        CaptureState::Refused => (
            lang.tr("capture_refused"),
            lang.tr("capture_refused_do"),
            style::WARN,
        ),
        CaptureState::Unavailable => (
            lang.tr("capture_unavailable"),
            lang.tr("capture_unavailable_do"),
            style::ERR,
        ),
    }
}

/// The panel above (or, when there are no tiles, instead of) the tiles.
pub(super) fn panel(ui: &mut egui::Ui, status: &CaptureStatus, lang: Lang, out: &mut Vec<Intent>) {
    let (headline, todo, colour) = words(status.state, lang);
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.5, colour))
        .inner_margin(egui::Margin::same(12))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                // No spinner: waiting may last minutes, and an idle console
                // draws nothing (a spinner repaints every frame).
                let icon = if status.state == CaptureState::Waiting {
                    "…"
                } else {
                    "⚠"
                };
                ui.label(RichText::new(icon).size(20.0).color(colour));
                ui.label(RichText::new(headline).size(18.0).strong().color(colour));
            });
            ui.label(RichText::new(todo).size(15.0));
            if let Some(reason) = &status.reason {
                ui.add_space(4.0);
                ui.label(RichText::new(reason).color(style::MUTED));
            }
            if status.can_ask_again() {
                ui.add_space(6.0);
                if ui
                    .button(RichText::new(lang.tr("ask_again")).size(15.0))
                    .clicked()
                {
                    out.push(Intent::RoomShare(RoomShareAction::RetryCapture));
                }
            }
        });
}
