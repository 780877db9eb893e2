//! Load generator for the Rooms control API server (`roomshare serve`).
//!
//! Drives a server on loopback with many concurrent raw WebSocket clients and
//! prints throughput, latency percentiles, errors, lost responses and the
//! server's memory. Every loop is bounded (by a request count or a deadline)
//! and only loopback addresses are ever contacted.
//!
//! ```text
//! cargo run --release --example loadgen -- compare            # engine vs bare echo server
//! cargo run --release --example loadgen -- mix --clients 200 --requests 1000
//! cargo run --release --example loadgen -- fanout --subscribers 1000 --events 100
//! cargo run --release --example loadgen -- soak --soak-secs 300
//! ```
//!
//! The server under test is, by default, the real `roomshare` binary started
//! as a child (`--server serve`, found next to this example's executable);
//! `--server inproc` runs `Server::start` inside this process instead, and
//! `--server 127.0.0.1:PORT` uses one that is already running. The baseline
//! of `compare` is a bare tokio-tungstenite echo server run as a child
//! process of this same executable, so both sides pay for a process hop.
//!
//! Exit status: 0 when nothing failed, 1 on any error, lost response or
//! missing event, 2 when the run could not be set up.

use clap::{Args, Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{Barrier, Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser, Debug)]
#[command(about = "Load generator for `roomshare serve` (loopback only)")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Debug, Clone)]
struct Target {
    /// Server under test: `serve` (the roomshare binary as a child process),
    /// `inproc` (Server::start in this process) or a loopback `IP:PORT`.
    #[arg(long, default_value = "serve")]
    server: String,
    /// The roomshare binary for `--server serve` (default: next to this example).
    #[arg(long)]
    bin: Option<PathBuf>,
    /// Password to set on the server and offer from every client.
    #[arg(long)]
    password: Option<String>,
    /// Seconds to wait for any single response before counting it lost.
    #[arg(long, default_value_t = 10)]
    timeout_secs: u64,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Engine vs a bare tokio-tungstenite echo server, same client code:
    /// latency at one request in flight and at N in flight, and throughput.
    Compare {
        #[command(flatten)]
        target: Target,
        /// Concurrent clients (one request in flight each) for the "N in flight" part.
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// Requests per client for the "N in flight" part (split over the rounds).
        #[arg(long, default_value_t = 900)]
        requests: u64,
        /// Requests at one in flight (split over the rounds).
        #[arg(long, default_value_t = 9000)]
        single: u64,
        /// Alternate echo/engine this many times, so drifting background load
        /// hits both sides alike.
        #[arg(long, default_value_t = 9)]
        rounds: u64,
    },
    /// Scenario (a): N clients × M requests mixing Query, StartShare/StopShare
    /// and subscriptions; zero errors and zero lost responses expected.
    Mix {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        mix: MixArgs,
        #[arg(long, default_value_t = 200)]
        clients: usize,
        /// Requests per client.
        #[arg(long, default_value_t = 1000)]
        requests: u64,
    },
    /// Scenario (b): S subscribers each receive every share event; prints
    /// per-subscriber counts and the delivery delay from the triggering call.
    Fanout {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        /// StartShare/StopShare calls, alternating; each yields one ShareInfoChanged.
        #[arg(long, default_value_t = 100)]
        events: usize,
        /// Pause between calls (ms).
        #[arg(long, default_value_t = 20)]
        interval_ms: u64,
    },
    /// Scenario (c): a paced mixed load for a fixed time, with connection
    /// churn; prints the server's RSS over time, before and after.
    Soak {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        mix: MixArgs,
        #[arg(long, default_value_t = 300)]
        soak_secs: u64,
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// Total requests per second across all clients.
        #[arg(long, default_value_t = 2000)]
        rate: u64,
        /// Each client reconnects after this many requests (connection churn).
        #[arg(long, default_value_t = 500)]
        reconnect_every: u64,
        /// Seconds between RSS samples.
        #[arg(long, default_value_t = 10)]
        sample_secs: u64,
    },
    /// Internal: the bare echo server used as the baseline.
    #[command(hide = true)]
    EchoServer {
        #[arg(long)]
        listen: SocketAddr,
    },
}

#[derive(Args, Debug, Clone)]
struct MixArgs {
    /// Percent of requests that are StartShare or StopShare (half each).
    #[arg(long, default_value_t = 4)]
    share_pct: u32,
    /// Percent of requests that subscribe/unsubscribe (["Meeting"], toggled).
    #[arg(long, default_value_t = 2)]
    toggle_pct: u32,
    /// Percent of clients that subscribe to ["Share"] first and so receive
    /// every share event while they work.
    #[arg(long, default_value_t = 10)]
    subscriber_pct: u32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Cmd::EchoServer { listen } = cli.command {
        return echo_server_main(listen);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(cmd: Cmd) -> Result<bool, AnyError> {
    match cmd {
        Cmd::Compare {
            target,
            clients,
            requests,
            single,
            rounds,
        } => compare(&target, clients, requests, single, rounds.max(1)).await,
        Cmd::Mix {
            target,
            mix,
            clients,
            requests,
        } => mixed(&target, &mix, clients, requests).await,
        Cmd::Fanout {
            target,
            subscribers,
            events,
            interval_ms,
        } => fanout(&target, subscribers, events, interval_ms).await,
        Cmd::Soak {
            target,
            mix,
            soak_secs,
            clients,
            rate,
            reconnect_every,
            sample_secs,
        } => {
            soak(
                &target,
                &mix,
                soak_secs,
                clients,
                rate,
                reconnect_every,
                sample_secs,
            )
            .await
        }
        Cmd::EchoServer { .. } => unreachable!("handled in main"),
    }
}

// ----- servers under test ----------------------------------------------------

/// A server the run talks to, and how to read its memory and stop it.
struct ServerUnderTest {
    addr: SocketAddr,
    label: String,
    child: Option<Child>,
    /// `inproc`: the server and the runtime it runs on (kept off the clients' runtime).
    inproc: Option<(tokio::runtime::Runtime, roomshare::server::Server)>,
}

/// Memory of a process, from /proc/PID/status (kB).
#[derive(Debug, Clone, Copy)]
struct Mem {
    rss_kb: u64,
    hwm_kb: u64,
}

impl std::fmt::Display for Mem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RSS {:.1} MiB (peak {:.1} MiB)",
            self.rss_kb as f64 / 1024.0,
            self.hwm_kb as f64 / 1024.0
        )
    }
}

fn read_mem(pid: Option<u32>) -> Option<Mem> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_string(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    let rss_kb = field("VmRSS:")?;
    // The kernel batches RSS counters per thread, so the high-water mark
    // can trail the current value by a little: never report it below.
    Some(Mem {
        rss_kb,
        hwm_kb: field("VmHWM:")?.max(rss_kb),
    })
}

fn free_loopback_port() -> Result<SocketAddr, AnyError> {
    // Bind port 0, note the port, release it for the child (a tiny race that
    // a loopback-only tool can live with).
    let l = StdListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

/// The roomshare binary next to this example (`target/<profile>/roomshare`).
fn default_bin() -> Result<PathBuf, AnyError> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|examples| examples.parent())
        .ok_or("cannot locate the target directory")?;
    Ok(dir.join("roomshare"))
}

impl ServerUnderTest {
    /// Start (or attach to) the engine server described by `target`.
    async fn engine(target: &Target, max_connections: usize) -> Result<Self, AnyError> {
        match target.server.as_str() {
            "serve" => {
                let bin = match &target.bin {
                    Some(b) => b.clone(),
                    None => default_bin()?,
                };
                if !bin.exists() {
                    return Err(format!(
                        "{} not found: build it first (cargo build --release) or pass --bin",
                        bin.display()
                    )
                    .into());
                }
                let addr = free_loopback_port()?;
                let mut cmd = Command::new(&bin);
                cmd.arg("serve")
                    .arg("--listen")
                    .arg(addr.to_string())
                    // Load runs measure the server, not its flood protection.
                    .arg("--rate-limit")
                    .arg("1000000000")
                    .arg("--max-connections")
                    .arg(max_connections.to_string())
                    // Synthetic sources: no display needed, and a known source set.
                    .arg("--sources")
                    .arg("synthetic")
                    .env("ROOMSHARE_LOG", "roomshare=warn")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit());
                if let Some(pw) = &target.password {
                    cmd.env("ROOMSHARE_PASSWORD", pw);
                }
                let child = cmd.spawn()?;
                let mut s = ServerUnderTest {
                    addr,
                    label: format!("roomshare serve (pid {})", child.id()),
                    child: Some(child),
                    inproc: None,
                };
                s.wait_ready().await?;
                Ok(s)
            }
            "inproc" => {
                // Its own runtime, so server and clients are scheduled apart
                // as they would be in two processes.
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .thread_name("inproc-server")
                    .build()?;
                let config = roomshare::server::ServerConfig {
                    listen: "127.0.0.1:0".parse()?,
                    password: target.password.clone(),
                    max_connections,
                    rate_per_sec: 1_000_000_000,
                    rate_burst: 2_000_000_000,
                    ..Default::default()
                };
                // block_on is not allowed on the clients' runtime threads:
                // start the server from a plain thread.
                let (rt, server) = std::thread::spawn(move || {
                    let server = rt.block_on(async {
                        let engine = roomshare::engine::EngineHandle::spawn(
                            roomshare::engine::RoomConfig::default(),
                        );
                        roomshare::server::Server::start(config, engine, None).await
                    });
                    (rt, server)
                })
                .join()
                .map_err(|_| "in-process server start panicked")?;
                let server = server?;
                Ok(ServerUnderTest {
                    addr: server.local_addr(),
                    label: "in-process Server::start".into(),
                    child: None,
                    inproc: Some((rt, server)),
                })
            }
            other => {
                let addr: SocketAddr = other
                    .parse()
                    .map_err(|e| format!("--server {other:?}: not serve|inproc|IP:PORT ({e})"))?;
                if !addr.ip().is_loopback() {
                    return Err(
                        format!("--server {addr}: only loopback addresses may be loaded").into(),
                    );
                }
                Ok(ServerUnderTest {
                    addr,
                    label: format!("external server at {addr}"),
                    child: None,
                    inproc: None,
                })
            }
        }
    }

    /// The bare echo baseline, as a child process of this executable.
    async fn echo() -> Result<Self, AnyError> {
        let addr = free_loopback_port()?;
        let child = Command::new(std::env::current_exe()?)
            .arg("echo-server")
            .arg("--listen")
            .arg(addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut s = ServerUnderTest {
            addr,
            label: format!("echo server (pid {})", child.id()),
            child: Some(child),
            inproc: None,
        };
        s.wait_ready().await?;
        Ok(s)
    }

    async fn wait_ready(&mut self) -> Result<(), AnyError> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                return Err(format!("{} exited during start-up: {status}", self.label).into());
            }
            if TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(
                    format!("{} did not listen on {} within 15 s", self.label, self.addr).into(),
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's memory; for `inproc` the whole loadgen process.
    fn mem(&self) -> Option<Mem> {
        match (&self.child, &self.inproc) {
            (Some(c), _) => read_mem(Some(c.id())),
            (None, Some(_)) => read_mem(None),
            _ => None,
        }
    }

    fn mem_note(&self) -> &'static str {
        if self.inproc.is_some() {
            " [in-process: whole loadgen process]"
        } else {
            ""
        }
    }

    /// Stop what we started: Ctrl+C (SIGINT) to our child by pid for a
    /// graceful shutdown, SIGKILL by pid if it lingers.
    fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-INT")
                .arg(child.id().to_string())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        eprintln!(
                            "{} did not stop on SIGINT within 5 s; killing it",
                            self.label
                        );
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        if let Some((rt, server)) = self.inproc.take() {
            // Shut the server down on its own runtime, from a plain thread
            // (we may be inside the clients' runtime here).
            std::thread::spawn(move || {
                rt.block_on(async {
                    let _ = tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await;
                });
                rt.shutdown_timeout(Duration::from_secs(1));
            })
            .join()
            .ok();
        }
    }
}

impl Drop for ServerUnderTest {
    fn drop(&mut self) {
        // Never leave a child behind, even when the run fails half-way.
        self.stop_inner();
    }
}

/// The baseline: accept, echo every text frame back, nothing else. Same
/// runtime shape, frame limits and TCP_NODELAY as the real server.
fn echo_server_main(listen: SocketAddr) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("echo server: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("echo server: cannot bind {listen}: {e}");
                return ExitCode::from(2);
            }
        };
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(echo_connection(stream));
                }
            }
        }
    })
}

async fn echo_connection(stream: TcpStream) {
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    let config = WebSocketConfig::default()
        .max_message_size(Some(roomshare::server::MAX_MESSAGE))
        .max_frame_size(Some(roomshare::server::MAX_MESSAGE));
    // Echo the offered subprotocol, as the real server does, so a client
    // that offers `auth-…` completes the handshake here too.
    // The Err type is tungstenite's, not ours to shrink.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        if let Some(p) = req.headers().get("sec-websocket-protocol") {
            let first = p
                .to_str()
                .unwrap_or("")
                .split(',')
                .next()
                .unwrap_or("")
                .trim();
            if let Ok(v) = HeaderValue::from_str(first) {
                resp.headers_mut().insert("sec-websocket-protocol", v);
            }
        }
        Ok(resp)
    };
    let Ok(mut ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await
    else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        let echo = match msg {
            Message::Text(_) | Message::Binary(_) => msg,
            Message::Close(_) => return,
            _ => continue,
        };
        if ws.send(echo).await.is_err() {
            return;
        }
    }
}

// ----- the client side ---------------------------------------------------------

/// What a client needs to know about an incoming frame; everything else is
/// skipped by serde without being materialised.
#[derive(Deserialize)]
struct Frame {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    result: Option<ResultPart>,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    params: Option<EventParams>,
}

#[derive(Deserialize)]
struct ResultPart {
    error_code: i64,
}

#[derive(Deserialize)]
struct EventParams {
    #[serde(default)]
    sub_event: Option<String>,
    #[serde(default)]
    data: Option<EventData>,
}

#[derive(Deserialize)]
struct EventData {
    #[serde(default)]
    share_info: Option<ShareInfoLite>,
}

#[derive(Deserialize)]
struct ShareInfoLite {
    is_sharing: bool,
}

/// A pushed event as the load generator sees it.
struct SeenEvent {
    at: Instant,
    sub_event: String,
    is_sharing: Option<bool>,
}

enum Incoming {
    /// A response: its numeric id and `result.error_code` (None for a
    /// JSON-RPC `error` frame or an echo without a result).
    Response {
        id: u64,
        code: Option<i64>,
    },
    /// A response whose id is null or not one of ours.
    Stray(String),
    Event(SeenEvent),
}

fn classify(text: &str, at: Instant) -> Incoming {
    match serde_json::from_str::<Frame>(text) {
        Ok(Frame {
            id: Some(id),
            result,
            ..
        }) => Incoming::Response {
            id,
            code: result.map(|r| r.error_code),
        },
        Ok(Frame {
            id: None,
            result: None,
            error: None,
            params: Some(p),
        }) => Incoming::Event(SeenEvent {
            at,
            sub_event: p.sub_event.unwrap_or_default(),
            is_sharing: p.data.and_then(|d| d.share_info).map(|s| s.is_sharing),
        }),
        Ok(_) | Err(_) => Incoming::Stray(text.chars().take(200).collect()),
    }
}

async fn connect(addr: SocketAddr, password: Option<&str>) -> Result<Ws, AnyError> {
    let mut request = format!("ws://{addr}/").into_client_request()?;
    if let Some(pw) = password {
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(&roomshare::protocol::auth::auth_protocol(pw))?,
        );
    }
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async_with_config(request, None, true),
    )
    .await
    .map_err(|_| "connect timed out")??;
    Ok(ws)
}

/// Counters of one client (merged at the end).
struct Stats {
    sent: u64,
    answered: u64,
    lost: u64,
    /// Unexpected outcomes: error codes a request should not get, JSON-RPC
    /// errors, stray or duplicate ids, failed connects, closed connections.
    errors: u64,
    /// Unexpected `error_code`s (and -1 for JSON-RPC error frames), by code.
    codes: BTreeMap<i64, u64>,
    events: u64,
    connects: u64,
    samples: Vec<String>,
    /// Round trips in microseconds.
    hist: Histogram<u64>,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            sent: 0,
            answered: 0,
            lost: 0,
            errors: 0,
            codes: BTreeMap::new(),
            events: 0,
            connects: 0,
            samples: Vec::new(),
            hist: Histogram::new_with_bounds(1, 120_000_000_000, 3)
                .expect("valid histogram bounds"),
        }
    }

    fn error(&mut self, what: impl Into<String>) {
        self.errors += 1;
        if self.samples.len() < 5 {
            self.samples.push(what.into());
        }
    }

    fn merge(&mut self, other: Stats) {
        self.sent += other.sent;
        self.answered += other.answered;
        self.lost += other.lost;
        self.errors += other.errors;
        for (k, v) in other.codes {
            *self.codes.entry(k).or_default() += v;
        }
        self.events += other.events;
        self.connects += other.connects;
        for s in other.samples {
            if self.samples.len() < 10 {
                self.samples.push(s);
            }
        }
        let _ = self.hist.add(&other.hist);
    }

    fn ok(&self) -> bool {
        self.errors == 0 && self.lost == 0 && self.sent == self.answered
    }
}

/// Histograms hold nanoseconds (µs resolution would quantise a 25 µs
/// loopback round trip to 4 % steps); reports are in µs.
fn ns(h: &Histogram<u64>, q: f64) -> u64 {
    h.value_at_quantile(q)
}

fn us(h: &Histogram<u64>, q: f64) -> u64 {
    h.value_at_quantile(q) / 1000
}

fn max_us(h: &Histogram<u64>) -> u64 {
    h.max() / 1000
}

fn mean_us(h: &Histogram<u64>) -> f64 {
    h.mean() / 1000.0
}

fn fmt_us(v: u64) -> String {
    if v >= 10_000 {
        format!("{:.1} ms", v as f64 / 1000.0)
    } else {
        format!("{v} µs")
    }
}

fn fmt_ns(v: u64) -> String {
    if v >= 10_000_000 {
        format!("{:.1} ms", v as f64 / 1e6)
    } else {
        format!("{:.1} µs", v as f64 / 1e3)
    }
}

/// One request of a workload, with the codes it may legitimately get.
struct Planned {
    text: String,
    expect: &'static [i64],
    /// `Some(true)` subscribes, `Some(false)` unsubscribes ["Meeting"].
    toggles: Option<bool>,
}

#[derive(Clone)]
enum Workload {
    /// `Query ["Share"]` only (the controller's poll): the comparison load.
    QueryShare,
    Mix {
        share_pct: u32,
        toggle_pct: u32,
        /// `select_index` values the engine offers.
        indices: Arc<Vec<i64>>,
    },
}

const QUERY_PATHS: &[&str] = &[
    r#"["Share"]"#,
    r#"["Share", "ShareInfo"]"#,
    r#"["Share", "CastCode"]"#,
    r#"["Share", "CaptureDeviceList"]"#,
    r#"["Meeting", "MeetingInfo"]"#,
    r#"["RoomShare", "Sources"]"#,
];

fn query(id: u64, path: &str) -> String {
    format!(r#"{{"jsonrpc": "2.0", "id": {id}, "method": "Query", "params": {{"path": {path}}}}}"#)
}

fn start_share(id: u64, select_index: i64) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "id": {id}, "method": "Call/Share", "params": {{"action": "StartShare", "action_params": {{"share_type": 0, "fluency_first": true, "select_index": {select_index}}}}}}}"#
    )
}

fn stop_share(id: u64) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "id": {id}, "method": "Call/Share", "params": {{"action": "StopShare"}}}}"#
    )
}

fn subscribe(id: u64, method: &str, path: &str) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "id": {id}, "method": "{method}", "params": {{"path": {path}}}}}"#
    )
}

impl Workload {
    fn next(&self, id: u64, seq: u64, rng: &mut SmallRng, subscribed_meeting: bool) -> Planned {
        match self {
            Workload::QueryShare => Planned {
                text: query(id, QUERY_PATHS[0]),
                expect: &[0],
                toggles: None,
            },
            Workload::Mix {
                share_pct,
                toggle_pct,
                indices,
            } => {
                let roll = rng.random_range(0..100u32);
                if roll < share_pct / 2 {
                    let i = indices[rng.random_range(0..indices.len())];
                    // StartShare while sharing switches the source: 0.
                    Planned {
                        text: start_share(id, i),
                        expect: &[0],
                        toggles: None,
                    }
                } else if roll < *share_pct {
                    // Racing clients: nothing to stop is a legitimate 17.
                    Planned {
                        text: stop_share(id),
                        expect: &[0, 17],
                        toggles: None,
                    }
                } else if roll < share_pct + toggle_pct {
                    let method = if subscribed_meeting {
                        "Unsubscribe"
                    } else {
                        "Subscribe"
                    };
                    Planned {
                        text: subscribe(id, method, r#"["Meeting"]"#),
                        expect: &[0],
                        toggles: Some(!subscribed_meeting),
                    }
                } else {
                    Planned {
                        text: query(id, QUERY_PATHS[(seq as usize) % QUERY_PATHS.len()]),
                        expect: &[0],
                        toggles: None,
                    }
                }
            }
        }
    }
}

/// How one virtual user behaves.
struct VuPlan {
    addr: SocketAddr,
    password: Option<String>,
    workload: Workload,
    /// Stop after this many requests (not counting warm-up)...
    requests: Option<u64>,
    /// ...or at this instant (whichever comes first).
    deadline: Option<Instant>,
    /// Unrecorded requests first, so connection start-up is not measured.
    warmup: u64,
    /// Pace: at most one request per period.
    period: Option<Duration>,
    reconnect_every: Option<u64>,
    /// Clients with an index below this subscribe to ["Share"] first, so
    /// share events arrive while they work.
    subscribers: u64,
    timeout: Duration,
}

/// One virtual user: connect, wait at the barrier, then send requests one at
/// a time, each waiting for its response (events arriving meanwhile are
/// counted). Returns its counters.
async fn virtual_user(
    plan: Arc<VuPlan>,
    index: u64,
    start: Arc<Barrier>,
    connect_slot: Option<tokio::sync::OwnedSemaphorePermit>,
) -> Stats {
    let mut stats = Stats::new();
    let mut rng = SmallRng::seed_from_u64(0x5eed ^ index);
    // Ids are unique across the run: client index in the high bits.
    let mut next_id = index << 32;
    let mut conn = match connect(plan.addr, plan.password.as_deref()).await {
        Ok(ws) => {
            stats.connects += 1;
            Some(ws)
        }
        Err(e) => {
            stats.error(format!("client {index}: connect failed: {e}"));
            None
        }
    };
    let subscriber = index < plan.subscribers;
    let mut subscribed_meeting = false;
    if let Some(ws) = conn.as_mut() {
        let prelude = plan.warmup + u64::from(subscriber);
        for n in 0..prelude {
            next_id += 1;
            // The subscription is recorded like any request; warm-up is not.
            let record = n == 0 && subscriber;
            let text = if record {
                subscribe(next_id, "Subscribe", r#"["Share"]"#)
            } else {
                query(next_id, QUERY_PATHS[0])
            };
            if exchange(ws, next_id, text, &[0], plan.timeout, &mut stats, record)
                .await
                .is_err()
            {
                conn = None;
                break;
            }
        }
    }
    drop(connect_slot);
    start.wait().await;
    let Some(mut ws) = conn else {
        return stats;
    };
    let mut pacer = plan.period.map(|p| {
        let mut i = tokio::time::interval(p);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    let mut done = 0u64;
    loop {
        if plan.requests.is_some_and(|n| done >= n)
            || plan.deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        if let Some(p) = pacer.as_mut() {
            p.tick().await;
        }
        if let Some(every) = plan.reconnect_every
            && done > 0
            && done.is_multiple_of(every)
        {
            let _ = ws.close(None).await;
            match connect(plan.addr, plan.password.as_deref()).await {
                Ok(new) => {
                    stats.connects += 1;
                    ws = new;
                    subscribed_meeting = false;
                    if subscriber {
                        next_id += 1;
                        let text = subscribe(next_id, "Subscribe", r#"["Share"]"#);
                        if exchange(&mut ws, next_id, text, &[0], plan.timeout, &mut stats, true)
                            .await
                            .is_err()
                        {
                            return stats;
                        }
                    }
                }
                Err(e) => {
                    stats.error(format!("client {index}: reconnect failed: {e}"));
                    return stats;
                }
            }
        }
        next_id += 1;
        let planned = plan
            .workload
            .next(next_id, done, &mut rng, subscribed_meeting);
        done += 1;
        match exchange(
            &mut ws,
            next_id,
            planned.text,
            planned.expect,
            plan.timeout,
            &mut stats,
            true,
        )
        .await
        {
            Ok(()) => {
                if let Some(t) = planned.toggles {
                    subscribed_meeting = t;
                }
            }
            // The connection is unusable (closed or a response is lost);
            // the rest of this client's requests are simply not sent.
            Err(()) => return stats,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    stats
}

/// Send one request and read until its response arrives. `Err` when the
/// connection can't go on (closed, or no response within `timeout`: lost).
async fn exchange(
    ws: &mut Ws,
    id: u64,
    text: String,
    expect: &[i64],
    timeout: Duration,
    stats: &mut Stats,
    record: bool,
) -> Result<(), ()> {
    let sent_at = Instant::now();
    stats.sent += 1;
    if let Err(e) = ws.send(Message::text(text)).await {
        stats.lost += 1;
        stats.error(format!("id {id}: send failed: {e}"));
        return Err(());
    }
    let deadline = tokio::time::Instant::from_std(sent_at + timeout);
    loop {
        let msg = match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => {
                stats.lost += 1;
                stats.error(format!("id {id}: no response within {timeout:?}"));
                return Err(());
            }
            Ok(None) | Ok(Some(Err(_))) => {
                stats.lost += 1;
                stats.error(format!("id {id}: connection closed before the response"));
                return Err(());
            }
            Ok(Some(Ok(m))) => m,
        };
        let Message::Text(t) = msg else {
            if let Message::Close(frame) = msg {
                stats.lost += 1;
                stats.error(format!("id {id}: server closed the connection: {frame:?}"));
                return Err(());
            }
            continue;
        };
        let now = Instant::now();
        match classify(t.as_str(), now) {
            Incoming::Response { id: got, code } if got == id => {
                stats.answered += 1;
                if record {
                    let nanos = now.duration_since(sent_at).as_nanos() as u64;
                    let _ = stats.hist.record(nanos.max(1));
                }
                // The echo baseline answers without a result: fine there.
                match code {
                    Some(c) if !expect.contains(&c) => {
                        *stats.codes.entry(c).or_default() += 1;
                        stats.error(format!("id {id}: error_code {c}: {}", t.as_str()));
                    }
                    None if t.as_str().contains("\"error\"") => {
                        *stats.codes.entry(-1).or_default() += 1;
                        stats.error(format!("id {id}: JSON-RPC error: {}", t.as_str()));
                    }
                    _ => {}
                }
                return Ok(());
            }
            Incoming::Response { id: got, .. } => {
                stats.error(format!("id {id}: got a response for id {got} instead"));
            }
            Incoming::Stray(s) => stats.error(format!("id {id}: stray frame {s}")),
            Incoming::Event(_) => stats.events += 1,
        }
    }
}

/// Run `clients` virtual users to completion; returns the merged stats and
/// the wall time from the start barrier to the last response.
async fn closed_loop(plan: VuPlan, clients: usize) -> Result<(Stats, Duration), AnyError> {
    let plan = Arc::new(plan);
    let start = Arc::new(Barrier::new(clients + 1));
    // Connect in bounded waves: a thousand simultaneous SYNs overflow the
    // listen backlog and measure retransmit timers instead of the server.
    let connecting = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients {
        let plan = plan.clone();
        let start = start.clone();
        let connecting = connecting.clone();
        tasks.push(tokio::spawn(async move {
            let permit = connecting.acquire_owned().await.ok();
            virtual_user(plan, i as u64, start, permit).await
        }));
    }
    start.wait().await;
    let began = Instant::now();
    let mut total = Stats::new();
    for t in tasks {
        total.merge(t.await?);
    }
    Ok((total, began.elapsed()))
}

// ----- scenarios -----------------------------------------------------------------

/// Check that this process may open `needed` descriptors (sockets), and say
/// what to do if not. Loopback clients and an in-process server both count.
fn check_fd_limit(needed: usize) -> Result<(), AnyError> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<usize>().ok());
    match soft {
        Some(soft) if soft < needed => Err(format!(
            "this run needs about {needed} file descriptors but the limit is {soft}: run `ulimit -n {}` first",
            needed.next_power_of_two().max(4096)
        )
        .into()),
        _ => Ok(()),
    }
}

/// A control connection for setting the room up (not measured).
struct Control {
    ws: Ws,
    next_id: u64,
}

impl Control {
    async fn open(addr: SocketAddr, password: Option<&str>) -> Result<Control, AnyError> {
        Ok(Control {
            ws: connect(addr, password).await?,
            next_id: u64::MAX / 2,
        })
    }

    /// Send a request, return the whole `result` (events in between are skipped).
    async fn call(&mut self, method: &str, params: &str) -> Result<serde_json::Value, AnyError> {
        self.next_id += 1;
        let id = self.next_id;
        let text = format!(
            r#"{{"jsonrpc": "2.0", "id": {id}, "method": "{method}", "params": {params}}}"#
        );
        self.ws.send(Message::text(text)).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .map_err(|_| format!("no answer to {method} {params}"))?
                .ok_or("connection closed")??;
            if let Message::Text(t) = msg {
                let v: serde_json::Value = serde_json::from_str(t.as_str())?;
                if v.get("id").and_then(serde_json::Value::as_u64) == Some(id) {
                    return v
                        .get("result")
                        .cloned()
                        .ok_or_else(|| format!("{method}: not a result: {t}").into());
                }
            }
        }
    }

    fn code(result: &serde_json::Value) -> i64 {
        result
            .get("error_code")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(-1)
    }

    /// Put the room in a meeting (Start → joining → in meeting) and return
    /// the `select_index` values StartShare may use.
    async fn prepare_room(&mut self) -> Result<Vec<i64>, AnyError> {
        let r = self
            .call(
                "Call/Meeting",
                r#"{"action": "StartMeeting", "action_params": {"meeting_type": "instant"}}"#,
            )
            .await?;
        // 10001: already in a meeting (a server reused across runs).
        if ![0, 10001].contains(&Self::code(&r)) {
            return Err(format!("StartMeeting failed: {r}").into());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = self
                .call("Query", r#"{"path": ["Meeting", "MeetingInfo"]}"#)
                .await?;
            let status = r
                .pointer("/data/meeting_info/meeting_status")
                .and_then(serde_json::Value::as_i64);
            if status == Some(1) {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("the room did not reach meeting_status 1: {r}").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let r = self
            .call("Query", r#"{"path": ["RoomShare", "Sources"]}"#)
            .await?;
        let mut indices: Vec<i64> = r
            .pointer("/data/sources")
            .and_then(serde_json::Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|s| s.get("select_index").and_then(serde_json::Value::as_i64))
                    .collect()
            })
            .unwrap_or_default();
        if indices.is_empty() {
            indices.push(0);
        }
        Ok(indices)
    }
}

fn print_stats(label: &str, s: &Stats, wall: Duration) {
    let h = &s.hist;
    println!(
        "{label}: {} requests in {:.2} s = {:.0} req/s; latency p50 {} p99 {} max {}; errors {}, lost {}, events received {}",
        s.answered,
        wall.as_secs_f64(),
        s.answered as f64 / wall.as_secs_f64().max(1e-9),
        fmt_us(us(h, 0.50)),
        fmt_us(us(h, 0.99)),
        fmt_us(max_us(h)),
        s.errors,
        s.lost,
        s.events
    );
    if !s.codes.is_empty() {
        println!(
            "  unexpected codes (-1 = JSON-RPC error frame): {:?}",
            s.codes
        );
    }
    for sample in &s.samples {
        println!("  e.g. {sample}");
    }
}

async fn compare(
    target: &Target,
    clients: usize,
    requests: u64,
    single: u64,
    rounds: u64,
) -> Result<bool, AnyError> {
    check_fd_limit(clients * 2 + 64)?;
    let engine = ServerUnderTest::engine(target, clients + 64).await?;
    let echo = ServerUnderTest::echo().await?;
    println!(
        "compare: {} vs {}; Query [\"Share\"] round trips; {rounds} alternating rounds",
        engine.label, echo.label
    );
    let timeout = Duration::from_secs(target.timeout_secs);
    let plan = |addr, requests: u64| VuPlan {
        addr,
        password: target.password.clone(),
        workload: Workload::QueryShare,
        requests: Some(requests),
        deadline: None,
        warmup: 50,
        period: None,
        reconnect_every: None,
        subscribers: 0,
        timeout,
    };
    // [echo, engine] × [one in flight, N in flight]
    let mut acc: Vec<(Stats, Duration)> = (0..4).map(|_| (Stats::new(), Duration::ZERO)).collect();
    // Per-round engine/echo ratios of the p50s: a burst of background load
    // (other builds on this machine) spoils one round, not the median.
    let mut round_ratio1 = Vec::new();
    let mut round_ratio_n = Vec::new();
    for _ in 0..rounds {
        let mut p50 = [0u64; 4];
        for (k, srv) in [&echo, &engine].into_iter().enumerate() {
            let (s, wall) = closed_loop(plan(srv.addr, (single / rounds).max(1)), 1).await?;
            p50[k] = ns(&s.hist, 0.5);
            acc[k].0.merge(s);
            acc[k].1 += wall;
            let (s, wall) =
                closed_loop(plan(srv.addr, (requests / rounds).max(1)), clients).await?;
            p50[2 + k] = ns(&s.hist, 0.5);
            acc[2 + k].0.merge(s);
            acc[2 + k].1 += wall;
        }
        round_ratio1.push(p50[1] as f64 / p50[0].max(1) as f64);
        round_ratio_n.push(p50[3] as f64 / p50[2].max(1) as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let med1 = median(&mut round_ratio1) - 1.0;
    let med_n = median(&mut round_ratio_n) - 1.0;
    let engine_mem = engine.mem();
    let rate = |(s, wall): &(Stats, Duration)| s.answered as f64 / wall.as_secs_f64().max(1e-9);
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    println!();
    println!(
        "{:<16}{:<8}{:>14}{:>14}{:>14}",
        "", "", "echo", "engine", "engine/echo"
    );
    for (label, e, g) in [
        ("1 in flight", &acc[0], &acc[1]),
        ("N in flight", &acc[2], &acc[3]),
    ] {
        let label = if label.starts_with('N') {
            format!("{clients} in flight")
        } else {
            label.to_string()
        };
        for (i, (name, q)) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)]
            .into_iter()
            .enumerate()
        {
            let (a, b) = (ns(&e.0.hist, q), ns(&g.0.hist, q));
            println!(
                "{:<16}{:<8}{:>14}{:>14}{:>14.2}",
                if i == 0 { label.as_str() } else { "" },
                name,
                fmt_ns(a),
                fmt_ns(b),
                ratio(b as f64, a as f64)
            );
        }
        println!(
            "{:<16}{:<8}{:>14.1}{:>14.1}{:>14.2}",
            "",
            "mean µs",
            mean_us(&e.0.hist),
            mean_us(&g.0.hist),
            ratio(g.0.hist.mean(), e.0.hist.mean())
        );
        println!(
            "{:<16}{:<8}{:>14.0}{:>14.0}{:>14.2}",
            "",
            "req/s",
            rate(e),
            rate(g),
            ratio(rate(g), rate(e))
        );
    }
    let over1 = ratio(
        ns(&acc[1].0.hist, 0.5) as f64,
        ns(&acc[0].0.hist, 0.5) as f64,
    ) - 1.0;
    let over1_mean = ratio(acc[1].0.hist.mean(), acc[0].0.hist.mean()) - 1.0;
    let over_n = ratio(
        ns(&acc[3].0.hist, 0.5) as f64,
        ns(&acc[2].0.hist, 0.5) as f64,
    ) - 1.0;
    let tput = ratio(rate(&acc[3]), rate(&acc[2]));
    println!();
    println!(
        "engine overhead = (engine latency / echo latency - 1): at 1 in flight {:+.1} % (median over {rounds} rounds of the p50 ratio; pooled p50 {:+.1} %, pooled mean {:+.1} %) [target <= 20 %]; at {clients} in flight {:+.1} % (median of rounds; pooled p50 {:+.1} %)",
        med1 * 100.0,
        over1 * 100.0,
        over1_mean * 100.0,
        med_n * 100.0,
        over_n * 100.0
    );
    println!(
        "throughput at {clients} in flight: engine {:.0} req/s vs echo {:.0} req/s (ratio {:.2})",
        rate(&acc[3]),
        rate(&acc[2]),
        tput
    );
    if let Some(m) = engine_mem {
        println!("engine server memory: {m}{}", engine.mem_note());
    }
    let ok = acc.iter().all(|(s, _)| s.ok());
    for (name, (s, _)) in ["echo@1", "engine@1", "echo@N", "engine@N"]
        .iter()
        .zip(&acc)
    {
        if !s.ok() {
            print_stats(name, s, Duration::from_secs(1));
        }
    }
    println!(
        "RESULT scenario=compare ok={ok} overhead1={med1:.4} overheadN={med_n:.4} overhead1_p50={:.4} overhead1_mean={:.4} overheadN_p50={:.4} echo1_p50_us={:.1} engine1_p50_us={:.1} echoN_rps={:.0} engineN_rps={:.0} throughput_ratio={:.4} clients={clients}",
        over1,
        over1_mean,
        over_n,
        ns(&acc[0].0.hist, 0.5) as f64 / 1000.0,
        ns(&acc[1].0.hist, 0.5) as f64 / 1000.0,
        rate(&acc[2]),
        rate(&acc[3]),
        tput
    );
    echo.stop();
    engine.stop();
    Ok(ok)
}

async fn mixed(
    target: &Target,
    mix: &MixArgs,
    clients: usize,
    requests: u64,
) -> Result<bool, AnyError> {
    check_fd_limit(clients * 2 + 64)?;
    let server = ServerUnderTest::engine(target, clients + 64).await?;
    let before = server.mem();
    let indices = Control::open(server.addr, target.password.as_deref())
        .await?
        .prepare_room()
        .await?;
    println!(
        "mix: {} · {clients} clients × {requests} requests · {}% StartShare/StopShare, {}% (un)subscribe, {}% of clients subscribed to [\"Share\"] · select_index in {indices:?}",
        server.label, mix.share_pct, mix.toggle_pct, mix.subscriber_pct
    );
    let subscribers = clients * mix.subscriber_pct as usize / 100;
    let plan = VuPlan {
        addr: server.addr,
        password: target.password.clone(),
        workload: Workload::Mix {
            share_pct: mix.share_pct,
            toggle_pct: mix.toggle_pct,
            indices: Arc::new(indices.clone()),
        },
        requests: Some(requests),
        deadline: None,
        warmup: 0,
        period: None,
        reconnect_every: None,
        subscribers: subscribers as u64,
        timeout: Duration::from_secs(target.timeout_secs),
    };
    let (stats, wall) = closed_loop(plan, clients).await?;
    let after = server.mem();
    print_stats("mix", &stats, wall);
    // Every request that should have been sent and answered; requests a
    // failed client never sent count as lost too.
    let expected = clients as u64 * requests + subscribers as u64;
    let lost_total = expected.saturating_sub(stats.answered);
    if let (Some(b), Some(a)) = (before, after) {
        println!("server memory: before {b}; after {a}{}", server.mem_note());
    }
    let ok = stats.ok() && lost_total == 0;
    println!(
        "RESULT scenario=mix ok={ok} clients={clients} requests={requests} answered={} errors={} lost={} rps={:.0} p50_us={} p99_us={} max_us={} events={} peak_rss_kb={}",
        stats.answered,
        stats.errors,
        lost_total,
        stats.answered as f64 / wall.as_secs_f64().max(1e-9),
        us(&stats.hist, 0.5),
        us(&stats.hist, 0.99),
        max_us(&stats.hist),
        stats.events,
        after.map_or(0, |m| m.hwm_kb)
    );
    server.stop();
    Ok(ok)
}

/// What one fan-out subscriber saw.
struct Subscriber {
    /// (arrival, is_sharing) of every ShareInfoChanged, in order.
    share_events: Vec<(Instant, Option<bool>)>,
    other_events: u64,
    /// Why it stopped early, if it did (connect failure, server closed it).
    failure: Option<String>,
}

async fn subscriber(
    addr: SocketAddr,
    password: Option<String>,
    expected: usize,
    ready: tokio::sync::mpsc::Sender<Result<(), String>>,
    connect_slot: Option<tokio::sync::OwnedSemaphorePermit>,
    mut stop: watch::Receiver<bool>,
) -> Subscriber {
    let mut out = Subscriber {
        share_events: Vec::with_capacity(expected),
        other_events: 0,
        failure: None,
    };
    let setup = async {
        let mut ws = connect(addr, password.as_deref()).await?;
        ws.send(Message::text(subscribe(1, "Subscribe", r#"["Share"]"#)))
            .await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => match classify(t.as_str(), Instant::now()) {
                    Incoming::Response {
                        id: 1,
                        code: Some(0),
                    } => return Ok::<_, AnyError>(ws),
                    Incoming::Event(_) => {}
                    _ => return Err(format!("Subscribe refused: {t}").into()),
                },
                Some(Ok(_)) => {}
                _ => return Err("closed before the Subscribe answer".into()),
            }
        }
    };
    let ws = tokio::time::timeout(Duration::from_secs(30), setup).await;
    drop(connect_slot);
    let mut ws = match ws {
        Ok(Ok(ws)) => {
            let _ = ready.send(Ok(())).await;
            ws
        }
        Ok(Err(e)) => {
            out.failure = Some(e.to_string());
            let _ = ready.send(Err(e.to_string())).await;
            return out;
        }
        Err(_) => {
            out.failure = Some("setup timed out".into());
            let _ = ready.send(Err("setup timed out".into())).await;
            return out;
        }
    };
    drop(ready);
    while out.share_events.len() < expected {
        tokio::select! {
            _ = stop.changed() => break,
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => match classify(t.as_str(), Instant::now()) {
                    Incoming::Event(e) if e.sub_event == "ShareInfoChanged" => {
                        out.share_events.push((e.at, e.is_sharing));
                    }
                    Incoming::Event(_) => out.other_events += 1,
                    _ => {}
                },
                Some(Ok(Message::Close(frame))) => {
                    out.failure = Some(format!("server closed the connection: {frame:?}"));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    out.failure = Some(format!("connection error: {e}"));
                    break;
                }
                None => {
                    out.failure = Some("connection closed".into());
                    break;
                }
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    out
}

async fn fanout(
    target: &Target,
    subscribers: usize,
    events: usize,
    interval_ms: u64,
) -> Result<bool, AnyError> {
    check_fd_limit(subscribers * 2 + 64)?;
    let server = ServerUnderTest::engine(target, subscribers + 64).await?;
    let mut control = Control::open(server.addr, target.password.as_deref()).await?;
    let indices = control.prepare_room().await?;
    // Start from "nothing shared" so that the calls alternate cleanly:
    // call k (from 0) starts a share when k is even and stops it when odd.
    let r = control
        .call("Call/Share", r#"{"action": "StopShare"}"#)
        .await?;
    if ![0, 17].contains(&Control::code(&r)) {
        return Err(format!("StopShare during set-up: {r}").into());
    }
    let idle = server.mem();
    println!(
        "fanout: {} · {subscribers} subscribers to [\"Share\"] · {events} StartShare/StopShare calls every {interval_ms} ms",
        server.label
    );
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(subscribers.max(1));
    let (stop_tx, stop_rx) = watch::channel(false);
    let connecting = Arc::new(Semaphore::new(64));
    let connect_began = Instant::now();
    let mut tasks = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let slot = connecting.clone().acquire_owned().await.ok();
        tasks.push(tokio::spawn(subscriber(
            server.addr,
            target.password.clone(),
            events,
            ready_tx.clone(),
            slot,
            stop_rx.clone(),
        )));
    }
    drop(ready_tx);
    let mut subscribed = 0usize;
    let mut failed = 0usize;
    while let Some(r) = ready_rx.recv().await {
        match r {
            Ok(()) => subscribed += 1,
            Err(e) => {
                failed += 1;
                if failed <= 3 {
                    println!("  subscriber failed to subscribe: {e}");
                }
            }
        }
    }
    let connected_mem = server.mem();
    println!(
        "  {subscribed} subscribed ({failed} failed) in {:.2} s",
        connect_began.elapsed().as_secs_f64()
    );
    // The driver: one connection, one call at a time, stamping each call's
    // send time; the k-th ShareInfoChanged at every subscriber belongs to
    // the k-th call.
    let mut sent_at = Vec::with_capacity(events);
    let mut call_errors = 0u64;
    let index = indices.first().copied().unwrap_or(0);
    for k in 0..events {
        let params = if k % 2 == 0 {
            format!(
                r#"{{"action": "StartShare", "action_params": {{"share_type": 0, "fluency_first": true, "select_index": {index}}}}}"#
            )
        } else {
            r#"{"action": "StopShare"}"#.to_string()
        };
        sent_at.push(Instant::now());
        let r = control.call("Call/Share", &params).await?;
        if Control::code(&r) != 0 {
            call_errors += 1;
            println!("  call {k} answered {r}");
        }
        tokio::time::sleep(Duration::from_millis(interval_ms)).await;
    }
    // Give stragglers a bounded time to receive the rest.
    let grace = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(grace);
    let mut results = Vec::with_capacity(subscribers);
    let mut joined = futures_util::future::join_all(tasks);
    let all = tokio::select! {
        r = &mut joined => Some(r),
        _ = &mut grace => None,
    };
    let all = match all {
        Some(r) => r,
        None => {
            let _ = stop_tx.send(true);
            joined.await
        }
    };
    for r in all {
        results.push(r?);
    }
    let end_mem = server.mem();

    let mut hist: Histogram<u64> =
        Histogram::new_with_bounds(1, 120_000_000_000, 3).expect("valid histogram bounds");
    let (mut received, mut complete, mut order_errors, mut other) = (0u64, 0usize, 0u64, 0u64);
    let (mut fewest, mut most) = (usize::MAX, 0usize);
    let mut failures = Vec::new();
    for s in &results {
        received += s.share_events.len() as u64;
        other += s.other_events;
        fewest = fewest.min(s.share_events.len());
        most = most.max(s.share_events.len());
        if s.share_events.len() == events {
            complete += 1;
        }
        if let Some(f) = &s.failure {
            failures.push(f.clone());
        }
        for (k, (at, sharing)) in s.share_events.iter().enumerate() {
            if *sharing != Some(k % 2 == 0) {
                order_errors += 1;
            }
            if let Some(sent) = sent_at.get(k) {
                let nanos = at.saturating_duration_since(*sent).as_nanos() as u64;
                let _ = hist.record(nanos.max(1));
            }
        }
    }
    let expected = (subscribers * events) as u64;
    let missing = expected.saturating_sub(received);
    println!(
        "  events: expected {expected} ({events} per subscriber), received {received}, missing {missing}; per subscriber min {} max {most}; {complete}/{subscribers} complete; {order_errors} out of order; {other} other Share events",
        if fewest == usize::MAX { 0 } else { fewest }
    );
    println!(
        "  delivery delay (call sent → event received): p50 {} p99 {} max {}",
        fmt_us(us(&hist, 0.5)),
        fmt_us(us(&hist, 0.99)),
        fmt_us(max_us(&hist))
    );
    if !failures.is_empty() {
        println!(
            "  {} subscribers ended early, e.g. {}",
            failures.len(),
            failures[0]
        );
    }
    if let (Some(i), Some(c), Some(e)) = (idle, connected_mem, end_mem) {
        println!(
            "  server memory: idle {i}; with {subscribed} subscribers {c}; at the end {e}{}",
            server.mem_note()
        );
    }
    let ok =
        missing == 0 && failed == 0 && call_errors == 0 && order_errors == 0 && failures.is_empty();
    println!(
        "RESULT scenario=fanout ok={ok} subscribers={subscribers} events={events} received={received} missing={missing} p50_us={} p99_us={} max_us={} peak_rss_kb={}",
        us(&hist, 0.5),
        us(&hist, 0.99),
        max_us(&hist),
        end_mem.map_or(0, |m| m.hwm_kb)
    );
    server.stop();
    Ok(ok)
}

#[allow(clippy::too_many_arguments)]
async fn soak(
    target: &Target,
    mix: &MixArgs,
    soak_secs: u64,
    clients: usize,
    rate: u64,
    reconnect_every: u64,
    sample_secs: u64,
) -> Result<bool, AnyError> {
    check_fd_limit(clients * 2 + 64)?;
    let server = ServerUnderTest::engine(target, clients + 64).await?;
    let indices = Control::open(server.addr, target.password.as_deref())
        .await?
        .prepare_room()
        .await?;
    let start_mem = server.mem();
    println!(
        "soak: {} · {soak_secs} s · {clients} clients at {rate} req/s in total · reconnect every {reconnect_every} requests",
        server.label
    );
    let per_client = (rate as f64 / clients.max(1) as f64).max(0.001);
    let began = Instant::now();
    let plan = VuPlan {
        addr: server.addr,
        password: target.password.clone(),
        workload: Workload::Mix {
            share_pct: mix.share_pct,
            toggle_pct: mix.toggle_pct,
            indices: Arc::new(indices),
        },
        requests: None,
        deadline: Some(began + Duration::from_secs(soak_secs)),
        warmup: 0,
        period: Some(Duration::from_secs_f64(1.0 / per_client)),
        reconnect_every: Some(reconnect_every.max(1)),
        subscribers: (clients * mix.subscriber_pct as usize / 100) as u64,
        timeout: Duration::from_secs(target.timeout_secs),
    };
    // Sample the server's memory while the load runs.
    let pid = server.pid();
    let inproc = server.inproc.is_some();
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let period = Duration::from_secs(sample_secs.max(1));
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            // Don't wait a whole period past the end of the load.
            if began.elapsed() + period > Duration::from_secs(soak_secs) + period / 2 {
                let remaining = Duration::from_secs(soak_secs).saturating_sub(began.elapsed());
                tokio::time::sleep(remaining.saturating_sub(Duration::from_millis(500))).await;
                if let Some(m) = if inproc {
                    read_mem(None)
                } else {
                    read_mem(pid)
                } {
                    println!("  t={:>4} s  {m}", began.elapsed().as_secs());
                    samples.push((began.elapsed(), m));
                }
                break;
            }
            tick.tick().await;
            let at = began.elapsed();
            // The load stops at `soak_secs`: a sample after it is not "under load".
            if at.as_secs() > soak_secs {
                break;
            }
            let m = if inproc {
                read_mem(None)
            } else {
                read_mem(pid)
            };
            if let Some(m) = m {
                println!("  t={:>4} s  {m}", at.as_secs());
                samples.push((at, m));
            }
        }
        samples
    });
    let (stats, wall) = closed_loop(plan, clients).await?;
    let samples = sampler.await?;
    let loaded_end = server.mem();
    // Idle again: every client has gone; what is left is what was kept.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_end = server.mem();
    print_stats("soak", &stats, wall);
    // Growth under load: the last sample against the first one taken after
    // the warm-up (connections open, buffers grown).
    let first = samples.first().map(|(_, m)| *m);
    let last = samples.last().map(|(_, m)| *m);
    if let (Some(s), Some(i)) = (start_mem, idle_end) {
        println!(
            "  server memory: before the load {s}; first sample {}; last sample {}; at the end {}; idle after the clients left {i}{}",
            first.map_or("-".into(), |m| m.to_string()),
            last.map_or("-".into(), |m| m.to_string()),
            loaded_end.map_or("-".into(), |m| m.to_string()),
            server.mem_note()
        );
    }
    let growth_kb = match (first, last) {
        (Some(f), Some(l)) => l.rss_kb as i64 - f.rss_kb as i64,
        _ => 0,
    };
    let ok = stats.ok();
    println!(
        "RESULT scenario=soak ok={ok} secs={soak_secs} answered={} errors={} lost={} connects={} rps={:.0} p99_us={} rss_before_kb={} rss_first_kb={} rss_last_kb={} rss_idle_after_kb={} growth_kb={growth_kb}",
        stats.answered,
        stats.errors,
        stats.lost,
        stats.connects,
        stats.answered as f64 / wall.as_secs_f64().max(1e-9),
        us(&stats.hist, 0.99),
        start_mem.map_or(0, |m| m.rss_kb),
        first.map_or(0, |m| m.rss_kb),
        last.map_or(0, |m| m.rss_kb),
        idle_end.map_or(0, |m| m.rss_kb),
    );
    server.stop();
    Ok(ok)
}
