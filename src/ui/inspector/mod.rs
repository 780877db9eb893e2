//! The inspector: one source, live at full size, with what its capture
//! measures — capture and content fps, frame intervals (p50/p95/max and a
//! plot of the last 10 s), a timeline of its health, its size history, a
//! pixel probe, "Save snapshot" and, for capture devices, a colour-bars
//! check. Opens from a tile (I, its Inspect button or its menu); Escape or
//! Close ends it, and with it the grabbing.
//!
//! - `picture.rs`: the picture, fitted or at 1:1 with pan, and the probe;
//! - `figures.rs`: the figures, the plot and the timeline;
//! - `bars.rs`: the colour-bars table.

mod bars;
mod figures;
mod picture;

use crate::link::{InspectorLive, SnapshotTicket};
use crate::protocol::SourceKind;
use crate::ui::RoomDesk;
use crate::ui::i18n::Lang;
use crate::ui::style;
use egui::RichText;
use picture::PictureView;

/// The inspector's state while open.
#[derive(Default)]
pub struct Inspector {
    /// The inspected source's id and title; `None` when closed.
    open: Option<(String, String, SourceKind)>,
    picture: PictureView,
    /// Compare the picture with colour bars.
    bars_check: bool,
    /// The last "Save snapshot", until it is answered and shown.
    saved: Option<SnapshotTicket>,
}

impl Inspector {
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The inspected source's id.
    pub fn source_id(&self) -> Option<&str> {
        self.open.as_ref().map(|(id, _, _)| id.as_str())
    }

    /// Start inspecting `id` through `desk`; `Err` in words.
    pub fn open(
        &mut self,
        desk: &dyn RoomDesk,
        id: &str,
        title: &str,
        kind: SourceKind,
    ) -> Result<(), String> {
        desk.open_inspector(id)?;
        *self = Inspector {
            open: Some((id.to_string(), title.to_string(), kind)),
            bars_check: false,
            ..Inspector::default()
        };
        Ok(())
    }

    pub fn close(&mut self, desk: &dyn RoomDesk) {
        if self.open.take().is_some() {
            desk.close_inspector();
        }
        self.picture = PictureView::default();
        self.saved = None;
    }

    /// Draw the inspector over the page, if open.
    pub fn ui(&mut self, ctx: &egui::Context, desk: &dyn RoomDesk, lang: Lang) {
        let Some((id, title, kind)) = self.open.clone() else {
            return;
        };
        let live = desk.inspection().filter(|l| l.source_id == id);
        let rect = ctx.content_rect().shrink(20.0);
        let mut close = false;
        egui::Window::new(format!("{} — {title}", lang.tr("inspector")))
            .id(egui::Id::unique("roomshare-inspector"))
            .collapsible(false)
            .resizable(false)
            .fixed_rect(rect)
            .show(ctx, |ui| {
                close = self.toolbar(ui, desk, live.as_ref(), kind, lang);
                ui.separator();
                self.body(ui, &id, live.as_ref(), lang);
            });
        if close {
            self.close(desk);
        }
    }

    /// Zoom, colour bars, Save snapshot, Close; true when Close was clicked.
    fn toolbar(
        &mut self,
        ui: &mut egui::Ui,
        desk: &dyn RoomDesk,
        live: Option<&InspectorLive>,
        kind: SourceKind,
        lang: Lang,
    ) -> bool {
        ui.horizontal(|ui| {
            self.picture.zoom_buttons(ui, lang);
            ui.separator();
            if kind == SourceKind::CaptureDevice {
                ui.checkbox(&mut self.bars_check, lang.tr("bars_check"));
                ui.separator();
            }
            let can_save = live.is_some_and(|l| l.picture.is_some());
            let save = ui.add_enabled(can_save, egui::Button::new(lang.tr("save_snapshot")));
            if save.clicked()
                && let Some(l) = live
            {
                self.saved = Some(desk.save_snapshot(l.clone()));
            }
            self.saved_line(ui, lang);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.button(lang.tr("close_esc")).clicked()
            })
            .inner
        })
        .inner
    }

    /// Where the last snapshot went, or why it did not.
    fn saved_line(&self, ui: &mut egui::Ui, lang: Lang) {
        let Some(ticket) = &self.saved else { return };
        match &*ticket.lock() {
            None => ui.label(RichText::new(lang.tr("saving")).color(style::MUTED)),
            Some(Ok(path)) => ui.label(
                RichText::new(format!("{} {}", lang.tr("saved_to"), path.display()))
                    .color(style::OK),
            ),
            Some(Err(why)) => ui.colored_label(style::ERR, why),
        };
    }

    /// The picture on the left, the figures on the right.
    fn body(&mut self, ui: &mut egui::Ui, id: &str, live: Option<&InspectorLive>, lang: Lang) {
        let avail = ui.available_size();
        let figures_w = 420.0_f32.min(avail.x * 0.45);
        let picture_w = avail.x - figures_w - 16.0;
        let column = egui::Layout::top_down(egui::Align::Min);
        ui.horizontal_top(|ui| {
            ui.allocate_ui_with_layout(egui::vec2(picture_w, avail.y), column, |ui| {
                self.picture.ui(ui, id, live, lang)
            });
            ui.separator();
            ui.allocate_ui_with_layout(egui::vec2(figures_w, avail.y), column, |ui| {
                ui.set_width(figures_w);
                egui::ScrollArea::vertical()
                    .id_salt("inspector-figures")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        figures::ui(ui, live.and_then(|l| l.live.as_ref()), lang);
                        self.picture.probe_ui(ui, lang);
                        if self.bars_check {
                            bars::ui(ui, live.and_then(|l| l.picture.as_deref()), lang);
                        }
                    });
            });
        });
    }
}
