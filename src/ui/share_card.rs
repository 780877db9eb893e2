//! The share card: who shares (nickname, role, terminal, screen or
//! whiteboard), the quick-cast progress, Stop / End / Cancel, the share
//! guide toggle, and the options the next StartShare uses.

use super::Intent;
use super::i18n::{self, Lang};
use super::style;
use super::textures::PreviewTexture;
use crate::link::{Extension, RoomView};
use crate::protocol::ShareAction;
use crate::protocol::answers::ShareSession;
use crate::protocol::model::{ShareInfo, ShareUserInfo, terminal_name};
use egui::{Color32, RichText, Stroke};

/// Options of the next StartShare (persisted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShareOptions {
    pub share_voice: bool,
    pub fluency_first: bool,
}

impl Default for ShareOptions {
    fn default() -> Self {
        ShareOptions {
            share_voice: false,
            fluency_first: true,
        }
    }
}

/// Height reserved for the sharer's details.
const WHO_HEIGHT: f32 = 150.0;

/// The quick-cast progress: three steps, the current one lit.
fn quick_cast_progress(ui: &mut egui::Ui, state: i64, lang: Lang) {
    ui.horizontal(|ui| {
        for step in 0..=2i64 {
            let active = state == step;
            let done = state > step;
            let (fill, text) = if active {
                (
                    if step == 0 { style::MUTED } else { style::WARN },
                    Color32::BLACK,
                )
            } else if done {
                (style::OK.linear_multiply(0.5), Color32::WHITE)
            } else {
                (Color32::from_gray(50), style::MUTED)
            };
            egui::Frame::new()
                .fill(fill)
                .corner_radius(4.0)
                .inner_margin(egui::Margin::symmetric(8, 3))
                .show(ui, |ui| {
                    ui.label(
                        RichText::new(i18n::quick_cast_state(lang, step))
                            .color(text)
                            .strong(),
                    );
                });
            if step < 2 {
                ui.label(RichText::new("›").color(style::MUTED));
            }
        }
        if state == 1 {
            ui.add(egui::Spinner::new().size(14.0));
        }
    });
}

pub fn ui(
    ui: &mut egui::Ui,
    view: &RoomView,
    preview: &PreviewTexture,
    options: &mut ShareOptions,
    lang: Lang,
    out: &mut Vec<Intent>,
) {
    let info = view.share_info.clone().unwrap_or_default();
    let (width, border) = if info.is_sharing {
        (2.0, style::SHARING)
    } else {
        (1.0, Color32::from_gray(70))
    };
    egui::Frame::group(ui.style())
        .stroke(Stroke::new(width, border))
        .inner_margin(10)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.heading(lang.tr("share_card"));
            let top = ui.cursor().min.y;
            who_ui(ui, view, &info, lang);
            // A stable height for "who shares", so the buttons below do not
            // move under the pointer when a share starts or stops.
            let used = ui.cursor().min.y - top;
            if used < WHO_HEIGHT {
                ui.add_space(WHO_HEIGHT - used);
            }
            preview_ui(ui, view, preview, lang);
            if let Some(reason) = &view.last_stop_reason
                && !info.is_sharing
            {
                let text = format!("{} {reason}", lang.tr("stopped_because"));
                ui.colored_label(style::WARN, text);
            }
            ui.add_space(6.0);
            ui.label(RichText::new(lang.tr("quick_cast")).color(style::MUTED));
            quick_cast_progress(ui, info.quick_casting_state, lang);
            ui.add_space(6.0);
            stop_buttons(ui, view, &info, lang, out);
            ui.add_space(6.0);
            guide_ui(ui, view, lang, out);
            ui.separator();
            ui.label(RichText::new(lang.tr("next_share")).color(style::MUTED));
            ui.checkbox(&mut options.share_voice, lang.tr("share_voice"));
            ui.checkbox(&mut options.fluency_first, lang.tr("fluency_first"));
        });
}

/// Who shares: nickname, role, terminal, content, and this room's source.
fn who_ui(ui: &mut egui::Ui, view: &RoomView, info: &ShareInfo, lang: Lang) {
    let sharing_now = RichText::new(format!("● {}", lang.tr("sharing_now"))).color(style::SHARING);
    match (&info.share_user_info, info.is_sharing) {
        (Some(who), true) => {
            ui.label(sharing_now.strong());
            ui.label(RichText::new(&who.nickname).size(26.0).strong());
            egui::Grid::new("sharer")
                .num_columns(2)
                .spacing([12.0, 4.0])
                .show(ui, |ui| sharer_grid(ui, view, who, lang));
        }
        (_, true) => {
            ui.label(sharing_now.size(20.0));
        }
        _ => {
            let none = RichText::new(lang.tr("no_one_sharing")).size(20.0);
            ui.label(none.color(style::MUTED));
        }
    }
}

fn sharer_grid(ui: &mut egui::Ui, view: &RoomView, who: &ShareUserInfo, lang: Lang) {
    let row = |ui: &mut egui::Ui, key: &'static str, value: String| {
        ui.label(RichText::new(lang.tr(key)).color(style::MUTED));
        ui.label(value);
        ui.end_row();
    };
    row(ui, "role", i18n::role(lang, who.role_type).to_string());
    let terminal = format!("{} ({})", terminal_name(who.instance_id), who.instance_id);
    row(ui, "terminal", terminal);
    let content = if who.screen_share_type == 1 {
        lang.tr("whiteboard")
    } else {
        lang.tr("screen")
    };
    row(ui, "content", content.to_string());
    if let Some(own) = &view.share_session {
        let title = view
            .sources
            .iter()
            .find(|s| s.id == own.source_id)
            .map_or(own.source_id.as_str(), |s| s.title.as_str());
        row(ui, "source_shared", title.to_string());
        if let Some(fault) = super::wall::shared_fault(view, lang) {
            let text = format!("⚠ {} {fault}", lang.tr("shared_fault"));
            ui.label(RichText::new(text).color(style::ERR).strong());
        }
    }
}

/// The live preview of this room's own share, with its measured rate.
fn preview_ui(ui: &mut egui::Ui, view: &RoomView, preview: &PreviewTexture, lang: Lang) {
    let Some(own) = &view.share_session else {
        return;
    };
    let Some(tex) = preview.texture_for(Some(&own.source_id)) else {
        // A remote engine's share: no picture here, but its numbers.
        if let Some(stats) = session_stats(own, lang) {
            ui.label(RichText::new(stats).color(style::SHARING).small());
        }
        return;
    };
    let w = ui.available_width();
    let frame = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(w, w * 9.0 / 16.0));
    let size = super::wall::fit_rect(frame, tex.size_vec2()).size();
    ui.add(egui::Image::new((tex.id(), size)).corner_radius(4.0));
    let text = format!(
        "{} · {}",
        lang.tr("now_sharing"),
        super::textures::fps_text(preview.fps, lang)
    );
    ui.label(RichText::new(text).color(style::SHARING).small());
}

/// `1280×720 · 29.7 fps`, as the engine measured its share.
fn session_stats(session: &ShareSession, lang: Lang) -> Option<String> {
    let fps = session.fps?;
    let size = match (session.width, session.height) {
        (Some(w), Some(h)) => format!("{w}×{h} · "),
        _ => String::new(),
    };
    Some(format!(
        "{} · {size}{}",
        lang.tr("now_sharing"),
        super::textures::fps_text(fps as f32, lang)
    ))
}

/// Stop (this room's share or a quick cast), and End / Cancel quick cast.
fn stop_buttons(
    ui: &mut egui::Ui,
    view: &RoomView,
    info: &ShareInfo,
    lang: Lang,
    out: &mut Vec<Intent>,
) {
    let quick = info.quick_casting_state;
    ui.horizontal_wrapped(|ui| {
        let can_stop = can_stop(view, info);
        let label = RichText::new(format!("■ {}", lang.tr("stop_share")))
            .size(18.0)
            .color(Color32::WHITE);
        let fill = if can_stop {
            style::ERR
        } else {
            Color32::from_gray(60)
        };
        let stop = egui::Button::new(label).fill(fill);
        if ui
            .add_enabled(can_stop, stop)
            .on_hover_text("Esc")
            .clicked()
        {
            out.push(Intent::Share(ShareAction::StopShare));
        }
        if quick > 0 {
            if ui.button(lang.tr("end_quick_cast")).clicked() {
                out.push(Intent::Share(ShareAction::EndQuickShare));
            }
            if ui.button(lang.tr("cancel_quick_cast")).clicked() {
                out.push(Intent::Share(ShareAction::CancelQuickShare));
            }
        }
    });
}

/// StopShare stops this Rooms' own share or a quick cast; a remote
/// participant's share is theirs to stop (17). Without the extension the
/// owner is unknown, so Stop stays available.
fn can_stop(view: &RoomView, info: &ShareInfo) -> bool {
    let rooms_shares = info
        .share_user_info
        .as_ref()
        .is_some_and(|w| (20..=22).contains(&w.instance_id));
    let unknown_owner = view.extension != Extension::Present;
    info.quick_casting_state > 0
        || view.share_session.is_some()
        || (info.is_sharing && (rooms_shares || unknown_owner))
}

/// The share-guide switch (disabled until the room has said its state).
fn guide_ui(ui: &mut egui::Ui, view: &RoomView, lang: Lang, out: &mut Vec<Intent>) {
    let mut guide = view.share_guide_open.unwrap_or(false);
    let r = ui.add_enabled(
        view.share_guide_open.is_some(),
        egui::Checkbox::new(&mut guide, lang.tr("share_guide")),
    );
    if r.changed() {
        out.push(Intent::Share(if guide {
            ShareAction::OpenShareGuide
        } else {
            ShareAction::CloseShareGuide
        }));
    }
}
