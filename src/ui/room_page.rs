//! The single-room page: one room's header, share card, meeting controls,
//! simulator, traffic pane and wall of sources. It reads its [`RoomDesk`]
//! each frame and answers with [`Intent`]s, which the console carries out
//! (the Rooms view's counterpart is `rooms::RoomsView`).

use crate::link::{RoomView, Subject, TrafficEntry};
use crate::protocol::{RoomShareAction, ShareAction, StartShare};
use crate::ui::keys::Keys;
use crate::ui::room_desk::RoomDesk;
use crate::ui::settings::{ChangeCounter, Settings};
use crate::ui::{
    Intent, header, inspector, meeting, share_card, simulator, textures, traffic, wall,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The single-room page's state between frames.
pub struct RoomPage {
    desk: Arc<dyn RoomDesk>,
    /// Bumped by the link and capture on news: the traffic log is read
    /// again only when it moved (or once a second without a counter).
    changes: Option<ChangeCounter>,
    seen_changes: u64,
    traffic_cache: Vec<TrafficEntry>,
    traffic_fetched: Option<Instant>,
    /// What the desk was last told about background traffic on screen.
    told_background: Option<bool>,
    pub wall: wall::Wall,
    /// One source live at full size with its figures, over the page.
    pub inspector: inspector::Inspector,
    traffic: traffic::TrafficPane,
    simulator: simulator::Simulator,
    meeting: meeting::MeetingPanel,
    preview: textures::PreviewTexture,
    /// `ws://…` when this console also serves its engine (`--listen`).
    pub serving: Option<String>,
    /// The (tile count, window focused) last logged as "ready" (tests wait for it).
    ready_logged: Option<(usize, bool)>,
    /// The page was opened from the Rooms view (Escape goes back there).
    pub opened_from_rooms: bool,
}

impl RoomPage {
    pub fn new(desk: Arc<dyn RoomDesk>, changes: Option<ChangeCounter>) -> RoomPage {
        RoomPage {
            desk,
            changes,
            seen_changes: u64::MAX,
            traffic_cache: Vec::new(),
            traffic_fetched: None,
            told_background: None,
            wall: wall::Wall::default(),
            inspector: inspector::Inspector::default(),
            traffic: traffic::TrafficPane::default(),
            simulator: simulator::Simulator::default(),
            meeting: meeting::MeetingPanel::default(),
            preview: textures::PreviewTexture::default(),
            serving: None,
            ready_logged: None,
            opened_from_rooms: false,
        }
    }

    pub fn desk(&self) -> &Arc<dyn RoomDesk> {
        &self.desk
    }

    /// Drive another room from now on; nothing of the old one is kept.
    pub fn set_desk(&mut self, desk: Arc<dyn RoomDesk>) {
        self.inspector.close(self.desk.as_ref());
        self.desk = desk;
        self.told_background = None;
        self.traffic_cache.clear();
        self.wall.pending = None;
        self.seen_changes = u64::MAX;
    }

    /// Forget the traffic shown (the desk's log was cleared).
    pub fn clear_traffic(&mut self) {
        self.traffic_cache.clear();
    }

    /// Draw the page below the console's toolbar: the header, the share
    /// card on the right, the traffic pane, and the wall in the middle.
    /// `view` is this frame's snapshot of the desk's room (the toolbar drew
    /// from the same one).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        keys: Keys,
        view: &RoomView,
        settings: &mut Settings,
    ) -> Vec<Intent> {
        let ctx = ui.ctx().clone();
        let mut out = Vec::new();
        self.take_notices(view, &mut out);
        self.preview.update(&ctx, self.desk.preview().as_ref());
        let tiles = wall::tiles_of(view, settings.lang);
        self.log_ready(&ctx, tiles.len());
        self.keys(keys, view, &tiles, &mut out);
        self.panels(ui, view, &tiles, settings, &mut out);
        self.inspector.ui(&ctx, self.desk.as_ref(), settings.lang);
        self.tell_background_traffic(settings);
        self.schedule_wake(&ctx, view, &tiles, Instant::now());
        let options = settings.share;
        out.into_iter()
            .map(|intent| match intent {
                Intent::ShareTile(target) => Intent::Share(ShareAction::StartShare(StartShare {
                    target,
                    fluency_first: options.fluency_first,
                    share_voice: options.share_voice,
                    // The generation the tiles were numbered in.
                    generation: view.generation,
                })),
                other => other,
            })
            .collect()
    }

    /// Notices become toasts; an answer to a StartShare settles its tile.
    fn take_notices(&mut self, view: &RoomView, out: &mut Vec<Intent>) {
        let mut start_answered = false;
        for n in self.desk.take_notices() {
            start_answered |= matches!(n.subject, Subject::Share(ShareAction::StartShare(_)));
            out.push(Intent::Notify(n));
        }
        self.wall.settle(view, start_answered);
    }

    /// This frame's keys: Ctrl+L opens the connection dialog (on this
    /// room's address), Escape stops the share, Ctrl+R asks again for
    /// capture that failed, the rest moves on the wall.
    fn keys(&mut self, keys: Keys, view: &RoomView, tiles: &[wall::Tile], out: &mut Vec<Intent>) {
        if keys.open_connect {
            let remote_url = (!view.embedded).then(|| view.label.clone());
            out.push(Intent::OpenConnect(remote_url));
        }
        if self.inspector.is_open() {
            // The inspector has the keys: Escape closes it, nothing else
            // moves the wall behind it.
            if keys.escape {
                self.inspector.close(self.desk.as_ref());
            }
            return;
        }
        if keys.escape {
            self.escape(view, out);
        }
        if keys.ask_again && view.capture.can_ask_again() {
            out.push(Intent::RoomShare(RoomShareAction::RetryCapture));
        }
        self.wall.keys(keys, tiles, out);
    }

    /// Open the inspector on `source_id`; `Err` says why not.
    pub fn open_inspector(&mut self, view: &RoomView, source_id: &str) -> Result<(), String> {
        let source = view
            .sources
            .iter()
            .find(|s| s.id == source_id)
            .ok_or_else(|| format!("no source {source_id:?} is listed now"))?;
        self.inspector
            .open(self.desk.as_ref(), source_id, &source.title, source.kind)
    }

    /// Escape stops the share; in a room opened from the Rooms view with
    /// nothing shared, it goes back there instead.
    fn escape(&mut self, view: &RoomView, out: &mut Vec<Intent>) {
        let sharing = view
            .share_info
            .as_ref()
            .is_some_and(|s| s.is_sharing || s.quick_casting_state != 0);
        if self.opened_from_rooms && !sharing {
            out.push(Intent::ShowRooms);
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

    /// Header, share card, traffic, and the wall in the middle.
    fn panels(
        &mut self,
        ui: &mut egui::Ui,
        view: &RoomView,
        tiles: &[wall::Tile],
        settings: &mut Settings,
        out: &mut Vec<Intent>,
    ) {
        let lang = settings.lang;
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
                egui::ScrollArea::vertical().show(ui, |ui| self.side_ui(ui, view, settings, out));
            });
        if settings.show_traffic {
            self.traffic_panel(ui, settings, out);
        }
        let store = self.desk.thumbnails();
        let inputs = wall::WallInputs {
            view,
            tiles,
            store: &store,
            preview: &self.preview,
        };
        egui::CentralPanel::default().show(ui, |ui| self.wall.ui(ui, &inputs, lang, out));
    }

    /// The share card, the meeting controls and (embedded) the simulator.
    fn side_ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &RoomView,
        settings: &mut Settings,
        out: &mut Vec<Intent>,
    ) {
        let lang = settings.lang;
        share_card::ui(ui, view, &self.preview, &mut settings.share, lang, out);
        ui.add_space(10.0);
        self.meeting.ui(ui, lang, out);
        if view.embedded && settings.show_simulator {
            ui.add_space(10.0);
            self.simulator.ui(ui, lang, out);
        }
    }

    fn traffic_panel(&mut self, ui: &mut egui::Ui, settings: &mut Settings, out: &mut Vec<Intent>) {
        self.refresh_traffic();
        let lang = settings.lang;
        egui::Panel::bottom("traffic")
            .resizable(true)
            .default_size(200.0)
            .min_size(90.0)
            .show(ui, |ui| {
                let background = &mut settings.show_background_traffic;
                self.traffic
                    .ui(ui, &self.traffic_cache, background, lang, out)
            });
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
            self.traffic_cache = self.desk.traffic();
            self.traffic_fetched = Some(Instant::now());
            if let Some(c) = now_changes {
                self.seen_changes = c;
            }
        }
    }

    /// Background polling wakes the UI only while the pane shows it.
    fn tell_background_traffic(&mut self, settings: &Settings) {
        let background = settings.show_traffic && settings.show_background_traffic;
        if self.told_background != Some(background) {
            self.desk.show_background_traffic(background);
            self.told_background = Some(background);
        }
    }

    /// Wake up only when something on the page will change by itself: the
    /// reconnect countdown, a pending share timing out. Nothing else: the
    /// link and capture wake the UI when what it shows changed, and input
    /// wakes it by itself. A timer here would redraw an idle console, and
    /// every frame is costly under software rendering.
    fn schedule_wake(
        &self,
        ctx: &egui::Context,
        view: &RoomView,
        tiles: &[wall::Tile],
        now: Instant,
    ) {
        let pending = self.wall.pending.as_ref();
        let wake = [
            header::next_tick(&view.conn, now),
            pending.map(|(_, at)| wall::PENDING_TIMEOUT.saturating_sub(at.elapsed())),
            wall::next_health_change(tiles),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(d) = wake {
            ctx.request_repaint_after(d.max(Duration::from_millis(16)));
        }
    }
}
