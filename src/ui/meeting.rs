//! Meeting controls (Call/Meeting): start an instant meeting, join one by
//! code, leave. Real devices and the embedded engine both answer them.

use super::Intent;
use super::i18n::Lang;
use crate::protocol::MeetingAction;

pub struct MeetingPanel {
    pub meeting_code: String,
    /// Typed for one JoinMeeting; never persisted.
    pub password: String,
}

impl Default for MeetingPanel {
    fn default() -> Self {
        MeetingPanel {
            meeting_code: "123 456 789".into(),
            password: String::new(),
        }
    }
}

impl MeetingPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, lang: Lang, out: &mut Vec<Intent>) {
        egui::CollapsingHeader::new(egui::RichText::new(lang.tr("sim_meeting")).heading())
            .id_salt("meeting-controls")
            .default_open(true)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    if ui.button(lang.tr("start_meeting")).clicked() {
                        out.push(Intent::Meeting(MeetingAction::StartMeeting));
                    }
                    if ui.button(lang.tr("leave_meeting")).clicked() {
                        out.push(Intent::Meeting(MeetingAction::LeaveMeeting));
                    }
                });
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut self.meeting_code)
                            .hint_text(lang.tr("meeting_code"))
                            .desired_width(110.0),
                    );
                    ui.add(
                        egui::TextEdit::singleline(&mut self.password)
                            .hint_text(lang.tr("password"))
                            .password(true)
                            .desired_width(80.0),
                    );
                    if ui.button(lang.tr("join_meeting")).clicked() {
                        out.push(Intent::Meeting(MeetingAction::JoinMeeting {
                            meeting_code: self.meeting_code.trim().to_string(),
                            password: Some(std::mem::take(&mut self.password))
                                .filter(|p| !p.is_empty()),
                        }));
                    }
                });
            });
    }
}
