//! Where capture stands travels from the capture layer to every console:
//! `capture {state, reason}` in `["RoomShare","Sources"]` and in
//! `SourcesChanged`, over a real loopback WebSocket, and `RetryCapture`
//! reaches the backend.
//!
//! **The backend here is scripted** (a stand-in for the ScreenCast portal,
//! whose real conversation `tests/wayland_portal.rs` and
//! `tests/portal_frontend.rs` cover): it lets this test walk waiting →
//! refused → asked again → ok on cue. The engine, the capture workers, the
//! server and the wire are the real ones.

mod support;

use futures_util::StreamExt;
use parking_lot::Mutex;
use roomshare::capture::{Backend, Capture, CaptureError, CaptureOptions};
use roomshare::engine::{EngineHandle, RoomConfig};
use roomshare::protocol::{CaptureState, CaptureStatus, SourceInfo, SourceKind};
use roomshare::server::Server;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Ws, connect_raw, server_config};
use tokio_tungstenite::tungstenite::Message;

const DEADLINE: Duration = Duration::from_secs(10);

/// What the scripted backend says; the test changes it.
#[derive(Default)]
struct Script {
    list: Vec<SourceInfo>,
    status: CaptureStatus,
    retries: usize,
}

#[derive(Clone, Default)]
struct Scripted(Arc<Mutex<Script>>);

impl Backend for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn list(&mut self) -> Result<Vec<SourceInfo>, CaptureError> {
        let script = self.0.lock();
        match script.status.state {
            CaptureState::Ok | CaptureState::Waiting => Ok(script.list.clone()),
            _ => Err(CaptureError::Failed("refused".into())),
        }
    }
    fn capture(&mut self, source_id: &str) -> Result<image::RgbaImage, CaptureError> {
        Err(CaptureError::Gone(source_id.into()))
    }
    fn status(&mut self) -> CaptureStatus {
        self.0.lock().status.clone()
    }
    fn retry(&mut self) {
        let mut script = self.0.lock();
        script.retries += 1;
        script.status = CaptureStatus::not_ok(CaptureState::Waiting, "asked again");
    }
}

fn monitor() -> SourceInfo {
    SourceInfo {
        id: "portal-monitor:1".into(),
        kind: SourceKind::Monitor,
        select_index: None,
        device_id: None,
        title: "HEADLESS-1".into(),
        app: "monitor".into(),
        width: 1280,
        height: 720,
        unavailable: None,
        health: None,
    }
}

/// A subscribed connection: answers are matched by id, and events that
/// arrive meanwhile are kept for [`Conn::sources_changed`].
struct Conn {
    ws: Ws,
    events: Vec<Value>,
}

impl Conn {
    /// The next frame, or a panic naming `what` at the deadline.
    async fn frame(&mut self, until: Instant, what: &str) -> Value {
        loop {
            let left = until
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("no {what} in time"));
            let msg = tokio::time::timeout(left, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no {what} in time"))
                .expect("connection open")
                .expect("readable frame");
            if let Message::Text(text) = msg {
                return serde_json::from_str(&text).expect("JSON");
            }
        }
    }

    async fn request(&mut self, id: &str, method: &str, params: Value) -> Value {
        let text = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        support::send(&mut self.ws, &text.to_string()).await;
        let until = Instant::now() + DEADLINE;
        loop {
            let frame = self.frame(until, "answer").await;
            if frame["id"] == id {
                return frame["result"].clone();
            }
            self.events.push(frame);
        }
    }

    /// The first `SourcesChanged` (kept or new) whose `capture.state` is
    /// `state`; the ones before it are dropped.
    async fn sources_changed(&mut self, state: &str) -> Value {
        let wanted = |f: &Value| {
            f["params"]["sub_event"] == "SourcesChanged"
                && f["params"]["data"]["capture"]["state"] == state
        };
        if let Some(i) = self.events.iter().position(wanted) {
            let found = self.events.remove(i);
            self.events.drain(..i);
            return found["params"]["data"].clone();
        }
        self.events.clear();
        let until = Instant::now() + DEADLINE;
        loop {
            let frame = self
                .frame(until, &format!("SourcesChanged with capture {state}"))
                .await;
            if wanted(&frame) {
                return frame["params"]["data"].clone();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_without_capture_problems_says_ok_with_a_null_reason() {
    let served = support::serve_with(server_config(None), support::room_config()).await;
    let mut ws = served.connect().await;
    let answer = support::rpc(
        &mut ws,
        r#"{"jsonrpc":"2.0","id":1,"method":"Query","params":{"path":["RoomShare","Sources"]}}"#,
    )
    .await;
    // Nested objects before scalars (protocol.md: regex-matching
    // controllers): `capture` comes before `generation`, which ends `data`.
    assert!(
        answer.contains(r#""capture": {"state": "ok", "reason": null}, "generation": 1}}}"#),
        "{answer}"
    );
    let sources: Value = serde_json::from_str(&answer).expect("JSON");
    for s in sources["result"]["data"]["sources"]
        .as_array()
        .expect("list")
    {
        assert_eq!(
            s["app"], "test pattern",
            "demo sources say what they are: {s}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_refused_asked_again_and_granted_reach_the_wire() {
    let script = Scripted::default();
    script.0.lock().status =
        CaptureStatus::not_ok(CaptureState::Waiting, "allow screen sharing in the dialog");
    let engine = EngineHandle::spawn(RoomConfig {
        initial_sources: Vec::new(),
        ..RoomConfig::default()
    });
    let backend = script.clone();
    let _capture = Capture::start_with(
        Arc::new(move || Box::new(backend.clone()) as Box<dyn Backend>),
        engine.clone(),
        CaptureOptions {
            catalog_interval: Duration::from_millis(50),
            thumbnail_interval: Duration::from_millis(50),
            ..CaptureOptions::default()
        },
        Arc::new(|| {}),
    );
    let server = Server::start(server_config(None), engine.clone(), None)
        .await
        .expect("server starts");
    let (ws, _) = connect_raw(server.local_addr(), None).await;
    let mut conn = Conn {
        ws,
        events: Vec::new(),
    };
    let sources = json!({"path": ["RoomShare", "Sources"]});
    let subscribed = conn.request("s", "Subscribe", sources.clone()).await;
    assert_eq!(subscribed["error_code"], 0, "{subscribed}");

    let waiting = support::wait::wait_until_async(DEADLINE, "capture waiting", async || {
        let data = conn.request("q", "Query", sources.clone()).await["data"].clone();
        if data["capture"]["state"] == "waiting" {
            Ok(data)
        } else {
            Err(data)
        }
    })
    .await;
    assert_eq!(
        waiting["capture"]["reason"],
        "allow screen sharing in the dialog"
    );
    assert_eq!(
        waiting["sources"],
        json!([]),
        "nothing listed while waiting"
    );

    script.0.lock().status = CaptureStatus::not_ok(
        CaptureState::Refused,
        "screen sharing was not allowed (the dialog was cancelled)",
    );
    let refused = conn.sources_changed("refused").await;
    assert_eq!(
        refused["capture"]["reason"],
        "screen sharing was not allowed (the dialog was cancelled)"
    );

    let retry = conn
        .request("r", "Call/RoomShare", json!({"action": "RetryCapture"}))
        .await;
    assert_eq!(retry["error_code"], 0, "{retry}");
    let asking = conn.sources_changed("waiting").await;
    assert!(asking["capture"]["reason"].is_string(), "{asking}");
    support::wait::wait_until_async(DEADLINE, "the backend to be asked again", async || {
        script.0.lock().retries == 1
    })
    .await;

    {
        let mut s = script.0.lock();
        s.list = vec![monitor()];
        s.status = CaptureStatus::ok();
    }
    let granted = conn.sources_changed("ok").await;
    assert_eq!(granted["capture"], json!({"state": "ok", "reason": null}));
    let ids: Vec<&str> = granted["sources"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, ["portal-monitor:1"]);
    assert_eq!(script.0.lock().retries, 1, "asked again once");
}
