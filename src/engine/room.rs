//! The room's state machine, pure: `state + request → response + events`.
//! No tokio, no clock of its own (times are passed in), so every transition
//! is testable directly. The actor in `actor.rs` owns one `Room`.

use crate::protocol::actions::{Params, ShareTarget};
use crate::protocol::answers::{
    CaptureDeviceListAnswer, CastCodeAnswer, MeetingAnswer, MeetingInfoAnswer, MeetingNode,
    RoomShareAnswer, RoomShareNode, ShareAnswer, ShareGuideAnswer, ShareInfoAnswer, ShareNode,
    ShareSession, ShareSessionAnswer, SourcesAnswer,
};
use crate::protocol::codes::{
    self, NOT_IN_MEETING, PARAMETER_ERROR, QUERY_PATH_ERROR, REPEAT_OPERATION,
};
use crate::protocol::events::{JoinedMeeting, SelfUserInfo};
use crate::protocol::model::{
    MeetingInfo, MeetingTime, ShareInfo, ShareUserInfo, SourceInfo, SourceKind, number_sources,
};
use crate::protocol::{
    Event, EventEnvelope, MeetingAction, Method, Request, RpcError, RpcResult, ShareAction,
    SimAction, StartShare,
};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// How an engine starts.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// The cast code; a random 6-digit one when `None`.
    pub cast_code: Option<String>,
    /// Name shown as the sharer when this Rooms shares.
    pub room_name: String,
    /// How long Start/JoinMeeting stay in "joining" (status 2).
    pub join_delay: Duration,
    /// How long a simulated quick cast stays "preparing" (state 1).
    pub quick_cast_delay: Duration,
    /// Sources until the capture layer publishes its own.
    pub initial_sources: Vec<SourceInfo>,
}

impl Default for RoomConfig {
    fn default() -> Self {
        RoomConfig {
            cast_code: None,
            room_name: "roomshare".into(),
            join_delay: Duration::from_millis(300),
            quick_cast_delay: Duration::from_millis(1500),
            initial_sources: demo_sources(),
        }
    }
}

/// A small fixed source set: the desktop, three windows, one capture device.
/// Used by tests and until a capture backend publishes real sources.
pub fn demo_sources() -> Vec<SourceInfo> {
    let src = |id: &str, kind, title: &str, app: &str| SourceInfo {
        id: id.into(),
        kind,
        select_index: None,
        device_id: None,
        title: title.into(),
        app: app.into(),
        width: 1920,
        height: 1080,
        unavailable: None,
    };
    vec![
        src("desktop", SourceKind::Desktop, "Desktop", "roomshare"),
        src("hdmi-1", SourceKind::CaptureDevice, "HDMI-1", "capture"),
        src(
            "win-slides",
            SourceKind::Window,
            "Quarterly review — Slides",
            "slides",
        ),
        src("win-terminal", SourceKind::Window, "Terminal", "terminal"),
        src(
            "win-board",
            SourceKind::Window,
            "白板 Whiteboard",
            "whiteboard",
        ),
    ]
}

/// Work the actor must do later: a follow-up transition after a delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferred {
    /// Start/JoinMeeting completes (status 2 → 1) unless `epoch` moved on.
    JoinCompleted { epoch: u64 },
    /// A simulated quick cast goes preparing → sharing.
    QuickCastSharing { epoch: u64 },
}

/// What one transition produced.
#[derive(Debug, Default)]
pub struct Step {
    /// The `result` to answer with (None for internal transitions).
    pub result: Option<RpcResult>,
    pub events: Vec<EventEnvelope>,
    pub deferred: Vec<(Duration, Deferred)>,
}

/// This Rooms' own share.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnShare {
    pub source: SourceInfo,
    pub fluency_first: bool,
    pub share_voice: bool,
    /// Unix seconds.
    pub since: i64,
    /// What the share capture measures, once it has.
    pub stats: Option<ShareStats>,
}

/// The share capture's numbers, so remote consoles can judge a source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareStats {
    /// Frames per second, to one decimal.
    pub fps: f64,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct QuickCast {
    /// 1 preparing, 2 sharing.
    state: i64,
    nickname: String,
}

/// The room.
#[derive(Debug, Clone)]
pub struct Room {
    config: RoomConfig,
    meeting: MeetingInfo,
    own_share: Option<OwnShare>,
    remote_share: Option<ShareUserInfo>,
    quick_cast: Option<QuickCast>,
    share_guide_open: bool,
    cast_code: String,
    sources: Vec<SourceInfo>,
    /// Bumped whenever the index mapping of `sources` changes.
    generation: u64,
    /// Bumped on every meeting change, so stale deferred work is ignored.
    epoch: u64,
}

/// Why the engine rejected a source list or stopped a share.
pub const SHARE_STOPPED_SOURCE_GONE: &str = "the shared source is no longer available";

impl Room {
    pub fn new(config: RoomConfig) -> Room {
        let cast_code = config.cast_code.clone().unwrap_or_else(random_cast_code);
        let sources = number_sources(config.initial_sources.clone());
        Room {
            meeting: MeetingInfo {
                meeting_type: -1,
                ..MeetingInfo::default()
            },
            own_share: None,
            remote_share: None,
            quick_cast: None,
            share_guide_open: false,
            cast_code,
            sources,
            generation: 1,
            epoch: 0,
            config,
        }
    }

    // ----- read side -------------------------------------------------------

    pub fn share_info(&self) -> ShareInfo {
        let sharer = if let Some(own) = &self.own_share {
            Some(ShareUserInfo {
                user_id: "rooms".into(),
                host: true,
                instance_id: 20,
                user_type: 1,
                is_creator: true,
                role_type: 1,
                screen_sharing: true,
                screen_share_type: 0,
                nickname: self.config.room_name.clone(),
                audio_on: own.share_voice,
                ..ShareUserInfo::default()
            })
        } else if let Some(remote) = &self.remote_share {
            Some(remote.clone())
        } else {
            self.quick_cast
                .as_ref()
                .filter(|q| q.state == 2)
                .map(|q| ShareUserInfo {
                    user_id: "quick-cast".into(),
                    instance_id: 3,
                    user_type: 1,
                    role_type: 3,
                    screen_sharing: true,
                    nickname: q.nickname.clone(),
                    ..ShareUserInfo::default()
                })
        };
        ShareInfo {
            is_sharing: sharer.is_some(),
            share_user_info: sharer,
            quick_casting_state: self.quick_cast.as_ref().map_or(0, |q| q.state),
        }
    }

    pub fn meeting_info(&self) -> &MeetingInfo {
        &self.meeting
    }

    pub fn own_share(&self) -> Option<&OwnShare> {
        self.own_share.as_ref()
    }

    pub fn cast_code(&self) -> &str {
        &self.cast_code
    }

    pub fn share_guide_open(&self) -> bool {
        self.share_guide_open
    }

    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn capture_device_list(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter_map(|s| s.device_id.clone())
            .collect()
    }

    /// This engine's own share, as `["RoomShare","ShareSession"]` tells it.
    pub fn share_session(&self) -> ShareSession {
        match &self.own_share {
            Some(own) => ShareSession {
                source_id: own.source.id.clone(),
                kind: Some(own.source.kind),
                title: Some(own.source.title.clone()),
                fluency_first: Some(own.fluency_first),
                share_voice: Some(own.share_voice),
                since: Some(own.since),
                fps: own.stats.map(|s| s.fps),
                width: own.stats.map(|s| s.width),
                height: own.stats.map(|s| s.height),
            },
            None => ShareSession::none(),
        }
    }

    fn sources_answer(&self) -> SourcesAnswer {
        SourcesAnswer {
            sources: self.sources.clone(),
            generation: self.generation,
        }
    }

    /// The data of a Query for `path`, or error 6.
    pub fn query(&self, path: &[String]) -> Result<Value, RpcError> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        Ok(match p.as_slice() {
            ["Share"] => data(ShareAnswer {
                share: ShareNode {
                    share_info: Some(self.share_info()),
                    cast_code: Some(self.cast_code.clone()),
                    capture_device_list: self.capture_device_list(),
                },
            }),
            ["Share", "ShareInfo"] => data(ShareInfoAnswer {
                share_info: self.share_info(),
            }),
            ["Share", "CastCode"] => data(CastCodeAnswer {
                cast_code: self.cast_code.clone(),
            }),
            ["Share", "CaptureDeviceList"] => data(CaptureDeviceListAnswer {
                capture_device_list: self.capture_device_list(),
            }),
            ["Share", "ShareGuide"] => data(ShareGuideAnswer {
                share_guide_open: self.share_guide_open,
            }),
            ["Meeting"] => data(MeetingAnswer {
                meeting: MeetingNode {
                    meeting_info: self.meeting.clone(),
                    meeting_status: self.meeting.meeting_status,
                },
            }),
            ["Meeting", "MeetingInfo"] => data(MeetingInfoAnswer {
                meeting_info: self.meeting.clone(),
            }),
            ["RoomShare"] => data(RoomShareAnswer {
                room_share: RoomShareNode {
                    share_session: self.share_session(),
                    sources: self.sources.clone(),
                    generation: self.generation,
                },
            }),
            ["RoomShare", "Sources"] => data(self.sources_answer()),
            ["RoomShare", "ShareSession"] => data(ShareSessionAnswer {
                share_session: self.share_session(),
            }),
            _ => {
                return Err(RpcError::new(
                    QUERY_PATH_ERROR,
                    format!(
                        "unknown query path {path:?}; known: [\"Share\"], [\"Share\",\"CastCode\"], [\"Share\",\"ShareInfo\"], [\"Share\",\"CaptureDeviceList\"], [\"Meeting\"], [\"Meeting\",\"MeetingInfo\"]"
                    ),
                ));
            }
        })
    }

    // ----- write side ------------------------------------------------------

    /// Handle one request (Query, Call/Share, Call/Meeting, Call/RoomShare).
    /// Subscribe/Unsubscribe are per connection and handled by the session;
    /// here they answer 9 like any other unknown method.
    pub fn handle(&mut self, req: &Request, now: i64) -> Step {
        let mut step = Step::default();
        let outcome = match &req.method {
            Method::Query => req
                .path()
                .and_then(|path| {
                    path.ok_or_else(|| {
                        RpcError::new(
                            PARAMETER_ERROR,
                            "Query needs `path`: an array of strings such as [\"Share\"]",
                        )
                    })
                })
                .and_then(|path| self.query(&path))
                .map(|data| RpcResult::ok(None, Some(data))),
            Method::Call(module) => {
                let params = Params::new(&req.params);
                let action_name = params.action().ok().map(str::to_string);
                let outcome = match module.as_str() {
                    "Share" => params
                        .action()
                        .and_then(|a| ShareAction::parse(a, &params))
                        .and_then(|a| self.call_share(&a, now, &mut step)),
                    "Meeting" => params
                        .action()
                        .and_then(|a| MeetingAction::parse(a, &params))
                        .and_then(|a| self.call_meeting(&a, now, &mut step)),
                    "RoomShare" => params
                        .action()
                        .and_then(|a| SimAction::parse(a, &params))
                        .and_then(|a| self.simulate(&a, now, &mut step)),
                    other => Err(RpcError::new(
                        codes::UNSUPPORTED_ACTION,
                        format!(
                            "unsupported module Call/{other}; supported: Call/Share, Call/Meeting"
                        ),
                    )),
                };
                step.result = Some(match outcome {
                    Ok(()) => RpcResult::ok(action_name.as_deref(), None),
                    Err(e) => RpcResult::err(action_name.as_deref(), e),
                });
                return step;
            }
            Method::Subscribe | Method::Unsubscribe | Method::Other(_) => Err(RpcError::new(
                codes::UNSUPPORTED_ACTION,
                format!(
                    "unsupported method `{}`; supported: Query, Call/Share, Call/Meeting, Subscribe, Unsubscribe",
                    req.method_name
                ),
            )),
        };
        step.result = Some(match outcome {
            Ok(r) => r,
            Err(e) => RpcResult::err(None, e),
        });
        step
    }

    fn require_meeting(&self) -> Result<(), RpcError> {
        if self.meeting.in_meeting() {
            Ok(())
        } else {
            Err(RpcError::new(
                NOT_IN_MEETING,
                format!(
                    "the Rooms is not in a meeting (meeting_status {}: {})",
                    self.meeting.meeting_status,
                    crate::protocol::model::meeting_status_name(self.meeting.meeting_status)
                ),
            ))
        }
    }

    /// Find the source a StartShare names, against the current list.
    fn resolve(&self, start: &StartShare) -> Result<SourceInfo, RpcError> {
        if let (ShareTarget::Index(_), Some(generation)) = (&start.target, start.generation)
            && generation != self.generation
        {
            return Err(RpcError::new(
                PARAMETER_ERROR,
                format!(
                    "stale source list: select_index was computed against generation {generation}, the current list is generation {}; refresh and try again",
                    self.generation
                ),
            ));
        }
        let source = match &start.target {
            ShareTarget::Index(i) => self.by_index(*i)?,
            ShareTarget::Device(id) => self.by_device(id.as_deref())?,
        };
        match &source.unavailable {
            Some(why) => Err(RpcError::new(
                PARAMETER_ERROR,
                format!("{:?} cannot be shared right now: {why}", source.title),
            )),
            None => Ok(source),
        }
    }

    /// The screen or window a `select_index` names.
    fn by_index(&self, i: u32) -> Result<SourceInfo, RpcError> {
        if let Some(s) = self.sources.iter().find(|s| s.select_index == Some(i)) {
            return Ok(s.clone());
        }
        let count = |kind| self.sources.iter().filter(|s| s.kind == kind).count();
        let (monitors, windows) = (count(SourceKind::Monitor), count(SourceKind::Window));
        Err(RpcError::new(
            PARAMETER_ERROR,
            format!(
                "`select_index` {i} is beyond the source list: 0 = desktop, then {monitors} monitor(s), then {windows} window(s)"
            ),
        ))
    }

    /// The capture device a `device_id` names (`None`: the first one).
    fn by_device(&self, id: Option<&str>) -> Result<SourceInfo, RpcError> {
        let devices = || {
            self.sources
                .iter()
                .filter(|s| s.kind == SourceKind::CaptureDevice)
        };
        let found = match id {
            None => devices().next(),
            Some(id) => devices().find(|s| s.device_id.as_deref() == Some(id)),
        };
        found.cloned().ok_or_else(|| {
            let list = self.capture_device_list();
            let message = match id {
                None => {
                    "no capture device is available (`capture_device_list` is empty)".to_string()
                }
                Some(id) => format!("unknown `device_id` {id:?}; capture_device_list: {list:?}"),
            };
            RpcError::new(PARAMETER_ERROR, message)
        })
    }

    fn call_share(
        &mut self,
        action: &ShareAction,
        now: i64,
        step: &mut Step,
    ) -> Result<(), RpcError> {
        let before = self.share_info();
        let session_before = self.own_share.clone();
        match action {
            ShareAction::StartShare(start) | ShareAction::StartWindowShare(start) => {
                self.require_meeting()?;
                let source = self.resolve(start)?;
                let since = match &self.own_share {
                    Some(own) if own.source.id == source.id => own.since,
                    _ => now,
                };
                // A remote participant's share is taken over.
                self.remote_share = None;
                self.own_share = Some(OwnShare {
                    source,
                    fluency_first: start.fluency_first,
                    share_voice: start.share_voice,
                    since,
                    // Switching source or options: measured afresh.
                    stats: None,
                });
            }
            ShareAction::StopShare => {
                self.require_meeting()?;
                if self.own_share.take().is_none() {
                    if self.quick_cast.is_some() {
                        self.end_quick_cast(step);
                    } else {
                        return Err(nothing_to_stop(self.remote_share.is_some()));
                    }
                }
            }
            ShareAction::StopWindowShare => {
                self.require_meeting()?;
                if self.own_share.take().is_none() {
                    return Err(nothing_to_stop(
                        self.remote_share.is_some() || self.quick_cast.is_some(),
                    ));
                }
            }
            ShareAction::EndQuickShare | ShareAction::CancelQuickShare => {
                self.require_meeting()?;
                if self.quick_cast.is_none() {
                    return Err(RpcError::new(
                        REPEAT_OPERATION,
                        "no quick cast (pre-meeting cast) is in progress",
                    ));
                }
                self.end_quick_cast(step);
            }
            ShareAction::OpenShareGuide | ShareAction::CloseShareGuide => {
                let open = matches!(action, ShareAction::OpenShareGuide);
                if self.share_guide_open != open {
                    self.share_guide_open = open;
                    step.events
                        .push(EventEnvelope::new(Event::ShareGuideChanged(
                            ShareGuideAnswer {
                                share_guide_open: open,
                            },
                        )));
                }
            }
        }
        self.push_share_changes(&before, &session_before, step, None);
        Ok(())
    }

    /// Quick cast over: the cast meeting ends (status 4 → 0).
    fn end_quick_cast(&mut self, step: &mut Step) {
        self.quick_cast = None;
        self.own_share = None;
        if self.meeting.meeting_status == 4 {
            self.leave(step, Event::MeetingStatusChanged);
        }
    }

    /// Events for what changed in share_info and the own share session;
    /// with `failure`, the changes were forced (error 1 and the reason).
    fn push_share_changes(
        &self,
        before: &ShareInfo,
        session_before: &Option<OwnShare>,
        step: &mut Step,
        failure: Option<&str>,
    ) {
        let envelope = |event| match failure {
            Some(reason) => EventEnvelope::failed(event, reason),
            None => EventEnvelope::new(event),
        };
        let after = self.share_info();
        if &after != before {
            step.events
                .push(envelope(Event::ShareInfoChanged(ShareInfoAnswer {
                    share_info: after,
                })));
        }
        if &self.own_share != session_before {
            step.events
                .push(envelope(Event::ShareSessionChanged(ShareSessionAnswer {
                    share_session: self.share_session(),
                })));
        }
    }

    /// A Meeting event carrying the current `meeting_info`, e.g.
    /// `meeting_event(Event::LeaveMeeting)`.
    fn meeting_event(&self, kind: fn(MeetingInfoAnswer) -> Event) -> EventEnvelope {
        EventEnvelope::new(kind(MeetingInfoAnswer {
            meeting_info: self.meeting.clone(),
        }))
    }

    fn joined_event(&self) -> EventEnvelope {
        EventEnvelope::new(Event::JoinMeetingCompleted(JoinedMeeting {
            meeting_info: self.meeting.clone(),
            self_user_info: SelfUserInfo {
                nickname: self.config.room_name.clone(),
                instance_id: 20,
            },
        }))
    }

    /// Leave whatever meeting: everything shared in it stops.
    fn leave(&mut self, step: &mut Step, kind: fn(MeetingInfoAnswer) -> Event) {
        let before = self.share_info();
        let session_before = self.own_share.clone();
        self.own_share = None;
        self.remote_share = None;
        self.quick_cast = None;
        self.epoch += 1;
        self.meeting = MeetingInfo {
            meeting_type: -1,
            ..MeetingInfo::default()
        };
        step.events.push(self.meeting_event(kind));
        self.push_share_changes(&before, &session_before, step, None);
    }

    fn call_meeting(
        &mut self,
        action: &MeetingAction,
        now: i64,
        step: &mut Step,
    ) -> Result<(), RpcError> {
        match action {
            MeetingAction::StartMeeting => self.start_meeting(None, now, step),
            MeetingAction::JoinMeeting { meeting_code, .. } => {
                self.start_meeting(Some(meeting_code), now, step)
            }
            MeetingAction::LeaveMeeting | MeetingAction::DissolveMeeting => {
                if self.meeting.meeting_status == 0 {
                    return Err(RpcError::new(
                        NOT_IN_MEETING,
                        "the Rooms is not in a meeting",
                    ));
                }
                let kind = if matches!(action, MeetingAction::LeaveMeeting) {
                    Event::LeaveMeeting
                } else {
                    Event::DissolveMeeting
                };
                self.leave(step, kind);
                Ok(())
            }
        }
    }

    /// Start an instant meeting, or join `join`'s: "joining" (2) now, in
    /// the meeting (1) after the configured delay.
    fn start_meeting(
        &mut self,
        join: Option<&str>,
        now: i64,
        step: &mut Step,
    ) -> Result<(), RpcError> {
        match self.meeting.meeting_status {
            0 => {}
            4 | 5 => {
                return Err(RpcError::plain(if join.is_some() {
                    codes::CANNOT_JOIN_MEETING_SHARING
                } else {
                    codes::CANNOT_START_INSTANT_MEETING_SHARING
                }));
            }
            status => {
                return Err(RpcError::new(
                    codes::ALREADY_IN_MEETING,
                    format!("already in a meeting (meeting_status {status}); leave it first"),
                ));
            }
        }
        self.epoch += 1;
        self.meeting = self.new_meeting(join, now);
        step.events
            .push(self.meeting_event(Event::MeetingStatusChanged));
        step.deferred.push((
            self.config.join_delay,
            Deferred::JoinCompleted { epoch: self.epoch },
        ));
        Ok(())
    }

    /// The `meeting_info` of a meeting being joined (status 2).
    fn new_meeting(&self, join: Option<&str>, now: i64) -> MeetingInfo {
        let code: String = match join {
            Some(code) => code.chars().filter(char::is_ascii_digit).collect(),
            None => format!("{:09}", (now.unsigned_abs() * 7919) % 1_000_000_000),
        };
        let title = match join {
            Some(_) => format!("会议 {code}"),
            None => format!("{}的快速会议", self.config.room_name),
        };
        MeetingInfo {
            meeting_time: MeetingTime {
                begin_time: now,
                end_time: now + 3600,
            },
            meeting_status: 2,
            meeting_type: if join.is_some() { 1 } else { 0 },
            meeting_title: title,
            formatted_meeting_code: format_meeting_code(&code),
            meeting_code: code,
            meeting_password: String::new(),
            begin_time: now,
            end_time: now + 3600,
            meeting_creator_name: self.config.room_name.clone(),
            host_status: 1,
        }
    }

    fn simulate(&mut self, action: &SimAction, now: i64, step: &mut Step) -> Result<(), RpcError> {
        let before = self.share_info();
        let session_before = self.own_share.clone();
        match action {
            SimAction::RemoteShare { .. } => self.remote_share_starts(action, now)?,
            SimAction::RemoteStop => {
                if self.remote_share.take().is_none() {
                    return Err(RpcError::new(
                        REPEAT_OPERATION,
                        "no remote participant is sharing",
                    ));
                }
            }
            SimAction::QuickCast { nickname } => self.quick_cast_starts(nickname, now, step)?,
            SimAction::SetCastCode(code) => {
                if &self.cast_code != code {
                    self.cast_code = code.clone();
                    let event = Event::CastCodeChanged(CastCodeAnswer {
                        cast_code: code.clone(),
                    });
                    step.events.push(EventEnvelope::new(event));
                }
            }
        }
        self.push_share_changes(&before, &session_before, step, None);
        Ok(())
    }

    /// A remote participant takes the share (this Rooms' own share stops).
    fn remote_share_starts(&mut self, action: &SimAction, now: i64) -> Result<(), RpcError> {
        let SimAction::RemoteShare {
            nickname,
            whiteboard,
            instance_id,
            role_type,
        } = action
        else {
            return Ok(());
        };
        if self.meeting.meeting_status != 1 {
            return Err(RpcError::new(
                NOT_IN_MEETING,
                "a remote participant can share only in a meeting (meeting_status 1)",
            ));
        }
        self.own_share = None;
        self.remote_share = Some(ShareUserInfo {
            app_uid: format!("uid-{now}"),
            app_id: "corp".into(),
            user_id: format!("user-{now}"),
            instance_id: *instance_id,
            user_type: 1,
            role_type: *role_type,
            host: *role_type == 1,
            co_host: *role_type == 2,
            video_on: true,
            audio_on: true,
            screen_sharing: true,
            screen_share_type: i64::from(*whiteboard),
            nickname: nickname.clone(),
            ..ShareUserInfo::default()
        });
        Ok(())
    }

    /// A phone starts a quick cast: a cast meeting (status 4), preparing
    /// (1) now and sharing (2) after the configured delay.
    fn quick_cast_starts(
        &mut self,
        nickname: &str,
        now: i64,
        step: &mut Step,
    ) -> Result<(), RpcError> {
        if self.meeting.meeting_status != 0 {
            return Err(RpcError::new(
                codes::ALREADY_IN_MEETING,
                "a quick cast (pre-meeting cast) starts only outside a meeting",
            ));
        }
        self.epoch += 1;
        self.quick_cast = Some(QuickCast {
            state: 1,
            nickname: nickname.to_string(),
        });
        self.meeting = MeetingInfo {
            meeting_time: MeetingTime {
                begin_time: now,
                end_time: 0,
            },
            meeting_status: 4,
            meeting_type: 3,
            meeting_title: "投屏会议 Cast meeting".into(),
            begin_time: now,
            meeting_creator_name: nickname.to_string(),
            ..MeetingInfo::default()
        };
        step.events
            .push(self.meeting_event(Event::MeetingStatusChanged));
        step.deferred.push((
            self.config.quick_cast_delay,
            Deferred::QuickCastSharing { epoch: self.epoch },
        ));
        Ok(())
    }

    /// A deferred transition fell due.
    pub fn complete(&mut self, deferred: &Deferred) -> Step {
        let mut step = Step::default();
        match *deferred {
            Deferred::JoinCompleted { epoch }
                if epoch == self.epoch && self.meeting.meeting_status == 2 =>
            {
                self.meeting.meeting_status = 1;
                step.events.push(self.joined_event());
            }
            Deferred::QuickCastSharing { epoch } if epoch == self.epoch => {
                let before = self.share_info();
                if let Some(q) = self.quick_cast.as_mut().filter(|q| q.state == 1) {
                    q.state = 2;
                }
                self.push_share_changes(&before, &self.own_share.clone(), &mut step, None);
            }
            _ => {}
        }
        step
    }

    /// Replace the source list (from the capture catalog). Indices are
    /// assigned here: desktop 0, windows 1..n in the given order; capture
    /// devices keep their id as `device_id`.
    pub fn set_sources(&mut self, sources: Vec<SourceInfo>) -> Step {
        let mut step = Step::default();
        let sources = number_sources(sources);
        if sources == self.sources {
            return step;
        }
        let ids = |list: &[SourceInfo]| {
            list.iter()
                .map(|s| (s.id.clone(), s.select_index))
                .collect::<Vec<_>>()
        };
        if ids(&sources) != ids(&self.sources) {
            self.generation += 1;
        }
        let devices_before = self.capture_device_list();
        self.sources = sources;
        step.events.push(EventEnvelope::new(Event::SourcesChanged(
            self.sources_answer(),
        )));
        let devices = self.capture_device_list();
        if devices != devices_before {
            step.events
                .push(EventEnvelope::new(Event::CaptureDeviceListChanged(
                    CaptureDeviceListAnswer {
                        capture_device_list: devices,
                    },
                )));
        }
        if let Some(own) = &self.own_share {
            match self.sources.iter().find(|s| s.id == own.source.id) {
                None => {
                    let reason =
                        format!("{SHARE_STOPPED_SOURCE_GONE}: {:?} closed", own.source.title);
                    self.stop_own_share(&mut step, &reason);
                }
                Some(now) if now != &own.source => {
                    // Renamed or resized: keep sharing, with the new details.
                    let session_before = self.own_share.clone();
                    if let Some(own) = self.own_share.as_mut() {
                        own.source = now.clone();
                    }
                    self.push_share_changes(&self.share_info(), &session_before, &mut step, None);
                }
                Some(_) => {}
            }
        }
        step
    }

    /// The share capture measured its rate and frame size: published in
    /// `ShareSession` (and its event) when they changed.
    pub fn share_stats(&mut self, source_id: &str, stats: ShareStats) -> Step {
        let mut step = Step::default();
        let session_before = self.own_share.clone();
        let Some(own) = self.own_share.as_mut().filter(|o| o.source.id == source_id) else {
            return step;
        };
        own.stats = Some(stats);
        self.push_share_changes(&self.share_info(), &session_before, &mut step, None);
        step
    }

    /// The share session could not go on (capture failed, source vanished).
    pub fn share_failed(&mut self, source_id: &str, reason: &str) -> Step {
        let mut step = Step::default();
        if self
            .own_share
            .as_ref()
            .is_some_and(|own| own.source.id == source_id)
        {
            self.stop_own_share(&mut step, reason);
        }
        step
    }

    fn stop_own_share(&mut self, step: &mut Step, reason: &str) {
        let before = self.share_info();
        let session_before = self.own_share.take();
        self.push_share_changes(&before, &session_before, step, Some(reason));
    }
}

fn nothing_to_stop(someone_else_shares: bool) -> RpcError {
    RpcError::new(
        REPEAT_OPERATION,
        if someone_else_shares {
            "this Rooms is not sharing (a remote participant's share can only be stopped by them)"
        } else {
            "nothing is being shared"
        },
    )
}

fn format_meeting_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars
        .chunks(3)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn random_cast_code() -> String {
    format!("{:06}", rand::random_range(0..1_000_000u32))
}

/// A node's answer as the `data` of a Query result.
fn data(answer: impl Serialize) -> Value {
    // Answers are plain structs of strings, numbers and lists: they always
    // convert.
    serde_json::to_value(answer).unwrap_or(Value::Null)
}
