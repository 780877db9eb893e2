//! `roomshare rooms …`: many rooms at once, from the rooms file —
//! [`status`] (one visit to each, exit 0 when every room answered),
//! [`call`] (the same call to many rooms) and [`watch`] (one line per
//! change, live) and [`exporter`] (the same, served to Prometheus).
//!
//! Every room is visited in its own task, in parallel but bounded
//! ([`MAX_PARALLEL`]), and each line is printed as soon as its room is
//! done: a room that is down or never answers costs its own timeout and
//! delays nobody else's line.

mod call;
mod exporter;
mod metrics;
mod process;
mod sample;
mod status;
mod watch;

use crate::link::Target;
use crate::link::fleet::{FleetRoom, RoomsFile};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Rooms visited at the same moment, at most. High enough that 200 rooms
/// start together (a blackholed room then costs one timeout, not one per
/// batch), low enough to stay far below the usual 1024 open files.
pub const MAX_PARALLEL: usize = 256;

/// Exit code when some room did not answer.
const SOME_UNANSWERED: u8 = 3;

#[derive(Args, Debug)]
pub struct RoomsArgs {
    #[command(subcommand)]
    pub command: RoomsCommand,
}

#[derive(Subcommand, Debug)]
pub enum RoomsCommand {
    /// Visit every room once and print its state; exit 0 when every room answered, 3 otherwise.
    Status(status::StatusArgs),
    /// The same call to many rooms: `roomshare rooms call --group 12F Share StopShare`.
    Call(call::RoomsCallArgs),
    /// Follow every room live; one line per change (Ctrl+C to stop).
    Watch(watch::RoomsWatchArgs),
    /// Serve every room's state to Prometheus: `roomshare rooms exporter --listen 127.0.0.1:9795`.
    Exporter(exporter::ExporterArgs),
}

pub async fn run(args: RoomsArgs) -> ExitCode {
    match args.command {
        RoomsCommand::Status(args) => status::run(args).await,
        RoomsCommand::Call(args) => call::run(args).await,
        RoomsCommand::Watch(args) => watch::run(args).await,
        RoomsCommand::Exporter(args) => exporter::run(args).await,
    }
}

/// Which rooms: the file, and a part of it.
#[derive(Args, Debug, Clone)]
pub struct Selection {
    /// The rooms file (default: $XDG_CONFIG_HOME/roomshare/rooms.toml, the platform's config folder elsewhere).
    #[arg(long, value_name = "FILE")]
    pub rooms: Option<PathBuf>,
    /// Only the rooms of this group.
    #[arg(long, value_name = "G")]
    pub group: Option<String>,
}

/// One room to visit: as the file gives it, with its password read.
pub struct Selected {
    pub name: String,
    pub group: String,
    /// As written in the file.
    pub url: String,
    pub target: Target,
}

impl Selection {
    /// Load the file and pick the rooms (of `--group`, and of `names` when
    /// any are given, in file order). Every refusal is printed and is exit
    /// code 2: a bad file starts nothing.
    pub fn select(&self, names: &[String]) -> Result<Vec<Selected>, ExitCode> {
        let file = self.load()?;
        for name in names {
            if file.get(name).is_none() {
                return Err(usage(&format!(
                    "no room named {name:?} in {}",
                    file.path().display()
                )));
            }
        }
        let targets = file.fleet_rooms().map_err(|e| usage(&e.to_string()))?;
        let rooms: Vec<Selected> = file
            .entries()
            .iter()
            .zip(targets)
            .filter(|(e, _)| self.group.as_ref().is_none_or(|g| &e.group == g))
            .filter(|(e, _)| names.is_empty() || names.contains(&e.name))
            .map(|(e, room)| Selected {
                name: e.name.clone(),
                group: e.group.clone(),
                url: e.url.clone(),
                target: room.target,
            })
            .collect();
        if rooms.is_empty() {
            return Err(usage(&format!(
                "no rooms selected in {}{}",
                file.path().display(),
                self.group
                    .as_ref()
                    .map(|g| format!(" (group {g:?})"))
                    .unwrap_or_default()
            )));
        }
        Ok(rooms)
    }

    fn load(&self) -> Result<RoomsFile, ExitCode> {
        let path = match (&self.rooms, RoomsFile::default_path()) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => p,
            (None, None) => return Err(usage("no config folder on this system: use --rooms FILE")),
        };
        if self.rooms.is_none() && !path.exists() {
            return Err(usage(&format!(
                "no rooms file at {}: create it (see README, \"Many rooms\") or pass --rooms FILE",
                path.display()
            )));
        }
        RoomsFile::load(&path).map_err(|e| usage(&e.to_string()))
    }
}

impl Selected {
    fn fleet_room(&self) -> FleetRoom {
        FleetRoom::new(&self.name, &self.group, self.target.clone())
    }

    /// The group for JSON: `null` when the room has none.
    fn group_or_null(&self) -> Option<String> {
        (!self.group.is_empty()).then(|| self.group.clone())
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(2)
}

/// `--timeout SECONDS` as a duration (clamped to something sane).
fn timeout_of(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.clamp(0.1, 3600.0))
}

/// Visit every room with `visit` (at most [`MAX_PARALLEL`] at once) and
/// hand each outcome to `done` as soon as it is there.
async fn visit_all<T, F, Fut>(rooms: &[Selected], visit: F, mut done: impl FnMut(&Selected, T))
where
    F: Fn(Target) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let gate = Arc::new(Semaphore::new(MAX_PARALLEL));
    let mut tasks = JoinSet::new();
    for (i, room) in rooms.iter().enumerate() {
        let (gate, visit) = (gate.clone(), visit(room.target.clone()));
        tasks.spawn(async move {
            // The room's own timeout starts once it has its turn.
            let _turn = gate.acquire_owned().await;
            (i, visit.await)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, outcome)) = joined {
            done(&rooms[i], outcome);
        }
    }
}

/// One JSON line on stdout.
fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(line) => print_line(&line),
        Err(e) => eprintln!("cannot encode a line as JSON: {e}"),
    }
}

/// One line on stdout, flushed at once (lines come as rooms answer). A
/// closed pipe (`rooms status | head`) is not an error worth a panic, as
/// `println!` would make it: the rest is simply not read.
fn print_line(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The widest name and group, to line the text output up while lines
/// are printed as they come.
fn widths(rooms: &[Selected]) -> (usize, usize) {
    let width = |f: fn(&Selected) -> usize| rooms.iter().map(f).max().unwrap_or(0);
    (
        width(|r| r.name.chars().count()),
        width(|r| r.group.chars().count()),
    )
}
