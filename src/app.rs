//! The console's entry point, where everything is wired: the embedded room
//! (engine, capture and, with `--listen`, its server), the link to what the
//! console drives, and the eframe window. The tokio runtime comes from
//! `main`; background tasks wake the UI with `request_repaint` through the
//! `on_change` callback.

use crate::cli::{ConsoleArgs, Renderer};
use crate::embedded::{Embedded, EmbeddedOptions};
use crate::link::fleet::{self, Fleet, FleetOptions, RoomsFile};
use crate::link::{Link, Target};
use crate::server::ServerConfig;
use crate::ui::rooms::{FleetDesk, RoomsView};
use crate::ui::{ChangeCounter, ConsoleApp, Page, RepaintCounter, RoomDesk, Services, Settings};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The log target of the frames-per-second line (`--stats`).
pub const FRAMES_TARGET: &str = "roomshare::frames";

/// Run the console until its window closes.
pub fn run(args: ConsoleArgs, runtime: tokio::runtime::Runtime) -> ExitCode {
    let _guard = runtime.enter();
    // A bad rooms file is refused before anything starts.
    let rooms_file = match rooms_file(args.rooms.clone()) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let wake = Wake::default();
    wake.showing_embedded
        .store(args.url.is_none(), Ordering::Relaxed);
    // The embedded engine always runs (the dialog can switch back to it);
    // with --url the console starts on the remote room.
    let embedded = match runtime.block_on(Embedded::start(
        embedded_options(&args),
        wake.embedded_callback(),
    )) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let serving = embedded.local_addr().map(|a| format!("ws://{a}/"));
    if let Some(url) = &serving {
        tracing::info!(target: "roomshare::ui", "serving the embedded engine on {url}");
    }
    let start = Start {
        target: match &args.url {
            Some(url) => Target::remote(url, args.password.clone()),
            None => embedded.target(),
        },
        embedded: embedded.target(),
        remote_url: args.url.as_deref().map(crate::protocol::normalise_url),
        serving,
        rooms_file,
        runtime: runtime.handle().clone(),
        wake,
    };
    let renderer = renderer_of(args.renderer);
    tracing::info!(target: "roomshare::ui", "renderer: {renderer}");
    let result = eframe::run_native(
        "roomshare",
        window_options(renderer),
        Box::new(move |cc| Ok(Box::new(start.console(cc)))),
    );
    runtime.block_on(embedded.shutdown());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("the console window failed: {e}");
            ExitCode::from(1)
        }
    }
}

fn embedded_options(args: &ConsoleArgs) -> EmbeddedOptions {
    EmbeddedOptions {
        room: args.engine.room_config(),
        sources: Some(args.engine.sources),
        server: args.listen.map(|listen| ServerConfig {
            listen,
            password: args.password.clone(),
            ..ServerConfig::default()
        }),
    }
}

/// The renderer to use. `auto` is glow: under software rendering (Mesa's
/// llvmpipe / lavapipe: VMs, RDP and VNC sessions, machines without a GPU
/// driver) a glow frame costs less CPU than a wgpu one, and on a GPU both
/// are far below a millisecond (README, "Rendering").
fn renderer_of(choice: Renderer) -> eframe::Renderer {
    match choice {
        Renderer::Auto | Renderer::Glow => eframe::Renderer::Glow,
        Renderer::Wgpu => eframe::Renderer::Wgpu,
    }
}

/// The application icon (`assets/`), built into the binary so the window
/// has it wherever the binary is run from.
const ICON_PNG: &[u8] = include_bytes!("../assets/icons/roomshare-256.png");

fn window_options(renderer: eframe::Renderer) -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("roomshare")
        .with_app_id("roomshare");
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(e) => tracing::warn!(target: "roomshare::ui", "the window icon could not be read: {e}"),
    }
    eframe::NativeOptions {
        renderer,
        viewport: viewport
            .with_inner_size([1360.0, 860.0])
            .with_min_inner_size([720.0, 480.0]),
        persist_window: true,
        ..Default::default()
    }
}

/// How background work wakes the UI: counts the change and requests a
/// repaint. The context exists only once the window does, so it is filled
/// in when the console is created.
#[derive(Clone, Default)]
struct Wake {
    ctx: Arc<OnceLock<egui::Context>>,
    changes: ChangeCounter,
    /// The console shows the embedded room (kept by the console).
    showing_embedded: Arc<AtomicBool>,
}

impl Wake {
    /// For the embedded engine's capture: its thumbnails and source list
    /// are on screen only while the console shows the embedded room.
    fn embedded_callback(&self) -> Arc<dyn Fn() + Send + Sync> {
        let wake = self.clone();
        Arc::new(move || {
            if wake.showing_embedded.load(Ordering::Relaxed)
                && let Some(ctx) = wake.ctx.get()
            {
                ctx.request_repaint();
            }
        })
    }

    fn callback(&self) -> Arc<dyn Fn() + Send + Sync> {
        let wake = self.clone();
        Arc::new(move || {
            wake.changes.bump();
            if let Some(ctx) = wake.ctx.get() {
                ctx.request_repaint();
            }
        })
    }
}

/// Everything the console needs once its window exists.
/// The rooms file: the one given, or the default one (which may not exist
/// yet). `None` only where the platform has no config folder.
fn rooms_file(given: Option<PathBuf>) -> Result<Option<RoomsFile>, String> {
    let path = match given {
        Some(path) => {
            if !path.exists() {
                return Err(format!("{}: no such rooms file", path.display()));
            }
            path
        }
        None => match RoomsFile::default_path() {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    RoomsFile::load_or_new(&path)
        .map(Some)
        .map_err(|e| e.to_string())
}

struct Start {
    target: Target,
    embedded: Target,
    remote_url: Option<String>,
    serving: Option<String>,
    rooms_file: Option<RoomsFile>,
    runtime: tokio::runtime::Handle,
    wake: Wake,
}

impl Start {
    fn console(self, cc: &eframe::CreationContext) -> ConsoleApp {
        let _ = self.wake.ctx.set(cc.egui_ctx.clone());
        let on_change = self.wake.callback();
        let link = Link::start(self.target, &self.runtime, on_change.clone());
        let desk: Arc<dyn RoomDesk> = Arc::new(link);
        let mut settings = Settings::load(cc.storage);
        if let Some(url) = &self.remote_url {
            settings.remember_room(url);
        }
        let services = Services {
            runtime: self.runtime.clone(),
            embedded: Some(self.embedded.clone()),
            on_change: on_change.clone(),
            showing_embedded: self.wake.showing_embedded.clone(),
        };
        let changes = Some(self.wake.changes);
        let app = ConsoleApp::new(&cc.egui_ctx, desk, settings, Some(services), changes)
            .serving(self.serving);
        if tracing::enabled!(target: FRAMES_TARGET, tracing::Level::DEBUG) {
            spawn_frame_log(app.repaint_counter());
        }
        let Some(file) = self.rooms_file else {
            return app;
        };
        let app = with_fleet(app, file, self.embedded, &self.runtime, on_change);
        // An address on the command line means that room first.
        match self.remote_url {
            Some(_) => app.on_page(Page::Room),
            None => app,
        }
    }
}

/// Follow the rooms of `file` (or the embedded engine alone while it has
/// none) in the Rooms view; start there when the file lists rooms.
fn with_fleet(
    app: ConsoleApp,
    file: RoomsFile,
    embedded: Target,
    runtime: &tokio::runtime::Handle,
    on_change: Arc<dyn Fn() + Send + Sync>,
) -> ConsoleApp {
    let has_rooms = !file.entries().is_empty();
    let rooms = match fleet::starting_rooms(&file, Some(embedded.clone())) {
        Ok(rooms) => rooms,
        Err(e) => {
            tracing::error!(target: "roomshare::ui", "{e}");
            Vec::new()
        }
    };
    // The fleet's changes wake the console only while the Rooms view shows.
    let shown = Arc::new(AtomicBool::new(false));
    let wake_if_shown = {
        let shown = shown.clone();
        Arc::new(move || {
            if shown.load(Ordering::Relaxed) {
                on_change()
            }
        })
    };
    let fleet = Fleet::start(rooms, runtime, wake_if_shown, FleetOptions::default());
    let desk = Arc::new(FleetDesk::new(fleet, file, Some(embedded)));
    let page = if has_rooms { Page::Rooms } else { Page::Room };
    app.with_rooms(RoomsView::new(desk).with_shown_flag(shown), page)
}

/// Log the repaints (UI frames drawn) in each second, from a timer thread
/// of its own (a repaint to count repaints would count itself): `frames: N` at debug
/// level on [`FRAMES_TARGET`], every second, zeros included. The thread
/// ends with the process.
fn spawn_frame_log(repaints: RepaintCounter) {
    let spawned = std::thread::Builder::new()
        .name("frame-stats".into())
        .spawn(move || {
            let start = Instant::now();
            let mut last = repaints.get();
            for second in 1u32.. {
                let due = start + Duration::from_secs(u64::from(second));
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let now = repaints.get();
                tracing::debug!(target: FRAMES_TARGET, "frames: {}", now - last);
                last = now;
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(target: FRAMES_TARGET, "cannot start the frame counter: {e}");
    }
}
