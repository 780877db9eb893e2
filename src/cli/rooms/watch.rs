//! `roomshare rooms watch`: follow every room live through the fleet (the
//! same engine as the console's Rooms view) and print one line per change.

use super::{StateArgs, StateLine, group_or_null, print_json, print_line};
use crate::cli::interrupted;
use crate::client::ConnState;
use crate::link::fleet::RoomStatus;
use std::collections::HashMap;
use std::process::ExitCode;

pub async fn run(args: StateArgs) -> ExitCode {
    let rooms = match args.selection.select(&[]) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (fleet, wake) = super::follow_rooms(&rooms, args.timeout);
    let stop = interrupted();
    tokio::pin!(stop);
    eprintln!("watching {} rooms (Ctrl+C to stop)", rooms.len());
    let mut shown: HashMap<String, String> = HashMap::new();
    loop {
        for room in fleet.rooms().iter() {
            print_if_changed(room, &mut shown, args.json);
        }
        tokio::select! {
            _ = &mut stop => return ExitCode::SUCCESS,
            _ = wake.notified() => {}
        }
    }
}

/// Print `room` when what a line shows of it moved since its last line (a
/// reconnection's countdown or attempt number alone is not a change).
fn print_if_changed(room: &RoomStatus, shown: &mut HashMap<String, String>, json: bool) {
    if is_transient(room) {
        return;
    }
    let key = change_key(room);
    if shown.get(&room.name) == Some(&key) {
        return;
    }
    shown.insert(room.name.clone(), key);
    match json {
        true => print_json(&json_line(room)),
        false => print_line(&text_line(room)),
    }
}

/// States that last a moment and would only double the lines: an
/// attempt under way (the outcome follows at once), a connection whose
/// first answers are not in yet.
fn is_transient(room: &RoomStatus) -> bool {
    match room.conn {
        ConnState::Connecting => true,
        ConnState::Connected => {
            room.meeting.is_none() && room.share_info.is_none() && room.error.is_none()
        }
        _ => false,
    }
}

fn change_key(room: &RoomStatus) -> String {
    format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        room.state_word(),
        room.error,
        room.meeting_status(),
        room.meeting_title(),
        room.sharer_info(),
        room.quick_casting_state(),
        room.cast_code,
        room.share_guide_open,
    )
}

fn json_line(room: &RoomStatus) -> StateLine<'_> {
    let (group, error) = (group_or_null(&room.group), room.error.as_deref());
    StateLine::new(
        &room.name,
        group,
        &room.label,
        room.state_word(),
        room,
        error,
    )
}

/// `12:04:05 12F Everest [12F]: connected · In meeting (1) "Weekly" ·
/// sharing: Alice (Rooms, screen) · cast 246810`
fn text_line(room: &RoomStatus) -> String {
    let mut parts = vec![room.conn.to_string()];
    if let Some(meeting) = room.meeting_text() {
        match room.meeting_title() {
            Some(title) => parts.push(format!("{meeting} {title:?}")),
            None => parts.push(meeting),
        }
    }
    match (room.is_sharing(), room.sharer()) {
        (Some(true), who) => parts.push(format!(
            "sharing: {} ({}, {})",
            who.unwrap_or("?"),
            room.sharer_terminal().unwrap_or("?"),
            room.share_kind().unwrap_or("?")
        )),
        (Some(false), _) => parts.push("not sharing".into()),
        (None, _) => {}
    }
    if let Some(state) = room.quick_casting_state().filter(|&s| s != 0) {
        parts.push(format!(
            "quick cast: {}",
            crate::protocol::model::quick_cast_name(state)
        ));
    }
    if let Some(code) = &room.cast_code {
        parts.push(format!("cast {code}"));
    }
    if room.share_guide_open == Some(true) {
        parts.push("share guide open".into());
    }
    if let Some(error) = room.error.as_ref().filter(|_| room.is_connected()) {
        parts.push(format!("error: {error}"));
    }
    let group = match room.group.as_str() {
        "" => String::new(),
        g => format!(" [{g}]"),
    };
    format!("{} {}{group}: {}", clock(), room.name, parts.join(" · "))
}

/// UTC time of day, `HH:MM:SS`.
fn clock() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}
