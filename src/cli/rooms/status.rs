//! `roomshare rooms status`: visit every room once, one line per room.

use super::{
    SOME_UNANSWERED, Selected, Selection, print_json, print_line, timeout_of, visit_all, widths,
};
use crate::link::fleet::{Probe, Reach, probe};
use clap::Args;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Seconds to wait for each room's handshake, and then for each answer.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// One JSON object per line: name, group, url, state, meeting_status, is_sharing, sharer, cast_code, error.
    #[arg(long)]
    pub json: bool,
}

/// One room in `--json`; keys the room could not answer are null.
#[derive(Serialize)]
struct StatusLine<'a> {
    name: &'a str,
    group: Option<String>,
    url: &'a str,
    /// `connected`, `auth_failed`, `unreachable`, `timeout`.
    state: &'static str,
    meeting_status: Option<i64>,
    is_sharing: Option<bool>,
    sharer: Option<&'a str>,
    cast_code: Option<&'a str>,
    error: Option<&'a str>,
}

impl<'a> StatusLine<'a> {
    fn new(room: &'a Selected, probe: &'a Probe) -> StatusLine<'a> {
        StatusLine {
            name: &room.name,
            group: room.group_or_null(),
            url: &room.url,
            state: probe.reach.as_str(),
            meeting_status: probe.meeting_status,
            is_sharing: probe.is_sharing(),
            sharer: probe.sharer(),
            cast_code: probe.cast_code.as_deref(),
            error: probe.error.as_deref(),
        }
    }
}

pub async fn run(args: StatusArgs) -> ExitCode {
    let rooms = match args.selection.select(&[]) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let timeout = timeout_of(args.timeout);
    let (name_width, group_width) = widths(&rooms);
    let mut unanswered = 0usize;
    let visit = |target| async move { probe(&target, timeout).await };
    visit_all(&rooms, visit, |room, probe: Probe| {
        if probe.reach != Reach::Connected {
            unanswered += 1;
        }
        match args.json {
            true => print_json(&StatusLine::new(room, &probe)),
            false => print_line(&text_line(room, &probe, name_width, group_width)),
        }
    })
    .await;
    if unanswered > 0 {
        eprintln!("{unanswered} of {} rooms did not answer", rooms.len());
        return ExitCode::from(SOME_UNANSWERED);
    }
    ExitCode::SUCCESS
}

/// `12F Everest  12F  connected    meeting 1  sharing: Alice  cast 246810`
fn text_line(room: &Selected, probe: &Probe, name_width: usize, group_width: usize) -> String {
    let meeting = probe
        .meeting_status
        .map_or("-".to_string(), |s| s.to_string());
    let sharing = match (probe.is_sharing(), probe.sharer()) {
        (None, _) => "sharing -".to_string(),
        (Some(false), _) => "not sharing".to_string(),
        (Some(true), Some(who)) => format!("sharing: {who}"),
        (Some(true), None) => "sharing".to_string(),
    };
    let mut line = format!(
        "{:<name_width$}  {:<group_width$}  {:<11}  meeting {meeting:<2}  {sharing}  cast {}",
        room.name,
        room.group,
        probe.reach.as_str(),
        probe.cast_code.as_deref().unwrap_or("-"),
    );
    if let Some(error) = &probe.error {
        line.push_str("  error: ");
        line.push_str(error);
    }
    line
}
