//! The room simulator (embedded engine only): a remote participant starts or stops sharing, a phone starts a quick cast,
//! a new cast code — so every state can be shown in a demo.

use super::Intent;
use super::i18n::Lang;
use super::i18n::role;
use crate::protocol::RoomShareAction;
use crate::protocol::model::terminal_name;

pub struct Simulator {
    pub nickname: String,
    pub whiteboard: bool,
    pub role_type: i64,
    pub instance_id: i64,
    pub phone_nickname: String,
    pub cast_code: String,
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator {
            nickname: "张伟".into(),
            whiteboard: false,
            role_type: 3,
            instance_id: 2,
            phone_nickname: "李娜的手机".into(),
            cast_code: String::new(),
        }
    }
}

const ROLES: [i64; 6] = [1, 2, 3, 4, 5, 8];
const TERMINALS: [i64; 8] = [1, 2, 3, 4, 5, 10, 20, 0];

impl Simulator {
    pub fn ui(&mut self, ui: &mut egui::Ui, lang: Lang, out: &mut Vec<Intent>) {
        egui::CollapsingHeader::new(egui::RichText::new(lang.tr("simulator")).heading())
            .id_salt("simulator")
            .default_open(true)
            .show(ui, |ui| {
                self.remote_participant_ui(ui, lang, out);
                ui.separator();
                self.phone_and_code_ui(ui, lang, out);
            });
    }

    /// A remote participant: nickname, role, terminal, whiteboard; start
    /// or stop their share. Labels stand before their fields, and every
    /// row fits the side panel at its narrowest.
    fn remote_participant_ui(&mut self, ui: &mut egui::Ui, lang: Lang, out: &mut Vec<Intent>) {
        ui.label(egui::RichText::new(lang.tr("remote_participant")).strong());
        egui::Grid::new("sim-participant")
            .num_columns(2)
            .spacing([10.0, 6.0])
            .show(ui, |ui| {
                let label = ui.label(lang.tr("nickname"));
                ui.add(egui::TextEdit::singleline(&mut self.nickname).desired_width(150.0))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label(lang.tr("role"));
                egui::ComboBox::from_id_salt("sim-role")
                    .selected_text(role(lang, self.role_type))
                    .show_ui(ui, |ui| {
                        for r in ROLES {
                            ui.selectable_value(&mut self.role_type, r, role(lang, r));
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label(lang.tr("terminal"));
                egui::ComboBox::from_id_salt("sim-terminal")
                    .selected_text(terminal_name(self.instance_id))
                    .show_ui(ui, |ui| {
                        for t in TERMINALS {
                            ui.selectable_value(&mut self.instance_id, t, terminal_name(t));
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut self.whiteboard, lang.tr("whiteboard"));
                ui.end_row();
            });
        ui.horizontal_wrapped(|ui| {
            if ui.button(lang.tr("start_remote_share")).clicked() {
                out.push(Intent::RoomShare(RoomShareAction::RemoteShare {
                    nickname: self.nickname.clone(),
                    whiteboard: self.whiteboard,
                    instance_id: self.instance_id,
                    role_type: self.role_type,
                }));
            }
            if ui.button(lang.tr("stop_remote_share")).clicked() {
                out.push(Intent::RoomShare(RoomShareAction::RemoteStop));
            }
        });
    }

    /// A phone's quick cast, and a new cast code: label, field, button.
    fn phone_and_code_ui(&mut self, ui: &mut egui::Ui, lang: Lang, out: &mut Vec<Intent>) {
        egui::Grid::new("sim-phone")
            .num_columns(2)
            .spacing([10.0, 6.0])
            .show(ui, |ui| {
                let label = ui.label(lang.tr("phone"));
                ui.add(egui::TextEdit::singleline(&mut self.phone_nickname).desired_width(150.0))
                    .labelled_by(label.id);
                ui.end_row();
                ui.label("");
                if ui.button(lang.tr("phone_quick_cast")).clicked() {
                    out.push(Intent::RoomShare(RoomShareAction::QuickCast {
                        nickname: self.phone_nickname.clone(),
                    }));
                }
                ui.end_row();
                let label = ui.label(lang.tr("cast_code"));
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut self.cast_code)
                            .hint_text("000000")
                            .char_limit(6)
                            .desired_width(80.0),
                    )
                    .labelled_by(label.id);
                    if ui.button(lang.tr("set_cast_code")).clicked() {
                        let code = self.cast_code.trim().to_string();
                        out.push(Intent::RoomShare(RoomShareAction::SetCastCode(code)));
                    }
                });
                ui.end_row();
            });
    }
}
