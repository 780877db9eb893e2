//! `Call/Share`, and this room's own share: what is shared, what the share
//! capture measured, and when it stops.

use super::{Command, Room, Step};
use crate::protocol::actions::Params;
use crate::protocol::answers::{ShareGuideAnswer, ShareSession};
use crate::protocol::codes::{NOT_IN_MEETING, REPEAT_OPERATION};
use crate::protocol::model::{ShareInfo, ShareUserInfo, SourceInfo, meeting_status_name};
use crate::protocol::{Event, EventEnvelope, RpcError, ShareAction, StartShare};

/// This Rooms' own share.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnShare {
    /// The source being shared, as the source list last described it.
    pub source: SourceInfo,
    /// Smooth (reduced resolution) rather than sharp.
    pub fluency_first: bool,
    /// The computer's sound goes with the picture.
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

/// Why the engine rejected a source list or stopped a share.
pub const SHARE_STOPPED_SOURCE_GONE: &str = "the shared source is no longer available";

impl Command for ShareAction {
    fn read(params: &Params) -> Result<Self, RpcError> {
        ShareAction::parse(params.action()?, params)
    }

    fn apply(&self, room: &mut Room, now: i64, step: &mut Step) -> Result<(), RpcError> {
        room.change_share(step, |room, step| match self {
            ShareAction::StartShare(start) | ShareAction::StartWindowShare(start) => {
                room.start_share(start, now)
            }
            ShareAction::StopShare => room.stop_share(step),
            ShareAction::StopWindowShare => room.stop_window_share(),
            ShareAction::EndQuickShare | ShareAction::CancelQuickShare => {
                room.end_quick_share(step)
            }
            ShareAction::OpenShareGuide | ShareAction::CloseShareGuide => {
                room.set_share_guide(matches!(self, ShareAction::OpenShareGuide), step);
                Ok(())
            }
        })
    }
}

impl Room {
    /// Who shares, as `["Share","ShareInfo"]` tells it: this Rooms, else a
    /// remote participant, else a quick cast that is already sharing.
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

    /// This engine's own share, as `["RoomShare","ShareSession"]` tells it.
    pub(super) fn share_session(&self) -> ShareSession {
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

    /// `StopShare`: this Rooms' own share, or else a quick cast in progress.
    fn stop_share(&mut self, step: &mut Step) -> Result<(), RpcError> {
        self.require_meeting()?;
        if self.own_share.take().is_none() {
            if self.quick_cast.is_some() {
                self.end_quick_cast(step);
            } else {
                return Err(nothing_to_stop(self.remote_share.is_some()));
            }
        }
        Ok(())
    }

    /// `StopWindowShare`: this Rooms' own share only.
    fn stop_window_share(&mut self) -> Result<(), RpcError> {
        self.require_meeting()?;
        if self.own_share.take().is_none() {
            return Err(nothing_to_stop(
                self.remote_share.is_some() || self.quick_cast.is_some(),
            ));
        }
        Ok(())
    }

    /// `EndQuickShare` / `CancelQuickShare`.
    fn end_quick_share(&mut self, step: &mut Step) -> Result<(), RpcError> {
        self.require_meeting()?;
        if self.quick_cast.is_none() {
            return Err(RpcError::new(
                REPEAT_OPERATION,
                "no quick cast (pre-meeting cast) is in progress",
            ));
        }
        self.end_quick_cast(step);
        Ok(())
    }

    /// Share the source `start` names (a remote participant's share is
    /// taken over; the same source again keeps its `since`).
    fn start_share(&mut self, start: &StartShare, now: i64) -> Result<(), RpcError> {
        self.require_meeting()?;
        let source = self.resolve(start)?;
        let since = match &self.own_share {
            Some(own) if own.source.id == source.id => own.since,
            _ => now,
        };
        self.remote_share = None;
        self.own_share = Some(OwnShare {
            source,
            fluency_first: start.fluency_first,
            share_voice: start.share_voice,
            since,
            // Switching source or options: measured afresh.
            stats: None,
        });
        Ok(())
    }

    fn set_share_guide(&mut self, open: bool, step: &mut Step) {
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

    fn require_meeting(&self) -> Result<(), RpcError> {
        if self.meeting.in_meeting() {
            Ok(())
        } else {
            Err(RpcError::new(
                NOT_IN_MEETING,
                format!(
                    "the Rooms is not in a meeting (meeting_status {}: {})",
                    self.meeting.meeting_status,
                    meeting_status_name(self.meeting.meeting_status)
                ),
            ))
        }
    }

    /// Quick cast over: the cast meeting ends (status 4 → 0).
    fn end_quick_cast(&mut self, step: &mut Step) {
        self.quick_cast = None;
        self.own_share = None;
        if self.meeting.meeting_status == 4 {
            self.leave(step, Event::MeetingStatusChanged);
        }
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

    /// The own share stops without being asked to: the events carry `reason`.
    pub(super) fn stop_own_share(&mut self, step: &mut Step, reason: &str) {
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
