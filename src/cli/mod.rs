//! The command line: the console (no subcommand) and one file per
//! subcommand — `serve`, `query`, `call`, `watch`, `sources`,
//! `snap`, `inspect`, and `rooms` (many rooms at once), and `out` (their lines on
//! stdout, quiet when the pipe closes). Everything here is thin glue over the library.

mod call;
mod inspect;
mod out;
mod query;
mod rooms;
mod serve;
mod snap;
mod sources;
mod watch;

pub use sources::{Row, format_table, resolve};

use crate::client::{Client, ClientOptions, Endpoint};
use crate::engine::RoomConfig;
use crate::protocol::{RpcResult, codes, normalise_url};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "roomshare",
    version,
    about = "Screen-sharing console for Tencent Meeting Rooms (Rooms control API)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// Options of the console (no subcommand).
#[derive(Args, Debug, Clone)]
pub struct ConsoleArgs {
    /// Drive a remote device or engine (ws://HOST:6295) instead of the embedded engine.
    #[arg(long)]
    pub url: Option<String>,
    /// Control password (also ROOMSHARE_PASSWORD). With --listen: the password clients must give.
    #[arg(long, env = "ROOMSHARE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Also serve the embedded engine to other controllers on this address.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The rooms list for the Rooms view (default: rooms.toml in the
    /// platform's config folder, e.g. ~/.config/roomshare/rooms.toml).
    #[arg(long, value_name = "FILE")]
    pub rooms: Option<std::path::PathBuf>,
    /// How the window is drawn: glow (OpenGL) or wgpu; auto picks glow (also ROOMSHARE_RENDERER).
    #[arg(long, value_enum, env = "ROOMSHARE_RENDERER", default_value = "auto")]
    pub renderer: Renderer,
    /// Log the frames drawn each second (`frames: N`, target roomshare::frames) without ROOMSHARE_LOG.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The console's renderer (eframe's two back ends).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renderer {
    /// The cheaper one for this machine (see the README, "Rendering").
    Auto,
    /// OpenGL through glutin (egui_glow).
    Glow,
    /// wgpu (Vulkan, Metal, DX12 or GL).
    Wgpu,
}

/// How the embedded engine starts.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Where sources come from: real capture where a display exists, or synthetic test patterns.
    #[arg(long, value_enum, default_value = "auto")]
    pub sources: crate::capture::SourcesMode,
    /// A fixed cast code (6 digits) instead of a random one.
    #[arg(long)]
    pub cast_code: Option<String>,
    /// Name shown as the sharer when this room shares.
    #[arg(long, default_value = "roomshare")]
    pub room_name: String,
}

impl EngineArgs {
    pub fn room_config(&self) -> RoomConfig {
        RoomConfig {
            cast_code: self.cast_code.clone(),
            room_name: self.room_name.clone(),
            ..RoomConfig::default()
        }
    }
}

/// Where a client command connects.
#[derive(Args, Debug, Clone)]
pub struct RemoteArgs {
    /// The room: ws://HOST:6295 (a bare host or host:port works too); default ws://127.0.0.1:6295.
    #[arg(long)]
    pub url: Option<String>,
    /// Control password (also ROOMSHARE_PASSWORD).
    #[arg(long, env = "ROOMSHARE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Seconds to wait for the connection and for each answer.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

impl RemoteArgs {
    /// The room's address, normalised (`ws://host:port/`).
    pub fn url(&self) -> String {
        normalise_url(self.url.as_deref().unwrap_or("ws://127.0.0.1:6295"))
    }

    fn options(&self) -> ClientOptions {
        let timeout = Duration::from_secs_f64(self.timeout.clamp(0.1, 3600.0));
        ClientOptions {
            request_timeout: timeout,
            connect_timeout: timeout,
            subscriptions: vec![],
            ..ClientOptions::default()
        }
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint::Remote {
            url: self.url(),
            password: self.password.clone(),
        }
    }

    /// Connect once; a failure is printed and becomes exit code 2.
    pub async fn connect(&self) -> Result<Client, ExitCode> {
        self.connect_with(self.options()).await
    }

    /// [`RemoteArgs::connect`] for answers that take up to `longer` more
    /// than `--timeout` (an inspection's, given when it ends).
    pub async fn connect_for(&self, longer: Duration) -> Result<Client, ExitCode> {
        let mut options = self.options();
        options.request_timeout += longer;
        self.connect_with(options).await
    }

    async fn connect_with(&self, options: ClientOptions) -> Result<Client, ExitCode> {
        Client::connect(self.endpoint(), options)
            .await
            .map_err(|e| {
                eprintln!("cannot connect to {}: {e}", self.url());
                ExitCode::from(2)
            })
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the embedded share engine on the network (no window).
    Serve(serve::ServeArgs),
    /// Query a node and print its data: `roomshare query Share CastCode`.
    Query(query::QueryArgs),
    /// Call an action: `roomshare call Share StartShare share_type=0 fluency_first=true select_index=2`.
    Call(call::CallArgs),
    /// List the capture sources: index, kind, id, title, app, size, state (`--url` for a remote engine).
    Sources(sources::SourcesArgs),
    /// Capture one source (id or select_index) to a PNG: `roomshare snap 1 -o win.png`.
    Snap(snap::SnapArgs),
    /// Watch one source for a while and report black, static and stalled stretches: `roomshare inspect 1 --seconds 10`.
    Inspect(inspect::InspectArgs),
    /// Subscribe and print events as they arrive: `roomshare watch Share`.
    Watch(watch::WatchArgs),
    /// Many rooms at once, from the rooms file: `roomshare rooms status`, `rooms call`, `rooms watch`.
    Rooms(rooms::RoomsArgs),
}

/// Run a subcommand. Returns the process exit code.
pub async fn run_command(command: Command) -> ExitCode {
    match command {
        Command::Serve(args) => serve::run(args).await,
        Command::Query(args) => query::run(args).await,
        Command::Call(args) => call::run(args).await,
        Command::Sources(args) => sources::run(args).await,
        Command::Snap(args) => snap::run(args).await,
        Command::Inspect(args) => inspect::run(args).await,
        Command::Watch(args) => watch::run(args).await,
        Command::Rooms(args) => rooms::run(args).await,
    }
}

/// Print a device's refusal with its meaning and a hint; exit code 1.
fn refused(what: &str, result: &RpcResult) -> ExitCode {
    eprintln!(
        "{what}: error {} ({}): {}\nhint: {}",
        result.error_code,
        codes::meaning(result.error_code).unwrap_or("undocumented code"),
        result.message,
        codes::hint(result.error_code)
    );
    ExitCode::from(1)
}

/// `Share/ShareInfo` or `Share ShareInfo` style arguments as one path.
fn path_of(parts: &[String]) -> Vec<String> {
    parts
        .iter()
        .flat_map(|p| p.split('/'))
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Ctrl+C (SIGINT), listened for from the moment this is called: tokio's
/// `ctrl_c()` installs its handler only when first polled. (Not an `async
/// fn` for that reason; off Unix nothing happens before the first poll,
/// which clippy sees.)
#[cfg_attr(not(unix), allow(clippy::manual_async_fn))]
fn interrupted() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        if let Some(signal) = signal.as_mut() {
            signal.recv().await;
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
