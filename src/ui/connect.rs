//! The connection dialog: a room's address and password, recent rooms
//! (addresses only, persisted), or back to the embedded engine. The
//! password is never written to disk, and the dialog says so.

use super::Intent;
use super::i18n::Lang;
use super::style;
use egui::RichText;

/// Where the user asked to connect.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectTo {
    Embedded,
    Remote {
        url: String,
        password: Option<String>,
    },
}

#[derive(Default)]
pub struct ConnectDialog {
    pub open: bool,
    pub url: String,
    /// Kept in memory only while the dialog is open.
    pub password: String,
}

impl ConnectDialog {
    pub fn open_with(&mut self, url: &str) {
        self.open = true;
        if self.url.is_empty() {
            self.url = url.to_string();
        }
    }

    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        recent: &mut Vec<String>,
        embedded_available: bool,
        lang: Lang,
        out: &mut Vec<Intent>,
    ) {
        if !self.open {
            return;
        }
        let mut close = false;
        let modal = egui::Modal::new(egui::Id::unique("roomshare-connect")).show(ctx, |ui| {
            ui.set_width(460.0);
            ui.heading(lang.tr("connection"));
            ui.add_space(6.0);
            let enter = self.fields_ui(ui, lang);
            if !recent.is_empty() {
                ui.add_space(6.0);
                self.recent_ui(ui, recent, lang);
            }
            ui.add_space(8.0);
            close = self.buttons_ui(ui, enter, embedded_available, lang, out);
        });
        if close || modal.should_close() {
            self.open = false;
            self.password.clear();
        }
    }

    /// Address and password; true when Enter was pressed in either.
    fn fields_ui(&mut self, ui: &mut egui::Ui, lang: Lang) -> bool {
        // Each field named by its label, for screen readers (and tests).
        let url_label = ui.label(lang.tr("room_url"));
        let url = ui
            .add(
                egui::TextEdit::singleline(&mut self.url)
                    .hint_text("ws://10.0.0.5:6295")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(url_label.id);
        let pw_label = ui.label(lang.tr("password"));
        let pw = ui
            .add(
                egui::TextEdit::singleline(&mut self.password)
                    .password(true)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(pw_label.id);
        let note = RichText::new(lang.tr("password_not_saved")).small();
        ui.label(note.color(style::WARN));
        (url.lost_focus() || pw.lost_focus()) && ui.input(|i| i.key_pressed(egui::Key::Enter))
    }

    /// Recent rooms: a click fills the address; "forget" removes one.
    fn recent_ui(&mut self, ui: &mut egui::Ui, recent: &mut Vec<String>, lang: Lang) {
        ui.label(RichText::new(lang.tr("recent_rooms")).strong());
        let mut forget = None;
        for (i, r) in recent.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui.selectable_label(self.url == *r, r).clicked() {
                    self.url.clone_from(r);
                }
                if ui.small_button(lang.tr("forget")).clicked() {
                    forget = Some(i);
                }
            });
        }
        if let Some(i) = forget {
            recent.remove(i);
        }
    }

    /// Connect, back to the embedded engine, or cancel; true to close.
    fn buttons_ui(
        &mut self,
        ui: &mut egui::Ui,
        enter: bool,
        embedded_available: bool,
        lang: Lang,
        out: &mut Vec<Intent>,
    ) -> bool {
        let mut close = false;
        ui.horizontal(|ui| {
            let can = !self.url.trim().is_empty();
            let connect = ui.add_enabled(can, egui::Button::new(lang.tr("do_connect")));
            if (connect.clicked() || enter) && can {
                let password = Some(std::mem::take(&mut self.password)).filter(|p| !p.is_empty());
                out.push(Intent::Connect(ConnectTo::Remote {
                    url: self.url.trim().to_string(),
                    password,
                }));
                close = true;
            }
            let embedded = ui
                .add_enabled(
                    embedded_available,
                    egui::Button::new(lang.tr("use_embedded")),
                )
                .on_disabled_hover_text(lang.tr("embedded_unavailable"));
            if embedded.clicked() {
                out.push(Intent::Connect(ConnectTo::Embedded));
                close = true;
            }
            close |= ui.button(lang.tr("cancel")).clicked();
        });
        close
    }
}
