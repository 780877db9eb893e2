//! The data models of the Share and Meeting modules (protocol.md §3, §4, §6)
//! and roomshare's own source descriptions (§8).
//!
//! Field order is wire order. Nested objects come before scalars so that the
//! last member of every Query node is a scalar: regex-matching controllers
//! find the end of a frame with `}}}}` and jam when an object closes there.

use serde::{Deserialize, Serialize};

/// `share_info`. `share_user_info` is present only while someone shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ShareInfo {
    /// Who shares; present only while someone does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_user_info: Option<ShareUserInfo>,
    /// Someone shares: this Rooms, a participant or a quick cast.
    #[serde(default)]
    pub is_sharing: bool,
    /// 0 not started, 1 preparing, 2 sharing (pre-meeting quick cast).
    #[serde(default)]
    pub quick_casting_state: i64,
}

/// `share_user_info`: who is sharing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ShareUserInfo {
    /// The sharer's account id in the meeting app.
    pub app_uid: String,
    /// The sharer's enterprise (corp) id.
    pub app_id: String,
    /// The sharer's user id.
    pub user_id: String,
    /// The sharer hosts the meeting.
    pub host: bool,
    /// The sharer co-hosts the meeting.
    pub co_host: bool,
    /// The sharer's terminal type, see [`terminal_name`].
    pub instance_id: i64,
    /// 1 normal, 2 PSTN.
    pub user_type: i64,
    /// The sharer created the meeting.
    pub is_creator: bool,
    /// See [`role_name`].
    pub role_type: i64,
    /// The sharer's camera is on.
    pub video_on: bool,
    /// The sharer's microphone (or shared sound) is on.
    pub audio_on: bool,
    /// The sharer is sharing a screen or whiteboard.
    pub screen_sharing: bool,
    /// 0 screen, 1 whiteboard.
    pub screen_share_type: i64,
    /// The sharer is sharing a web page.
    pub web_sharing: bool,
    /// The sharer's display name (often Chinese).
    pub nickname: String,
}

/// Human name of an `instance_id` (terminal type).
pub fn terminal_name(instance_id: i64) -> &'static str {
    match instance_id {
        0 => "PSTN",
        1 => "PC",
        2 => "Mac",
        3 => "Android",
        4 => "iOS",
        5 => "Web",
        6 => "iPad",
        7 => "Android Pad",
        8 => "Mini-program",
        9 => "SIP",
        10 => "Linux",
        20..=22 => "Rooms",
        30..=33 => "Controller",
        _ => "Unknown terminal",
    }
}

/// Human name of a `role_type`.
pub fn role_name(role_type: i64) -> &'static str {
    match role_type {
        1 => "Host",
        2 => "Co-host",
        3 => "Participant",
        4 => "Internal guest",
        5..=7 => "External guest",
        8 => "Interpreter",
        _ => "Unknown role",
    }
}

/// `meeting_time` as field controllers read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct MeetingTime {
    /// Start, Unix seconds.
    pub begin_time: i64,
    /// Scheduled end, Unix seconds (0: open-ended).
    pub end_time: i64,
}

/// `meeting_info` (the subset a share console needs). Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct MeetingInfo {
    /// `begin_time`/`end_time` nested, as field controllers read them.
    pub meeting_time: MeetingTime,
    /// 0 not in meeting, 1 in meeting, 2 joining, 3 waiting room,
    /// 4 casting before a meeting, 5 phone call before a meeting.
    pub meeting_status: i64,
    /// -1 unknown, 0 one-time, 1 recurring, 2 WeChat, 3 cast meeting.
    pub meeting_type: i64,
    /// The meeting's subject.
    pub meeting_title: String,
    /// The meeting code, digits only.
    pub meeting_code: String,
    /// The meeting code in groups of three ("123 456 789").
    pub formatted_meeting_code: String,
    /// The meeting's password (empty: none).
    pub meeting_password: String,
    /// Start, Unix seconds (the same as `meeting_time.begin_time`).
    pub begin_time: i64,
    /// Scheduled end, Unix seconds (the same as `meeting_time.end_time`).
    pub end_time: i64,
    /// Who created the meeting.
    pub meeting_creator_name: String,
    /// Host status as the device reports it (undocumented; the engine says 1).
    pub host_status: i64,
}

impl MeetingInfo {
    /// "In meeting" for the Share module's preconditions: in a meeting, or
    /// in a pre-meeting cast meeting.
    pub fn in_meeting(&self) -> bool {
        matches!(self.meeting_status, 1 | 4)
    }
}

/// Human name of a `meeting_status`.
pub fn meeting_status_name(status: i64) -> &'static str {
    match status {
        0 => "Not in meeting",
        1 => "In meeting",
        2 => "Joining",
        3 => "Waiting room",
        4 => "Casting before a meeting",
        5 => "Phone call before a meeting",
        _ => "Unknown status",
    }
}

/// Human name of a `quick_casting_state`.
pub fn quick_cast_name(state: i64) -> &'static str {
    match state {
        0 => "Not started",
        1 => "Preparing",
        2 => "Sharing",
        _ => "Unknown",
    }
}

/// What kind of thing a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The whole desktop (every monitor): `select_index` 0.
    Desktop,
    /// One monitor: a screen, shared with `share_type` 0 and its
    /// `select_index` (after the desktop, before the windows).
    Monitor,
    /// A window: shared with `share_type` 0 and its `select_index`.
    Window,
    /// Video-capture hardware (an HDMI grabber, a camera): shared with
    /// `share_type` 1 and its `device_id`.
    CaptureDevice,
}

/// Now, in Unix seconds: the time unit of the wire (`since`, meeting times).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// How a source's picture is doing (`health` of a source in
/// `["RoomShare","Sources"]`): measured from the frames the thumbnails and
/// the share already grab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceHealth {
    /// Live, static, black, stalled, no signal, no power or gone.
    pub state: SourceHealthState,
    /// When the state began (Unix seconds); null when unknown.
    #[serde(default)]
    pub since: Option<i64>,
}

/// What a source's picture is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceHealthState {
    /// Frames arrive and the picture changes.
    Live,
    /// Frames arrive, the picture has not changed for a while: normal for a
    /// screen or a window, information rather than a fault.
    Static,
    /// The picture has been black for a while (blackdetect's rule).
    Black,
    /// No frame for several frame intervals: the grab or the device stopped.
    Stalled,
    /// A capture input that reports no signal (V4L2 input status).
    NoSignal,
    /// A capture input that reports no power.
    NoPower,
    /// The source no longer exists.
    Gone,
}

/// One shareable source, as the engine publishes it (`["RoomShare","Sources"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// How its picture is doing; absent until measured. First: nested
    /// objects come before scalars (protocol.md, regex-matching controllers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<SourceHealth>,
    /// Stable across refreshes (a window's X id, a monitor's name).
    pub id: String,
    /// Desktop, monitor, window or capture device.
    pub kind: SourceKind,
    /// What `StartShare`'s `select_index` calls a screen or window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_index: Option<u32>,
    /// What `StartShare`'s `device_id` calls a capture device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The window title, monitor or device name.
    #[serde(default)]
    pub title: String,
    /// The program a window belongs to (or what kind of source it is).
    #[serde(default)]
    pub app: String,
    /// Width in pixels.
    #[serde(default)]
    pub width: u32,
    /// Height in pixels.
    #[serde(default)]
    pub height: u32,
    /// Why the source cannot be captured right now (a minimised window, a
    /// capture device in use by another program); absent when it can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// What `app` says of a synthetic source (a test pattern, not a real
/// screen, window or device), so every console and tool can label it.
pub const TEST_PATTERN_APP: &str = "test pattern";

impl SourceInfo {
    /// A synthetic test pattern rather than something real.
    pub fn is_test_pattern(&self) -> bool {
        self.app == TEST_PATTERN_APP
    }
}

/// Whether the engine's machine can capture now (`capture` in
/// `["RoomShare","Sources"]`), so a console shows why a wall is empty
/// instead of "No sources".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaptureStatus {
    /// Ok, waiting, refused or unavailable.
    pub state: CaptureState,
    /// Why, and what to do, when not `ok`; null when `ok`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Where capture stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureState {
    /// Sources are listed and captured.
    #[default]
    Ok,
    /// Waiting for the user to allow capture (the portal's dialog).
    Waiting,
    /// The user or the system said no; asking again may help.
    Refused,
    /// This machine cannot capture as set up (a missing portal, no
    /// PipeWire, no display).
    Unavailable,
}

impl CaptureStatus {
    /// Capturing: no reason.
    pub fn ok() -> CaptureStatus {
        CaptureStatus::default()
    }

    /// A state other than `ok`, with its reason.
    pub fn not_ok(state: CaptureState, reason: impl Into<String>) -> CaptureStatus {
        CaptureStatus {
            state,
            reason: Some(reason.into()),
        }
    }

    /// Whether capture works.
    pub fn is_ok(&self) -> bool {
        self.state == CaptureState::Ok
    }

    /// Refused or unavailable: asking again may help (while waiting, the
    /// question is already asked).
    pub fn can_ask_again(&self) -> bool {
        matches!(
            self.state,
            CaptureState::Refused | CaptureState::Unavailable
        )
    }
}

/// Number sources the way `select_index` and `device_id` refer to them
/// (design.md, "Sources and indices"): the desktop first (`select_index`
/// 0), then each monitor, then the windows in the order given (front to
/// back); capture devices get no index but a `device_id` (their id when
/// unset). Engines publish the list numbered; tools that list sources
/// locally number it the same way.
pub fn number_sources(mut sources: Vec<SourceInfo>) -> Vec<SourceInfo> {
    // A stable sort keeps the capture layer's order within each kind.
    sources.sort_by_key(|s| match s.kind {
        SourceKind::Desktop => 0,
        SourceKind::Monitor => 1,
        SourceKind::Window => 2,
        SourceKind::CaptureDevice => 3,
    });
    let mut next_index = 0;
    let mut seen_desktop = false;
    for s in &mut sources {
        if s.kind == SourceKind::CaptureDevice {
            s.select_index = None;
            if s.device_id.as_deref().is_none_or(str::is_empty) {
                s.device_id = Some(s.id.clone());
            }
            continue;
        }
        s.device_id = None;
        // Only one desktop can be index 0; a second one is not shareable.
        if s.kind == SourceKind::Desktop && std::mem::replace(&mut seen_desktop, true) {
            s.select_index = None;
            continue;
        }
        if !seen_desktop {
            // No desktop listed: index 0 still means "the desktop".
            next_index = next_index.max(1);
        }
        s.select_index = Some(next_index);
        next_index += 1;
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(id: &str, kind: SourceKind) -> SourceInfo {
        SourceInfo {
            id: id.into(),
            kind,
            select_index: None,
            device_id: None,
            title: id.into(),
            app: String::new(),
            width: 1,
            height: 1,
            unavailable: None,
            health: None,
        }
    }

    #[test]
    fn desktop_then_monitors_then_windows_and_devices_by_id() {
        let listed = vec![
            source("window:2", SourceKind::Window),
            source("device:cam", SourceKind::CaptureDevice),
            source("monitor:B", SourceKind::Monitor),
            source("window:1", SourceKind::Window),
            source("desktop", SourceKind::Desktop),
            source("monitor:A", SourceKind::Monitor),
        ];
        let numbered = number_sources(listed);
        let order: Vec<(&str, Option<u32>)> = numbered
            .iter()
            .map(|s| (s.id.as_str(), s.select_index))
            .collect();
        assert_eq!(
            order,
            [
                ("desktop", Some(0)),
                ("monitor:B", Some(1)),
                ("monitor:A", Some(2)),
                ("window:2", Some(3)),
                ("window:1", Some(4)),
                ("device:cam", None),
            ]
        );
        assert_eq!(numbered[5].device_id.as_deref(), Some("device:cam"));
    }

    #[test]
    fn without_a_desktop_index_zero_stays_free() {
        let numbered = number_sources(vec![source("window:1", SourceKind::Window)]);
        assert_eq!(numbered[0].select_index, Some(1));
    }
}
