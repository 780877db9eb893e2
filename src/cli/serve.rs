//! `roomshare serve`: the embedded engine on the network, no window.

use super::{EngineArgs, interrupted};
use crate::embedded::{Embedded, EmbeddedOptions};
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
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub async fn run(args: ServeArgs) -> ExitCode {
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
        println!("roomshare serving on ws://{addr}/ (Ctrl+C to stop)");
    }
    interrupted.await;
    embedded.shutdown().await;
    ExitCode::SUCCESS
}
