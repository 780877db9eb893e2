//! The console's entry point: builds the embedded engine (with its capture
//! workers and, with `--listen`, its server) or a remote link, then the
//! eframe window. The tokio runtime comes from `main`; its handle is passed
//! to everything that spawns work, and background tasks wake the UI with
//! `request_repaint` through the `on_change` callback.

use crate::capture::{Capture, CaptureOptions};
use crate::cli::ConsoleArgs;
use crate::engine::EngineHandle;
use crate::link::{Link, Target};
use crate::server::{Server, ServerConfig};
use crate::ui::{ChangeCounter, ConsoleApp, Driver, Services};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

/// Run the console until its window closes.
pub fn run(args: ConsoleArgs, runtime: tokio::runtime::Runtime) -> ExitCode {
    let _guard = runtime.enter();
    let handle = runtime.handle().clone();

    // Workers call this when they have news; the context exists only once
    // the window does, so it is filled in by the creation closure.
    let egui_ctx: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
    let changes = ChangeCounter::default();
    let on_change: Arc<dyn Fn() + Send + Sync> = {
        let egui_ctx = egui_ctx.clone();
        let changes = changes.clone();
        Arc::new(move || {
            changes.bump();
            if let Some(ctx) = egui_ctx.get() {
                ctx.request_repaint();
            }
        })
    };

    // The embedded engine always runs (the dialog can switch back to it);
    // with --url the console starts on the remote room.
    let engine = EngineHandle::spawn(args.engine.room_config());
    let capture = Capture::start(
        args.engine.sources,
        engine.clone(),
        CaptureOptions::default(),
        on_change.clone(),
    );
    tracing::info!(target: "roomshare::ui", "capture backend: {}", capture.backend_name);
    let embedded = Target::Embedded {
        engine: engine.clone(),
        thumbnails: capture.thumbnails.clone(),
        preview: capture.preview.clone(),
    };
    let server = match args.listen {
        Some(listen) => {
            let config = ServerConfig {
                listen,
                password: args.password.clone(),
                ..ServerConfig::default()
            };
            match runtime.block_on(Server::start(
                config,
                engine.clone(),
                Some(capture.provider()),
            )) {
                Ok(s) => {
                    tracing::info!(target: "roomshare::ui", "serving the embedded engine on ws://{}/", s.local_addr());
                    Some(s)
                }
                Err(e) => {
                    eprintln!("cannot listen on {listen}: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        None => None,
    };
    let target = match &args.url {
        Some(url) => Target::Remote {
            url: crate::protocol::normalise_url(url),
            password: args.password.clone(),
        },
        None => embedded.clone(),
    };
    let remote_url = args.url.as_deref().map(crate::protocol::normalise_url);
    let serving = server.as_ref().map(|s| format!("ws://{}/", s.local_addr()));

    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("roomshare")
            .with_app_id("roomshare")
            .with_inner_size([1360.0, 860.0])
            .with_min_inner_size([720.0, 480.0]),
        persist_window: true,
        ..Default::default()
    };
    let result = eframe::run_native(
        "roomshare",
        options,
        Box::new(move |cc| {
            let _ = egui_ctx.set(cc.egui_ctx.clone());
            let link = Link::start(target, &handle, on_change.clone());
            let driver: Arc<dyn Driver> = Arc::new(link);
            let mut settings = ConsoleApp::load_settings(cc.storage);
            if let Some(url) = &remote_url {
                settings.remember_room(url);
            }
            let services = Services {
                runtime: handle.clone(),
                embedded: Some(embedded),
                on_change,
            };
            let mut app = ConsoleApp::new(
                &cc.egui_ctx,
                driver,
                settings,
                Some(services),
                Some(changes),
            );
            app.serving = serving;
            Ok(Box::new(app))
        }),
    );
    if let Some(server) = server {
        runtime.block_on(server.shutdown());
    }
    drop(capture);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("the console window failed: {e}");
            ExitCode::from(1)
        }
    }
}
