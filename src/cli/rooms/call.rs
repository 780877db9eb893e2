//! `roomshare rooms call [--group G] [--name N]… MODULE ACTION [key=value…]`:
//! the same call to many rooms at once, one result line per room.

use super::{
    SOME_UNANSWERED, SelectedRoom, Selection, print_json, print_line, timeout_of, visit_all, widths,
};
use crate::cli::call::parse_key_values;
use crate::link::fleet::{CallOutcome, FleetAction, Reach, Tally, call_once};
use clap::Args;
use serde::Serialize;
use serde_json::{Map, Value};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct RoomsCallArgs {
    /// Module: Share, Meeting (or RoomShare for the simulator).
    pub module: String,
    /// The action, e.g. StopShare.
    pub action: String,
    /// Inputs as key=value (true/false and numbers are typed).
    pub params: Vec<String>,
    #[command(flatten)]
    pub selection: Selection,
    /// Only this room (repeat for more); all rooms (of --group) when absent.
    #[arg(long = "name", value_name = "N")]
    pub names: Vec<String>,
    /// Seconds to wait for each room's handshake, then for its answer.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// One JSON object per line: name, group, url, state, error_code, error.
    #[arg(long)]
    pub json: bool,
}

/// One room's result in `--json`.
#[derive(Serialize)]
struct CallLine<'a> {
    name: &'a str,
    group: Option<&'a str>,
    url: &'a str,
    state: &'static str,
    /// The device's code (0 = done); null without an answer.
    error_code: Option<i64>,
    error: Option<String>,
}

/// How the rooms answered, as an exit code: 3 when some did not answer,
/// else 1 when some refused, else 0.
fn exit_code(tally: &Tally, total: usize) -> ExitCode {
    if tally.unanswered > 0 {
        eprintln!("{} of {total} rooms did not answer", tally.unanswered);
        return ExitCode::from(SOME_UNANSWERED);
    }
    if tally.refused > 0 {
        eprintln!("{} of {total} rooms refused", tally.refused);
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

pub async fn run(args: RoomsCallArgs) -> ExitCode {
    let action = match request(&args) {
        Ok(a) => a,
        Err(e) => return super::usage(&e),
    };
    let rooms = match args.selection.select(&args.names) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let timeout = timeout_of(args.timeout);
    let (name_width, _) = widths(&rooms);
    let mut tally = Tally::default();
    let visit = |target| {
        let action = action.clone();
        async move { call_once(&target, action, timeout).await }
    };
    visit_all(&rooms, visit, |room, outcome: CallOutcome| {
        tally.count(Some(&outcome));
        match args.json {
            true => print_json(&json_line(room, &outcome)),
            false => print_line(&format!(
                "{:<name_width$}  {}",
                room.name,
                text_of(&outcome)
            )),
        }
    })
    .await;
    exit_code(&tally, rooms.len())
}

/// `Call/MODULE` with `{"action": ACTION, "action_params": {…}}` (no
/// `action_params` when there are no inputs, as `roomshare call` sends it).
fn request(args: &RoomsCallArgs) -> Result<FleetAction, String> {
    let inputs = parse_key_values(&args.params)?;
    let mut params = Map::new();
    params.insert("action".into(), Value::String(args.action.clone()));
    if !inputs.is_empty() {
        params.insert("action_params".into(), Value::Object(inputs));
    }
    Ok(FleetAction::Request {
        method: format!("Call/{}", args.module),
        params: Value::Object(params),
    })
}

fn json_line<'a>(room: &'a SelectedRoom, outcome: &'a CallOutcome) -> CallLine<'a> {
    CallLine {
        name: &room.name,
        group: room.group_or_null(),
        url: &room.url,
        state: outcome.reach.as_str(),
        error_code: outcome.answer_code(),
        error: outcome.error(),
    }
}

/// `done`, `error 17 Repeat Operation: …`, `unreachable: connection refused`.
fn text_of(outcome: &CallOutcome) -> String {
    match (outcome.reach, outcome.error()) {
        (_, None) => "done".to_string(),
        (Reach::Connected, Some(e)) => format!("error {e}"),
        (reach, Some(e)) => format!("{}: {e}", reach.as_str()),
    }
}
