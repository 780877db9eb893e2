//! The remote inspection end to end: `roomshare serve --sources real` (the
//! real binary) on a private Xvfb + openbox with real X11 windows, asked
//! by `roomshare inspect --url` (the real binary again) and by raw
//! WebSocket clients (`Call/RoomShare` `Inspect`):
//! - `inspect --url` reports the window's black stretch as a local
//!   inspection would (JSON and text), exit 4 for the default `--fail-on`;
//! - the answer comes when the inspection ends, and meanwhile the same
//!   connection and another one are answered at once;
//! - an unknown source is error 8 (the protocol's error for a value that
//!   does not match the current state), and so are bad inputs; `--seconds`
//!   over 60 with `--url` is refused before connecting (exit 2);
//! - a window closed mid-inspection: verdict `gone` with the figures so
//!   far, as soon as it went.
//!
//! Health in `["RoomShare","Sources"]` answers and `SourcesChanged` events
//! (state and since) is covered by tests/capture_real_served.rs
//! (`served_sources_carry_each_windows_health`). Every wait polls under a
//! deadline; the window is paced by sleeping until each step's time (its
//! own animation), never before an assert.
#![cfg(all(target_os = "linux", not(target_env = "ohos")))]

#[path = "support/inspect.rs"]
mod inspect;
mod support;
#[path = "support/capture_x11.rs"]
mod x11;

use support::wait;

use futures_util::StreamExt as _;
use inspect::{DEADLINE, Serve, command, report_of, start_inspect};
use roomshare::capture::health::{InspectReport, Verdict};
use roomshare::capture::x11::X11Backend;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::{Ws, connect_raw, raw_base64_protocol, send};
use tokio_tungstenite::tungstenite::Message;
use x11::{WindowSpec, XClient, XServer};

const PASSWORD: &str = "inspect-remote";
const COLOURS: [[u8; 3]; 3] = [[220, 60, 60], [60, 200, 60], [60, 90, 220]];

/// Field order matters: the server process goes first, then the X client,
/// then the X server.
struct Env {
    serve: Serve,
    x: XClient,
    server: XServer,
}

/// Starting servers one at a time keeps two tests from racing for a display.
static START: Mutex<()> = Mutex::new(());

/// An X server with one managed 320×240 window titled `title`; `serve` on it.
fn env(title: &str) -> (Env, u32) {
    let _one_at_a_time = START.lock().unwrap_or_else(|p| p.into_inner());
    let server = XServer::start(1280, 720).unwrap_or_else(|e| {
        panic!("{e} (the remote inspect tests need Xvfb and openbox: apt-get install xvfb openbox)")
    });
    let x = XClient::connect(&server.display);
    let win = x.window(&WindowSpec::solid(title, COLOURS[0], 80, 60, 320, 240));
    x.wait_managed_and(&[win], DEADLINE, || x.viewable(win));
    let serve = Serve::start(&server.display, PASSWORD);
    (Env { serve, x, server }, win)
}

impl Env {
    /// `inspect --url … --password …` followed by `args`.
    fn remote_args<'a>(&'a self, url: &'a str, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--url", url, "--password", PASSWORD];
        all.extend_from_slice(args);
        all
    }

    /// Wait until the engine lists `id` (its catalog runs once a second).
    async fn wait_listed(&self, id: &str) {
        let mut ws = connect(&self.serve).await;
        wait::wait_until_async(DEADLINE, "the window listed by serve", async || {
            let r = request(
                &mut ws,
                "l",
                "Query",
                json!({"path": ["RoomShare", "Sources"]}),
            )
            .await;
            let listed = r["data"]["sources"]
                .as_array()
                .is_some_and(|l| l.iter().any(|s| s["id"] == id));
            if listed { Ok(()) } else { Err(r) }
        })
        .await;
    }
}

async fn connect(serve: &Serve) -> Ws {
    connect_raw(serve.addr, Some(&raw_base64_protocol(PASSWORD)))
        .await
        .0
}

/// The next JSON frame within `limit`, or None.
async fn frame_within(ws: &mut Ws, limit: Duration) -> Option<Value> {
    let until = Instant::now() + limit;
    loop {
        let left = until.checked_duration_since(Instant::now())?;
        let msg = tokio::time::timeout(left, ws.next()).await.ok()?;
        match msg.expect("connection open").expect("a readable frame") {
            Message::Text(t) => return Some(serde_json::from_str(&t).expect("JSON")),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Send a request with `id`; its `result` (nothing else is expected first).
async fn request(ws: &mut Ws, id: &str, method: &str, params: Value) -> Value {
    let text = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    send(ws, &text.to_string()).await;
    let frame = frame_within(ws, DEADLINE).await.expect("an answer in time");
    assert_eq!(frame["id"], id, "the answer to {id}: {frame}");
    frame["result"].clone()
}

fn inspect_params(source_id: &str, seconds: Value, fps: Value) -> Value {
    json!({"action": "Inspect", "action_params": {"source_id": source_id, "seconds": seconds, "fps": fps}})
}

/// Sleep until `zero + at` seconds (the window's own pacing).
fn at(zero: Instant, at: f64) {
    let when = zero + Duration::from_secs_f64(at);
    std::thread::sleep(when.saturating_duration_since(Instant::now()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_url_reports_the_remote_windows_black_stretch() {
    let (e, win) = env("Remote Animated");
    let id = X11Backend::window_id(win);
    e.wait_listed(&id).await;
    let url = e.serve.url();
    let args = e.remote_args(
        &url,
        &[id.as_str(), "--json", "--seconds", "4", "--fps", "20"],
    );
    let (running, zero) = start_inspect(&e.server.display, &args);
    // Animate at 10 Hz until 1 s, then black to the end.
    for k in 1..10u32 {
        at(zero, f64::from(k) / 10.0);
        e.x.set_background(win, COLOURS[k as usize % 3]);
        e.x.sync();
    }
    at(zero, 1.0);
    e.x.set_background(win, [0, 0, 0]);
    e.x.sync();
    let black_from = zero.elapsed().as_secs_f64();
    let (out, said) = running.finish(DEADLINE);
    let r = report_of(&out);
    let context = format!("black from {black_from:.3} s\n{r:#?}\nstderr: {said:?}");
    assert_eq!(
        out.status.code(),
        Some(4),
        "black is in the default --fail-on: {context}"
    );
    assert_eq!(r.verdict, Verdict::Black, "{context}");
    assert_eq!(
        (r.source.id.as_str(), r.source.title.as_str()),
        (id.as_str(), "Remote Animated")
    );
    assert!((3.5..=4.5).contains(&r.seconds), "{context}");
    assert!(r.frames >= 40 && r.changed >= 5, "{context}");
    // The engine starts grabbing a little after the command said so: the
    // stretch may be reported up to that much earlier.
    let [black] = r.black.as_slice() else {
        panic!("one black stretch: {context}")
    };
    assert!(
        (black_from - 0.6..=black_from + 0.3).contains(&black.start) && black.end.is_none(),
        "{context}"
    );
    assert_eq!(
        (r.sizes[0].width, r.sizes[0].height),
        (320, 240),
        "{context}"
    );

    // The human report, for the window that stays black: exit 0 when
    // black is not in --fail-on.
    let text_args = e.remote_args(
        &url,
        &[id.as_str(), "--seconds", "2.5", "--fail-on", "gone"],
    );
    let mut all = vec!["inspect"];
    all.extend_from_slice(&text_args);
    let out = command(&e.server.display, &all)
        .output()
        .expect("run inspect");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&id), "{text}");
    assert!(text.contains("black:    0.00 s–end"), "{text}");
    assert!(text.contains("verdict:  black"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inspection_is_answered_when_it_ends_and_others_are_served_meanwhile() {
    let (e, win) = env("Remote Deferred");
    let id = X11Backend::window_id(win);
    e.wait_listed(&id).await;
    let mut ws = connect(&e.serve).await;
    let mut other = connect(&e.serve).await;

    let asked = Instant::now();
    let inspect = json!({"jsonrpc": "2.0", "id": "i1", "method": "Call/RoomShare",
        "params": inspect_params(&id, json!(3), json!(15))});
    send(&mut ws, &inspect.to_string()).await;
    // Meanwhile: the same connection, and another one, answered at once.
    let code = request(
        &mut ws,
        "q1",
        "Query",
        json!({"path": ["Share", "CastCode"]}),
    )
    .await;
    assert_eq!(code["error_code"], 0, "{code}");
    let list = request(
        &mut other,
        "q2",
        "Query",
        json!({"path": ["RoomShare", "Sources"]}),
    )
    .await;
    assert_eq!(list["error_code"], 0, "{list}");
    let meanwhile = asked.elapsed();
    assert!(
        meanwhile < Duration::from_secs(2),
        "answered during the inspection: {meanwhile:?}"
    );

    let answer = frame_within(&mut ws, DEADLINE)
        .await
        .expect("the inspection's answer");
    let took = asked.elapsed();
    assert_eq!(answer["id"], "i1", "{answer}");
    assert!(
        took >= Duration::from_millis(2900),
        "answered when it ended: {took:?}"
    );
    let result = &answer["result"];
    assert_eq!(
        (&result["error_code"], &result["action"]),
        (&json!(0), &json!("Inspect")),
        "{answer}"
    );
    let report: InspectReport =
        serde_json::from_value(result["data"].clone()).expect("the data is an inspection report");
    assert_eq!(report.source.id, id);
    assert!((2.9..=3.5).contains(&report.seconds), "{report:#?}");
    assert!(report.frames >= 20, "{report:#?}");
    assert_eq!(
        report.verdict,
        Verdict::Static,
        "a solid window: {report:#?}"
    );

    // Refusals come at once, with the protocol's error 8 and the range.
    let refusals = [
        (
            inspect_params("window:1", json!(2), json!(10)),
            "unknown `source_id`",
        ),
        (inspect_params(&id, json!(61), json!(10)), "at most 60"),
        (inspect_params(&id, json!(0), json!(10)), "more than 0"),
        (inspect_params(&id, json!(2), json!(1000)), "from 1 to 120"),
        (
            json!({"action": "Inspect", "action_params": {"seconds": 2, "fps": 10}}),
            "source_id",
        ),
    ];
    for (params, says) in refusals {
        let r = request(&mut ws, "bad", "Call/RoomShare", params.clone()).await;
        assert_eq!(r["error_code"], 8, "{params}: {r}");
        let message = r["message"].as_str().unwrap_or("");
        assert!(message.contains(says), "{params}: {message:?}");
    }

    // The command says the same, exit 1; and refuses over 60 s itself, exit 2.
    let url = e.serve.url();
    let run = |args: &[&str]| {
        let mut all = vec!["inspect"];
        all.extend_from_slice(&e.remote_args(&url, args));
        command(&e.server.display, &all)
            .output()
            .expect("run inspect")
    };
    let out = run(&["window:1", "--seconds", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error 8") && stderr.contains("unknown `source_id`"),
        "{stderr}"
    );
    let out = run(&[id.as_str(), "--seconds", "61"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at most 60"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_closed_mid_inspection_is_gone_with_the_figures_so_far() {
    let (e, win) = env("Remote Closed");
    let id = X11Backend::window_id(win);
    e.wait_listed(&id).await;
    let url = e.serve.url();
    let args = e.remote_args(&url, &[id.as_str(), "--json", "--seconds", "30"]);
    let (running, zero) = start_inspect(&e.server.display, &args);
    for k in 1..10u32 {
        at(zero, f64::from(k) / 10.0);
        e.x.set_background(win, COLOURS[k as usize % 3]);
        e.x.sync();
    }
    at(zero, 1.5);
    e.x.destroy(win);
    e.x.sync();
    let closed = zero.elapsed().as_secs_f64();
    let (out, said) = running.finish(DEADLINE);
    let ended = zero.elapsed().as_secs_f64();
    let r = report_of(&out);
    let context =
        format!("closed at {closed:.3} s, ended at {ended:.3} s\n{r:#?}\nstderr: {said:?}");
    assert_eq!(r.verdict, Verdict::Gone, "{context}");
    assert_eq!(
        out.status.code(),
        Some(4),
        "gone is in the default --fail-on: {context}"
    );
    assert!(
        ended < closed + 5.0,
        "the answer came when the window went, not after 30 s: {context}"
    );
    assert!(
        (closed - 0.6..=closed + 0.5).contains(&r.seconds),
        "{context}"
    );
    assert!(
        r.frames >= 10 && r.changed >= 3,
        "the figures so far: {context}"
    );
}
