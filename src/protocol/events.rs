//! Pushed events (protocol.md §5): one [`Event`] variant per `sub_event`,
//! each with the typed `data` of the node it belongs to, and the
//! [`EventEnvelope`] that carries it with the device's status.
//!
//! ```json
//! {"jsonrpc": "2.0", "method": "Event/Share", "params": {"sub_event": "ShareInfoChanged", "error_code": 0, "message": "", "data": {"share_info": {…}}}}
//! ```

use super::answers::{
    CaptureDeviceListAnswer, CastCodeAnswer, MeetingInfoAnswer, ShareGuideAnswer, ShareInfoAnswer,
    ShareSessionAnswer, SourcesAnswer,
};
use super::codes;
use super::model::MeetingInfo;
use super::wire::to_device_string;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// What happened. The variant is the `sub_event`; its payload is `data`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Who shares changed (`["Share","ShareInfo"]`).
    ShareInfoChanged(ShareInfoAnswer),
    /// The cast code changed.
    CastCodeChanged(CastCodeAnswer),
    /// Capture devices were plugged in or unplugged.
    CaptureDeviceListChanged(CaptureDeviceListAnswer),
    /// The share guide opened or closed.
    ShareGuideChanged(ShareGuideAnswer),
    /// Start/JoinMeeting finished: in the meeting now (documented).
    JoinMeetingCompleted(JoinedMeeting),
    /// `meeting_status` changed (joining, a cast meeting began or ended).
    MeetingStatusChanged(MeetingInfoAnswer),
    /// The Rooms left its meeting.
    LeaveMeeting(MeetingInfoAnswer),
    /// The meeting was ended for everyone.
    DissolveMeeting(MeetingInfoAnswer),
    /// roomshare: sources appeared, vanished or were renamed.
    SourcesChanged(SourcesAnswer),
    /// roomshare: this engine's own share started, switched or stopped.
    ShareSessionChanged(ShareSessionAnswer),
    /// Any other event a device pushes, kept as it came.
    Other {
        /// The `<Module>` of its `Event/<Module>` method.
        module: String,
        /// Its `sub_event` name.
        sub_event: String,
        /// Its `data`, undecoded.
        data: Value,
    },
}

/// `data` of `JoinMeetingCompleted`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JoinedMeeting {
    /// The meeting joined (status 1).
    #[serde(default)]
    pub meeting_info: MeetingInfo,
    /// Who the Rooms is in it.
    #[serde(default)]
    pub self_user_info: SelfUserInfo,
}

/// Who the Rooms itself is in the meeting (the subset roomshare sends).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfUserInfo {
    /// The Rooms' display name.
    pub nickname: String,
    /// Its terminal type (20–22: Rooms; see `model::terminal_name`).
    pub instance_id: i64,
}

impl Event {
    /// `(module, child)`: the node the event belongs to. Subscriptions at or
    /// above that node receive it.
    pub fn node(&self) -> (&str, &str) {
        match self {
            Event::ShareInfoChanged(_) => ("Share", "ShareInfo"),
            Event::CastCodeChanged(_) => ("Share", "CastCode"),
            Event::CaptureDeviceListChanged(_) => ("Share", "CaptureDeviceList"),
            Event::ShareGuideChanged(_) => ("Share", "ShareGuide"),
            Event::JoinMeetingCompleted(_)
            | Event::MeetingStatusChanged(_)
            | Event::LeaveMeeting(_)
            | Event::DissolveMeeting(_) => ("Meeting", "MeetingInfo"),
            Event::SourcesChanged(_) => ("RoomShare", "Sources"),
            Event::ShareSessionChanged(_) => ("RoomShare", "ShareSession"),
            Event::Other { module, .. } => (module, ""),
        }
    }

    /// The `sub_event` name.
    pub fn sub_event(&self) -> &str {
        match self {
            Event::ShareInfoChanged(_) => "ShareInfoChanged",
            Event::CastCodeChanged(_) => "CastCodeChanged",
            Event::CaptureDeviceListChanged(_) => "CaptureDeviceListChanged",
            Event::ShareGuideChanged(_) => "ShareGuideChanged",
            Event::JoinMeetingCompleted(_) => "JoinMeetingCompleted",
            Event::MeetingStatusChanged(_) => "MeetingStatusChanged",
            Event::LeaveMeeting(_) => "LeaveMeeting",
            Event::DissolveMeeting(_) => "DissolveMeeting",
            Event::SourcesChanged(_) => "SourcesChanged",
            Event::ShareSessionChanged(_) => "ShareSessionChanged",
            Event::Other { sub_event, .. } => sub_event,
        }
    }

    /// Read an event from its `sub_event` and `data`. Unknown names, and
    /// known names whose data does not decode, become [`Event::Other`].
    pub fn decode(module: &str, sub_event: &str, data: Value) -> Event {
        fn typed<T: DeserializeOwned>(data: &Value, wrap: fn(T) -> Event) -> Option<Event> {
            T::deserialize(data).ok().map(wrap)
        }
        let known = match sub_event {
            "ShareInfoChanged" => typed(&data, Event::ShareInfoChanged),
            "CastCodeChanged" => typed(&data, Event::CastCodeChanged),
            "CaptureDeviceListChanged" => typed(&data, Event::CaptureDeviceListChanged),
            "ShareGuideChanged" => typed(&data, Event::ShareGuideChanged),
            "JoinMeetingCompleted" => typed(&data, Event::JoinMeetingCompleted),
            "MeetingStatusChanged" => typed(&data, Event::MeetingStatusChanged),
            "LeaveMeeting" => typed(&data, Event::LeaveMeeting),
            "DissolveMeeting" => typed(&data, Event::DissolveMeeting),
            "SourcesChanged" => typed(&data, Event::SourcesChanged),
            "ShareSessionChanged" => typed(&data, Event::ShareSessionChanged),
            _ => None,
        };
        // A known name must also belong to the module it came from.
        match known {
            Some(event) if event.node().0 == module => event,
            _ => Event::Other {
                module: module.to_string(),
                sub_event: sub_event.to_string(),
                data,
            },
        }
    }
}

/// Serialises as the event's `data` object.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Event::ShareInfoChanged(d) => d.serialize(s),
            Event::CastCodeChanged(d) => d.serialize(s),
            Event::CaptureDeviceListChanged(d) => d.serialize(s),
            Event::ShareGuideChanged(d) => d.serialize(s),
            Event::JoinMeetingCompleted(d) => d.serialize(s),
            Event::MeetingStatusChanged(d) | Event::LeaveMeeting(d) | Event::DissolveMeeting(d) => {
                d.serialize(s)
            }
            Event::SourcesChanged(d) => d.serialize(s),
            Event::ShareSessionChanged(d) => d.serialize(s),
            Event::Other { data, .. } => data.serialize(s),
        }
    }
}

/// An event with the status the device attaches: `error_code` 0 and an
/// empty message, or a failure and why (a shared window was closed).
#[derive(Debug, Clone, PartialEq)]
pub struct EventEnvelope {
    /// What happened, with its data.
    pub event: Event,
    /// 0, or the failure that forced the change (1).
    pub error_code: i64,
    /// Empty, or why the change was forced.
    pub message: String,
}

impl EventEnvelope {
    /// A change as it normally happens (error 0, no message).
    pub fn new(event: Event) -> EventEnvelope {
        EventEnvelope {
            event,
            error_code: codes::OK,
            message: String::new(),
        }
    }

    /// The change was forced by a failure (error 1 Fail) for `reason`.
    pub fn failed(event: Event, reason: &str) -> EventEnvelope {
        EventEnvelope {
            event,
            error_code: codes::FAIL,
            message: reason.to_string(),
        }
    }

    /// The event's `sub_event` name.
    pub fn sub_event(&self) -> &str {
        self.event.sub_event()
    }

    /// The `data` object as JSON (logs and tests).
    pub fn data(&self) -> Value {
        serde_json::to_value(&self.event).unwrap_or(Value::Null)
    }

    /// `Event/<Module>`.
    pub fn method(&self) -> String {
        format!("Event/{}", self.event.node().0)
    }

    /// True if a subscription to `path` receives this event.
    pub fn matches(&self, path: &[String]) -> bool {
        let (module, child) = self.event.node();
        match path {
            [] => true,
            [m] => m == module,
            [m, c] => m == module && !child.is_empty() && c == child,
            _ => false,
        }
    }

    /// The frame in the device form.
    pub fn to_frame(&self) -> String {
        #[derive(Serialize)]
        struct Params<'a> {
            sub_event: &'a str,
            error_code: i64,
            message: &'a str,
            data: &'a Event,
        }
        #[derive(Serialize)]
        struct Out<'a> {
            jsonrpc: &'static str,
            method: &'a str,
            params: Params<'a>,
        }
        to_device_string(&Out {
            jsonrpc: "2.0",
            method: &self.method(),
            params: Params {
                sub_event: self.event.sub_event(),
                error_code: self.error_code,
                message: &self.message,
                data: &self.event,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::ShareInfo;

    #[test]
    fn frame_in_device_form() {
        let e = EventEnvelope::new(Event::CastCodeChanged(CastCodeAnswer {
            cast_code: "135790".into(),
        }));
        assert_eq!(
            e.to_frame(),
            r#"{"jsonrpc": "2.0", "method": "Event/Share", "params": {"sub_event": "CastCodeChanged", "error_code": 0, "message": "", "data": {"cast_code": "135790"}}}"#
        );
    }

    #[test]
    fn decode_round_trip_and_unknowns() {
        let e = Event::ShareInfoChanged(ShareInfoAnswer {
            share_info: ShareInfo {
                is_sharing: true,
                ..ShareInfo::default()
            },
        });
        let data = serde_json::to_value(&e).unwrap();
        assert_eq!(Event::decode("Share", "ShareInfoChanged", data.clone()), e);
        // The right name in the wrong module, or an unknown name: kept as is.
        assert!(matches!(
            Event::decode("Meeting", "ShareInfoChanged", data.clone()),
            Event::Other { .. }
        ));
        let other = Event::decode("Device", "CameraChanged", data);
        assert_eq!(other.sub_event(), "CameraChanged");
        assert_eq!(other.node(), ("Device", ""));
    }

    #[test]
    fn subscriptions_at_or_above_the_node() {
        let e = EventEnvelope::new(Event::ShareGuideChanged(ShareGuideAnswer {
            share_guide_open: true,
        }));
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(e.matches(&p(&[])));
        assert!(e.matches(&p(&["Share"])));
        assert!(e.matches(&p(&["Share", "ShareGuide"])));
        assert!(!e.matches(&p(&["Share", "ShareInfo"])));
        assert!(!e.matches(&p(&["Meeting"])));
    }
}
