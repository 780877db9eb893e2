//! Typed `Query` answers: the `data` of each node of the Query tree
//! (protocol.md §3, §8). The engine encodes its answers with these types and
//! the link and the command line decode with them, so no one picks fields
//! out of JSON by hand.
//!
//! Field order is wire order, and the last member of every node is a scalar
//! (see `model.rs`): regex-matching controllers depend on both. Decoding is
//! tolerant where real devices differ: members a device may omit are
//! `Option`s, and a cast code may arrive as a number.

use super::model::{MeetingInfo, ShareInfo, SourceInfo, SourceKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// A node of the Query tree and the shape of its `data`.
pub trait Answer: Serialize + DeserializeOwned {
    /// The `params.path` that asks for this node.
    const PATH: &'static [&'static str];
}

/// `["Share"]`: `{"share": {"share_info", "cast_code", "capture_device_list"}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareAnswer {
    pub share: ShareNode,
}

/// The Share module's own members.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareNode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_info: Option<ShareInfo>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_string"
    )]
    pub cast_code: Option<String>,
    /// Last: an array, never an object (the regex rule).
    #[serde(default)]
    pub capture_device_list: Vec<String>,
}

/// `["Share","ShareInfo"]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareInfoAnswer {
    pub share_info: ShareInfo,
}

/// `["Share","CastCode"]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CastCodeAnswer {
    #[serde(deserialize_with = "required_lenient_string")]
    pub cast_code: String,
}

/// `["Share","CaptureDeviceList"]`: device ids.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaptureDeviceListAnswer {
    pub capture_device_list: Vec<String>,
}

/// `["Share","ShareGuide"]` (roomshare; real devices answer 6).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareGuideAnswer {
    pub share_guide_open: bool,
}

/// `["Meeting"]`: `{"meeting": {"meeting_info", "meeting_status"}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MeetingAnswer {
    pub meeting: MeetingNode,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MeetingNode {
    #[serde(default)]
    pub meeting_info: MeetingInfo,
    /// Last: a scalar after the nested object.
    #[serde(default)]
    pub meeting_status: i64,
}

/// `["Meeting","MeetingInfo"]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MeetingInfoAnswer {
    pub meeting_info: MeetingInfo,
}

/// `["RoomShare","Sources"]`: the source list in `select_index` order and
/// its generation (bumped whenever the index mapping changes).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SourcesAnswer {
    pub sources: Vec<SourceInfo>,
    #[serde(default)]
    pub generation: u64,
}

/// `["RoomShare","ShareSession"]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareSessionAnswer {
    pub share_session: ShareSession,
}

/// This engine's own share: which source and how. An empty `source_id`
/// (and nothing else) when it shares nothing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareSession {
    pub source_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SourceKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fluency_first: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_voice: Option<bool>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// The measured capture rate of the share, frames per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// The size of the frames being shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl ShareSession {
    /// The session of an engine that shares nothing.
    pub fn none() -> ShareSession {
        ShareSession::default()
    }

    /// True while the engine shares one of its sources.
    pub fn is_active(&self) -> bool {
        !self.source_id.is_empty()
    }
}

/// `["RoomShare"]`: the whole extension node.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoomShareAnswer {
    pub room_share: RoomShareNode,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoomShareNode {
    pub share_session: ShareSession,
    pub sources: Vec<SourceInfo>,
    #[serde(default)]
    pub generation: u64,
}

/// `["RoomShare","Thumbnail"]` with `params.source_id`: a JPEG, Base64.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ThumbnailAnswer {
    pub id: String,
    pub width: u32,
    pub height: u32,
    pub jpeg_base64: String,
}

impl Answer for ShareAnswer {
    const PATH: &'static [&'static str] = &["Share"];
}
impl Answer for ShareInfoAnswer {
    const PATH: &'static [&'static str] = &["Share", "ShareInfo"];
}
impl Answer for CastCodeAnswer {
    const PATH: &'static [&'static str] = &["Share", "CastCode"];
}
impl Answer for CaptureDeviceListAnswer {
    const PATH: &'static [&'static str] = &["Share", "CaptureDeviceList"];
}
impl Answer for ShareGuideAnswer {
    const PATH: &'static [&'static str] = &["Share", "ShareGuide"];
}
impl Answer for MeetingAnswer {
    const PATH: &'static [&'static str] = &["Meeting"];
}
impl Answer for MeetingInfoAnswer {
    const PATH: &'static [&'static str] = &["Meeting", "MeetingInfo"];
}
impl Answer for SourcesAnswer {
    const PATH: &'static [&'static str] = &["RoomShare", "Sources"];
}
impl Answer for ShareSessionAnswer {
    const PATH: &'static [&'static str] = &["RoomShare", "ShareSession"];
}
impl Answer for RoomShareAnswer {
    const PATH: &'static [&'static str] = &["RoomShare"];
}
impl Answer for ThumbnailAnswer {
    const PATH: &'static [&'static str] = &["RoomShare", "Thumbnail"];
}

/// A string member that a device might send as a number (`123456`).
#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    String(String),
    Number(serde_json::Number),
}

fn required_lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match StringOrNumber::deserialize(d)? {
        StringOrNumber::String(s) => s,
        StringOrNumber::Number(n) => n.to_string(),
    })
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<StringOrNumber>::deserialize(d).map(|v| {
        v.map(|v| match v {
            StringOrNumber::String(s) => s,
            StringOrNumber::Number(n) => n.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::to_device_string;

    #[test]
    fn share_node_in_wire_order() {
        let answer = ShareAnswer {
            share: ShareNode {
                share_info: Some(ShareInfo::default()),
                cast_code: Some("123456".into()),
                capture_device_list: vec!["xxx".into()],
            },
        };
        assert_eq!(
            to_device_string(&answer),
            r#"{"share": {"share_info": {"is_sharing": false, "quick_casting_state": 0}, "cast_code": "123456", "capture_device_list": ["xxx"]}}"#
        );
    }

    #[test]
    fn decodes_what_devices_send() {
        // The seed's example, and a cast code sent as a number.
        let a: ShareAnswer = serde_json::from_str(
            r#"{"share":{"share_info":{"is_sharing":false,"quick_casting_state":0},"cast_code":"","capture_device_list":["xxx"]}}"#,
        )
        .unwrap();
        assert_eq!(a.share.capture_device_list, ["xxx"]);
        let c: CastCodeAnswer = serde_json::from_str(r#"{"cast_code": 123456}"#).unwrap();
        assert_eq!(c.cast_code, "123456");
        let s: ShareAnswer = serde_json::from_str(r#"{"share":{}}"#).unwrap();
        assert_eq!(s.share.share_info, None);
    }

    #[test]
    fn idle_share_session_is_just_an_empty_id() {
        let idle = ShareSessionAnswer {
            share_session: ShareSession::none(),
        };
        assert_eq!(
            to_device_string(&idle),
            r#"{"share_session": {"source_id": ""}}"#
        );
        assert!(!idle.share_session.is_active());
    }
}
