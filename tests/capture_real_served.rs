//! Real capture through the real binary over real WebSockets: `roomshare
//! serve --sources real` on a private Xvfb + openbox (no compositing
//! manager), driven by a WebSocket client as a remote console or a
//! control script would drive it:
//! - the source list (`["RoomShare","Sources"]`): the desktop 0, the
//!   monitors next, the windows after; a window's thumbnail
//!   (`["RoomShare","Thumbnail"]`) is its own colour even when covered;
//! - a shared window reports its measured rate and frame size in
//!   `["RoomShare","ShareSession"]`;
//! - a closed window leaves the list (`SourcesChanged`, new generation) and,
//!   being shared, stops the share with an event that names it;
//! - a renamed window gets a `SourcesChanged` with its new title, same index
//!   and generation.
//!
//! The server is a child process pointed at the test's display through its
//! own environment, and killed by its handle. Every wait polls under a
//! deadline; nothing sleeps before an assert.
#![cfg(all(target_os = "linux", not(target_env = "ohos")))]

mod support;
#[path = "support/capture_x11.rs"]
mod x11;

use support::wait;

use base64::Engine as _;
use futures_util::StreamExt as _;
use roomshare::capture::x11::X11Backend;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{Ws, connect_raw, raw_base64_protocol, send};
use tokio_tungstenite::tungstenite::Message;
use wait::wait_until_async;
use x11::{WindowSpec, XClient, XServer, close, dominant_rgb};

const BIN: &str = env!("CARGO_BIN_EXE_roomshare");
const PASSWORD: &str = "real-capture";
const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 40];
const BLUE: [u8; 3] = [40, 60, 220];
const DEADLINE: Duration = Duration::from_secs(20);
const NEW_TITLE: &str = "After Rename ✓ 改名";

// ------------------------------------------------------------ the server

/// `roomshare serve --sources real` on a free loopback port, on `display`.
/// Dropping it kills exactly this child.
struct Serve {
    child: Child,
    addr: SocketAddr,
}

impl Serve {
    fn start(display: &str) -> Serve {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--sources", "real"])
            .args(["--password", PASSWORD])
            .env("DISPLAY", display)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XDG_SESSION_TYPE")
            .env_remove("ROOMSHARE_PASSWORD")
            .env("ROOMSHARE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn roomshare serve");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(DEADLINE).expect("serve prints its address");
        // "roomshare serving on ws://127.0.0.1:PORT/ (Ctrl+C to stop)"
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("ws://"))
            .and_then(|a| a.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Serve { child, addr }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------ the client

/// A WebSocket client that keeps the events it reads past while waiting
/// for an answer, so that no event is lost to a request.
struct Client {
    ws: Ws,
    events: Vec<Value>,
    next_id: u64,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let (ws, _) = connect_raw(addr, Some(&raw_base64_protocol(PASSWORD))).await;
        Client {
            ws,
            events: Vec::new(),
            next_id: 0,
        }
    }

    /// The next JSON frame, or None at the deadline.
    async fn frame(&mut self, until: Instant) -> Option<Value> {
        loop {
            let left = until.checked_duration_since(Instant::now())?;
            let msg = tokio::time::timeout(left, self.ws.next()).await.ok()?;
            match msg.expect("connection open").expect("a readable frame") {
                Message::Text(t) => return Some(serde_json::from_str(&t).expect("JSON")),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Send a request and return its `result`; events read meanwhile are kept.
    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let text = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        send(&mut self.ws, &text.to_string()).await;
        let until = Instant::now() + DEADLINE;
        loop {
            let frame = self.frame(until).await.expect("an answer in time");
            if frame["id"] == id {
                return frame["result"].clone();
            }
            if frame.get("id").is_none() {
                self.events.push(frame);
            }
        }
    }

    async fn query(&mut self, path: &[&str]) -> Value {
        let r = self.request("Query", json!({ "path": path })).await;
        assert_eq!(r["error_code"], 0, "Query {path:?}: {r}");
        r["data"].clone()
    }

    async fn call(&mut self, module: &str, action: &str, params: Value) -> Value {
        let method = format!("Call/{module}");
        self.request(&method, json!({"action": action, "action_params": params}))
            .await
    }

    async fn sources(&mut self) -> Vec<Value> {
        let data = self.query(&["RoomShare", "Sources"]).await;
        data["sources"].as_array().expect("a source list").clone()
    }

    /// The first event (kept or new) named `sub_event` that satisfies
    /// `pred`; only that one is consumed, so events may be awaited in any
    /// order.
    async fn event(&mut self, sub_event: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let matches = |e: &Value| e["params"]["sub_event"] == sub_event && pred(&e["params"]);
        if let Some(i) = self.events.iter().position(matches) {
            return self.events.remove(i)["params"].clone();
        }
        let until = Instant::now() + DEADLINE;
        loop {
            let frame = self.frame(until).await;
            let frame = frame.unwrap_or_else(|| panic!("no {sub_event} event in time"));
            if matches(&frame) {
                return frame["params"].clone();
            }
            self.events.push(frame);
        }
    }

    /// Poll `path` until `pred` holds on its data; that data.
    async fn poll(&mut self, path: &[&str], what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        wait_until_async(DEADLINE, what, async || {
            let data = self.query(path).await;
            match pred(&data) {
                true => Ok(data),
                false => Err(data),
            }
        })
        .await
    }

    /// The thumbnail of `source_id`, decoded from its JPEG.
    async fn thumbnail_rgb(&mut self, source_id: &str) -> Option<[u8; 3]> {
        let params = json!({"path": ["RoomShare", "Thumbnail"], "source_id": source_id});
        let r = self.request("Query", params).await;
        let b64 = r["data"]["jpeg_base64"].as_str()?;
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("Base64");
        let img = image::load_from_memory(&jpeg).expect("a JPEG").to_rgba8();
        Some(dominant_rgb(img.as_raw()))
    }
}

fn find<'a>(list: &'a [Value], id: &str) -> Option<&'a Value> {
    list.iter().find(|s| s["id"] == id)
}

fn index_of(list: &[Value], id: &str) -> Option<u64> {
    find(list, id).and_then(|s| s["select_index"].as_u64())
}

// ------------------------------------------------------------ the test

fn spec(title: &str, rgb: [u8; 3], x: i16) -> WindowSpec<'_> {
    WindowSpec {
        title,
        rgb,
        x,
        y: 80,
        width: 300,
        height: 200,
        pid: None,
        iconic: false,
    }
}

/// The desktop is 0, the monitors 1..=m, the windows after them; m.
fn assert_numbering(list: &[Value]) -> u64 {
    let kinds: Vec<(Option<u64>, &str)> = list
        .iter()
        .map(|s| (s["select_index"].as_u64(), s["kind"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(kinds[0], (Some(0), "desktop"), "{kinds:?}");
    let monitors = kinds.iter().filter(|(_, k)| *k == "monitor").count() as u64;
    assert!(monitors >= 1, "{kinds:?}");
    for (i, (index, kind)) in kinds.iter().enumerate().skip(1) {
        let want = if (i as u64) <= monitors {
            "monitor"
        } else {
            "window"
        };
        assert_eq!((*index, *kind), (Some(i as u64), want), "{kinds:?}");
    }
    monitors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_real_capture_lists_shares_and_follows_closed_and_renamed_windows() {
    let server =
        XServer::start(1280, 1024).unwrap_or_else(|e| panic!("{e} (apt-get install xvfb openbox)"));
    let x = XClient::connect(&server.display);
    let stays = x.window(&spec("Stays", GREEN, 20));
    let closes = x.window(&spec("Closes", RED, 360));
    let renamed = x.window(&spec("Before Rename", BLUE, 700));
    x.wait_managed(&[stays, closes, renamed], DEADLINE);
    // A cover over three quarters of "Stays": its thumbnail must still be
    // green (reading the screen, as xcap does here, gives mostly blue).
    let cover = x.window(&spec("Cover", BLUE, 100));
    x.wait_managed(&[cover], DEADLINE);
    let [stays_id, closes_id, renamed_id] = [stays, closes, renamed].map(X11Backend::window_id);

    let serve = Serve::start(&server.display);
    let mut c = Client::connect(serve.addr).await;
    for path in [json!(["RoomShare"]), json!(["Share", "ShareInfo"])] {
        let r = c.request("Subscribe", json!({ "path": path })).await;
        assert_eq!(r["error_code"], 0, "{r}");
    }

    let ids = [&stays_id, &closes_id, &renamed_id];
    let data = c
        .poll(&["RoomShare", "Sources"], "the windows listed", |d| {
            let list = d["sources"].as_array().cloned().unwrap_or_default();
            ids.iter().all(|id| find(&list, id).is_some())
        })
        .await;
    let list = data["sources"].as_array().expect("a list").clone();
    let monitors = assert_numbering(&list);
    assert!(ids.iter().all(|id| index_of(&list, id) > Some(monitors)));
    let stays_src = find(&list, &stays_id).expect("listed");
    assert_eq!(
        (
            &stays_src["title"],
            &stays_src["width"],
            &stays_src["height"]
        ),
        (&json!("Stays"), &json!(300), &json!(200))
    );
    wait_until_async(
        DEADLINE,
        "the covered window's thumbnail green",
        async || {
            c.thumbnail_rgb(&stays_id)
                .await
                .is_some_and(|rgb| close(rgb, GREEN, 16))
        },
    )
    .await;

    // Share "Closes": ShareSession reports its rate and frame size.
    let r = c
        .call(
            "Meeting",
            "StartMeeting",
            json!({"meeting_type": "instant"}),
        )
        .await;
    assert_eq!(r["error_code"], 0, "{r}");
    c.poll(&["Meeting", "MeetingInfo"], "the meeting", |d| {
        d["meeting_info"]["meeting_status"] == 1
    })
    .await;
    let index = index_of(&c.sources().await, &closes_id).expect("an index");
    let r = c
        .call(
            "Share",
            "StartShare",
            json!({"share_type": 0, "select_index": index, "fluency_first": true}),
        )
        .await;
    assert_eq!(r["error_code"], 0, "{r}");
    let session = c
        .poll(&["RoomShare", "ShareSession"], "a measured rate", |d| {
            d["share_session"]["fps"].as_f64().is_some_and(|f| f > 0.0)
        })
        .await;
    let session = &session["share_session"];
    assert_eq!(session["source_id"], closes_id.as_str(), "{session}");
    assert_eq!(
        (&session["width"], &session["height"]),
        (&json!(300), &json!(200))
    );
    println!("a shared 300x200 window: ShareSession {session}");

    // Closed while shared: out of the list, and the share stops naming it.
    let generation = c.query(&["RoomShare", "Sources"]).await["generation"].as_u64();
    assert!(generation.is_some(), "no generation in Sources");
    c.events.clear(); // only what follows the close counts
    x.destroy(closes);
    let changed = c
        .event("SourcesChanged", |p| {
            let list = p["data"]["sources"].as_array().cloned().unwrap_or_default();
            find(&list, &closes_id).is_none()
        })
        .await;
    let new_generation = changed["data"]["generation"].as_u64();
    assert!(
        new_generation > generation,
        "{generation:?} -> {new_generation:?}"
    );
    let ended = c
        .event("ShareInfoChanged", |p| {
            p["data"]["share_info"]["is_sharing"] == false
        })
        .await;
    let message = ended["message"].as_str().unwrap_or("");
    assert_eq!(ended["error_code"], 1, "{ended}");
    assert!(
        message.contains("\"Closes\"") && message.contains("was closed"),
        "the event that ended the share: {ended}"
    );
    println!("after the close: {message:?}");
    let session = c.query(&["RoomShare", "ShareSession"]).await;
    assert_eq!(session["share_session"]["source_id"], "", "{session}");

    // Renamed: the new title, same index, same generation.
    let before = c.sources().await;
    let index = index_of(&before, &renamed_id).expect("an index");
    c.events.clear();
    x.set_title(renamed, NEW_TITLE);
    let changed = c
        .event("SourcesChanged", |p| {
            let list = p["data"]["sources"].as_array().cloned().unwrap_or_default();
            find(&list, &renamed_id).is_some_and(|s| s["title"] == NEW_TITLE)
        })
        .await;
    let list = changed["data"]["sources"].as_array().expect("a list");
    assert_eq!(index_of(list, &renamed_id), Some(index));
    assert_eq!(changed["data"]["generation"].as_u64(), new_generation);
    assert!(!list.iter().any(|s| s["title"] == "Before Rename"));
    drop(c);
    drop(serve);
    drop(x);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_sources_carry_each_windows_health() {
    let server =
        XServer::start(1280, 1024).unwrap_or_else(|e| panic!("{e} (apt-get install xvfb openbox)"));
    let x = XClient::connect(&server.display);
    let black = x.window(&spec("All black", [0, 0, 0], 20));
    let still = x.window(&spec("Still red", RED, 360));
    x.wait_managed(&[black, still], DEADLINE);
    let [black_id, still_id] = [black, still].map(X11Backend::window_id);

    let serve = Serve::start(&server.display);
    let mut c = Client::connect(serve.addr).await;
    let r = c
        .request("Subscribe", json!({ "path": ["RoomShare"] }))
        .await;
    assert_eq!(r["error_code"], 0, "{r}");
    let health = |list: &[Value], id: &str| find(list, id).map(|s| s["health"].clone());
    let state = |list: &[Value], id: &str| health(list, id).map(|h| h["state"].clone());
    // ffmpeg's rules: black (and still) for 2 s before it is said.
    let data = c
        .poll(&["RoomShare", "Sources"], "black and still told", |d| {
            let list = d["sources"].as_array().cloned().unwrap_or_default();
            state(&list, &black_id) == Some(json!("black"))
                && state(&list, &still_id) == Some(json!("static"))
        })
        .await;
    let list = data["sources"].as_array().expect("a list").clone();
    let since = health(&list, &black_id)
        .and_then(|h| h["since"].as_i64())
        .expect("since");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    assert!(
        (0..=60).contains(&(now - since)),
        "since is when it turned black: {since} vs {now}"
    );
    // The same state keeps the same `since`: no jitter, no needless events.
    let again = c.sources().await;
    assert_eq!(health(&again, &black_id), health(&list, &black_id));
    // And the change was told: a SourcesChanged with the black window black.
    let event = c
        .event("SourcesChanged", |p| {
            let list = p["data"]["sources"].as_array().cloned().unwrap_or_default();
            state(&list, &black_id) == Some(json!("black"))
        })
        .await;
    assert_eq!(event["data"]["capture"]["state"], "ok", "{event}");
}
