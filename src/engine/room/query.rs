//! `Query`: the read side, one answer per known path.

use super::{Room, data};
use crate::protocol::answers::{
    CaptureDeviceListAnswer, CastCodeAnswer, MeetingAnswer, MeetingInfoAnswer, MeetingNode,
    RoomShareAnswer, RoomShareNode, ShareAnswer, ShareGuideAnswer, ShareInfoAnswer, ShareNode,
    ShareSessionAnswer,
};
use crate::protocol::codes::{PARAMETER_ERROR, QUERY_PATH_ERROR};
use crate::protocol::{Request, RpcError, RpcResult};
use serde_json::Value;

impl Room {
    /// The answer to a `Query` request: its `path`'s data, or the error.
    pub(super) fn answer_query(&self, req: &Request) -> RpcResult {
        let data = req
            .path()
            .and_then(|path| {
                path.ok_or_else(|| {
                    RpcError::new(
                        PARAMETER_ERROR,
                        "Query needs `path`: an array of strings such as [\"Share\"]",
                    )
                })
            })
            .and_then(|path| self.query(&path));
        match data {
            Ok(data) => RpcResult::ok(None, Some(data)),
            Err(e) => RpcResult::err(None, e),
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
}
