//! `Call/Meeting`: start, join, leave and dissolve a meeting, and the
//! meeting events every command family sends.

use super::{Command, Deferred, Room, Step, no_meeting};
use crate::protocol::actions::Params;
use crate::protocol::answers::MeetingInfoAnswer;
use crate::protocol::codes::{self, NOT_IN_MEETING};
use crate::protocol::events::{JoinedMeeting, SelfUserInfo};
use crate::protocol::model::{MeetingInfo, MeetingTime};
use crate::protocol::{Event, EventEnvelope, MeetingAction, RpcError};

impl Command for MeetingAction {
    fn read(params: &Params) -> Result<Self, RpcError> {
        MeetingAction::parse(params.action()?, params)
    }

    fn apply(&self, room: &mut Room, now: i64, step: &mut Step) -> Result<(), RpcError> {
        match self {
            MeetingAction::StartMeeting => room.start_meeting(None, now, step),
            MeetingAction::JoinMeeting { meeting_code, .. } => {
                room.start_meeting(Some(meeting_code), now, step)
            }
            MeetingAction::LeaveMeeting | MeetingAction::DissolveMeeting => {
                if room.meeting.meeting_status == 0 {
                    return Err(RpcError::new(
                        NOT_IN_MEETING,
                        "the Rooms is not in a meeting",
                    ));
                }
                let kind = if matches!(self, MeetingAction::LeaveMeeting) {
                    Event::LeaveMeeting
                } else {
                    Event::DissolveMeeting
                };
                room.leave(step, kind);
                Ok(())
            }
        }
    }
}

impl Room {
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
        let epoch = self.enter_meeting(self.new_meeting(join, now), step);
        let done = Deferred::JoinCompleted { epoch };
        step.deferred.push((self.config.join_delay, done));
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

    /// A meeting begins in a passing state (joining, preparing a cast):
    /// a new epoch, announced. The caller schedules what ends that state
    /// for the epoch returned.
    pub(super) fn enter_meeting(&mut self, meeting: MeetingInfo, step: &mut Step) -> u64 {
        self.epoch += 1;
        self.meeting = meeting;
        step.events
            .push(self.meeting_event(Event::MeetingStatusChanged));
        self.epoch
    }

    /// Leave whatever meeting: everything shared in it stops.
    pub(super) fn leave(&mut self, step: &mut Step, kind: fn(MeetingInfoAnswer) -> Event) {
        let before = self.share_info();
        let session_before = self.own_share.clone();
        self.own_share = None;
        self.remote_share = None;
        self.quick_cast = None;
        self.epoch += 1;
        self.meeting = no_meeting();
        step.events.push(self.meeting_event(kind));
        self.push_share_changes(&before, &session_before, step, None);
    }

    /// A Meeting event carrying the current `meeting_info`, e.g.
    /// `meeting_event(Event::LeaveMeeting)`.
    fn meeting_event(&self, kind: fn(MeetingInfoAnswer) -> Event) -> EventEnvelope {
        EventEnvelope::new(kind(MeetingInfoAnswer {
            meeting_info: self.meeting.clone(),
        }))
    }

    pub(super) fn joined_event(&self) -> EventEnvelope {
        EventEnvelope::new(Event::JoinMeetingCompleted(JoinedMeeting {
            meeting_info: self.meeting.clone(),
            self_user_info: SelfUserInfo {
                nickname: self.config.room_name.clone(),
                instance_id: 20,
            },
        }))
    }
}

/// "123456789" → "123 456 789".
fn format_meeting_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars
        .chunks(3)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}
