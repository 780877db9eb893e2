//! Typed `Query` answers: the `data` of each node of the Query tree
//! (protocol.md §3, §8). The engine encodes its answers with these types and
//! the link and the command line decode with them, so no one picks fields
//! out of JSON by hand.
//!
//! Field order is wire order, and the last member of every node is a scalar
//! (see `model.rs`): regex-matching controllers depend on both. Decoding is
//! tolerant where real devices differ: members a device may omit are
//! `Option`s, and a cast code may arrive as a number.

use super::model::{CaptureStatus, MeetingInfo, ShareInfo, SourceInfo, SourceKind};
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
    /// The Share module's members.
    pub share: ShareNode,
}

/// The Share module's own members.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareNode {
    /// Who shares (absent when a device leaves it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_info: Option<ShareInfo>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_string"
    )]
    /// The code phones and laptops cast with (a device may send it as a number).
    pub cast_code: Option<String>,
    /// Last: an array, never an object (the regex rule).
    #[serde(default)]
    pub capture_device_list: Vec<String>,
}

/// `["Share","ShareInfo"]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareInfoAnswer {
    /// Who shares.
    pub share_info: ShareInfo,
}

/// `["Share","CastCode"]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CastCodeAnswer {
    /// The code phones and laptops cast with (a device may send it as a number).
    #[serde(deserialize_with = "required_lenient_string")]
    pub cast_code: String,
}

/// `["Share","CaptureDeviceList"]`: device ids.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaptureDeviceListAnswer {
    /// The `device_id`s `StartShare` with `share_type` 1 accepts.
    pub capture_device_list: Vec<String>,
}

/// `["Share","ShareGuide"]` (roomshare; real devices answer 6).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareGuideAnswer {
    /// The share guide shows on the room's screen.
    pub share_guide_open: bool,
}

/// `["Meeting"]`: `{"meeting": {"meeting_info", "meeting_status"}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MeetingAnswer {
    /// The Meeting module's members.
    pub meeting: MeetingNode,
}

/// The Meeting module's own members.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MeetingNode {
    /// The current meeting (status 0 and empty fields outside one).
    #[serde(default)]
    pub meeting_info: MeetingInfo,
    /// Last: a scalar after the nested object.
    #[serde(default)]
    pub meeting_status: i64,
}

/// `["Meeting","MeetingInfo"]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MeetingInfoAnswer {
    /// The current meeting (status 0 and empty fields outside one).
    pub meeting_info: MeetingInfo,
}

/// `["RoomShare","Sources"]`: the source list in `select_index` order and
/// its generation (bumped whenever the index mapping changes).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SourcesAnswer {
    /// Every source, in `select_index` order.
    pub sources: Vec<SourceInfo>,
    /// Whether the engine's machine can capture, and if not why (an engine
    /// without it is taken as capturing). Before `generation`: nested
    /// objects come before scalars (protocol.md, regex-matching controllers).
    #[serde(default)]
    pub capture: CaptureStatus,
    /// Bumped whenever the index mapping changes.
    #[serde(default)]
    pub generation: u64,
}

/// `["RoomShare","ShareSession"]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareSessionAnswer {
    /// This engine's own share.
    pub share_session: ShareSession,
}

/// This engine's own share: which source and how. An empty `source_id`
/// (and nothing else) when it shares nothing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShareSession {
    /// The shared source's `id` (empty: nothing shared).
    pub source_id: String,
    /// The shared source's kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SourceKind>,
    /// The shared source's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Smooth rather than sharp, as started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fluency_first: Option<bool>,
    /// The computer's sound is shared too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_voice: Option<bool>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// The measured capture rate of the share, frames per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Width of the pictures being shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height of the pictures being shared.
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
    /// The extension's members.
    pub room_share: RoomShareNode,
}

/// The `RoomShare` extension's own members.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoomShareNode {
    /// This engine's own share.
    pub share_session: ShareSession,
    /// Every source, in `select_index` order.
    pub sources: Vec<SourceInfo>,
    /// Bumped whenever the index mapping changes.
    #[serde(default)]
    pub generation: u64,
}

/// `["RoomShare","Thumbnail"]` with `params.source_id`: a JPEG, Base64.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ThumbnailAnswer {
    /// The source's `id`.
    pub id: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The JPEG, Base64 encoded.
    pub jpeg_base64: String,
}

/// Each answer type with the `path` that asks for it.
macro_rules! answer_paths {
    ($($answer:ty => [$($segment:literal),+];)+) => {
        $(impl Answer for $answer {
            const PATH: &'static [&'static str] = &[$($segment),+];
        })+
    };
}

answer_paths! {
    ShareAnswer => ["Share"];
    ShareInfoAnswer => ["Share", "ShareInfo"];
    CastCodeAnswer => ["Share", "CastCode"];
    CaptureDeviceListAnswer => ["Share", "CaptureDeviceList"];
    ShareGuideAnswer => ["Share", "ShareGuide"];
    MeetingAnswer => ["Meeting"];
    MeetingInfoAnswer => ["Meeting", "MeetingInfo"];
    SourcesAnswer => ["RoomShare", "Sources"];
    ShareSessionAnswer => ["RoomShare", "ShareSession"];
    RoomShareAnswer => ["RoomShare"];
    ThumbnailAnswer => ["RoomShare", "Thumbnail"];
}

/// A string member that a device might send as a number (`123456`).
#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    String(String),
    Number(serde_json::Number),
}

impl From<StringOrNumber> for String {
    fn from(v: StringOrNumber) -> String {
        match v {
            StringOrNumber::String(s) => s,
            StringOrNumber::Number(n) => n.to_string(),
        }
    }
}

fn required_lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    StringOrNumber::deserialize(d).map(String::from)
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<StringOrNumber>::deserialize(d).map(|v| v.map(String::from))
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
