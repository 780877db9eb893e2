//! `roomshare rooms exporter`: follow the rooms as the fleet does (the same
//! file, light clients and poll budget as `rooms watch`) and serve them to
//! Prometheus on `GET /metrics`, with `/-/healthy` and `/-/ready` (ready
//! once every room has been tried: connected, or failed at least once).
//!
//! It exposes no control and no secret (no password, no sharer's name),
//! so listening beyond loopback is allowed.

use super::metrics::{self, CONTENT_TYPE};
use super::sample::{Memory, RoomSample, sample};
use super::{SelectedRoom, Selection, process};
use crate::cli::interrupted;
use crate::cli::out::print_line;
use crate::link::fleet::Fleet;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use clap::Args;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Args, Debug)]
pub struct ExporterArgs {
    /// The rooms file (default: $XDG_CONFIG_HOME/roomshare/rooms.toml, the platform's config folder elsewhere).
    #[arg(long, value_name = "FILE")]
    pub rooms: Option<PathBuf>,
    /// Only the rooms of this group (repeat for several: one exporter per shard of groups).
    #[arg(long, value_name = "G")]
    pub group: Vec<String>,
    /// Where to serve the metrics, e.g. 127.0.0.1:9795 or [::]:9795.
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Seconds to wait for each handshake and each answer.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub timeout: f64,
}

/// What the HTTP handlers share.
struct Exporter {
    fleet: Fleet,
    memory: Mutex<Memory>,
}

impl Exporter {
    /// The rooms now, with the memory brought up to date.
    fn samples(&self) -> Vec<RoomSample> {
        let counts: HashMap<String, _> = self.fleet.request_counts().into_iter().collect();
        let samples: Vec<RoomSample> = (self.fleet.rooms().iter())
            .map(|status| sample(status, counts.get(&status.name)))
            .collect();
        self.memory.lock().observe(&samples);
        samples
    }
}

pub async fn run(args: ExporterArgs) -> ExitCode {
    let rooms = match select(&args) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (fleet, wake) = super::follow_rooms(&rooms, args.timeout);
    let exporter = Arc::new(Exporter {
        fleet,
        memory: Mutex::new(Memory::default()),
    });
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.listen);
            return ExitCode::from(2);
        }
    };
    let addr = listener.local_addr().unwrap_or(args.listen);
    let follower = tokio::spawn(follow(exporter.clone(), wake));
    let app = Router::new()
        .route("/metrics", get(scrape))
        .route("/-/healthy", get(healthy))
        .route("/-/ready", get(ready))
        .with_state(exporter);
    print_line(&format!(
        "roomshare exporter for {} rooms on http://{addr}/metrics (Ctrl+C to stop)",
        rooms.len()
    ));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(interrupted())
        .await;
    follower.abort();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("exporter stopped: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The file's rooms, of any of the `--group`s when some are given.
fn select(args: &ExporterArgs) -> Result<Vec<SelectedRoom>, ExitCode> {
    let selection = Selection {
        rooms: args.rooms.clone(),
        group: None,
    };
    let rooms: Vec<SelectedRoom> = selection
        .select(&[])?
        .into_iter()
        .filter(|r| args.group.is_empty() || args.group.contains(&r.group))
        .collect();
    if rooms.is_empty() {
        return Err(super::usage(&format!(
            "no rooms in groups {:?} in the rooms file",
            args.group
        )));
    }
    Ok(rooms)
}

/// Keep the memory (sharing since, tried) current between scrapes: one
/// task for the whole fleet, woken by its changes, at most 10 times a
/// second (a sharing start is dated by the room's own change time, so
/// the pause costs no precision).
async fn follow(exporter: Arc<Exporter>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        exporter.samples();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A scrape: 2,000 rooms take some 20 ms of CPU to render, done off the
/// runtime's worker threads so that the fleet's tasks keep running.
async fn scrape(State(exporter): State<Arc<Exporter>>) -> impl IntoResponse {
    let rendered = tokio::task::spawn_blocking(move || {
        let samples = exporter.samples();
        let stats = process::read();
        let memory = exporter.memory.lock();
        metrics::render(&samples, &memory, stats.as_ref())
    })
    .await;
    match rendered {
        Ok(body) => (StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], body),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("rendering the metrics failed: {e}\n"),
        ),
    }
}

async fn healthy() -> &'static str {
    "roomshare exporter is healthy\n"
}

async fn ready(State(exporter): State<Arc<Exporter>>) -> (StatusCode, &'static str) {
    let samples = exporter.samples();
    if exporter.memory.lock().all_tried(&samples) {
        (StatusCode::OK, "roomshare exporter is ready\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "roomshare exporter: not every room tried yet\n",
        )
    }
}
