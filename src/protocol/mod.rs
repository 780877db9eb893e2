//! The Rooms control API's wire types and nothing else: envelopes, Query
//! paths, Share/Meeting data, error codes and the device-form serialiser.
//! No I/O; server, client and engine all use these types.
//!
//! # Glossary: one name per idea, crate-wide
//!
//! The protocol's words (see `protocol.md` for the wire itself):
//!
//! - **room**: a meeting-room device (a Tencent Meeting Rooms) or the
//!   embedded engine standing in for one; both answer this protocol. The
//!   engine's state machine is `engine::Room`.
//! - **request**: one JSON-RPC request ([`Request`]): a `Query` for a node's
//!   data, a `Call/<Module>` carrying an **action** ([`ShareAction`],
//!   [`MeetingAction`], [`RoomShareAction`]), or a `Subscribe`/`Unsubscribe`.
//! - **result**: the `result` member a room answers with ([`RpcResult`]:
//!   `error_code` 0 and the node's `data`, or an [`RpcError`]'s code and
//!   message). An **answer** ([`Answer`], in [`answers`]) is the typed `data`
//!   of one Query node.
//! - **event**: an `Event/<Module>` notification a room pushes to its
//!   subscribers ([`Event`] in an [`EventEnvelope`]).
//! - **source**: something a room can share: the desktop, a monitor, a
//!   window or a capture device ([`SourceInfo`]).
//!
//! The console's words, built on these (they live in `link`):
//!
//! - **view** (`RoomView`): everything the console shows about one room,
//!   folded from its results and events.
//! - **status** (`RoomStatus`): one row of the Rooms view, derived from a
//!   view.
//! - **outcome** (`CallOutcome`): one room's answer to one action.
//!
//! "Frame" means three things, always qualified where it could be misread:
//!
//! - a **wire frame** is one WebSocket text message: one request, response
//!   or event, in this module's device form (e.g. `message::result_frame`);
//!   this is the only meaning "frame" has in `protocol`;
//! - a **picture** is captured pixels (`media::Frame`, `media::Thumbnail`);
//! - a **repaint** is one UI frame drawn by egui.

#![warn(missing_docs)]

pub mod actions;
pub mod answers;
pub mod auth;
pub mod codes;
pub mod events;
pub mod inspect;
pub mod message;
pub mod model;
pub mod wire;

pub use actions::{MeetingAction, Params, RoomShareAction, ShareAction, ShareTarget, StartShare};
pub use answers::Answer;
pub use events::{Event, EventEnvelope};
pub use inspect::{InspectParams, InspectReport, Verdict};
pub use message::{Id, Incoming, Method, Rejection, Request, RpcError, RpcResult, parse_request};
pub use model::{
    CaptureState, CaptureStatus, MeetingInfo, ShareInfo, ShareUserInfo, SourceHealth,
    SourceHealthState, SourceInfo, SourceKind, TEST_PATTERN_APP, number_sources, unix_now,
};
pub use wire::to_device_string;

/// The TCP port real devices listen on.
pub const DEFAULT_PORT: u16 = 6295;

/// Nodes events belong to, `[Module, Child]` (protocol.md §5).
pub const EVENT_NODES: &[(&str, &str)] = &[
    ("Share", "ShareInfo"),
    ("Share", "CastCode"),
    ("Share", "CaptureDeviceList"),
    ("Share", "ShareGuide"),
    ("Meeting", "MeetingInfo"),
    ("RoomShare", "Sources"),
    ("RoomShare", "ShareSession"),
];

/// True if `path` may be subscribed to: `[]`, a module, or a module's child.
pub fn is_subscribable(path: &[String]) -> bool {
    match path {
        [] => true,
        [m] => EVENT_NODES.iter().any(|(module, _)| module == m),
        [m, c] => EVENT_NODES
            .iter()
            .any(|(module, child)| module == m && child == c),
        _ => false,
    }
}

/// Parse `ws://host:port` style room addresses; a bare `host` or `host:port`
/// gets the scheme and the default port.
pub fn normalise_url(input: &str) -> String {
    let input = input.trim();
    let with_scheme = if input.starts_with("ws://") || input.starts_with("wss://") {
        input.to_string()
    } else {
        format!("ws://{input}")
    };
    let after_scheme = with_scheme
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or("");
    let authority = after_scheme.split('/').next().unwrap_or("");
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !authority.ends_with(']');
    let mut url = if has_port {
        with_scheme.clone()
    } else {
        let (scheme, rest) = with_scheme.split_once("://").unwrap_or(("ws", ""));
        let (auth, path) = rest
            .split_once('/')
            .map(|(a, p)| (a, format!("/{p}")))
            .unwrap_or((rest, String::new()));
        format!("{scheme}://{auth}:{DEFAULT_PORT}{path}")
    };
    if url.matches('/').count() == 2 {
        url.push('/');
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(normalise_url("10.0.0.5"), "ws://10.0.0.5:6295/");
        assert_eq!(normalise_url("ws://room:7000"), "ws://room:7000/");
        assert_eq!(normalise_url("ws://room"), "ws://room:6295/");
        assert_eq!(normalise_url("127.0.0.1:1234"), "ws://127.0.0.1:1234/");
        assert_eq!(normalise_url("[::1]"), "ws://[::1]:6295/");
        assert_eq!(normalise_url("ws://[::1]:99/x"), "ws://[::1]:99/x");
    }

    #[test]
    fn subscribe_paths() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(is_subscribable(&p(&[])));
        assert!(is_subscribable(&p(&["Share"])));
        assert!(is_subscribable(&p(&["Share", "ShareInfo"])));
        assert!(!is_subscribable(&p(&["Share", "Nope"])));
        assert!(!is_subscribable(&p(&["Nope"])));
    }
}
