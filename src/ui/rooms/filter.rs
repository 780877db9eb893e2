//! Which rooms the view shows and in what order: a text filter, a
//! "show" chip (all, sharing now, problems), a sort key, and rooms grouped
//! under their group's header. Pure functions, tested below.

use crate::link::ConnState;
use crate::link::fleet::RoomStatus;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// The "show" chips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Show {
    #[default]
    All,
    /// Someone shares, or a quick cast runs.
    Sharing,
    /// The link is down, the password was refused, a read or the last
    /// action failed.
    Problems,
}

/// Order of rooms within a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SortBy {
    #[default]
    Name,
    /// Problems first, then sharing, then the rest.
    State,
    /// Most recently changed first.
    Changed,
}

/// What the technician asked to see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Query {
    pub text: String,
    pub show: Show,
    pub sort: SortBy,
}

/// One line of the table: a group's header, or a room (its index in the
/// fleet's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Group(GroupSummary),
    Room(usize),
}

/// A group header: its name and counts over its shown rooms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    /// Empty for rooms without a group.
    pub name: String,
    pub rooms: usize,
    pub sharing: usize,
    pub problems: usize,
}

pub fn is_sharing(room: &RoomStatus) -> bool {
    room.share_info
        .as_ref()
        .is_some_and(|s| s.is_sharing || s.quick_casting_state != 0)
}

pub fn has_problem(room: &RoomStatus) -> bool {
    let link_down = matches!(
        room.conn,
        ConnState::Reconnecting { .. } | ConnState::AuthFailed { .. } | ConnState::Closed { .. }
    );
    let call_failed = room
        .last_call
        .as_ref()
        .is_some_and(|c| !c.is_pending() && !c.is_done());
    link_down || room.error.is_some() || call_failed
}

fn matches_text(room: &RoomStatus, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let meeting_title = room.meeting.as_ref().map(|m| m.meeting_title.as_str());
    [
        Some(room.name.as_str()),
        Some(room.group.as_str()),
        Some(room.label.as_str()),
        room.sharer(),
        meeting_title,
        room.cast_code.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|field| field.to_lowercase().contains(needle))
}

fn shown(room: &RoomStatus, query: &Query, needle: &str) -> bool {
    let chip = match query.show {
        Show::All => true,
        Show::Sharing => is_sharing(room),
        Show::Problems => has_problem(room),
    };
    chip && matches_text(room, needle)
}

/// Problems first, then sharing: what a technician looks at first.
fn urgency(room: &RoomStatus) -> u8 {
    match (has_problem(room), is_sharing(room)) {
        (true, _) => 0,
        (false, true) => 1,
        (false, false) => 2,
    }
}

fn compare(a: &RoomStatus, b: &RoomStatus, sort: SortBy) -> Ordering {
    let by_name = || natural_key(&a.name).cmp(&natural_key(&b.name));
    match sort {
        SortBy::Name => by_name(),
        SortBy::State => urgency(a).cmp(&urgency(b)).then_with(by_name),
        // `None` (never answered) sorts last.
        SortBy::Changed => b.changed_at.cmp(&a.changed_at).then_with(by_name),
    }
}

/// "Room 9" before "Room 10": digits compare as numbers.
fn natural_key(name: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut digits = c.to_string();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                digits.push(d);
            }
            let number = digits.parse().unwrap_or(u64::MAX);
            key.push((std::mem::take(&mut text), number));
        } else {
            text.extend(c.to_lowercase());
        }
    }
    key.push((text, 0));
    key
}

/// The table's lines: groups by name (rooms without a group last), each
/// header followed by its shown rooms in `query.sort` order. Groups with
/// no shown room are left out.
pub fn lines(rooms: &[RoomStatus], query: &Query) -> Vec<Line> {
    let needle = query.text.trim().to_lowercase();
    let mut groups: Vec<&str> = rooms.iter().map(|r| r.group.as_str()).collect();
    groups.sort_by_key(|g| (g.is_empty(), natural_key(g)));
    groups.dedup();
    let mut out = Vec::new();
    for group in groups {
        let mut members: Vec<usize> = (0..rooms.len())
            .filter(|&i| rooms[i].group == group && shown(&rooms[i], query, &needle))
            .collect();
        if members.is_empty() {
            continue;
        }
        members.sort_by(|&a, &b| compare(&rooms[a], &rooms[b], query.sort));
        out.push(Line::Group(GroupSummary {
            name: group.to_string(),
            rooms: members.len(),
            sharing: members.iter().filter(|&&i| is_sharing(&rooms[i])).count(),
            problems: members.iter().filter(|&&i| has_problem(&rooms[i])).count(),
        }));
        out.extend(members.into_iter().map(Line::Room));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::{ShareInfo, ShareUserInfo};
    use std::time::{Duration, Instant};

    fn room(name: &str, group: &str) -> RoomStatus {
        let mut r = RoomStatus::new(name, group, format!("ws://{name}"), false);
        r.conn = ConnState::Connected;
        r
    }

    fn sharing(mut r: RoomStatus, nickname: &str) -> RoomStatus {
        r.share_info = Some(ShareInfo {
            is_sharing: true,
            share_user_info: Some(ShareUserInfo {
                nickname: nickname.into(),
                ..Default::default()
            }),
            quick_casting_state: 0,
        });
        r
    }

    fn names(rooms: &[RoomStatus], lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| match l {
                Line::Group(g) => format!("[{}]", g.name),
                Line::Room(i) => rooms[*i].name.clone(),
            })
            .collect()
    }

    #[test]
    fn groups_then_natural_name_order_ungrouped_last() {
        let rooms = vec![
            room("Room 10", "12F"),
            room("Lobby", ""),
            room("Room 9", "12F"),
            room("Atrium", "2F"),
        ];
        let l = lines(&rooms, &Query::default());
        assert_eq!(
            names(&rooms, &l),
            [
                "[2F]", "Atrium", "[12F]", "Room 9", "Room 10", "[]", "Lobby"
            ]
        );
    }

    #[test]
    fn chips_and_text_filter() {
        let mut down = room("K2", "12F");
        down.conn = ConnState::AuthFailed {
            code: 5,
            message: "wrong password".into(),
        };
        let rooms = vec![
            sharing(room("Everest", "12F"), "Alice"),
            down,
            room("Fuji", "3F"),
        ];
        let sharing_only = Query {
            show: Show::Sharing,
            ..Query::default()
        };
        assert_eq!(
            names(&rooms, &lines(&rooms, &sharing_only)),
            ["[12F]", "Everest"]
        );
        let problems = Query {
            show: Show::Problems,
            ..Query::default()
        };
        assert_eq!(names(&rooms, &lines(&rooms, &problems)), ["[12F]", "K2"]);
        // The sharer's nickname matches too, case-insensitively.
        let alice = Query {
            text: "  aLiCe ".into(),
            ..Query::default()
        };
        assert_eq!(names(&rooms, &lines(&rooms, &alice)), ["[12F]", "Everest"]);
        // 3F before 12F (natural order); 12F's header counts its rooms.
        let all = lines(&rooms, &Query::default());
        let Some(Line::Group(g)) = all
            .iter()
            .find(|l| matches!(l, Line::Group(g) if g.name == "12F"))
        else {
            panic!("a 12F header")
        };
        assert_eq!((g.rooms, g.sharing, g.problems), (2, 1, 1));
    }

    #[test]
    fn sort_by_state_and_by_change() {
        let now = Instant::now();
        let mut a = room("A", "");
        a.changed_at = Some(now - Duration::from_secs(50));
        let mut b = sharing(room("B", ""), "Bob");
        b.changed_at = Some(now - Duration::from_secs(5));
        let mut c = room("C", "");
        c.error = Some("read failed".into());
        let rooms = vec![a, b, c];
        let by_state = Query {
            sort: SortBy::State,
            ..Query::default()
        };
        assert_eq!(
            names(&rooms, &lines(&rooms, &by_state)),
            ["[]", "C", "B", "A"]
        );
        let by_change = Query {
            sort: SortBy::Changed,
            ..Query::default()
        };
        assert_eq!(
            names(&rooms, &lines(&rooms, &by_change)),
            ["[]", "B", "A", "C"]
        );
    }
}
