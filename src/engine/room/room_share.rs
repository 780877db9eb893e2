//! `Call/RoomShare`: the simulator's actions, which play what the room's
//! surroundings do (a remote participant shares, a phone casts, the cast
//! code rotates), asking the capture layer again, and inspecting a source
//! (checked here, run by the capture layer).

use super::{Command, Deferred, InspectJob, QuickCast, Room, Step};
use crate::protocol::actions::Params;
use crate::protocol::answers::CastCodeAnswer;
use crate::protocol::codes::{self, NOT_IN_MEETING, PARAMETER_ERROR, REPEAT_OPERATION};
use crate::protocol::model::{MeetingInfo, MeetingTime, ShareUserInfo};
use crate::protocol::{Event, EventEnvelope, RoomShareAction, RpcError};

impl Command for RoomShareAction {
    fn read(params: &Params) -> Result<Self, RpcError> {
        RoomShareAction::parse(params.action()?, params)
    }

    fn apply(&self, room: &mut Room, now: i64, step: &mut Step) -> Result<(), RpcError> {
        if let RoomShareAction::RetryCapture = self {
            room.retry_capture(step);
            return Ok(());
        }
        if let RoomShareAction::Inspect(params) = self {
            let source = room.inspected_source(&params.source_id)?;
            step.inspect = Some(InspectJob {
                source,
                params: params.clone(),
            });
            return Ok(());
        }
        room.change_share(step, |room, step| match self {
            RoomShareAction::RemoteShare { .. } => room.remote_share_starts(self, now),
            RoomShareAction::RemoteStop => match room.remote_share.take() {
                Some(_) => Ok(()),
                None => Err(RpcError::new(
                    REPEAT_OPERATION,
                    "no remote participant is sharing",
                )),
            },
            RoomShareAction::QuickCast { nickname } => room.quick_cast_starts(nickname, now, step),
            RoomShareAction::SetCastCode(code) => {
                room.set_cast_code(code, step);
                Ok(())
            }
            RoomShareAction::RetryCapture | RoomShareAction::Inspect(_) => Ok(()),
        })
    }
}

impl Room {
    /// The listed source an `Inspect` names, or error 8 (a value that does
    /// not match the current state, protocol.md §4).
    fn inspected_source(&self, id: &str) -> Result<crate::protocol::SourceInfo, RpcError> {
        self.sources
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or_else(|| {
                RpcError::new(
                    PARAMETER_ERROR,
                    format!(
                        "unknown `source_id` {id:?}: not among this engine's sources (Query [\"RoomShare\",\"Sources\"])"
                    ),
                )
            })
    }

    fn set_cast_code(&mut self, code: &str, step: &mut Step) {
        if self.cast_code != code {
            self.cast_code = code.to_string();
            let event = Event::CastCodeChanged(CastCodeAnswer {
                cast_code: code.to_string(),
            });
            step.events.push(EventEnvelope::new(event));
        }
    }

    /// A remote participant takes the share (this Rooms' own share stops).
    fn remote_share_starts(&mut self, action: &RoomShareAction, now: i64) -> Result<(), RpcError> {
        let RoomShareAction::RemoteShare {
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
        self.quick_cast = Some(QuickCast {
            state: 1,
            nickname: nickname.to_string(),
        });
        let meeting = MeetingInfo {
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
        let epoch = self.enter_meeting(meeting, step);
        let sharing = Deferred::QuickCastSharing { epoch };
        step.deferred.push((self.config.quick_cast_delay, sharing));
        Ok(())
    }
}
