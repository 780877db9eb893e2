//! Typed Call actions with the checks protocol.md §4 puts before any state is
//! looked at: an unknown action → 9; a missing required input, a wrong JSON
//! type or a value outside a documented enum → 8. Parameters are read from
//! `action_params` first, then directly from `params` (the vendor's
//! EndQuickShare example puts `meeting_type` there).

use super::codes::{PARAMETER_ERROR, UNSUPPORTED_ACTION};
use super::inspect::{InspectParams, MAX_FPS, MAX_REMOTE_SECONDS};
use super::message::{RpcError, json_type};
use serde_json::{Map, Value, json};

/// Where a Call's inputs are read from.
pub struct Params<'a> {
    action_params: Option<&'a Map<String, Value>>,
    params: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    /// The inputs of a request whose `params` object is `params`.
    pub fn new(params: &'a Map<String, Value>) -> Params<'a> {
        Params {
            action_params: params.get("action_params").and_then(Value::as_object),
            params,
        }
    }

    /// The action name: a string, or error 8.
    pub fn action(&self) -> Result<&'a str, RpcError> {
        match self.params.get("action") {
            Some(Value::String(a)) => Ok(a),
            None | Some(Value::Null) => Err(RpcError::new(
                PARAMETER_ERROR,
                "missing required parameter `action` (string)",
            )),
            Some(other) => Err(RpcError::new(
                PARAMETER_ERROR,
                format!("`action` must be a string, got {}", json_type(other)),
            )),
        }
    }

    /// A parameter; `null` counts as absent.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.action_params
            .and_then(|ap| ap.get(name))
            .or_else(|| self.params.get(name))
            .filter(|v| !v.is_null())
    }

    /// An optional bool; another JSON type is error 8.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, RpcError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(name, "a bool (true or false)", other)),
        }
    }

    /// A required bool: missing or another JSON type is error 8.
    pub fn req_bool(&self, name: &str) -> Result<bool, RpcError> {
        self.opt_bool(name)?.ok_or_else(|| missing(name, "bool"))
    }

    /// An optional non-negative integer; anything else is error 8.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, RpcError> {
        self.opt_integer(name, "a non-negative integer", serde_json::Number::as_u64)
    }

    /// An optional index (a `u32`); anything else is error 8.
    pub fn opt_index(&self, name: &str) -> Result<Option<u32>, RpcError> {
        match self.opt_u64(name)? {
            None => Ok(None),
            Some(n) => u32::try_from(n).map(Some).map_err(|_| {
                RpcError::new(PARAMETER_ERROR, format!("`{name}` {n} is out of range"))
            }),
        }
    }

    /// An optional integer (an `i64`); anything else is error 8.
    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, RpcError> {
        self.opt_integer(name, "an integer", serde_json::Number::as_i64)
    }

    /// An optional number that `convert` accepts, described as `what` in
    /// the error 8 for anything else.
    fn opt_integer<T>(
        &self,
        name: &str,
        what: &str,
        convert: fn(&serde_json::Number) -> Option<T>,
    ) -> Result<Option<T>, RpcError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => convert(n).map(Some).ok_or_else(|| {
                RpcError::new(PARAMETER_ERROR, format!("`{name}` must be {what}, got {n}"))
            }),
            Some(other) => Err(wrong_type(name, what, other)),
        }
    }

    /// An optional finite number in `range` (described as `what` in the
    /// error 8 for anything else).
    pub fn opt_number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<f64>,
        what: &str,
    ) -> Result<Option<f64>, RpcError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if range.contains(&x) => Ok(Some(x)),
                _ => Err(RpcError::new(
                    PARAMETER_ERROR,
                    format!("`{name}` must be {what}, got {n}"),
                )),
            },
            Some(other) => Err(wrong_type(name, what, other)),
        }
    }

    /// An optional string; another JSON type is error 8.
    pub fn opt_string(&self, name: &str) -> Result<Option<String>, RpcError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong_type(name, "a string", other)),
        }
    }

    /// A required string: missing or another JSON type is error 8.
    pub fn req_string(&self, name: &str) -> Result<String, RpcError> {
        self.opt_string(name)?
            .ok_or_else(|| missing(name, "string"))
    }
}

fn missing(name: &str, ty: &str) -> RpcError {
    RpcError::new(
        PARAMETER_ERROR,
        format!("missing required parameter `{name}` ({ty})"),
    )
}

fn wrong_type(name: &str, expected: &str, got: &Value) -> RpcError {
    RpcError::new(
        PARAMETER_ERROR,
        format!("`{name}` must be {expected}, got {}", json_type(got)),
    )
}

/// `share_type` of StartShare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareType {
    /// 0: this PC's desktop or a window, chosen by `select_index`.
    Desktop,
    /// 1: a capture device, chosen by `device_id`.
    CaptureDevice,
}

/// What to share, as StartShare and StartWindowShare name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareTarget {
    /// `select_index` (0 = desktop, 1..n = windows).
    Index(u32),
    /// `device_id`; `None` = the first capture device.
    Device(Option<String>),
}

/// Options of a share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartShare {
    /// Which source: a `select_index` or a capture device.
    pub target: ShareTarget,
    /// Prefer smooth motion over sharpness.
    pub fluency_first: bool,
    /// Share the computer's sound too.
    pub share_voice: bool,
    /// roomshare extension: the source-list generation `select_index` was
    /// computed against, so a click on a stale list is refused, not misdirected.
    pub generation: Option<u64>,
}

/// The eight `Call/Share` actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareAction {
    /// Share a screen, window or capture device (the recommended form).
    StartShare(StartShare),
    /// Stop this Rooms' own share, or a quick cast in progress.
    StopShare,
    /// The older form of `StartShare` for a screen or window.
    StartWindowShare(StartShare),
    /// Stop this Rooms' own share only (the older form).
    StopWindowShare,
    /// End a quick cast (pre-meeting cast); its meeting ends.
    EndQuickShare,
    /// Cancel a quick cast, as `EndQuickShare` does.
    CancelQuickShare,
    /// Show the share guide on the room's screen.
    OpenShareGuide,
    /// Hide the share guide.
    CloseShareGuide,
}

/// The `Call/Share` action names, as an error 9 lists them.
pub const SHARE_ACTIONS: [&str; 8] = [
    "StartShare",
    "StopShare",
    "StartWindowShare",
    "StopWindowShare",
    "EndQuickShare",
    "CancelQuickShare",
    "OpenShareGuide",
    "CloseShareGuide",
];

impl ShareAction {
    /// The action named `action` with its inputs from `p`: error 9 for an
    /// unknown name, 8 for a missing, mistyped or out-of-range input.
    pub fn parse(action: &str, p: &Params) -> Result<ShareAction, RpcError> {
        Ok(match action {
            "StartShare" => {
                let share_type = match p.get("share_type") {
                    None => {
                        return Err(missing(
                            "share_type",
                            "int: 0 = desktop or window, 1 = capture device",
                        ));
                    }
                    Some(Value::Number(n)) if n.as_i64() == Some(0) => ShareType::Desktop,
                    Some(Value::Number(n)) if n.as_i64() == Some(1) => ShareType::CaptureDevice,
                    Some(other) => {
                        return Err(RpcError::new(
                            PARAMETER_ERROR,
                            format!(
                                "`share_type` must be 0 (desktop or window) or 1 (capture device), got {other}"
                            ),
                        ));
                    }
                };
                let share_voice = p.opt_bool("share_voice")?.unwrap_or(false);
                let generation = p.opt_u64("generation")?;
                match share_type {
                    ShareType::Desktop => ShareAction::StartShare(StartShare {
                        fluency_first: p.req_bool("fluency_first")?,
                        share_voice,
                        target: ShareTarget::Index(p.opt_index("select_index")?.unwrap_or(0)),
                        generation,
                    }),
                    ShareType::CaptureDevice => ShareAction::StartShare(StartShare {
                        fluency_first: p.opt_bool("fluency_first")?.unwrap_or(false),
                        share_voice,
                        target: ShareTarget::Device(
                            p.opt_string("device_id")?.filter(|d| !d.is_empty()),
                        ),
                        generation,
                    }),
                }
            }
            "StartWindowShare" => ShareAction::StartWindowShare(StartShare {
                share_voice: p.req_bool("share_voice")?,
                fluency_first: p.req_bool("fluency_first")?,
                target: ShareTarget::Index(p.opt_index("select_index")?.unwrap_or(0)),
                generation: p.opt_u64("generation")?,
            }),
            "StopShare" => ShareAction::StopShare,
            "StopWindowShare" => ShareAction::StopWindowShare,
            "EndQuickShare" | "CancelQuickShare" => {
                // Optional and fixed ("castMeeting"); still type-checked.
                p.opt_string("meeting_type")?;
                if action == "EndQuickShare" {
                    ShareAction::EndQuickShare
                } else {
                    ShareAction::CancelQuickShare
                }
            }
            "OpenShareGuide" => ShareAction::OpenShareGuide,
            "CloseShareGuide" => ShareAction::CloseShareGuide,
            other => return Err(unsupported("Share", other, &SHARE_ACTIONS)),
        })
    }

    /// The action's wire name (the `action` member).
    pub fn name(&self) -> &'static str {
        match self {
            ShareAction::StartShare(_) => "StartShare",
            ShareAction::StopShare => "StopShare",
            ShareAction::StartWindowShare(_) => "StartWindowShare",
            ShareAction::StopWindowShare => "StopWindowShare",
            ShareAction::EndQuickShare => "EndQuickShare",
            ShareAction::CancelQuickShare => "CancelQuickShare",
            ShareAction::OpenShareGuide => "OpenShareGuide",
            ShareAction::CloseShareGuide => "CloseShareGuide",
        }
    }

    /// The `params` object of a `Call/Share` request for this action.
    pub fn to_params(&self) -> Value {
        let name = self.name();
        match self {
            ShareAction::StartShare(s) => {
                let mut ap = Map::new();
                match &s.target {
                    ShareTarget::Index(i) => {
                        ap.insert("share_type".into(), json!(0));
                        ap.insert("share_voice".into(), json!(s.share_voice));
                        ap.insert("fluency_first".into(), json!(s.fluency_first));
                        ap.insert("select_index".into(), json!(i));
                    }
                    ShareTarget::Device(d) => {
                        ap.insert("share_type".into(), json!(1));
                        ap.insert("share_voice".into(), json!(s.share_voice));
                        ap.insert("fluency_first".into(), json!(s.fluency_first));
                        ap.insert("device_id".into(), json!(d.clone().unwrap_or_default()));
                    }
                }
                if let Some(g) = s.generation {
                    ap.insert("generation".into(), json!(g));
                }
                json!({"action": name, "action_params": ap})
            }
            ShareAction::StartWindowShare(s) => {
                let index = match s.target {
                    ShareTarget::Index(i) => i,
                    ShareTarget::Device(_) => 0,
                };
                let mut ap = Map::new();
                ap.insert("share_voice".into(), json!(s.share_voice));
                ap.insert("fluency_first".into(), json!(s.fluency_first));
                ap.insert("select_index".into(), json!(index));
                if let Some(g) = s.generation {
                    ap.insert("generation".into(), json!(g));
                }
                json!({"action": name, "action_params": ap})
            }
            ShareAction::EndQuickShare | ShareAction::CancelQuickShare => {
                json!({"action": name, "meeting_type": "castMeeting"})
            }
            _ => json!({"action": name}),
        }
    }
}

/// The `Call/Meeting` actions a share console needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingAction {
    /// Start an instant meeting.
    StartMeeting,
    /// Join the meeting with this code.
    JoinMeeting {
        /// The meeting code (digits; spaces and dashes are allowed).
        meeting_code: String,
        /// The meeting's password, if it has one.
        password: Option<String>,
    },
    /// Leave the meeting (it goes on without this Rooms).
    LeaveMeeting,
    /// End the meeting for everyone.
    DissolveMeeting,
}

/// The `Call/Meeting` action names, as an error 9 lists them.
pub const MEETING_ACTIONS: [&str; 4] = [
    "StartMeeting",
    "JoinMeeting",
    "LeaveMeeting",
    "DissolveMeeting",
];

impl MeetingAction {
    /// The action named `action` with its inputs from `p`: error 9 for an
    /// unknown name, 8 for a missing or mistyped input, 10010 for a
    /// meeting code that is not digits.
    pub fn parse(action: &str, p: &Params) -> Result<MeetingAction, RpcError> {
        Ok(match action {
            "StartMeeting" => {
                p.opt_string("meeting_type")?;
                MeetingAction::StartMeeting
            }
            "JoinMeeting" => {
                let meeting_code = p.req_string("meeting_code")?;
                let digits = meeting_code
                    .chars()
                    .filter(|c| !c.is_whitespace() && *c != '-')
                    .count();
                if digits == 0
                    || meeting_code
                        .chars()
                        .any(|c| !(c.is_ascii_digit() || c == ' ' || c == '-'))
                {
                    return Err(RpcError::new(
                        10010,
                        format!("meeting code {meeting_code:?} is not a meeting code (digits)"),
                    ));
                }
                MeetingAction::JoinMeeting {
                    meeting_code,
                    password: p.opt_string("password")?,
                }
            }
            "LeaveMeeting" => MeetingAction::LeaveMeeting,
            "DissolveMeeting" => MeetingAction::DissolveMeeting,
            other => return Err(unsupported("Meeting", other, &MEETING_ACTIONS)),
        })
    }

    /// The action's wire name (the `action` member).
    pub fn name(&self) -> &'static str {
        match self {
            MeetingAction::StartMeeting => "StartMeeting",
            MeetingAction::JoinMeeting { .. } => "JoinMeeting",
            MeetingAction::LeaveMeeting => "LeaveMeeting",
            MeetingAction::DissolveMeeting => "DissolveMeeting",
        }
    }

    /// The `params` object of a `Call/Meeting` request for this action.
    pub fn to_params(&self) -> Value {
        match self {
            MeetingAction::StartMeeting => {
                json!({"action": "StartMeeting", "action_params": {"meeting_type": "instant"}})
            }
            MeetingAction::JoinMeeting {
                meeting_code,
                password,
            } => json!({
                "action": "JoinMeeting",
                "action_params": {"meeting_code": meeting_code, "password": password.clone().unwrap_or_default()}
            }),
            other => json!({"action": other.name()}),
        }
    }
}

/// roomshare's own `Call/RoomShare` actions: the room simulator, so that
/// every state is reachable in a demo and in end-to-end tests over the wire,
/// and asking the engine's capture again. Real devices answer 9 for this
/// module.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomShareAction {
    /// A remote participant starts sharing (`nickname` may be Chinese).
    RemoteShare {
        /// The sharer's display name.
        nickname: String,
        /// A whiteboard rather than a screen.
        whiteboard: bool,
        /// The sharer's terminal type (see `model::terminal_name`).
        instance_id: i64,
        /// The sharer's role (see `model::role_name`).
        role_type: i64,
    },
    /// The remote participant stops sharing.
    RemoteStop,
    /// A phone starts a quick cast: preparing, then sharing after a delay.
    QuickCast {
        /// The phone owner's display name.
        nickname: String,
    },
    /// Set the cast code (6 digits).
    SetCastCode(String),
    /// Ask the engine's capture layer again what it could not get: on
    /// Wayland a new screen sharing request (the permission dialog opens
    /// on the engine's machine). Answered at once; the outcome arrives as
    /// `capture` in `SourcesChanged`.
    RetryCapture,
    /// Inspect one of the engine's sources for a while: answered with an
    /// `InspectReport` when the inspection ends, not at once.
    Inspect(InspectParams),
}

/// The `Call/RoomShare` action names, as an error 9 lists them.
pub const ROOM_SHARE_ACTIONS: [&str; 6] = [
    "SimulateRemoteShare",
    "SimulateRemoteStop",
    "SimulateQuickCast",
    "SetCastCode",
    "RetryCapture",
    "Inspect",
];

impl RoomShareAction {
    /// The action named `action` with its inputs from `p` (defaults for
    /// the optional ones): error 9 for an unknown name, 8 for a bad input.
    pub fn parse(action: &str, p: &Params) -> Result<RoomShareAction, RpcError> {
        Ok(match action {
            "SimulateRemoteShare" => RoomShareAction::RemoteShare {
                nickname: p
                    .opt_string("nickname")?
                    .unwrap_or_else(|| "远程参会者".into()),
                whiteboard: p.opt_bool("whiteboard")?.unwrap_or(false),
                instance_id: p.opt_i64("instance_id")?.unwrap_or(1),
                role_type: p.opt_i64("role_type")?.unwrap_or(3),
            },
            "SimulateRemoteStop" => RoomShareAction::RemoteStop,
            "SimulateQuickCast" => RoomShareAction::QuickCast {
                nickname: p
                    .opt_string("nickname")?
                    .unwrap_or_else(|| "手机投屏".into()),
            },
            "SetCastCode" => {
                let code = p.req_string("cast_code")?;
                if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
                    return Err(RpcError::new(
                        PARAMETER_ERROR,
                        format!("`cast_code` must be 6 digits, got {code:?}"),
                    ));
                }
                RoomShareAction::SetCastCode(code)
            }
            "RetryCapture" => RoomShareAction::RetryCapture,
            "Inspect" => RoomShareAction::Inspect(InspectParams::read(p)?),
            other => return Err(unsupported("RoomShare", other, &ROOM_SHARE_ACTIONS)),
        })
    }

    /// The action's wire name (the `action` member).
    pub fn name(&self) -> &'static str {
        match self {
            RoomShareAction::RemoteShare { .. } => "SimulateRemoteShare",
            RoomShareAction::RemoteStop => "SimulateRemoteStop",
            RoomShareAction::QuickCast { .. } => "SimulateQuickCast",
            RoomShareAction::SetCastCode(_) => "SetCastCode",
            RoomShareAction::RetryCapture => "RetryCapture",
            RoomShareAction::Inspect(_) => "Inspect",
        }
    }

    /// The `params` object of a `Call/RoomShare` request for this action.
    pub fn to_params(&self) -> Value {
        match self {
            RoomShareAction::RemoteShare {
                nickname,
                whiteboard,
                instance_id,
                role_type,
            } => json!({
                "action": "SimulateRemoteShare",
                "action_params": {"nickname": nickname, "whiteboard": whiteboard, "instance_id": instance_id, "role_type": role_type}
            }),
            RoomShareAction::QuickCast { nickname } => {
                json!({"action": "SimulateQuickCast", "action_params": {"nickname": nickname}})
            }
            RoomShareAction::SetCastCode(code) => {
                json!({"action": "SetCastCode", "action_params": {"cast_code": code}})
            }
            RoomShareAction::Inspect(params) => {
                json!({"action": "Inspect", "action_params": params.to_json()})
            }
            other => json!({"action": other.name()}),
        }
    }
}

impl InspectParams {
    /// `source_id` (required), `seconds` (more than 0, at most 60), `fps`
    /// (1 to 120) and the optional thresholds; error 8 naming the range.
    pub fn read(p: &Params) -> Result<InspectParams, RpcError> {
        let source_id = p.req_string("source_id")?;
        let seconds = p
            .opt_number(
                "seconds",
                0.0..=MAX_REMOTE_SECONDS,
                "a number of seconds, more than 0 and at most 60",
            )?
            .ok_or_else(|| missing("seconds", "number"))?;
        if seconds <= 0.0 {
            return Err(RpcError::new(
                PARAMETER_ERROR,
                "`seconds` must be a number of seconds, more than 0 and at most 60, got 0",
            ));
        }
        let fps = p
            .opt_number(
                "fps",
                1.0..=MAX_FPS,
                "a rate from 1 to 120 frames per second",
            )?
            .ok_or_else(|| missing("fps", "number"))?;
        let fraction = |name| p.opt_number(name, 0.0..=1.0, "a fraction from 0 to 1");
        Ok(InspectParams {
            source_id,
            seconds,
            fps,
            black_pixel: fraction("black_pixel")?,
            black_ratio: fraction("black_ratio")?,
            static_difference: fraction("static_difference")?,
            min_duration: p.opt_number("min_duration", 0.0..=3600.0, "seconds from 0 to 3600")?,
        })
    }

    /// The `action_params` object (thresholds only when given).
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("source_id".into(), json!(self.source_id));
        out.insert("seconds".into(), json!(self.seconds));
        out.insert("fps".into(), json!(self.fps));
        let optional = [
            ("black_pixel", self.black_pixel),
            ("black_ratio", self.black_ratio),
            ("static_difference", self.static_difference),
            ("min_duration", self.min_duration),
        ];
        for (name, value) in optional {
            if let Some(x) = value {
                out.insert(name.into(), json!(x));
            }
        }
        Value::Object(out)
    }
}

fn unsupported(module: &str, action: &str, known: &[&str]) -> RpcError {
    RpcError::new(
        UNSUPPORTED_ACTION,
        format!(
            "unsupported action `{action}` for Call/{module}; supported: {}",
            known.join(", ")
        ),
    )
}
