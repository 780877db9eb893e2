//! The console's panels and widgets. The app reads a [`RoomView`] snapshot
//! each frame, draws the panels, and turns clicks and keys into
//! [`Intent`]s for its [`Driver`]. Nothing here blocks: no network or
//! capture call runs inside `ui()`; the link and the capture workers call
//! `request_repaint` when they have news, and the app otherwise sleeps.

pub mod connect;
pub mod driver;
pub mod fonts;
pub mod header;
pub mod i18n;
pub mod meeting;
pub mod rooms;
pub mod share_card;
pub mod simulator;
pub mod style;
pub mod textures;
pub mod toasts;
pub mod traffic;
pub mod wall;

pub use driver::{Driver, Fixture, Sent};
pub use i18n::Lang;

use crate::link::{Link, RoomView, Subject, Target, TrafficEntry};
use crate::protocol::{MeetingAction, ShareAction, ShareTarget, SimAction, StartShare};
use connect::{ConnectDialog, ConnectTo};
use serde::{Deserialize, Serialize};
use share_card::ShareOptions;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a panel asks for. The app carries them out after drawing.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Share this tile with the current options and source generation.
    ShareTile(ShareTarget),
    Share(ShareAction),
    Meeting(MeetingAction),
    Simulate(SimAction),
    ClearTraffic,
    Reconnect,
    /// Put text on the clipboard (and say so).
    Copy(String),
    Connect(ConnectTo),
}

/// What the console remembers between runs (eframe persistence). No
/// runtime handles and never a password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub lang: Lang,
    pub share: ShareOptions,
    /// Room addresses, most recent first (no passwords).
    pub recent_rooms: Vec<String>,
    pub show_traffic: bool,
    pub show_background_traffic: bool,
    pub show_simulator: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lang: Lang::En,
            share: ShareOptions::default(),
            recent_rooms: Vec::new(),
            show_traffic: true,
            show_background_traffic: false,
            show_simulator: true,
        }
    }
}

impl Settings {
    pub const KEY: &'static str = "roomshare.settings";

    pub fn remember_room(&mut self, url: &str) {
        self.recent_rooms.retain(|r| r != url);
        self.recent_rooms.insert(0, url.to_string());
        self.recent_rooms.truncate(8);
    }
}

/// Counts changes reported by the link and capture (their `on_change`), so
/// the app refreshes its copy of the traffic log only when something moved.
#[derive(Clone, Default)]
pub struct ChangeCounter(Arc<AtomicU64>);

impl ChangeCounter {
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Frames drawn since the console started, readable from any thread (the
/// `--stats` line is logged by a timer thread, never by a repaint).
#[derive(Clone, Default)]
pub struct FrameCounter(Arc<AtomicU64>);

impl FrameCounter {
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What the app needs to start a new link from the connection dialog.
pub struct Services {
    pub runtime: tokio::runtime::Handle,
    /// The embedded engine's target, when this session runs one.
    pub embedded: Option<Target>,
    /// Called by links when something changed (requests a repaint).
    pub on_change: Arc<dyn Fn() + Send + Sync>,
    /// Set while the console shows the embedded room: the embedded
    /// capture's news wakes the UI only then (a remote room's console does
    /// not redraw for thumbnails it does not show).
    pub showing_embedded: Arc<std::sync::atomic::AtomicBool>,
}

impl Services {
    fn start(&self, target: Target) -> Arc<dyn Driver> {
        Arc::new(Link::start(target, &self.runtime, self.on_change.clone()))
    }
}

/// The console.
pub struct ConsoleApp {
    pub settings: Settings,
    driver: Arc<dyn Driver>,
    services: Option<Services>,
    changes: Option<ChangeCounter>,
    seen_changes: u64,
    traffic_cache: Vec<TrafficEntry>,
    traffic_fetched: Option<Instant>,
    /// What the driver was last told about background traffic on screen.
    told_background: Option<bool>,
    pub wall: wall::Wall,
    traffic: traffic::TrafficPane,
    pub toasts: toasts::Toasts,
    simulator: simulator::Simulator,
    meeting: meeting::MeetingPanel,
    connect: ConnectDialog,
    preview: textures::PreviewTexture,
    /// Frames drawn (for tests and benches).
    pub frames: u64,
    /// The same count, for other threads.
    frame_counter: FrameCounter,
    /// `ws://…` when this console also serves its engine (`--listen`).
    pub serving: Option<String>,
    /// The (tile count, window focused) last logged as "ready" (tests wait for it).
    ready_logged: Option<(usize, bool)>,
    /// Every room at once, when the console follows a fleet.
    pub rooms: Option<rooms::RoomsView>,
    pub page: Page,
    /// The single-room view was opened from the Rooms view (Escape goes back).
    opened_from_rooms: bool,
}

/// Which view fills the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// One room: its wall of sources, its share, its meeting.
    Room,
    /// Every room of the rooms list.
    Rooms,
}

impl ConsoleApp {
    /// A console over `driver`. `services` lets the connection dialog start
    /// new links; `changes` (bumped by `on_change`) avoids re-reading the
    /// traffic log on frames where nothing changed.
    pub fn new(
        ctx: &egui::Context,
        driver: Arc<dyn Driver>,
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
            driver,
            services,
            changes,
            seen_changes: u64::MAX,
            traffic_cache: Vec::new(),
            traffic_fetched: None,
            told_background: None,
            wall: wall::Wall::default(),
            traffic: traffic::TrafficPane::default(),
            toasts: toasts::Toasts::default(),
            simulator: simulator::Simulator::default(),
            meeting: meeting::MeetingPanel::default(),
            connect: ConnectDialog::default(),
            preview: textures::PreviewTexture::default(),
            frames: 0,
            frame_counter: FrameCounter::default(),
            serving: None,
            ready_logged: None,
            rooms: None,
            page: Page::Room,
            opened_from_rooms: false,
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

    /// Settings from eframe storage, if any.
    pub fn load_settings(storage: Option<&dyn eframe::Storage>) -> Settings {
        storage
            .and_then(|s| eframe::get_value::<Settings>(s, Settings::KEY))
            .unwrap_or_default()
    }

    pub fn driver(&self) -> &Arc<dyn Driver> {
        &self.driver
    }

    /// The frames drawn so far, shared with other threads.
    pub fn frame_counter(&self) -> FrameCounter {
        self.frame_counter.clone()
    }

    fn apply(&mut self, ctx: &egui::Context, view: &RoomView, intents: Vec<Intent>) {
        for c in intents {
            match c {
                Intent::ShareTile(target) => {
                    let opts = self.settings.share;
                    self.driver.share(ShareAction::StartShare(StartShare {
                        target,
                        fluency_first: opts.fluency_first,
                        share_voice: opts.share_voice,
                        generation: view.generation,
                    }));
                }
                Intent::Share(a) => self.driver.share(a),
                Intent::Meeting(a) => self.driver.meeting(a),
                Intent::Simulate(a) => self.driver.simulate(a),
                Intent::ClearTraffic => {
                    self.driver.clear_traffic();
                    self.traffic_cache.clear();
                }
                Intent::Reconnect => self.driver.reconnect(),
                Intent::Copy(text) => {
                    ctx.copy_text(text);
                    self.toasts.info(self.settings.lang.tr("copied"));
                }
                Intent::Connect(to) => self.connect_to(to),
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
        self.opened_from_rooms = false;
    }

    /// Drive `target` from now on (the embedded engine's link is kept when
    /// it is already the one shown).
    fn switch_to(&mut self, target: Target) {
        let Some(services) = &self.services else {
            return;
        };
        if target.is_embedded() && self.driver.view().embedded {
            return;
        }
        self.driver = services.start(target);
        self.told_background = None;
        self.traffic_cache.clear();
        self.wall.pending = None;
        self.seen_changes = u64::MAX;
    }

    /// Open one room of the Rooms view in the single-room view.
    fn open_room(&mut self, name: &str) {
        let target = self.rooms.as_ref().and_then(|r| r.desk().target(name));
        if let Some(target) = target {
            self.switch_to(target);
            self.page = Page::Room;
            self.opened_from_rooms = true;
        }
    }

    /// Keys that act on the whole console (when no text field has focus).
    fn keys(&mut self, ctx: &egui::Context) -> (wall::Keys, bool) {
        use egui::{Key, Modifiers};
        let mut keys = wall::Keys::default();
        let mut escape = false;
        let typing = ctx.egui_wants_keyboard_input();
        ctx.input_mut(|i| {
            keys.focus_filter = i.consume_key(Modifiers::COMMAND, Key::F);
            if typing || self.connect.open {
                return;
            }
            // Several presses may arrive in one frame (fast typing, xdotool).
            keys.left = i.count_and_consume_key(Modifiers::NONE, Key::ArrowLeft);
            keys.right = i.count_and_consume_key(Modifiers::NONE, Key::ArrowRight);
            keys.up = i.count_and_consume_key(Modifiers::NONE, Key::ArrowUp);
            keys.down = i.count_and_consume_key(Modifiers::NONE, Key::ArrowDown);
            keys.home = i.consume_key(Modifiers::NONE, Key::Home);
            keys.end = i.consume_key(Modifiers::NONE, Key::End);
            keys.enter = i.consume_key(Modifiers::NONE, Key::Enter);
            escape = i.consume_key(Modifiers::NONE, Key::Escape);
        });
        if keys.moves() > 0 || keys.enter {
            // Our tile focus replaces egui's widget focus, so a focused
            // button is not also "clicked" by Enter.
            ctx.memory_mut(|m| {
                if let Some(id) = m.focused() {
                    m.surrender_focus(id);
                }
            });
        }
        (keys, escape)
    }

    /// Background polling wakes the UI only while the pane shows it.
    fn tell_background_traffic(&mut self) {
        let background = self.settings.show_traffic && self.settings.show_background_traffic;
        if self.told_background != Some(background) {
            self.driver.show_background_traffic(background);
            self.told_background = Some(background);
        }
    }

    fn refresh_traffic(&mut self) {
        let now_changes = self.changes.as_ref().map(ChangeCounter::get);
        let stale = match now_changes {
            Some(c) => c != self.seen_changes,
            None => true,
        };
        let old = self
            .traffic_fetched
            .is_none_or(|t| t.elapsed() > Duration::from_secs(1));
        if stale || old {
            self.traffic_cache = self.driver.traffic();
            self.traffic_fetched = Some(Instant::now());
            if let Some(c) = now_changes {
                self.seen_changes = c;
            }
        }
    }

    /// Draw one frame into `ui` (the whole window).
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        self.frames += 1;
        self.frame_counter.bump();
        // Why this frame was drawn (`ROOMSHARE_LOG=roomshare::frames=trace`):
        // an idle console should not be drawing at all.
        tracing::trace!(target: "roomshare::frames", "frame {}: {:?}", self.frames, ui.ctx().repaint_causes());
        if let Some(rooms) = &self.rooms {
            rooms.set_shown(self.page == Page::Rooms);
        }
        if self.page == Page::Rooms && self.rooms.is_some() {
            self.rooms_frame(ui);
        } else {
            self.room_frame(ui);
        }
    }

    /// The Rooms view: the toolbar and every room.
    fn rooms_frame(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let now = Instant::now();
        let view = self.driver.view();
        if let Some(s) = &self.services {
            // The embedded capture's news is not on screen here.
            s.showing_embedded.store(false, Ordering::Relaxed);
        }
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui, &view));
        let lang = self.settings.lang;
        let Some(rooms) = &mut self.rooms else {
            return;
        };
        // Keys go to an open dialog (Escape closes it), not to the table.
        let busy = ctx.egui_wants_keyboard_input() || self.connect.open || rooms.dialog_open();
        let keys = rooms::RoomKeys::read(&ctx, busy);
        let out = egui::CentralPanel::default()
            .show(ui, |ui| rooms.ui(ui, keys, lang))
            .inner;
        // The connection dialog (the toolbar's Connect…) and the toasts.
        let mut intents = Vec::new();
        let next_toast = self.overlays(&ctx, now, &mut intents);
        let connects = intents.iter().any(|i| matches!(i, Intent::Connect(_)));
        self.apply(&ctx, &view, intents);
        if connects {
            self.page = Page::Room;
        }
        if let Some(name) = &out.open {
            self.open_room(name);
            ctx.request_repaint();
        }
        if let Some(d) = [out.wake_in, next_toast].into_iter().flatten().min() {
            ctx.request_repaint_after(d.max(Duration::from_millis(16)));
        }
    }

    /// The single-room view.
    fn room_frame(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let now = Instant::now();
        let view = self.driver.view();
        if let Some(s) = &self.services {
            s.showing_embedded.store(view.embedded, Ordering::Relaxed);
        }
        self.take_notices(&view);
        self.preview.update(&ctx, self.driver.preview().as_ref());
        let tiles = wall::tiles_of(&view, self.settings.lang);
        let remote_url = (!view.embedded).then_some(view.label.as_str());
        let mut out = self.keyboard(&ctx, &tiles, remote_url);
        self.panels(ui, &view, &tiles, &mut out);
        let next_toast = self.overlays(&ctx, now, &mut out);
        self.apply(&ctx, &view, out);
        self.tell_background_traffic();
        self.schedule_wake(&ctx, &view, now, next_toast);
    }

    /// Notices become toasts; an answer to a StartShare settles its tile.
    fn take_notices(&mut self, view: &RoomView) {
        let mut start_answered = false;
        for n in self.driver.take_notices() {
            start_answered |= matches!(n.subject, Subject::Share(ShareAction::StartShare(_)));
            self.toasts.notice(n);
        }
        self.wall.settle(view, start_answered);
    }

    /// This frame's keys: Escape stops, the rest moves on the wall.
    /// Ctrl+L (as a browser's address bar) opens the connection dialog.
    fn keyboard(
        &mut self,
        ctx: &egui::Context,
        tiles: &[wall::Tile],
        view_label: Option<&str>,
    ) -> Vec<Intent> {
        self.log_ready(ctx, tiles.len());
        let (keys, escape) = self.keys(ctx);
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::L)) {
            self.open_connect(view_label);
        }
        let mut out = Vec::new();
        if escape {
            self.escape(&mut out);
        }
        self.wall.keys(keys, tiles, &mut out);
        out
    }

    /// Escape stops the share; in a room opened from the Rooms view with
    /// nothing shared, it goes back there instead.
    fn escape(&mut self, out: &mut Vec<Intent>) {
        let view = self.driver.view();
        let sharing = view
            .share_info
            .as_ref()
            .is_some_and(|s| s.is_sharing || s.quick_casting_state != 0);
        if self.opened_from_rooms && !sharing {
            self.page = Page::Rooms;
        } else {
            out.push(Intent::Share(ShareAction::StopShare));
        }
    }

    /// Say when the console is ready for keys (its tiles are there and the
    /// window has the keyboard): end-to-end tests wait for this line.
    fn log_ready(&mut self, ctx: &egui::Context, tiles: usize) {
        let ready = (tiles, ctx.input(|i| i.focused));
        if self.ready_logged != Some(ready) {
            self.ready_logged = Some(ready);
            tracing::info!(target: "roomshare::ui", "ready: {} tiles, window focused: {}", ready.0, ready.1);
        }
    }

    /// Toolbar, header, share card, traffic, and the wall in the middle.
    fn panels(
        &mut self,
        ui: &mut egui::Ui,
        view: &RoomView,
        tiles: &[wall::Tile],
        out: &mut Vec<Intent>,
    ) {
        let lang = self.settings.lang;
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui, view));
        let header_frame =
            egui::Frame::side_top_panel(ui.style()).inner_margin(egui::Margin::symmetric(12, 8));
        egui::Panel::top("header")
            .frame(header_frame)
            .show(ui, |ui| {
                header::ui(ui, view, self.serving.as_deref(), lang, out)
            });
        egui::Panel::right("share")
            .resizable(true)
            .default_size(340.0)
            .min_size(280.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.side_ui(ui, view, out));
            });
        if self.settings.show_traffic {
            self.traffic_panel(ui, out);
        }
        let store = self.driver.thumbnails();
        let inputs = wall::WallInputs {
            view,
            tiles,
            store: &store,
            preview: &self.preview,
        };
        egui::CentralPanel::default().show(ui, |ui| self.wall.ui(ui, &inputs, lang, out));
    }

    /// The share card, the meeting controls and (embedded) the simulator.
    fn side_ui(&mut self, ui: &mut egui::Ui, view: &RoomView, out: &mut Vec<Intent>) {
        let lang = self.settings.lang;
        let options = &mut self.settings.share;
        share_card::ui(ui, view, &self.preview, options, lang, out);
        ui.add_space(10.0);
        self.meeting.ui(ui, lang, out);
        if view.embedded && self.settings.show_simulator {
            ui.add_space(10.0);
            self.simulator.ui(ui, lang, out);
        }
    }

    fn traffic_panel(&mut self, ui: &mut egui::Ui, out: &mut Vec<Intent>) {
        self.refresh_traffic();
        let lang = self.settings.lang;
        egui::Panel::bottom("traffic")
            .resizable(true)
            .default_size(200.0)
            .min_size(90.0)
            .show(ui, |ui| {
                let background = &mut self.settings.show_background_traffic;
                self.traffic
                    .ui(ui, &self.traffic_cache, background, lang, out)
            });
    }

    /// The connection dialog and the toasts; the time until the next toast
    /// expires.
    fn overlays(
        &mut self,
        ctx: &egui::Context,
        now: Instant,
        out: &mut Vec<Intent>,
    ) -> Option<Duration> {
        let lang = self.settings.lang;
        let embedded_available = self.services.as_ref().is_some_and(|s| s.embedded.is_some());
        let recent = &mut self.settings.recent_rooms;
        self.connect.ui(ctx, recent, embedded_available, lang, out);
        let next_toast = self.toasts.expire(now);
        self.toasts.ui(ctx, lang);
        next_toast
    }

    /// Wake up only when something on screen will change by itself.
    fn schedule_wake(
        &self,
        ctx: &egui::Context,
        view: &RoomView,
        now: Instant,
        next_toast: Option<Duration>,
    ) {
        // Nothing else: the link and capture wake the UI when what it shows
        // changed (background traffic only while the pane shows it), and
        // input wakes it by itself. A timer here would redraw an idle
        // console, and every frame is costly under software rendering.
        let pending = self.wall.pending.as_ref();
        let wake = [
            next_toast,
            header::next_tick(&view.conn, now),
            pending.map(|(_, at)| wall::PENDING_TIMEOUT.saturating_sub(at.elapsed())),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(d) = wake {
            ctx.request_repaint_after(d.max(Duration::from_millis(16)));
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

    fn toolbar(&mut self, ui: &mut egui::Ui, view: &RoomView) {
        let lang = self.settings.lang;
        ui.horizontal(|ui| {
            self.page_switch(ui, view);
            let label = ui.label(lang.tr("language"));
            egui::ComboBox::from_id_salt("lang")
                .selected_text(self.settings.lang.native_name())
                .show_ui(ui, |ui| {
                    for l in [Lang::En, Lang::Zh] {
                        ui.selectable_value(&mut self.settings.lang, l, l.native_name());
                    }
                })
                .response
                .labelled_by(label.id);
            if ui
                .add_enabled(
                    self.services.is_some(),
                    egui::Button::new(lang.tr("connect")),
                )
                .clicked()
            {
                self.open_connect((!view.embedded).then_some(view.label.as_str()));
            }
            ui.separator();
            ui.toggle_value(&mut self.settings.show_traffic, lang.tr("traffic"));
            if view.embedded {
                ui.toggle_value(&mut self.settings.show_simulator, lang.tr("simulator"));
            }
        });
    }
}

impl ConsoleApp {
    /// `Rooms (12)` | `This room`: which view fills the window.
    fn page_switch(&mut self, ui: &mut egui::Ui, view: &RoomView) {
        let Some(rooms) = &self.rooms else {
            return;
        };
        let lang = self.settings.lang;
        let count = rooms.desk().rooms().len();
        let all = format!("{} ({count})", lang.tr("rooms"));
        ui.selectable_value(&mut self.page, Page::Rooms, all);
        let one = if view.embedded {
            lang.tr("this_computer").to_string()
        } else {
            view.label.clone()
        };
        ui.selectable_value(&mut self.page, Page::Room, one);
        ui.separator();
    }
}

impl eframe::App for ConsoleApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, Settings::KEY, &self.settings);
    }

    fn auto_save_interval(&self) -> Duration {
        Duration::from_secs(30)
    }
}
