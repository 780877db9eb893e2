//! `roomshare rooms status`: visit every room once, one line per room.

use super::{
    SOME_UNANSWERED, SelectedRoom, StateArgs, StateLine, print_json, print_line, timeout_of,
    visit_all, widths,
};
use crate::link::fleet::{Probe, Reach, probe};
use std::process::ExitCode;

pub async fn run(args: StateArgs) -> ExitCode {
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
            true => print_json(&json_line(room, &probe)),
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

fn json_line<'a>(room: &'a SelectedRoom, probe: &'a Probe) -> StateLine<'a> {
    let state = probe.reach.as_str();
    let (group, error) = (room.group_or_null(), probe.error.as_deref());
    StateLine::new(&room.name, group, &room.url, state, probe, error)
}

/// `12F Everest  12F  connected    meeting 1  sharing: Alice  cast 246810`
fn text_line(room: &SelectedRoom, probe: &Probe, name_width: usize, group_width: usize) -> String {
    let meeting = probe
        .meeting_status()
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
