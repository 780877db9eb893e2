//! What the Rooms view shows per room ([`RoomStatus`]), the actions it can
//! send to many rooms ([`FleetAction`]) and their per-room outcome
//! ([`CallResult`]).

use crate::client::ConnState;
use crate::link::NO_ANSWER;
use crate::protocol::model::{
    MeetingInfo, ShareInfo, ShareUserInfo, meeting_status_name, quick_cast_name, terminal_name,
};
use crate::protocol::{MeetingAction, ShareAction, SimAction, codes};
use serde_json::Value;
use std::time::{Duration, Instant};

/// One room as the Rooms view shows it. `None` = not known (yet).
#[derive(Debug, Clone, PartialEq)]
pub struct RoomStatus {
    pub name: String,
    pub group: String,
    /// The URL, or "embedded".
    pub label: String,
    pub embedded: bool,
    pub conn: ConnState,
    pub meeting: Option<MeetingInfo>,
    pub share_info: Option<ShareInfo>,
    pub cast_code: Option<String>,
    /// Known once read; real devices answer 6 to that node, so it stays
    /// `None` for them.
    pub share_guide_open: Option<bool>,
    /// When the room's state last changed (link, meeting, share, cast code,
    /// guide); `None` before its first answer.
    pub changed_at: Option<Instant>,
    /// Why the room is not all right now: the link's last error, or a
    /// read that failed. `None` when fine.
    pub error: Option<String>,
    /// The last action sent to this room from the fleet, and its outcome.
    pub last_call: Option<CallResult>,
    /// How many times the link has (re)connected.
    pub connects: u32,
}

impl RoomStatus {
    /// A room before anything is known about it (also for fixtures).
    pub fn new(name: &str, group: &str, label: String, embedded: bool) -> RoomStatus {
        RoomStatus {
            name: name.to_string(),
            group: group.to_string(),
            label,
            embedded,
            conn: ConnState::Connecting,
            meeting: None,
            share_info: None,
            cast_code: None,
            share_guide_open: None,
            changed_at: None,
            error: None,
            last_call: None,
            connects: 0,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.conn == ConnState::Connected
    }

    pub fn is_sharing(&self) -> Option<bool> {
        self.share_info.as_ref().map(|s| s.is_sharing)
    }

    /// Who shares (the sharer's nickname), while someone does.
    pub fn sharer(&self) -> Option<&str> {
        let info = self.share_info.as_ref().filter(|s| s.is_sharing)?;
        info.share_user_info.as_ref().map(|u| u.nickname.as_str())
    }

    /// The sharer, while someone shares (all the device says about them).
    pub fn sharer_info(&self) -> Option<&ShareUserInfo> {
        let info = self.share_info.as_ref().filter(|s| s.is_sharing)?;
        info.share_user_info.as_ref()
    }

    /// The sharer's terminal in words ("Rooms", "Windows", …).
    pub fn sharer_terminal(&self) -> Option<&'static str> {
        self.sharer_info().map(|u| terminal_name(u.instance_id))
    }

    /// What is shared: "screen" or "whiteboard".
    pub fn share_kind(&self) -> Option<&'static str> {
        self.sharer_info().map(|u| match u.screen_share_type {
            1 => "whiteboard",
            _ => "screen",
        })
    }

    /// The quick cast state: 0 not started, 1 preparing, 2 sharing.
    pub fn quick_casting_state(&self) -> Option<i64> {
        self.share_info.as_ref().map(|s| s.quick_casting_state)
    }

    /// [`RoomStatus::quick_casting_state`] in words.
    pub fn quick_cast_text(&self) -> Option<&'static str> {
        self.quick_casting_state().map(quick_cast_name)
    }

    /// The meeting's title, when in one and it has one.
    pub fn meeting_title(&self) -> Option<&str> {
        let m = self.meeting.as_ref()?;
        (!m.meeting_title.is_empty()).then_some(m.meeting_title.as_str())
    }

    /// While reconnecting: how long until the next attempt.
    pub fn reconnect_in(&self) -> Option<Duration> {
        match &self.conn {
            ConnState::Reconnecting { retry_at, .. } => {
                Some(retry_at.saturating_duration_since(Instant::now()))
            }
            _ => None,
        }
    }

    /// The device refused the password (no retry until
    /// [`super::Fleet::reconnect`]).
    pub fn is_auth_failed(&self) -> bool {
        matches!(self.conn, ConnState::AuthFailed { .. })
    }

    /// Something to show in a "problems" filter: not connected (and not
    /// on its first attempt), or a read failed.
    pub fn has_problem(&self) -> bool {
        !matches!(self.conn, ConnState::Connected | ConnState::Connecting) || self.error.is_some()
    }

    /// How long ago the state last changed.
    pub fn changed_ago(&self) -> Option<Duration> {
        self.changed_at.map(|t| t.elapsed())
    }

    pub fn meeting_status(&self) -> Option<i64> {
        self.meeting.as_ref().map(|m| m.meeting_status)
    }

    /// `In meeting (1)`, or `None` when unknown.
    pub fn meeting_text(&self) -> Option<String> {
        self.meeting_status()
            .map(|s| format!("{} ({s})", meeting_status_name(s)))
    }

    /// The link, a word for scripts: `connecting`, `connected`,
    /// `reconnecting`, `auth_failed`, `closed`.
    pub fn state_word(&self) -> &'static str {
        match self.conn {
            ConnState::Connecting => "connecting",
            ConnState::Connected => "connected",
            ConnState::Reconnecting { .. } => "reconnecting",
            ConnState::AuthFailed { .. } => "auth_failed",
            ConnState::Closed { .. } => "closed",
        }
    }

    /// What a change of state is measured on (not the countdown of a
    /// reconnection, which moves every attempt).
    pub(super) fn same_state(&self, other: &RoomStatus) -> bool {
        self.state_word() == other.state_word()
            && self.meeting == other.meeting
            && self.share_info == other.share_info
            && self.cast_code == other.cast_code
            && self.share_guide_open == other.share_guide_open
    }
}

/// An action the fleet can send to many rooms at once.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetAction {
    /// `Call/Share`: stop sharing, end or cancel a quick cast, open or
    /// close the share guide, …
    Share(ShareAction),
    Meeting(MeetingAction),
    /// roomshare's room simulator (demo rooms and other roomshare engines).
    Simulate(SimAction),
}

impl FleetAction {
    pub fn name(&self) -> &'static str {
        match self {
            FleetAction::Share(a) => a.name(),
            FleetAction::Meeting(a) => a.name(),
            FleetAction::Simulate(a) => a.name(),
        }
    }

    /// The request: method and params.
    pub(super) fn request(&self) -> (&'static str, Value) {
        match self {
            FleetAction::Share(a) => ("Call/Share", a.to_params()),
            FleetAction::Meeting(a) => ("Call/Meeting", a.to_params()),
            FleetAction::Simulate(a) => ("Call/RoomShare", a.to_params()),
        }
    }
}

impl From<ShareAction> for FleetAction {
    fn from(a: ShareAction) -> FleetAction {
        FleetAction::Share(a)
    }
}

impl From<MeetingAction> for FleetAction {
    fn from(a: MeetingAction) -> FleetAction {
        FleetAction::Meeting(a)
    }
}

impl From<SimAction> for FleetAction {
    fn from(a: SimAction) -> FleetAction {
        FleetAction::Simulate(a)
    }
}

/// The outcome of one action in one room.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    pub action: FleetAction,
    /// The device's `error_code` (0 = done), [`NO_ANSWER`] when the room
    /// could not be asked or did not answer, `None` while waiting.
    pub code: Option<i64>,
    /// The device's message, or why there was no answer.
    pub message: String,
    /// When it was sent, then when it was answered.
    pub at: Instant,
}

impl CallResult {
    pub(super) fn pending(action: FleetAction) -> CallResult {
        CallResult {
            action,
            code: None,
            message: String::new(),
            at: Instant::now(),
        }
    }

    pub fn is_pending(&self) -> bool {
        self.code.is_none()
    }

    pub fn is_done(&self) -> bool {
        self.code == Some(codes::OK)
    }

    /// The documented meaning of the code (`None` while waiting, when
    /// done, or for [`NO_ANSWER`]: see [`CallResult::message`]).
    pub fn meaning(&self) -> Option<&'static str> {
        match self.code {
            None | Some(codes::OK) | Some(NO_ANSWER) => None,
            Some(code) => Some(codes::meaning(code).unwrap_or("undocumented code")),
        }
    }

    /// For people: `done`, `waiting…`, `17 Repeat Operation: nothing is
    /// being shared`, `no answer: not connected: connection refused`.
    pub fn summary(&self) -> String {
        match self.code {
            None => "waiting…".into(),
            Some(codes::OK) => "done".into(),
            Some(NO_ANSWER) => format!("no answer: {}", self.message),
            Some(code) => {
                let meaning = codes::meaning(code).unwrap_or("undocumented code");
                if self.message.is_empty() || self.message == meaning {
                    format!("{code} {meaning}")
                } else {
                    format!("{code} {meaning}: {}", self.message)
                }
            }
        }
    }
}
