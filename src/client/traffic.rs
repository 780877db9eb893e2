//! The traffic log's entries: every frame a client sends or receives, with
//! what a technician scans for (method, action, error code, round trip).

use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Direction of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Out,
    In,
}

/// One frame as sent or received, for the traffic pane.
#[derive(Debug, Clone)]
pub struct TrafficEntry {
    pub at: SystemTime,
    pub direction: Direction,
    /// `Query`, `Call/Share`, `Event/Share`, …
    pub method: String,
    /// The Call action, the event's sub_event, or a Query's path.
    pub action: Option<String>,
    /// For answers: `result.error_code` (or the JSON-RPC error code).
    pub error_code: Option<i64>,
    /// For answers: time since the request went out.
    pub round_trip: Option<Duration>,
    /// Frames sent by the console itself (polling, thumbnails).
    pub background: bool,
    /// The frame exactly as sent or received.
    pub text: String,
}

impl TrafficEntry {
    /// Summarise a frame. Any text is accepted: what cannot be read is
    /// logged with empty columns.
    pub fn of(
        direction: Direction,
        text: &str,
        round_trip: Option<Duration>,
        background: bool,
    ) -> Arc<TrafficEntry> {
        let mut entry = TrafficEntry {
            at: SystemTime::now(),
            direction,
            method: String::new(),
            action: None,
            error_code: None,
            round_trip,
            background,
            text: text.to_string(),
        };
        if let Ok(Value::Object(v)) = serde_json::from_str::<Value>(text) {
            entry.method = v
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            entry.action = action_of(&v, direction);
            entry.error_code = v
                .get("result")
                .and_then(|r| r.get("error_code"))
                .or_else(|| v.get("error").and_then(|e| e.get("code")))
                .and_then(Value::as_i64);
        }
        Arc::new(entry)
    }
}

/// The column after the method: a request's path (`Share/CastCode`), a
/// Call's action, or an event's sub_event.
fn action_of(v: &serde_json::Map<String, Value>, direction: Direction) -> Option<String> {
    let params = v.get("params");
    if direction == Direction::Out
        && let Some(path) = params.and_then(|p| p.get("path")).and_then(Value::as_array)
    {
        let path: Vec<&str> = path.iter().filter_map(Value::as_str).collect();
        return Some(path.join("/"));
    }
    params
        .and_then(|p| p.get("action").or_else(|| p.get("sub_event")))
        .or_else(|| v.get("result").and_then(|r| r.get("action")))
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns() {
        let out = TrafficEntry::of(
            Direction::Out,
            r#"{"jsonrpc": "2.0", "id": 1, "method": "Query", "params": {"path": ["Share", "CastCode"]}}"#,
            None,
            true,
        );
        assert_eq!(out.method, "Query");
        assert_eq!(out.action.as_deref(), Some("Share/CastCode"));
        let answer = TrafficEntry::of(
            Direction::In,
            r#"{"jsonrpc": "2.0", "method": "Call/Share", "id": 2, "result": {"error_code": 17, "action": "StopShare", "message": ""}}"#,
            Some(Duration::from_millis(3)),
            false,
        );
        assert_eq!(answer.action.as_deref(), Some("StopShare"));
        assert_eq!(answer.error_code, Some(17));
        let junk = TrafficEntry::of(Direction::In, "not json", None, false);
        assert_eq!((junk.method.as_str(), junk.error_code), ("", None));
    }
}
