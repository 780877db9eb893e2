//! What the exporter reads of a room, in one place: [`sample`] is the only
//! code that looks into the fleet's [`RoomStatus`], so a reshaped status
//! changes this file alone. Nothing here holds a password or a sharer's
//! name: a [`RoomSample`] cannot leak what it does not carry.

use crate::client::ConnState;
use crate::link::fleet::{RequestResult, RoomStatus};
use std::collections::{HashMap, HashSet};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The link as the `roomshare_room_link_state` state set names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connected,
    AuthFailed,
    Unreachable,
    Timeout,
    Connecting,
}

impl LinkState {
    pub const ALL: [LinkState; 5] = [
        LinkState::Connected,
        LinkState::AuthFailed,
        LinkState::Unreachable,
        LinkState::Timeout,
        LinkState::Connecting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Connected => "connected",
            LinkState::AuthFailed => "auth_failed",
            LinkState::Unreachable => "unreachable",
            LinkState::Timeout => "timeout",
            LinkState::Connecting => "connecting",
        }
    }

    /// A failure the link reported, by its words: the client says "no
    /// answer … within …" for a handshake or request that timed out.
    fn of_error(error: &str) -> LinkState {
        if error.contains("no answer") {
            LinkState::Timeout
        } else {
            LinkState::Unreachable
        }
    }
}

/// One room as the metrics show it. The room's facts (`in_meeting`, …)
/// are `None` when not known now: before the first answer, and whenever
/// the room is not connected (a stale value would keep alerts alive).
#[derive(Debug, Clone, PartialEq)]
pub struct RoomSample {
    pub room: String,
    pub group: String,
    /// The URL without any user or password part.
    pub url: String,
    pub link: LinkState,
    pub in_meeting: Option<bool>,
    pub sharing: Option<bool>,
    pub quick_cast_state: Option<i64>,
    pub share_guide_open: Option<bool>,
    /// Unix seconds.
    pub state_changed: Option<f64>,
    pub reconnects: u64,
    /// Requests sent to the room so far, by how they ended (`result` label).
    pub requests: [(&'static str, u64); 4],
    /// Its state is known: connected with its share and meeting read, or
    /// failed (auth, unreachable, timeout).
    pub known: bool,
}

/// The adapter from the fleet: everything the exporter reads of a room.
/// Fields read: `name`, `group`, `label`, `conn`, `error`, `meeting`
/// (`meeting_status`), `share_info` (`is_sharing`, `quick_casting_state`),
/// `share_guide_open`, `changed_at`, `connects`; and the room's request
/// counts (`Fleet::request_counts`, `None` before any).
pub fn sample(status: &RoomStatus, requests: Option<&[(RequestResult, u64); 4]>) -> RoomSample {
    let link = match (&status.conn, &status.error) {
        (ConnState::Connected, _) => LinkState::Connected,
        (ConnState::AuthFailed { .. }, _) => LinkState::AuthFailed,
        (ConnState::Reconnecting { last_error, .. }, _) => LinkState::of_error(last_error),
        (ConnState::Closed { reason }, _) => LinkState::of_error(reason),
        // A retry under way: the room is still what its last attempt found.
        (ConnState::Connecting, Some(error)) => LinkState::of_error(error),
        (ConnState::Connecting, None) => LinkState::Connecting,
    };
    let connected = link == LinkState::Connected;
    let share = status.share_info.as_ref().filter(|_| connected);
    let meeting = status.meeting.as_ref().filter(|_| connected);
    RoomSample {
        room: status.name.clone(),
        group: status.group.clone(),
        url: without_userinfo(&status.label),
        link,
        in_meeting: meeting.map(|m| matches!(m.meeting_status, 1 | 4)),
        sharing: share.map(|s| s.is_sharing),
        quick_cast_state: share.map(|s| s.quick_casting_state),
        share_guide_open: status.share_guide_open.filter(|_| connected),
        state_changed: status.changed_at.map(unix_seconds),
        reconnects: u64::from(status.connects.saturating_sub(1)),
        requests: match requests {
            Some(counts) => counts.map(|(result, n)| (result.as_str(), n)),
            None => RequestResult::ALL.map(|result| (result.as_str(), 0)),
        },
        known: match link {
            LinkState::Connecting => false,
            LinkState::Connected => share.is_some() && meeting.is_some(),
            _ => true,
        },
    }
}

/// `ws://user:pw@host/` → `ws://host/` (the rooms file keeps passwords
/// elsewhere, but a URL written with one must not carry it out).
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// An [`Instant`] as Unix seconds, to the millisecond (so that the same
/// instant gives the same number scrape after scrape).
pub fn unix_seconds(at: Instant) -> f64 {
    let now = SystemTime::now();
    let then = now.checked_sub(at.elapsed()).unwrap_or(now);
    let millis = then.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    millis as f64 / 1000.0
}

pub fn now_unix_seconds() -> f64 {
    unix_seconds(Instant::now())
}

/// What the fleet's snapshot does not keep: since when each room shares,
/// and whether every room has been tried at least once (for `/-/ready`).
/// Fed from the fleet's change notifications and at each scrape.
#[derive(Debug, Default)]
pub struct Memory {
    sharing_since: HashMap<String, f64>,
    tried: HashSet<String>,
}

impl Memory {
    pub fn observe(&mut self, samples: &[RoomSample]) {
        for s in samples {
            if s.link != LinkState::Connecting && !self.tried.contains(&s.room) {
                self.tried.insert(s.room.clone());
            }
            if s.sharing == Some(true) {
                let since = s.state_changed.unwrap_or_else(now_unix_seconds);
                self.sharing_since.entry(s.room.clone()).or_insert(since);
            } else {
                self.sharing_since.remove(&s.room);
            }
        }
    }

    /// Unix seconds, while the room shares.
    pub fn sharing_since(&self, room: &str) -> Option<f64> {
        self.sharing_since.get(room).copied()
    }

    /// Every room connected or failed at least once.
    pub fn all_tried(&self, samples: &[RoomSample]) -> bool {
        samples.iter().all(|s| self.tried.contains(&s.room))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_userinfo_only() {
        assert_eq!(without_userinfo("ws://u:pw@h:1/x@y"), "ws://h:1/x@y");
        assert_eq!(without_userinfo("ws://h:1/"), "ws://h:1/");
        assert_eq!(without_userinfo("embedded"), "embedded");
    }

    #[test]
    fn a_retry_keeps_the_last_failure() {
        let mut status = RoomStatus::new("A", "", "ws://h/".into(), false);
        assert_eq!(sample(&status, None).link, LinkState::Connecting);
        assert!(!sample(&status, None).known);
        status.error = Some("no answer from ws://h/ within 1s".into());
        assert_eq!(sample(&status, None).link, LinkState::Timeout);
        status.error = Some("connection refused".into());
        assert_eq!(sample(&status, None).link, LinkState::Unreachable);
        assert!(sample(&status, None).known);
    }
}
