//! What the Rooms view shows per room ([`RoomStatus`]: the room's view
//! plus the fleet's own fields) and the actions it can send to many rooms
//! ([`FleetAction`]).

use super::CallOutcome;
use crate::client::ConnState;
use crate::link::RoomView;
use crate::protocol::{MeetingAction, RoomShareAction, ShareAction};
use serde_json::Value;
use std::ops::{Deref, DerefMut};
use std::time::Instant;

/// One row of the Rooms view: the room's [`RoomView`] (it reads as its
/// view: `status.conn`, `status.sharer()`) and what the fleet adds.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomStatus {
    pub name: String,
    pub group: String,
    /// What is known about the room, folded as in the single-room console
    /// (the fleet reads only its share, meeting and share guide).
    pub view: RoomView,
    /// When the room's state last changed (link, meeting, share, cast code,
    /// guide); `None` before its first answer.
    pub changed_at: Option<Instant>,
    /// Why the room is not all right now: the link's last error, or a
    /// read that failed. `None` when fine.
    pub error: Option<String>,
    /// The last action sent to this room from the fleet, and its outcome.
    pub last_call: Option<CallOutcome>,
    /// How many times the link has (re)connected.
    pub connects: u32,
}

impl Deref for RoomStatus {
    type Target = RoomView;

    fn deref(&self) -> &RoomView {
        &self.view
    }
}

impl DerefMut for RoomStatus {
    fn deref_mut(&mut self) -> &mut RoomView {
        &mut self.view
    }
}

impl RoomStatus {
    /// A room before anything is known about it (also for fixtures).
    pub fn new(name: &str, group: &str, label: String, embedded: bool) -> RoomStatus {
        RoomStatus {
            name: name.to_string(),
            group: group.to_string(),
            view: RoomView::empty(label, embedded),
            changed_at: None,
            error: None,
            last_call: None,
            connects: 0,
        }
    }

    /// Something to show in a "problems" filter: not connected (and not
    /// on its first attempt), or a read failed.
    pub fn has_problem(&self) -> bool {
        !matches!(self.conn, ConnState::Connected | ConnState::Connecting) || self.error.is_some()
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

/// An action sent to one room or many at once.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetAction {
    /// `Call/Share`: stop sharing, end or cancel a quick cast, open or
    /// close the share guide, …
    Share(ShareAction),
    Meeting(MeetingAction),
    /// roomshare's room simulator (demo rooms and other roomshare engines).
    RoomShare(RoomShareAction),
    /// Any request as given (`roomshare rooms call MODULE ACTION …`).
    Request {
        method: String,
        params: Value,
    },
}

impl FleetAction {
    /// `StopShare`, …: the `action` of the request.
    pub fn name(&self) -> &str {
        match self {
            FleetAction::Share(a) => a.name(),
            FleetAction::Meeting(a) => a.name(),
            FleetAction::RoomShare(a) => a.name(),
            FleetAction::Request { method, params } => params
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or(method.as_str()),
        }
    }

    /// The request: method and params.
    pub(crate) fn request(&self) -> (&str, Value) {
        match self {
            FleetAction::Share(a) => ("Call/Share", a.to_params()),
            FleetAction::Meeting(a) => ("Call/Meeting", a.to_params()),
            FleetAction::RoomShare(a) => ("Call/RoomShare", a.to_params()),
            FleetAction::Request { method, params } => (method.as_str(), params.clone()),
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

impl From<RoomShareAction> for FleetAction {
    fn from(a: RoomShareAction) -> FleetAction {
        FleetAction::RoomShare(a)
    }
}
