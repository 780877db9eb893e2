//! Actions on many rooms: the buttons, the confirmation that names every
//! room before anything is sent, and the summary of the last batch as its
//! answers come in (each room's own result is in its row).

use crate::link::fleet::{FleetAction, RoomStatus, Tally};
use crate::protocol::ShareAction;
use crate::ui::i18n::Lang;
use crate::ui::style;
use egui::RichText;
use std::time::Instant;

/// The share actions a technician sends to many rooms, with their labels.
pub fn share_actions() -> [(ShareAction, &'static str); 5] {
    [
        (ShareAction::StopShare, "stop_share"),
        (ShareAction::EndQuickShare, "end_quick_cast"),
        (ShareAction::CancelQuickShare, "cancel_quick_cast"),
        (ShareAction::OpenShareGuide, "open_guide"),
        (ShareAction::CloseShareGuide, "close_guide"),
    ]
}

/// An action waiting for the technician's yes.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Call {
        action: FleetAction,
        label: &'static str,
        names: Vec<String>,
    },
    Remove {
        names: Vec<String>,
    },
}

/// What the confirmation dialog decided this frame.
#[derive(Debug, PartialEq)]
pub enum Decision {
    Waiting,
    Yes,
    No,
}

/// "Stop share in 3 rooms?" with every room named; Escape or Cancel says no.
pub fn confirm(ctx: &egui::Context, pending: &Pending, lang: Lang) -> Decision {
    let (question, names) = match pending {
        Pending::Call { label, names, .. } => (question(lang.tr(label), names.len(), lang), names),
        Pending::Remove { names } => (remove_question(names.len(), lang), names),
    };
    let mut answer = Decision::Waiting;
    let modal = egui::Modal::new(egui::Id::unique("roomshare-rooms-confirm")).show(ctx, |ui| {
        ui.set_width(440.0);
        ui.heading(&question);
        ui.add_space(6.0);
        egui::ScrollArea::vertical()
            .max_height(240.0)
            .show(ui, |ui| {
                for name in names {
                    ui.label(RichText::new(format!("• {name}")).strong());
                }
            });
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let yes = egui::Button::new(RichText::new(question.replace('?', "")).strong())
                .fill(style::ACCENT.gamma_multiply(0.6));
            if ui.add(yes).clicked() {
                answer = Decision::Yes;
            }
            if ui.button(lang.tr("cancel")).clicked() {
                answer = Decision::No;
            }
        });
    });
    if answer == Decision::Waiting && modal.should_close() {
        answer = Decision::No;
    }
    answer
}

fn question(action: &str, n: usize, lang: Lang) -> String {
    match (lang, n) {
        (Lang::En, 1) => format!("{action} in 1 room?"),
        (Lang::En, n) => format!("{action} in {n} rooms?"),
        (Lang::Zh, n) => format!("在 {n} 间会议室{action}?"),
    }
}

fn remove_question(n: usize, lang: Lang) -> String {
    match (lang, n) {
        (Lang::En, 1) => "Remove 1 room from the rooms file?".into(),
        (Lang::En, n) => format!("Remove {n} rooms from the rooms file?"),
        (Lang::Zh, n) => format!("从会议室列表文件中移除 {n} 间会议室?"),
    }
}

/// A batch that was sent, for its running summary.
#[derive(Debug, Clone)]
pub struct Batch {
    pub action: FleetAction,
    pub label: &'static str,
    pub names: Vec<String>,
    pub sent_at: Instant,
}

impl Batch {
    /// Read each room's last call (a newer action replaces it: then that
    /// room no longer counts for this batch).
    pub fn tally(&self, rooms: &[RoomStatus]) -> Tally {
        let mut t = Tally::default();
        for name in &self.names {
            let call = rooms
                .iter()
                .find(|r| &r.name == name)
                .and_then(|r| r.last_call.as_ref())
                .filter(|c| c.action == self.action && c.at >= self.sent_at);
            t.count(call);
        }
        t
    }

    /// `Stop share → 3 rooms: 2 done · 1 failed · 0 waiting`.
    pub fn summary(&self, rooms: &[RoomStatus], lang: Lang) -> (String, egui::Color32) {
        let t = self.tally(rooms);
        let action = lang.tr(self.label);
        let n = self.names.len();
        let text = match lang {
            Lang::En => format!(
                "{action} → {n} rooms: {} done · {} failed · {} waiting",
                t.done,
                t.failed(),
                t.waiting
            ),
            Lang::Zh => format!(
                "{action} → {n} 间：{} 完成 · {} 失败 · {} 等待中",
                t.done,
                t.failed(),
                t.waiting
            ),
        };
        let color = match (t.failed(), t.waiting) {
            (0, 0) => style::OK,
            (0, _) => style::WARN,
            _ => style::ERR,
        };
        (text, color)
    }
}
