//! `roomshare rooms …`: many rooms at once, from the rooms file —
//! [`status`] (one visit to each, exit 0 when every room answered),
//! [`call`] (the same call to many rooms) and [`watch`] (one line per
//! change, live) and [`exporter`] (the same, served to Prometheus);
//! [`password`] (`set-password`) puts a room's password in the system
//! keychain.
//!
//! Every room is visited in its own task, in parallel but bounded
//! ([`MAX_PARALLEL`]), and each line is printed as soon as its room is
//! done: a room that is down or never answers costs its own timeout and
//! delays nobody else's line.

mod call;
mod exporter;
mod metrics;
mod password;
mod process;
mod sample;
mod status;
mod watch;

use super::out::{print_json, print_line};
use crate::link::fleet::{Fleet, FleetOptions, NamedTarget, RoomsFile};
use crate::link::{RoomView, Target};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
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
    Status(StateArgs),
    /// The same call to many rooms: `roomshare rooms call --group 12F Share StopShare`.
    Call(call::RoomsCallArgs),
    /// Follow every room live; one line per change (Ctrl+C to stop).
    Watch(StateArgs),
    /// Serve every room's state to Prometheus: `roomshare rooms exporter --listen 127.0.0.1:9795`.
    Exporter(exporter::ExporterArgs),
    /// Store a room's password in the system keychain (read without echo, or from stdin) and set password_keyring = true on it.
    SetPassword(password::SetPasswordArgs),
}

pub async fn run(args: RoomsArgs) -> ExitCode {
    match args.command {
        RoomsCommand::Status(args) => status::run(args).await,
        RoomsCommand::Call(args) => call::run(args).await,
        RoomsCommand::Watch(args) => watch::run(args).await,
        RoomsCommand::Exporter(args) => exporter::run(args).await,
        RoomsCommand::SetPassword(args) => password::run(args),
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

/// What `rooms status` and `rooms watch` take: which rooms, how long to
/// wait, and how to print.
#[derive(Args, Debug)]
pub struct StateArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Seconds to wait for each room's handshake, and then for each answer.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// One JSON object per line (per room, or per change with watch): name, group, url, state, meeting_status, is_sharing, sharer, cast_code, error.
    #[arg(long)]
    pub json: bool,
}

/// One room's state in `--json` (`rooms status` and `rooms watch`); keys
/// the room could not answer are null.
#[derive(Serialize)]
struct StateLine<'a> {
    name: &'a str,
    group: Option<&'a str>,
    url: &'a str,
    /// `rooms status`: `connected`, `auth_failed`, `unreachable`,
    /// `timeout`; `rooms watch`: `connecting`, `connected`,
    /// `reconnecting`, `auth_failed`, `closed`.
    state: &'static str,
    meeting_status: Option<i64>,
    is_sharing: Option<bool>,
    sharer: Option<&'a str>,
    cast_code: Option<&'a str>,
    error: Option<&'a str>,
}

impl<'a> StateLine<'a> {
    /// The room `name` (`url`: as the line shows it), in `state`, as its
    /// view has it.
    fn new(
        name: &'a str,
        group: Option<&'a str>,
        url: &'a str,
        state: &'static str,
        view: &'a RoomView,
        error: Option<&'a str>,
    ) -> StateLine<'a> {
        StateLine {
            name,
            group,
            url,
            state,
            meeting_status: view.meeting_status(),
            is_sharing: view.is_sharing(),
            sharer: view.sharer(),
            cast_code: view.cast_code.as_deref(),
            error,
        }
    }
}

/// One room to visit: as the file gives it, with its password read.
pub struct SelectedRoom {
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
    pub fn select(&self, names: &[String]) -> Result<Vec<SelectedRoom>, ExitCode> {
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
        let rooms: Vec<SelectedRoom> = file
            .entries()
            .iter()
            .zip(targets)
            .filter(|(e, _)| self.group.as_ref().is_none_or(|g| &e.group == g))
            .filter(|(e, _)| names.is_empty() || names.contains(&e.name))
            .map(|(e, room)| SelectedRoom {
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
        let path = rooms_path(self.rooms.as_ref())?;
        RoomsFile::load(&path).map_err(|e| usage(&e.to_string()))
    }
}

/// `--rooms FILE`, or the default file, which must exist.
fn rooms_path(given: Option<&PathBuf>) -> Result<PathBuf, ExitCode> {
    let path = match (given, RoomsFile::default_path()) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => p,
        (None, None) => return Err(usage("no config folder on this system: use --rooms FILE")),
    };
    if given.is_none() && !path.exists() {
        return Err(usage(&format!(
            "no rooms file at {}: create it (see README, \"Many rooms\") or pass --rooms FILE",
            path.display()
        )));
    }
    Ok(path)
}

impl SelectedRoom {
    fn named_target(&self) -> NamedTarget {
        NamedTarget::new(&self.name, &self.group, self.target.clone())
    }

    /// The group for JSON: `null` when the room has none.
    fn group_or_null(&self) -> Option<&str> {
        group_or_null(&self.group)
    }
}

/// A group for JSON: `null` for none.
fn group_or_null(group: &str) -> Option<&str> {
    (!group.is_empty()).then_some(group)
}

fn usage(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(2)
}

/// `--timeout SECONDS` as a duration (clamped to something sane).
fn timeout_of(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.clamp(0.1, 3600.0))
}

/// Follow `rooms` live through a fleet (the console's Rooms view's engine:
/// light clients, one poll budget), answers and handshakes waited for at
/// most `timeout_s` seconds; the `Notify` is woken on every change.
fn follow_rooms(rooms: &[SelectedRoom], timeout_s: f64) -> (Fleet, Arc<Notify>) {
    let timeout = timeout_of(timeout_s);
    let options = FleetOptions {
        request_timeout: timeout,
        connect_timeout: timeout,
        ..FleetOptions::default()
    };
    let wake = Arc::new(Notify::new());
    let on_change = {
        let wake = wake.clone();
        Arc::new(move || wake.notify_one())
    };
    let named = rooms.iter().map(SelectedRoom::named_target).collect();
    let fleet = Fleet::start(
        named,
        &tokio::runtime::Handle::current(),
        on_change,
        options,
    );
    (fleet, wake)
}

/// Visit every room with `visit` (at most [`MAX_PARALLEL`] at once) and
/// hand each outcome to `done` as soon as it is there.
async fn visit_all<T, F, Fut>(
    rooms: &[SelectedRoom],
    visit: F,
    mut done: impl FnMut(&SelectedRoom, T),
) where
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

/// The widest name and group, to line the text output up while lines
/// are printed as they come.
fn widths(rooms: &[SelectedRoom]) -> (usize, usize) {
    let width = |f: fn(&SelectedRoom) -> usize| rooms.iter().map(f).max().unwrap_or(0);
    (
        width(|r| r.name.chars().count()),
        width(|r| r.group.chars().count()),
    )
}
