//! The console's entry point, where everything is wired: the embedded room
//! (engine, capture and, with `--listen`, its server), the link to what the
//! console drives, and the eframe window. The tokio runtime comes from
//! `main`; background tasks wake the UI with `request_repaint` through the
//! `on_change` callback.

use crate::cli::ConsoleArgs;
use crate::embedded::{Embedded, EmbeddedOptions};
use crate::link::{Link, Target};
use crate::server::ServerConfig;
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
    let options = EmbeddedOptions {
        room: args.engine.room_config(),
        sources: Some(args.engine.sources),
        server: args.listen.map(|listen| ServerConfig {
            listen,
            password: args.password.clone(),
            ..ServerConfig::default()
        }),
    };
    let embedded = match runtime.block_on(Embedded::start(options, on_change.clone())) {
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
    let embedded_target = embedded.target();
    let target = match &args.url {
        Some(url) => Target::remote(url, args.password.clone()),
        None => embedded_target.clone(),
    };
    let remote_url = args.url.as_deref().map(crate::protocol::normalise_url);

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
                embedded: Some(embedded_target),
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
    runtime.block_on(embedded.shutdown());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("the console window failed: {e}");
            ExitCode::from(1)
        }
    }
}
