//! The share card: who shares (nickname, role, terminal, screen or
//! whiteboard), the quick-cast progress, Stop / End / Cancel, the share
//! guide toggle, and the options the next StartShare uses.

use super::Intent;
use super::i18n::{self, Lang};
use super::style;
use super::textures::PreviewTexture;
use crate::link::RoomView;
use crate::protocol::ShareAction;
use crate::protocol::model::terminal_name;
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
    let quick = info.quick_casting_state;
    let own = view.share_session.as_ref();
    let border = if info.is_sharing {
        style::SHARING
    } else {
        Color32::from_gray(70)
    };
    egui::Frame::group(ui.style())
        .stroke(Stroke::new(if info.is_sharing { 2.0 } else { 1.0 }, border))
        .inner_margin(10)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.heading(lang.tr("share_card"));
            let top = ui.cursor().min.y;
            match (&info.share_user_info, info.is_sharing) {
                (Some(who), true) => {
                    ui.label(
                        RichText::new(format!("● {}", lang.tr("sharing_now")))
                            .color(style::SHARING)
                            .strong(),
                    );
                    ui.label(RichText::new(&who.nickname).size(26.0).strong());
                    egui::Grid::new("sharer")
                        .num_columns(2)
                        .spacing([12.0, 4.0])
                        .show(ui, |ui| {
                            ui.label(RichText::new(lang.tr("role")).color(style::MUTED));
                            ui.label(i18n::role(lang, who.role_type));
                            ui.end_row();
                            ui.label(RichText::new(lang.tr("terminal")).color(style::MUTED));
                            ui.label(format!(
                                "{} ({})",
                                terminal_name(who.instance_id),
                                who.instance_id
                            ));
                            ui.end_row();
                            ui.label(RichText::new(lang.tr("content")).color(style::MUTED));
                            ui.label(if who.screen_share_type == 1 {
                                lang.tr("whiteboard")
                            } else {
                                lang.tr("screen")
                            });
                            ui.end_row();
                            if let Some(own) = own {
                                ui.label(
                                    RichText::new(lang.tr("source_shared")).color(style::MUTED),
                                );
                                let title = view
                                    .sources
                                    .iter()
                                    .find(|s| s.id == own.source_id)
                                    .map_or(own.source_id.as_str(), |s| s.title.as_str());
                                ui.label(title);
                                ui.end_row();
                            }
                        });
                }
                (_, true) => {
                    ui.label(
                        RichText::new(format!("● {}", lang.tr("sharing_now")))
                            .color(style::SHARING)
                            .size(20.0),
                    );
                }
                _ => {
                    ui.label(
                        RichText::new(lang.tr("no_one_sharing"))
                            .size(20.0)
                            .color(style::MUTED),
                    );
                }
            }
            // A stable height for "who shares", so the buttons below do not
            // move under the pointer when a share starts or stops.
            let used = ui.cursor().min.y - top;
            if used < WHO_HEIGHT {
                ui.add_space(WHO_HEIGHT - used);
            }
            // The live preview of this room's own share.
            if let Some(own) = own
                && let Some(tex) = preview.texture_for(Some(&own.source_id))
            {
                let w = ui.available_width();
                let size = super::wall::fit_rect(
                    egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(w, w * 9.0 / 16.0)),
                    tex.size_vec2(),
                )
                .size();
                ui.add(egui::Image::new((tex.id(), size)).corner_radius(4.0));
                ui.label(
                    RichText::new(format!(
                        "{} · {}",
                        lang.tr("now_sharing"),
                        super::textures::fps_text(preview.fps, lang)
                    ))
                    .color(style::SHARING)
                    .small(),
                );
            }
            if let Some(reason) = &view.last_stop_reason
                && !info.is_sharing
            {
                ui.colored_label(
                    style::WARN,
                    format!("{} {reason}", lang.tr("stopped_because")),
                );
            }

            ui.add_space(6.0);
            ui.label(RichText::new(lang.tr("quick_cast")).color(style::MUTED));
            quick_cast_progress(ui, quick, lang);

            ui.add_space(6.0);
            ui.horizontal_wrapped(|ui| {
                // StopShare stops this Rooms' own share or a quick cast; a
                // remote participant's share is theirs to stop (17).
                let rooms_shares = info
                    .share_user_info
                    .as_ref()
                    .is_some_and(|w| (20..=22).contains(&w.instance_id));
                let unknown_owner = view.extension != crate::link::Extension::Present;
                let can_stop = quick > 0
                    || own.is_some()
                    || (info.is_sharing && (rooms_shares || unknown_owner));
                let stop = egui::Button::new(
                    RichText::new(format!("■ {}", lang.tr("stop_share")))
                        .size(18.0)
                        .color(Color32::WHITE),
                )
                .fill(if can_stop {
                    style::ERR
                } else {
                    Color32::from_gray(60)
                });
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

            ui.add_space(6.0);
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
            ui.separator();
            ui.label(RichText::new(lang.tr("next_share")).color(style::MUTED));
            ui.checkbox(&mut options.share_voice, lang.tr("share_voice"));
            ui.checkbox(&mut options.fluency_first, lang.tr("fluency_first"));
        });
}
