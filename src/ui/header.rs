//! The header: which room (embedded or its URL), the connection state with
//! its retry countdown, the meeting status, and the cast code — large
//! enough to read from the back of the room; a click copies it.

use super::Intent;
use super::i18n::{self, Lang};
use super::style;
use crate::link::ConnState;
use crate::link::RoomView;
use egui::{Color32, RichText};
use std::time::{Duration, Instant};

/// A spinner that animates at 10 frames per second. egui's own `Spinner`
/// asks for a repaint every frame, which keeps a core busy (software
/// rendering) for as long as a room stays unreachable.
fn slow_spinner(ui: &mut egui::Ui, size: f32, color: Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let phase = (ui.input(|i| i.time) * 5.0) % std::f64::consts::TAU;
    let points: Vec<egui::Pos2> = (0..=10)
        .map(|k| {
            let angle = (phase + f64::from(k) * 0.45) as f32;
            rect.center() + egui::vec2(angle.cos(), angle.sin()) * (size * 0.4)
        })
        .collect();
    ui.painter()
        .add(egui::Shape::line(points, egui::Stroke::new(2.0, color)));
    ui.ctx().request_repaint_after(Duration::from_millis(100));
}

/// The connection state as one line of text and a colour.
pub fn conn_text(conn: &ConnState, lang: Lang, now: Instant) -> (String, Color32, bool) {
    match conn {
        ConnState::Connected => (lang.tr("connected").into(), style::OK, false),
        ConnState::Connecting => (lang.tr("connecting").into(), style::WARN, true),
        ConnState::Reconnecting {
            retry_at,
            attempt,
            last_error,
        } => {
            let secs = retry_at.saturating_duration_since(now).as_secs_f32().ceil() as u64;
            let text = match lang {
                Lang::En => format!("Reconnecting in {secs} s (attempt {attempt}) — {last_error}"),
                Lang::Zh => format!("{secs} 秒后重新连接（第 {attempt} 次）— {last_error}"),
            };
            (text, style::WARN, true)
        }
        ConnState::AuthFailed { code, message } => {
            let meaning = crate::protocol::codes::meaning(*code).unwrap_or("");
            let text = format!("{}: {code} {meaning} {message}", lang.tr("auth_failed"));
            (text, style::ERR, false)
        }
        ConnState::Closed { reason } => (
            format!("{}: {reason}", lang.tr("closed")),
            style::MUTED,
            false,
        ),
    }
}

/// Time until the countdown text changes (for `request_repaint_after`).
pub fn next_tick(conn: &ConnState, now: Instant) -> Option<Duration> {
    match conn {
        ConnState::Reconnecting { retry_at, .. } => {
            let left = retry_at.saturating_duration_since(now);
            let frac = left.as_secs_f32().fract();
            Some(Duration::from_secs_f32(if frac > 0.01 {
                frac
            } else {
                1.0
            }))
        }
        _ => None,
    }
}

/// Group the cast code for reading aloud: "123 456".
pub fn spaced(code: &str) -> String {
    if code.len() == 6 && code.is_ascii() {
        format!("{} {}", &code[..3], &code[3..])
    } else {
        code.to_string()
    }
}

pub fn ui(
    ui: &mut egui::Ui,
    view: &RoomView,
    serving: Option<&str>,
    lang: Lang,
    out: &mut Vec<Intent>,
) {
    ui.horizontal(|ui| {
        ui.vertical(|ui| {
            title_line(ui, view, serving, lang);
            conn_line(ui, view, lang, out);
            meeting_line(ui, view, lang);
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            cast_code(ui, view, lang, out)
        });
    });
}

/// `roomshare  embedded engine · serving ws://…` or the room's URL.
fn title_line(ui: &mut egui::Ui, view: &RoomView, serving: Option<&str>, lang: Lang) {
    ui.horizontal(|ui| {
        ui.label(RichText::new("roomshare").size(22.0).strong());
        ui.add_space(8.0);
        let link = if view.embedded {
            match lang {
                Lang::En => "embedded engine".to_string(),
                Lang::Zh => "内置引擎".to_string(),
            }
        } else {
            view.label.clone()
        };
        ui.label(RichText::new(link).size(17.0).monospace());
        if view.test_patterns_only() {
            let text = format!("· {}", lang.tr("synthetic_sources"));
            ui.label(RichText::new(text).size(15.0).color(style::WARN));
        }
        if let (true, Some(addr)) = (view.embedded, serving) {
            let text = match lang {
                Lang::En => format!("· serving {addr}"),
                Lang::Zh => format!("· 对外服务 {addr}"),
            };
            ui.label(RichText::new(text).size(15.0).color(style::MUTED));
        }
    });
}

/// The connection state (a spinner while it is moving), and "retry now"
/// when it is not connected.
fn conn_line(ui: &mut egui::Ui, view: &RoomView, lang: Lang, out: &mut Vec<Intent>) {
    ui.horizontal(|ui| {
        let (text, color, busy) = conn_text(&view.conn, lang, Instant::now());
        if busy {
            slow_spinner(ui, 16.0, color);
        } else {
            let (r, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
            ui.painter().circle_filled(r.center(), 6.0, color);
        }
        ui.label(RichText::new(text).size(17.0).color(color));
        let stuck = matches!(
            view.conn,
            ConnState::Reconnecting { .. }
                | ConnState::AuthFailed { .. }
                | ConnState::Closed { .. }
        );
        if stuck && ui.button(lang.tr("retry_now")).clicked() {
            out.push(Intent::Reconnect);
        }
    });
}

/// `Meeting: In meeting  title · 123 456 789`.
fn meeting_line(ui: &mut egui::Ui, view: &RoomView, lang: Lang) {
    ui.horizontal(|ui| {
        let label = RichText::new(format!("{}:", lang.tr("meeting")));
        ui.label(label.size(17.0).color(style::MUTED));
        let Some(m) = &view.meeting else {
            let unknown = RichText::new(lang.tr("not_known")).size(17.0);
            ui.label(unknown.color(style::MUTED));
            return;
        };
        let color = match m.meeting_status {
            1 => style::OK,
            2..=5 => style::WARN,
            _ => style::MUTED,
        };
        let status = RichText::new(i18n::meeting_status(lang, m.meeting_status));
        ui.label(status.size(17.0).strong().color(color));
        let code = if m.formatted_meeting_code.is_empty() {
            &m.meeting_code
        } else {
            &m.formatted_meeting_code
        };
        let detail: Vec<&str> = [m.meeting_title.as_str(), code.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if !detail.is_empty() {
            ui.label(RichText::new(detail.join(" · ")).size(17.0));
        }
    });
}

/// The cast code, large enough to read across the room; a click copies it.
fn cast_code(ui: &mut egui::Ui, view: &RoomView, lang: Lang, out: &mut Vec<Intent>) {
    let code = view.cast_code.as_deref().unwrap_or("— — —");
    let text = RichText::new(spaced(code))
        .size(56.0)
        .monospace()
        .strong()
        .color(ui.visuals().strong_text_color());
    let big = ui.add(egui::Label::new(text).sense(egui::Sense::click()));
    big.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Button,
            true,
            format!("{} {code}", lang.tr("cast_code")),
        )
    });
    if big.clicked()
        && let Some(code) = &view.cast_code
    {
        out.push(Intent::Copy(code.clone()));
    }
    big.on_hover_text(lang.tr("click_to_copy"));
    let label = RichText::new(lang.tr("cast_code")).size(18.0);
    ui.label(label.color(style::MUTED));
}
