//! Toasts: every error the room answers, with its code, the code's meaning
//! and what to do; short confirmations too. They expire by themselves
//! (hovering keeps one open) and the app repaints only when one expires.

use super::i18n::Lang;
use super::style;
use crate::link::Notice;
use crate::protocol::codes;
use egui::{Color32, RichText};
use std::time::{Duration, Instant};

pub const ERROR_TTL: Duration = Duration::from_secs(10);
pub const INFO_TTL: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct Toast {
    pub action: String,
    /// `None` for confirmations.
    pub code: Option<i64>,
    pub message: String,
    pub shown_at: Instant,
    pub ttl: Duration,
    /// A failure of the console's own (no device code): shown as an error.
    pub failed: bool,
}

#[derive(Default)]
pub struct Toasts {
    pub items: Vec<Toast>,
}

impl Toasts {
    pub fn notice(&mut self, n: Notice) {
        self.items.push(Toast {
            action: n.subject.label().to_string(),
            code: Some(n.code),
            message: n.message,
            shown_at: Instant::now(),
            ttl: ERROR_TTL,
            failed: false,
        });
        self.trim();
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.items.push(Toast {
            action: text.into(),
            code: None,
            message: String::new(),
            shown_at: Instant::now(),
            ttl: INFO_TTL,
            failed: false,
        });
        self.trim();
    }

    /// Something the console itself could not do, and why.
    pub fn failure(&mut self, what: impl Into<String>, why: impl Into<String>) {
        self.items.push(Toast {
            action: what.into(),
            code: None,
            message: why.into(),
            shown_at: Instant::now(),
            ttl: ERROR_TTL,
            failed: true,
        });
        self.trim();
    }

    fn trim(&mut self) {
        let excess = self.items.len().saturating_sub(6);
        self.items.drain(..excess);
    }

    /// Drop expired toasts; returns the time until the next one expires.
    pub fn expire(&mut self, now: Instant) -> Option<Duration> {
        self.items
            .retain(|t| now.duration_since(t.shown_at) < t.ttl);
        self.items
            .iter()
            .map(|t| (t.shown_at + t.ttl).saturating_duration_since(now))
            .min()
    }

    pub fn ui(&mut self, ctx: &egui::Context, lang: Lang) {
        if self.items.is_empty() {
            return;
        }
        let mut dismiss = None;
        egui::Area::new(egui::Id::unique("roomshare-toasts"))
            .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(16.0, -16.0))
            .order(egui::Order::Foreground)
            .interactable(true)
            .show(ctx, |ui| {
                ui.set_max_width(440.0);
                for (i, t) in self.items.iter_mut().enumerate() {
                    if toast_ui(ui, t, lang) {
                        dismiss = Some(i);
                    }
                    ui.add_space(6.0);
                }
            });
        if let Some(i) = dismiss {
            self.items.remove(i);
        }
    }
}

/// One toast; true when dismissed. Hovering keeps it open.
fn toast_ui(ui: &mut egui::Ui, t: &mut Toast, lang: Lang) -> bool {
    let accent = if t.failed || t.code.is_some_and(|c| c != 0) {
        style::ERR
    } else {
        style::OK
    };
    let mut dismissed = false;
    let r = egui::Frame::popup(ui.style())
        .fill(Color32::from_rgb(0x1e, 0x20, 0x24))
        .stroke(egui::Stroke::new(2.0, accent))
        .inner_margin(12)
        .show(ui, |ui| {
            ui.set_width(416.0);
            ui.horizontal(|ui| {
                let title = match t.code {
                    Some(code) => {
                        let meaning = codes::meaning(code).unwrap_or("undocumented code");
                        RichText::new(format!("{code} {meaning}"))
                            .size(18.0)
                            .strong()
                    }
                    None => RichText::new(&t.action).size(16.0),
                };
                ui.label(title.color(accent));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::TOP), |ui| {
                    let close = ui.small_button("×").on_hover_text(lang.tr("dismiss"));
                    dismissed = close.clicked();
                });
            });
            if let Some(code) = t.code {
                details_ui(ui, t, code, lang);
            }
        })
        .response;
    if r.contains_pointer() {
        t.shown_at = Instant::now();
    }
    dismissed
}

/// What was attempted, the room's message, and what to do.
fn details_ui(ui: &mut egui::Ui, t: &Toast, code: i64, lang: Lang) {
    ui.label(RichText::new(&t.action).color(style::MUTED));
    if !t.message.is_empty() {
        ui.label(&t.message);
    }
    let hint = codes::hint(code);
    if !hint.is_empty() {
        ui.label(RichText::new(format!("{}: {hint}", lang.tr("hint"))).italics());
    }
}
