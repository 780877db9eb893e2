//! [`RoomView`]: everything the console shows about a room, how typed
//! answers and events fold into it (the one fold, for the single-room
//! console, every fleet room and the command line's visits), and how it
//! reads in words.

use crate::client::ConnState;
use crate::protocol::answers::{ShareNode, ShareSession, SourcesAnswer};
use crate::protocol::model::{
    MeetingInfo, ShareInfo, ShareUserInfo, SourceInfo, meeting_status_name, terminal_name,
};
use crate::protocol::{CaptureStatus, Event, EventEnvelope};
use std::time::{Duration, Instant};

/// Whether the peer speaks roomshare's `RoomShare` extension (sources and
/// thumbnails). Real devices do not.
#[derive(Debug, Clone, PartialEq)]
pub enum Extension {
    Unknown,
    Present,
    /// Why thumbnails are absent (e.g. "the device answered 6 Query Path Error").
    Absent(String),
}

/// Everything the console shows about the room. `None` = not known yet.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomView {
    /// "embedded" or the URL.
    pub label: String,
    pub embedded: bool,
    pub conn: ConnState,
    pub share_info: Option<ShareInfo>,
    pub meeting: Option<MeetingInfo>,
    pub cast_code: Option<String>,
    pub capture_device_list: Vec<String>,
    pub share_guide_open: Option<bool>,
    pub extension: Extension,
    /// The source list and its generation (with the extension). Without it,
    /// the UI builds tiles from `capture_device_list` and the desktop.
    pub sources: Vec<SourceInfo>,
    pub generation: Option<u64>,
    /// Whether the engine's machine can capture, and if not why (with the
    /// extension; `ok` without it).
    pub capture: CaptureStatus,
    /// This engine's own share (with the extension), while it shares.
    pub share_session: Option<ShareSession>,
    /// A reason the last share stopped by itself (source vanished).
    pub last_stop_reason: Option<String>,
}

impl RoomView {
    /// Nothing known yet: the view before the first answer.
    pub fn empty(label: String, embedded: bool) -> RoomView {
        RoomView {
            label,
            embedded,
            conn: ConnState::Connecting,
            share_info: None,
            meeting: None,
            cast_code: None,
            capture_device_list: Vec::new(),
            share_guide_open: None,
            extension: Extension::Unknown,
            sources: Vec::new(),
            generation: None,
            capture: CaptureStatus::ok(),
            share_session: None,
            last_stop_reason: None,
        }
    }

    /// The Share module's answer; members the device left out keep their
    /// last known value.
    pub fn apply_share(&mut self, node: ShareNode) {
        if let Some(info) = node.share_info {
            self.share_info = Some(info);
        }
        if let Some(code) = node.cast_code {
            self.cast_code = Some(code);
        }
        self.capture_device_list = node.capture_device_list;
    }

    pub fn apply_sources(&mut self, answer: SourcesAnswer) {
        self.extension = Extension::Present;
        self.sources = answer.sources;
        self.generation = Some(answer.generation);
        self.capture = answer.capture;
    }

    /// The peer has no `RoomShare` extension (a real device).
    pub fn without_extension(&mut self, reason: String) {
        self.extension = Extension::Absent(reason);
        self.sources.clear();
        self.generation = None;
        self.capture = CaptureStatus::ok();
    }

    /// Only test patterns to show (every source is synthetic).
    pub fn test_patterns_only(&self) -> bool {
        !self.sources.is_empty() && self.sources.iter().all(SourceInfo::is_test_pattern)
    }

    pub fn apply_session(&mut self, session: ShareSession) {
        self.share_session = session.is_active().then_some(session);
    }

    /// Fold one pushed event into the view.
    pub fn apply_event(&mut self, envelope: &EventEnvelope) {
        match &envelope.event {
            Event::ShareInfoChanged(a) => {
                self.share_info = Some(a.share_info.clone());
                if let Some(reason) = stop_reason(envelope) {
                    self.last_stop_reason = Some(reason.to_string());
                }
            }
            Event::CastCodeChanged(a) => self.cast_code = Some(a.cast_code.clone()),
            Event::CaptureDeviceListChanged(a) => {
                self.capture_device_list = a.capture_device_list.clone();
            }
            Event::ShareGuideChanged(a) => self.share_guide_open = Some(a.share_guide_open),
            Event::SourcesChanged(a) => self.apply_sources(a.clone()),
            Event::ShareSessionChanged(a) => self.apply_session(a.share_session.clone()),
            Event::JoinMeetingCompleted(a) => self.meeting = Some(a.meeting_info.clone()),
            Event::MeetingStatusChanged(a) | Event::LeaveMeeting(a) | Event::DissolveMeeting(a) => {
                self.meeting = Some(a.meeting_info.clone());
            }
            Event::Other { .. } => {}
        }
    }
}

/// Reading the view: what the console and the command line say about a
/// room, whichever shape holds it ([`crate::link::fleet::RoomStatus`] and
/// [`crate::link::fleet::Probe`] read as their view).
impl RoomView {
    pub fn is_connected(&self) -> bool {
        self.conn == ConnState::Connected
    }

    pub fn is_sharing(&self) -> Option<bool> {
        self.share_info.as_ref().map(|s| s.is_sharing)
    }

    /// Who shares (the sharer's nickname), while someone does.
    pub fn sharer(&self) -> Option<&str> {
        self.sharer_info().map(|u| u.nickname.as_str())
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

    /// The meeting's title, when in one and it has one.
    pub fn meeting_title(&self) -> Option<&str> {
        let m = self.meeting.as_ref()?;
        (!m.meeting_title.is_empty()).then_some(m.meeting_title.as_str())
    }

    pub fn meeting_status(&self) -> Option<i64> {
        self.meeting.as_ref().map(|m| m.meeting_status)
    }

    /// `In meeting (1)`, or `None` when unknown.
    pub fn meeting_text(&self) -> Option<String> {
        self.meeting_status()
            .map(|s| format!("{} ({s})", meeting_status_name(s)))
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

    /// The device refused the password (no retry until asked).
    pub fn is_auth_failed(&self) -> bool {
        matches!(self.conn, ConnState::AuthFailed { .. })
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
}

/// Why a share stopped by itself, when an event says so.
pub fn stop_reason(envelope: &EventEnvelope) -> Option<&str> {
    let forced = envelope.error_code != 0 && !envelope.message.is_empty();
    (forced && matches!(envelope.event, Event::ShareInfoChanged(_))).then_some(&envelope.message)
}
