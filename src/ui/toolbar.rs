//! The console's toolbar, above either page: the page switch (with a
//! rooms list), the language, Connect…, and the panel toggles.

use crate::link::RoomView;
use crate::ui::i18n::Lang;
use crate::ui::settings::Settings;
use crate::ui::{Intent, Page};

/// What the toolbar shows besides the settings it edits.
pub struct ToolbarInputs<'a> {
    /// The room the single-room page drives.
    pub view: &'a RoomView,
    /// How many rooms the Rooms view lists; `None` without one.
    pub rooms: Option<usize>,
    /// Links can be started (the connection dialog works).
    pub can_connect: bool,
}

/// Draw the toolbar; Connect… asks for the dialog on the shown remote
/// room's address.
pub fn ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    page: &mut Page,
    inputs: &ToolbarInputs,
    out: &mut Vec<Intent>,
) {
    let view = inputs.view;
    let lang = settings.lang;
    ui.horizontal(|ui| {
        if let Some(count) = inputs.rooms {
            page_switch(ui, page, view, count, lang);
        }
        let label = ui.label(lang.tr("language"));
        egui::ComboBox::from_id_salt("lang")
            .selected_text(settings.lang.native_name())
            .show_ui(ui, |ui| {
                for l in [Lang::En, Lang::Zh] {
                    ui.selectable_value(&mut settings.lang, l, l.native_name());
                }
            })
            .response
            .labelled_by(label.id);
        let connect = egui::Button::new(lang.tr("connect"));
        if ui.add_enabled(inputs.can_connect, connect).clicked() {
            let remote_url = (!view.embedded).then(|| view.label.clone());
            out.push(Intent::OpenConnect(remote_url));
        }
        ui.separator();
        ui.toggle_value(&mut settings.show_traffic, lang.tr("traffic"));
        if view.embedded {
            ui.toggle_value(&mut settings.show_simulator, lang.tr("simulator"));
        }
    });
}

/// `Rooms (12)` | `This room`: which view fills the window.
fn page_switch(ui: &mut egui::Ui, page: &mut Page, view: &RoomView, count: usize, lang: Lang) {
    let all = format!("{} ({count})", lang.tr("rooms"));
    ui.selectable_value(page, Page::Rooms, all);
    let one = if view.embedded {
        lang.tr("this_computer").to_string()
    } else {
        view.label.clone()
    };
    ui.selectable_value(page, Page::Room, one);
    ui.separator();
}
