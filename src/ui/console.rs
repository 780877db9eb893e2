//! The console: the toolbar and the page switch, the settings, the
//! services that start links, and what floats over both pages (the
//! connection dialog, the toasts). It carries out what the pages ask for.

use crate::link::{Link, RoomView, Target};
use crate::ui::connect::{ConnectDialog, ConnectTo};
use crate::ui::keys::{KeyUse, Keys};
use crate::ui::{
    ChangeCounter, Intent, Page, RepaintCounter, RoomDesk, RoomPage, Services, Settings, fonts,
    rooms, style, toasts, toolbar,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The console: the page switch, the settings, the services, and what
/// floats over both pages (the connection dialog, the toasts).
pub struct ConsoleApp {
    pub settings: Settings,
    services: Option<Services>,
    /// The single-room page.
    pub room: RoomPage,
    /// Every room at once, when the console follows a fleet.
    pub rooms: Option<rooms::RoomsView>,
    pub page: Page,
    connect: ConnectDialog,
    pub toasts: toasts::Toasts,
    /// Repaints so far (for tests and benches).
    pub repaints: u64,
    /// The same count, for other threads.
    repaint_counter: RepaintCounter,
}

impl ConsoleApp {
    /// A console whose room page drives `desk`. `services` lets the
    /// connection dialog start new links; `changes` (bumped by `on_change`)
    /// avoids re-reading the traffic log on frames where nothing changed.
    pub fn new(
        ctx: &egui::Context,
        desk: Arc<dyn RoomDesk>,
        settings: Settings,
        services: Option<Services>,
        changes: Option<ChangeCounter>,
    ) -> ConsoleApp {
        style::apply(ctx);
        // A steady text cursor: a blinking one redraws the whole window
        // twice a second for as long as a field has the focus (the
        // connection dialog, the filters), and under software rendering
        // every frame costs.
        ctx.all_styles_mut(|s| s.visuals.text_cursor.blink = false);
        fonts::install(ctx);
        ConsoleApp {
            settings,
            services,
            room: RoomPage::new(desk, changes),
            rooms: None,
            page: Page::Room,
            connect: ConnectDialog::default(),
            toasts: toasts::Toasts::default(),
            repaints: 0,
            repaint_counter: RepaintCounter::default(),
        }
    }

    pub fn on_page(mut self, page: Page) -> ConsoleApp {
        self.page = page;
        self
    }

    /// Follow many rooms too; `page` is the view to start in.
    pub fn with_rooms(mut self, view: rooms::RoomsView, page: Page) -> ConsoleApp {
        self.rooms = Some(view);
        self.page = page;
        self
    }

    /// Say in the header that this console serves its engine at `url`.
    pub fn serving(mut self, url: Option<String>) -> ConsoleApp {
        self.room.serving = url;
        self
    }

    /// The repaints so far, shared with other threads.
    pub fn repaint_counter(&self) -> RepaintCounter {
        self.repaint_counter.clone()
    }

    /// Draw one repaint (a UI frame) into `ui`: the whole window.
    pub fn repaint(&mut self, ui: &mut egui::Ui) {
        self.repaints += 1;
        self.repaint_counter.bump();
        // Why this frame was drawn (`ROOMSHARE_LOG=roomshare::frames=trace`):
        // an idle console should not be drawing at all.
        tracing::trace!(target: "roomshare::frames", "frame {}: {:?}", self.repaints, ui.ctx().repaint_causes());
        if let Some(rooms) = &self.rooms {
            rooms.set_shown(self.page == Page::Rooms);
        }
        let ctx = ui.ctx().clone();
        let view = self.room.desk().view();
        let on_rooms = self.rooms.is_some() && self.page == Page::Rooms;
        if let Some(s) = &self.services {
            // The embedded capture's news is on screen only in its room.
            s.showing_embedded
                .store(!on_rooms && view.embedded, Ordering::Relaxed);
        }
        let mut wake = match on_rooms {
            true => self.rooms_frame(ui, &view),
            false => self.room_frame(ui, &view),
        };
        let mut intents = Vec::new();
        wake = wake
            .into_iter()
            .chain(self.overlays(&ctx, &mut intents))
            .min();
        self.apply(&ctx, intents);
        if let Some(d) = wake {
            ctx.request_repaint_after(d.max(Duration::from_millis(16)));
        }
    }

    /// The Rooms view below the toolbar; when it wakes next by itself.
    fn rooms_frame(&mut self, ui: &mut egui::Ui, view: &RoomView) -> Option<Duration> {
        let ctx = ui.ctx().clone();
        self.toolbar(ui, view);
        let rooms = self.rooms.as_mut()?;
        // Keys go to an open dialog (Escape closes it), not to the table.
        let busy = ctx.egui_wants_keyboard_input() || self.connect.open || rooms.dialog_open();
        let keys = Keys::read(&ctx, busy, KeyUse::RoomsView);
        let lang = self.settings.lang;
        let out = egui::CentralPanel::default()
            .show(ui, |ui| rooms.ui(ui, keys, lang))
            .inner;
        if let Some(name) = &out.open {
            self.open_room(name);
            ctx.request_repaint();
        }
        out.wake_in
    }

    /// The single-room page below the toolbar (it schedules its own wake).
    fn room_frame(&mut self, ui: &mut egui::Ui, view: &RoomView) -> Option<Duration> {
        let ctx = ui.ctx().clone();
        let busy = ctx.egui_wants_keyboard_input() || self.connect.open;
        let keys = Keys::read(&ctx, busy, KeyUse::RoomPage);
        if keys.moves() > 0 || keys.enter {
            // Our tile focus replaces egui's widget focus, so a focused
            // button is not also "clicked" by Enter.
            ctx.memory_mut(|m| {
                if let Some(id) = m.focused() {
                    m.surrender_focus(id);
                }
            });
        }
        self.toolbar(ui, view);
        let intents = self.room.ui(ui, keys, view, &mut self.settings);
        self.apply(&ctx, intents);
        None
    }

    /// The toolbar above either page (its intents are carried out at once).
    fn toolbar(&mut self, ui: &mut egui::Ui, view: &RoomView) {
        let inputs = toolbar::ToolbarInputs {
            view,
            rooms: self.rooms.as_ref().map(|r| r.desk().rooms().len()),
            can_connect: self.services.is_some(),
        };
        let mut out = Vec::new();
        egui::Panel::top("toolbar").show(ui, |ui| {
            toolbar::ui(ui, &mut self.settings, &mut self.page, &inputs, &mut out)
        });
        self.apply(ui.ctx(), out);
    }

    /// The connection dialog and the toasts; the time until the next toast
    /// expires.
    fn overlays(&mut self, ctx: &egui::Context, out: &mut Vec<Intent>) -> Option<Duration> {
        let lang = self.settings.lang;
        let embedded_available = self.services.as_ref().is_some_and(|s| s.embedded.is_some());
        let recent = &mut self.settings.recent_rooms;
        self.connect.ui(ctx, recent, embedded_available, lang, out);
        let next_toast = self.toasts.expire(Instant::now());
        self.toasts.ui(ctx, lang);
        next_toast
    }

    fn apply(&mut self, ctx: &egui::Context, intents: Vec<Intent>) {
        let desk = self.room.desk().clone();
        for intent in intents {
            match intent {
                // The room page turns these into StartShare with its
                // view's generation; none reaches here.
                Intent::ShareTile(_) => {}
                Intent::Share(a) => desk.share(a),
                Intent::Meeting(a) => desk.meeting(a),
                Intent::RoomShare(a) => desk.room_share(a),
                Intent::ClearTraffic => {
                    desk.clear_traffic();
                    self.room.clear_traffic();
                }
                Intent::Reconnect => desk.reconnect(),
                Intent::Copy(text) => {
                    ctx.copy_text(text);
                    self.toasts.info(self.settings.lang.tr("copied"));
                }
                Intent::Connect(to) => {
                    self.connect_to(to);
                    self.page = Page::Room;
                }
                Intent::OpenConnect(url) => self.open_connect(url.as_deref()),
                Intent::Notify(notice) => self.toasts.notice(notice),
                Intent::ShowRooms => self.page = Page::Rooms,
                Intent::Inspect(id) => {
                    let view = desk.view();
                    if let Err(why) = self.room.open_inspector(&view, &id) {
                        self.toasts.failure(self.settings.lang.tr("inspect"), why);
                    }
                }
            }
        }
    }

    fn connect_to(&mut self, to: ConnectTo) {
        let Some(services) = &self.services else {
            return;
        };
        let target = match to {
            ConnectTo::Embedded => match &services.embedded {
                Some(t) => t.clone(),
                None => return,
            },
            ConnectTo::Remote { url, password } => {
                let url = crate::protocol::normalise_url(&url);
                self.settings.remember_room(&url);
                Target::remote(&url, password)
            }
        };
        self.switch_to(target);
        self.room.opened_from_rooms = false;
    }

    /// Drive `target` from now on (the embedded engine's link is kept when
    /// it is already the one shown).
    fn switch_to(&mut self, target: Target) {
        let Some(services) = &self.services else {
            return;
        };
        if target.is_embedded() && self.room.desk().view().embedded {
            return;
        }
        let link = Link::start(target, &services.runtime, services.on_change.clone());
        self.room.set_desk(Arc::new(link));
    }

    /// Open one room of the Rooms view in the single-room page.
    fn open_room(&mut self, name: &str) {
        let target = self.rooms.as_ref().and_then(|r| r.desk().target(name));
        if let Some(target) = target {
            self.switch_to(target);
            self.page = Page::Room;
            self.room.opened_from_rooms = true;
        }
    }

    /// Open the connection dialog, on the remote room's address if any.
    /// Logged: the idle test waits for it.
    fn open_connect(&mut self, remote_url: Option<&str>) {
        if self.services.is_none() || self.connect.open {
            return;
        }
        self.connect.open_with(remote_url.unwrap_or(""));
        tracing::info!(target: "roomshare::ui", "connection dialog open");
    }
}

impl eframe::App for ConsoleApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.repaint(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, Settings::KEY, &self.settings);
    }

    fn auto_save_interval(&self) -> Duration {
        Duration::from_secs(30)
    }
}
