//! Add or edit a room: name, address, group and where its password comes
//! from. Saving writes the rooms file (the desk refuses what the file's
//! rules refuse, e.g. a password kept in a file others can read, and the
//! dialog shows why and stays open).
//!
//! A typed password goes to the system keychain ("Store in the system
//! keychain", on by default where one answered the desk's probe) and the
//! file says `password_keyring = true`; unticked, it is written into the
//! rooms file itself.

use super::desk::{EditTicket, RoomsDesk};
use crate::link::fleet::{PasswordSource, RoomEntry, keychain};
use crate::ui::i18n::Lang;
use crate::ui::style;
use egui::RichText;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secret {
    None,
    Env,
    File,
    Inline,
}

/// The dialog's fields.
#[derive(Debug, Clone)]
pub struct RoomEditor {
    /// The room being edited; `None` when adding.
    old_name: Option<String>,
    name: String,
    url: String,
    group: String,
    secret: Secret,
    /// One field per kind, so a password typed under "In the rooms file"
    /// never ends up as a file name after switching kinds.
    env_var: String,
    file: String,
    inline: String,
    /// "Store in the system keychain": `None` until the user decides,
    /// which follows the desk's probe (on where a keychain answered).
    keychain: Option<bool>,
    /// The room is edited and its password is in the keychain already
    /// (an empty password field then keeps it).
    in_keychain: bool,
    error: Option<String>,
    /// A save under way, until the desk answers.
    saving: Option<EditTicket>,
}

impl RoomEditor {
    pub fn add(group: &str) -> RoomEditor {
        RoomEditor {
            old_name: None,
            name: String::new(),
            url: String::new(),
            group: group.to_string(),
            secret: Secret::None,
            env_var: String::new(),
            file: String::new(),
            inline: String::new(),
            keychain: None,
            saving: None,
            in_keychain: false,
            error: None,
        }
    }

    pub fn edit(entry: &RoomEntry) -> RoomEditor {
        let mut editor = RoomEditor::add(&entry.group);
        editor.old_name = Some(entry.name.clone());
        editor.name = entry.name.clone();
        editor.url = entry.url.clone();
        editor.secret = match &entry.password {
            PasswordSource::None => Secret::None,
            PasswordSource::Env(var) => {
                editor.env_var = var.clone();
                Secret::Env
            }
            PasswordSource::File(path) => {
                editor.file = path.display().to_string();
                Secret::File
            }
            PasswordSource::Inline(pw) => {
                editor.inline = pw.clone();
                editor.keychain = Some(false);
                Secret::Inline
            }
            PasswordSource::Keyring => {
                editor.keychain = Some(true);
                editor.in_keychain = true;
                Secret::Inline
            }
        };
        editor
    }

    /// Whether a typed password goes to the keychain.
    fn to_keychain(&self, desk: &dyn RoomsDesk) -> bool {
        self.keychain
            .unwrap_or_else(|| desk.keychain_available() == Some(true))
    }

    /// The entry to save, and the password to store in the keychain.
    fn entry(&self, desk: &dyn RoomsDesk) -> (RoomEntry, Option<String>) {
        let keychain = self.secret == Secret::Inline && self.to_keychain(desk);
        let password = match self.secret {
            Secret::None => PasswordSource::None,
            Secret::Env => PasswordSource::Env(self.env_var.trim().to_string()),
            Secret::File => PasswordSource::File(PathBuf::from(self.file.trim())),
            Secret::Inline if keychain => PasswordSource::Keyring,
            // Passwords are taken as typed (spaces may be part of them).
            Secret::Inline => PasswordSource::Inline(self.inline.clone()),
        };
        let entry = RoomEntry::new(
            self.name.trim(),
            self.url.trim(),
            self.group.trim(),
            password,
        );
        (entry, keychain.then(|| self.inline.clone()))
    }

    /// Draw the dialog. Returns true when it is done (saved or cancelled);
    /// `saved` tells which room was written.
    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        desk: &dyn RoomsDesk,
        lang: Lang,
        saved: &mut Option<String>,
    ) -> bool {
        let mut done = false;
        let modal = egui::Modal::new(egui::Id::unique("roomshare-room-editor")).show(ctx, |ui| {
            ui.set_width(480.0);
            let title = if self.old_name.is_some() {
                "edit_room"
            } else {
                "add_room"
            };
            ui.heading(lang.tr(title));
            ui.add_space(6.0);
            self.fields(ui, desk, lang);
            if let Some(path) = desk.file_path() {
                let where_ = format!("{} {}", lang.tr("saved_in"), path.display());
                ui.label(RichText::new(where_).small().color(style::MUTED));
            }
            if let Some(e) = &self.error {
                ui.label(RichText::new(e).color(style::ERR));
            }
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let save =
                    ui.add_enabled(self.saving.is_none(), egui::Button::new(lang.tr("save")));
                if save.clicked() {
                    let (entry, typed) = self.entry(desk);
                    self.error = None;
                    self.saving = Some(desk.save(self.old_name.as_deref(), entry, typed));
                }
                if self.saving.is_some() {
                    ui.spinner();
                    ui.label(RichText::new(lang.tr("saving")).color(style::MUTED));
                } else if ui.button(lang.tr("cancel")).clicked() {
                    done = true;
                }
            });
        });
        if self.saved(ctx) {
            *saved = Some(self.name.trim().to_string());
            done = true;
        }
        if desk.keychain_available().is_none() {
            // The probe's answer changes the default: look again soon.
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        done || modal.should_close()
    }

    /// Whether the save under way is done and went well (a refusal stays
    /// in the dialog); polls while it runs.
    fn saved(&mut self, ctx: &egui::Context) -> bool {
        let Some(ticket) = &self.saving else {
            return false;
        };
        let answer = ticket.lock().take();
        match answer {
            None => {
                ctx.request_repaint_after(std::time::Duration::from_millis(50));
                false
            }
            Some(result) => {
                self.saving = None;
                self.error = result.err();
                self.error.is_none()
            }
        }
    }

    fn fields(&mut self, ui: &mut egui::Ui, desk: &dyn RoomsDesk, lang: Lang) {
        egui::Grid::new("room-editor-fields")
            .num_columns(2)
            .spacing([10.0, 8.0])
            .show(ui, |ui| {
                text_row(ui, lang.tr("room_name"), &mut self.name, false);
                text_row(ui, lang.tr("room_url"), &mut self.url, false);
                text_row(ui, lang.tr("group"), &mut self.group, false);
                ui.label(lang.tr("password_from"));
                ui.horizontal(|ui| {
                    for (kind, key) in [
                        (Secret::None, "no_password"),
                        (Secret::Env, "password_env"),
                        (Secret::File, "password_file"),
                        (Secret::Inline, "password_inline"),
                    ] {
                        ui.radio_value(&mut self.secret, kind, lang.tr(key));
                    }
                });
                ui.end_row();
                match self.secret {
                    Secret::None => {}
                    Secret::Env => text_row(ui, lang.tr("variable_name"), &mut self.env_var, false),
                    Secret::File => {
                        text_row(ui, lang.tr("password_file_path"), &mut self.file, false)
                    }
                    Secret::Inline => text_row(ui, lang.tr("password"), &mut self.inline, true),
                }
            });
        if self.secret == Secret::Inline {
            self.keychain_choice(ui, desk, lang);
        }
    }

    /// The keychain checkbox under a typed password, and what it means.
    fn keychain_choice(&mut self, ui: &mut egui::Ui, desk: &dyn RoomsDesk, lang: Lang) {
        let mut on = self.to_keychain(desk);
        if ui.checkbox(&mut on, lang.tr("store_in_keychain")).changed() {
            self.keychain = Some(on);
        }
        let hint = match (on, desk.keychain_available()) {
            (true, _) if self.in_keychain => "keychain_keep_hint",
            (true, _) => "keychain_hint",
            (false, Some(false)) => "no_keychain_hint",
            (false, _) => "inline_password_rule",
        };
        let mut hint = lang.tr(hint).to_string();
        if on {
            // The entry itself, as Seahorse or Keychain Access show it.
            hint = format!("{hint} “{}”", keychain::user(&self.name, &self.url));
        }
        ui.label(RichText::new(hint).small().color(style::MUTED));
    }
}

fn text_row(ui: &mut egui::Ui, label: &str, value: &mut String, password: bool) {
    let label = ui.label(label);
    let edit = egui::TextEdit::singleline(value)
        .password(password)
        .desired_width(300.0);
    ui.add(edit).labelled_by(label.id);
    ui.end_row();
}
