//! The room's state machine, pure: `state + request → response + events`.
//! No tokio, no clock of its own (times are passed in), so every transition
//! is testable directly. The actor in `actor.rs` owns one `Room`.
//!
//! This file holds the state, the dispatch ([`Room::handle`]), the deferred
//! follow-ups ([`Room::complete`]) and the helpers every command shares; each
//! command family has its own file, so adding an action touches one of them:
//! `query.rs` (`Query`), `share.rs` (`Call/Share` and the own share's
//! bookkeeping), `meeting.rs` (`Call/Meeting`), `room_share.rs`
//! (`Call/RoomShare`, the simulator) and `sources.rs` (the source list the
//! capture layer publishes). Each `Call/<Module>` family is a `Command`.

mod meeting;
mod query;
mod room_share;
mod share;
mod sources;

pub use share::{OwnShare, SHARE_STOPPED_SOURCE_GONE, ShareStats};

use super::demo::demo_sources;
use crate::protocol::actions::Params;
use crate::protocol::answers::{ShareInfoAnswer, ShareSessionAnswer};
use crate::protocol::codes;
use crate::protocol::model::{
    CaptureStatus, MeetingInfo, ShareInfo, ShareUserInfo, SourceInfo, number_sources,
};
use crate::protocol::{
    Event, EventEnvelope, InspectParams, MeetingAction, Method, Request, RoomShareAction, RpcError,
    RpcResult, ShareAction,
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

/// Work the actor must do later: a follow-up transition after a delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferred {
    /// Start/JoinMeeting completes (status 2 → 1) unless `epoch` moved on.
    JoinCompleted { epoch: u64 },
    /// A simulated quick cast goes preparing → sharing.
    QuickCastSharing { epoch: u64 },
}

/// An inspection the room accepted (`Call/RoomShare` `Inspect`): the
/// capture layer runs it and answers the request when it ends.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectJob {
    /// The source as listed when the request came.
    pub source: SourceInfo,
    pub params: InspectParams,
}

/// What one transition produced.
#[derive(Debug, Default)]
pub struct Step {
    /// The `result` to answer with (None for internal transitions, and for
    /// a request answered later: see `inspect`).
    pub result: Option<RpcResult>,
    /// An inspection to hand to the capture layer, whose report is the
    /// answer to the request.
    pub inspect: Option<InspectJob>,
    /// The events to send to every subscriber, in order.
    pub events: Vec<EventEnvelope>,
    /// Follow-up transitions the actor runs after their delay.
    pub deferred: Vec<(Duration, Deferred)>,
}

/// One family of `Call/<Module>` actions, each in its own file (as one
/// command per file in tokio's mini-redis): how its action is read from a
/// request's `params`, and what it does to the room.
trait Command: Sized {
    /// The action a request names, with its inputs (errors 9 and 8).
    fn read(params: &Params) -> Result<Self, RpcError>;
    /// Apply it: the room changes, `step` collects events and follow-ups.
    fn apply(&self, room: &mut Room, now: i64, step: &mut Step) -> Result<(), RpcError>;
}

/// A phone's quick cast (pre-meeting cast), started by the simulator.
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
    /// Whether the capture layer can capture (published with `sources`).
    capture: CaptureStatus,
    /// Bumped by every `RetryCapture`; the capture layer watches it.
    capture_retries: u64,
    /// Bumped on every meeting change, so stale deferred work is ignored.
    epoch: u64,
}

impl Room {
    pub fn new(config: RoomConfig) -> Room {
        let cast_code = config.cast_code.clone().unwrap_or_else(random_cast_code);
        let sources = number_sources(config.initial_sources.clone());
        Room {
            meeting: no_meeting(),
            own_share: None,
            remote_share: None,
            quick_cast: None,
            share_guide_open: false,
            cast_code,
            sources,
            generation: 1,
            capture: CaptureStatus::ok(),
            capture_retries: 0,
            epoch: 0,
            config,
        }
    }

    // ----- read side -------------------------------------------------------

    pub fn meeting_info(&self) -> &MeetingInfo {
        &self.meeting
    }

    pub fn own_share(&self) -> Option<&OwnShare> {
        self.own_share.as_ref()
    }

    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How many times a `RetryCapture` was asked for.
    pub fn capture_retries(&self) -> u64 {
        self.capture_retries
    }

    // ----- write side ------------------------------------------------------

    /// Handle one request (Query, Call/Share, Call/Meeting, Call/RoomShare).
    /// Subscribe/Unsubscribe are per connection and handled by the session;
    /// here they answer 9 like any other unknown method.
    pub fn handle(&mut self, req: &Request, now: i64) -> Step {
        let mut step = Step::default();
        let result = match &req.method {
            Method::Query => self.answer_query(req),
            Method::Call(module) => self.call(module, &Params::new(&req.params), now, &mut step),
            Method::Subscribe | Method::Unsubscribe | Method::Other(_) => RpcResult::err(
                None,
                RpcError::new(
                    codes::UNSUPPORTED_ACTION,
                    format!(
                        "unsupported method `{}`; supported: Query, Call/Share, Call/Meeting, Subscribe, Unsubscribe",
                        req.method_name
                    ),
                ),
            ),
        };
        // An accepted inspection is answered by the capture layer, later.
        step.result = step.inspect.is_none().then_some(result);
        step
    }

    /// One `Call/<module>`: its family parses the action and applies it.
    fn call(&mut self, module: &str, params: &Params, now: i64, step: &mut Step) -> RpcResult {
        let action_name = params.action().ok();
        let applied = match module {
            "Share" => ShareAction::read(params).and_then(|a| a.apply(self, now, step)),
            "Meeting" => MeetingAction::read(params).and_then(|a| a.apply(self, now, step)),
            "RoomShare" => RoomShareAction::read(params).and_then(|a| a.apply(self, now, step)),
            other => Err(RpcError::new(
                codes::UNSUPPORTED_ACTION,
                format!("unsupported module Call/{other}; supported: Call/Share, Call/Meeting"),
            )),
        };
        match applied {
            Ok(()) => RpcResult::ok(action_name, None),
            Err(e) => RpcResult::err(action_name, e),
        }
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

    /// Run `change`; if it succeeds, send events for what it changed in
    /// share_info and the own share session (after its own events).
    fn change_share(
        &mut self,
        step: &mut Step,
        change: impl FnOnce(&mut Room, &mut Step) -> Result<(), RpcError>,
    ) -> Result<(), RpcError> {
        let before = self.share_info();
        let session_before = self.own_share.clone();
        change(self, step)?;
        self.push_share_changes(&before, &session_before, step, None);
        Ok(())
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
}

/// `meeting_info` outside any meeting.
fn no_meeting() -> MeetingInfo {
    MeetingInfo {
        meeting_type: -1,
        ..MeetingInfo::default()
    }
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
