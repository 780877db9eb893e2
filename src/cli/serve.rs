//! `roomshare serve`: the embedded engine on the network, no window.

use super::out::print_line;
use super::{EngineArgs, interrupted};
use crate::embedded::{DemoOptions, DemoRooms, Embedded, EmbeddedOptions};
use crate::server::ServerConfig;
use clap::Args;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback needs --password.
    #[arg(long, default_value = "127.0.0.1:6295")]
    pub listen: SocketAddr,
    /// The password controllers must give (also ROOMSHARE_PASSWORD).
    #[arg(long, env = "ROOMSHARE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Most simultaneous connections.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Requests per second per connection before error 10 (burst: twice as many).
    #[arg(long, default_value_t = 1000)]
    pub rate_limit: u32,
    /// Serve the engine's built-in demo sources without starting capture
    /// workers (controller development, tests, machines without a display).
    #[arg(long)]
    pub no_capture: bool,
    /// Serve N demo rooms instead of one (no capture), each on its own port
    /// from --port-base: a fleet to try `roomshare rooms` and the Rooms view on.
    #[arg(long, value_name = "N")]
    pub rooms_demo: Option<usize>,
    /// First port of --rooms-demo (room i listens on base + i; 0 = any free
    /// ports). Default: the --listen port.
    #[arg(long, value_name = "PORT", requires = "rooms_demo")]
    pub port_base: Option<u16>,
    /// With --rooms-demo: write a rooms file listing the demo rooms here.
    #[arg(long, value_name = "FILE", requires = "rooms_demo")]
    pub rooms_out: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub async fn run(args: ServeArgs) -> ExitCode {
    if let Some(count) = args.rooms_demo {
        return run_demo(&args, count).await;
    }
    let config = ServerConfig {
        listen: args.listen,
        password: args.password,
        max_connections: args.max_connections,
        rate_per_sec: args.rate_limit,
        rate_burst: args.rate_limit.saturating_mul(2),
        ..ServerConfig::default()
    };
    let options = EmbeddedOptions {
        room: args.engine.room_config(),
        sources: (!args.no_capture).then_some(args.engine.sources),
        server: Some(config),
    };
    // Listen for Ctrl+C before announcing the address, so that a signal
    // sent right after the announcement stops us gracefully.
    let interrupted = interrupted();
    let embedded = match Embedded::start(options, Arc::new(|| {})).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(addr) = embedded.local_addr() {
        print_line(&format!(
            "roomshare serving on ws://{addr}/ (Ctrl+C to stop)"
        ));
    }
    interrupted.await;
    embedded.shutdown().await;
    ExitCode::SUCCESS
}

/// `--rooms-demo N`: N engines on N ports in this process.
async fn run_demo(args: &ServeArgs, count: usize) -> ExitCode {
    let mut listen = args.listen;
    listen.set_port(args.port_base.unwrap_or(args.listen.port()));
    let options = DemoOptions {
        count,
        listen,
        password: args.password.clone(),
        room: args.engine.room_config(),
        ..DemoOptions::default()
    };
    let interrupted = interrupted();
    let demo = match DemoRooms::start(options).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.rooms_out {
        let env = args.password.is_some().then_some("ROOMSHARE_PASSWORD");
        if let Err(e) = std::fs::write(path, demo.rooms_toml(env)) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let (Some(first), Some(last)) = (demo.rooms.first(), demo.rooms.last()) {
        print_line(&format!(
            "roomshare serving {count} demo rooms, {} … {} (Ctrl+C to stop)",
            first.url(),
            last.url()
        ));
    }
    interrupted.await;
    demo.shutdown().await;
    ExitCode::SUCCESS
}
