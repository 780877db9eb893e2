//! The command line: `serve`, `query`, `call`, `watch` (and, with no
//! subcommand, the console). Everything here is thin glue over the library.

use crate::client::{Client, ClientEvent, ClientOptions, Endpoint};
use crate::engine::{EngineHandle, RoomConfig};
use crate::protocol::{RpcResult, codes, normalise_url};
use crate::server::{Server, ServerConfig};
use clap::{Args, Parser, Subcommand};
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::process::ExitCode;

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
    #[command(flatten)]
    pub engine: EngineArgs,
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
    /// The room: ws://HOST:6295 (a bare host or host:port works too).
    #[arg(long, default_value = "ws://127.0.0.1:6295")]
    pub url: String,
    /// Control password (also ROOMSHARE_PASSWORD).
    #[arg(long, env = "ROOMSHARE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

impl RemoteArgs {
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::Remote {
            url: normalise_url(&self.url),
            password: self.password.clone(),
        }
    }

    pub fn options(&self) -> ClientOptions {
        ClientOptions {
            request_timeout: std::time::Duration::from_secs_f64(self.timeout.max(0.1)),
            connect_timeout: std::time::Duration::from_secs_f64(self.timeout.max(0.1)),
            subscriptions: vec![],
            ..ClientOptions::default()
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the embedded share engine on the network (no window).
    Serve {
        /// Address to listen on; anything but loopback needs --password.
        #[arg(long, default_value = "127.0.0.1:6295")]
        listen: SocketAddr,
        /// The password controllers must give (also ROOMSHARE_PASSWORD).
        #[arg(long, env = "ROOMSHARE_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Most simultaneous connections.
        #[arg(long, default_value_t = 1024)]
        max_connections: usize,
        /// Requests per second per connection before error 10 (burst: twice as many).
        #[arg(long, default_value_t = 1000)]
        rate_limit: u32,
        /// Serve the engine's built-in demo sources without starting capture
        /// workers (controller development, tests, machines without a display).
        #[arg(long)]
        no_capture: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Query a node and print its data: `roomshare query Share CastCode`.
    Query {
        /// The path, e.g. `Share` or `Share CastCode` or `Meeting MeetingInfo`.
        #[arg(required = true)]
        path: Vec<String>,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Call an action: `roomshare call Share StartShare share_type=0 fluency_first=true select_index=2`.
    Call {
        /// Module: Share, Meeting (or RoomShare for the simulator).
        module: String,
        /// The action, e.g. StartShare.
        action: String,
        /// Inputs as key=value (true/false and numbers are typed; quote JSON strings to force text).
        params: Vec<String>,
        /// Inputs as a JSON object instead of key=value.
        #[arg(long)]
        json: Option<String>,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// List the capture sources: index, kind, id, title, app, size, state (`--url` for a remote engine).
    Sources(crate::capture::cli::SourcesArgs),
    /// Capture one source (id or select_index) to a PNG: `roomshare snap 1 -o win.png`.
    Snap(crate::capture::cli::SnapArgs),
    /// Subscribe and print events as they arrive: `roomshare watch Share`.
    Watch {
        /// Paths to subscribe to (none = all events); `Share/ShareInfo` or `Share ShareInfo` style per argument.
        paths: Vec<String>,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

/// Turn `key=value` arguments into an object with typed values.
pub fn parse_key_values(items: &[String]) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for item in items {
        let (key, raw) = item
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got {item:?}"))?;
        let value = match serde_json::from_str::<Value>(raw) {
            Ok(v @ (Value::Bool(_) | Value::Number(_) | Value::Null | Value::String(_))) => v,
            _ => Value::String(raw.to_string()),
        };
        map.insert(key.to_string(), value);
    }
    Ok(map)
}

fn print_error_and_code(what: &str, result: &RpcResult) -> ExitCode {
    eprintln!(
        "{what}: error {} ({}): {}\nhint: {}",
        result.error_code,
        codes::meaning(result.error_code).unwrap_or("undocumented code"),
        result.message,
        codes::hint(result.error_code)
    );
    ExitCode::from(1)
}

async fn connect(remote: &RemoteArgs) -> Result<Client, ExitCode> {
    Client::connect(remote.endpoint(), remote.options())
        .await
        .map_err(|e| {
            eprintln!("cannot connect to {}: {e}", normalise_url(&remote.url));
            ExitCode::from(2)
        })
}

/// Ctrl+C (SIGINT), listened for from the moment this is called: tokio's
/// `ctrl_c()` installs its handler only when first polled.
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

/// Run a subcommand. Returns the process exit code.
pub async fn run_command(command: Command) -> ExitCode {
    match command {
        Command::Serve {
            listen,
            password,
            max_connections,
            rate_limit,
            no_capture,
            engine,
        } => {
            let config = ServerConfig {
                listen,
                password,
                max_connections,
                rate_per_sec: rate_limit,
                rate_burst: rate_limit.saturating_mul(2),
                ..ServerConfig::default()
            };
            // Refuse before anything starts (capture workers included).
            if let Err(e) = config.check() {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
            let handle = EngineHandle::spawn(engine.room_config());
            let capture = (!no_capture).then(|| {
                crate::capture::Capture::start(
                    engine.sources,
                    handle.clone(),
                    crate::capture::CaptureOptions::default(),
                    std::sync::Arc::new(|| {}),
                )
            });
            let thumbnails = capture.as_ref().map(crate::capture::Capture::provider);
            // Listen for Ctrl+C before announcing the address, so that a
            // signal sent right after the announcement stops us gracefully.
            let interrupted = interrupted();
            let server = match Server::start(config, handle, thumbnails).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            println!(
                "roomshare serving on ws://{}/ (Ctrl+C to stop)",
                server.local_addr()
            );
            interrupted.await;
            server.shutdown().await;
            drop(capture);
            ExitCode::SUCCESS
        }
        Command::Query { path, remote } => {
            let client = match connect(&remote).await {
                Ok(c) => c,
                Err(code) => return code,
            };
            let path: Vec<&str> = path
                .iter()
                .flat_map(|p| p.split('/'))
                .filter(|p| !p.is_empty())
                .collect();
            match client.query(&path).await {
                Ok(r) if r.is_ok() => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&r.data.unwrap_or(Value::Null))
                            .unwrap_or_default()
                    );
                    ExitCode::SUCCESS
                }
                Ok(r) => print_error_and_code(&format!("Query {path:?}"), &r),
                Err(e) => {
                    eprintln!("Query {path:?}: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Call {
            module,
            action,
            params,
            json,
            remote,
        } => {
            let action_params = match json {
                Some(text) => match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(m)) => m,
                    _ => {
                        eprintln!("--json must be a JSON object");
                        return ExitCode::from(2);
                    }
                },
                None => match parse_key_values(&params) {
                    Ok(m) => m,
                    Err(e) => {
                        eprintln!("{e}");
                        return ExitCode::from(2);
                    }
                },
            };
            let mut p = Map::new();
            p.insert("action".into(), Value::String(action.clone()));
            if !action_params.is_empty() {
                p.insert("action_params".into(), Value::Object(action_params));
            }
            let client = match connect(&remote).await {
                Ok(c) => c,
                Err(code) => return code,
            };
            match client
                .request(&format!("Call/{module}"), Value::Object(p))
                .await
            {
                Ok(r) if r.is_ok() => {
                    println!("{action}: OK");
                    if let Some(data) = r.data {
                        println!(
                            "{}",
                            serde_json::to_string_pretty(&data).unwrap_or_default()
                        );
                    }
                    ExitCode::SUCCESS
                }
                Ok(r) => print_error_and_code(&action, &r),
                Err(e) => {
                    eprintln!("{action}: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Sources(args) => crate::capture::cli::run_sources(args).await,
        Command::Snap(args) => crate::capture::cli::run_snap(args).await,
        Command::Watch { paths, remote } => {
            let subscriptions: Vec<Vec<String>> = if paths.is_empty() {
                vec![vec![]]
            } else {
                paths
                    .iter()
                    .map(|p| {
                        p.split('/')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .collect()
            };
            let mut options = remote.options();
            options.subscriptions = subscriptions;
            let client = Client::start(remote.endpoint(), options);
            let mut events = client.events();
            let mut state = client.state();
            eprintln!("watching {} (Ctrl+C to stop)", normalise_url(&remote.url));
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
                    changed = state.changed() => {
                        if changed.is_err() { return ExitCode::SUCCESS; }
                        let s = state.borrow_and_update().clone();
                        eprintln!("connection: {s:?}");
                    }
                    ev = events.recv() => match ev {
                        Ok(ClientEvent::Traffic(t)) if t.direction == crate::client::Direction::In && t.method.starts_with("Event/") => {
                            println!("{}", t.text);
                        }
                        Ok(ClientEvent::Traffic(t)) if t.direction == crate::client::Direction::In && t.error_code.is_some_and(|c| c != 0) => {
                            eprintln!("refused: {}", t.text);
                        }
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => eprintln!("(missed {n} frames)"),
                        Err(_) => return ExitCode::SUCCESS,
                    },
                }
            }
        }
    }
}
