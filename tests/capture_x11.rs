//! Real X11 capture under Xvfb + openbox: catalog order and titles, filters,
//! thumbnail colours, a share's live preview, rename, close (stopping the
//! share with a reason) and stale-index refusal.
//!
//! One test function on purpose: xcap reads `DISPLAY` from the process
//! environment, so this binary points it at its private Xvfb once, before any
//! capture thread exists, and nothing else in the binary runs in parallel.
// Needs Xvfb, openbox and the X11 backend.
#![cfg(all(target_os = "linux", not(target_env = "ohos")))]

mod support;
#[path = "support/capture_x11.rs"]
mod x11;

use support::wait;

use roomshare::capture::{Backend, Capture, CaptureOptions, SourcesMode, XcapBackend};
use roomshare::engine::{EngineHandle, RoomConfig, RoomSnapshot};
use roomshare::media::ThumbnailState;
use roomshare::protocol::{Id, Request, RpcResult, SourceKind};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::wait_snapshot;
use wait::wait_until_async;
use x11::{WindowSpec, XClient, XServer, close, dominant_rgb, thread_names};

const DEADLINE: Duration = Duration::from_secs(15);
const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 40];
const BLUE: [u8; 3] = [40, 60, 220];

async fn call(engine: &EngineHandle, method: &str, params: Value) -> RpcResult {
    engine
        .request(Request::new(Some(Id::string("t")), method, params))
        .await
        .expect("engine alive")
}

/// The capturable windows, front to back, with their indices.
fn test_windows(snap: &RoomSnapshot) -> Vec<(String, u32)> {
    snap.sources
        .iter()
        .filter(|s| s.kind == SourceKind::Window && s.unavailable.is_none())
        .map(|s| (s.title.clone(), s.select_index.unwrap_or(0)))
        .collect()
}

#[test]
#[allow(unsafe_code)] // set_var, before any other thread exists
fn x11_catalog_thumbnails_share_rename_close() {
    let server = XServer::start(1280, 1024).expect("Xvfb + openbox");
    // SAFETY: no other thread of this test binary exists yet that reads the
    // environment (single test function, no runtime started yet).
    unsafe {
        std::env::set_var("DISPLAY", &server.display);
        std::env::remove_var("WAYLAND_DISPLAY");
        std::env::remove_var("XDG_SESSION_TYPE");
    }
    assert_eq!(SourcesMode::Auto.resolve(), SourcesMode::Real);

    let x = XClient::connect(&server.display);
    let spec = |title, rgb, x| WindowSpec {
        title,
        rgb,
        x,
        y: 60,
        width: 300,
        height: 200,
        pid: None,
        iconic: false,
    };
    let red = x.window(&spec("Capture Red", RED, 20));
    let green = x.window(&spec("Capture Green", GREEN, 360));
    let blue = x.window(&spec("Capture Blue", BLUE, 700));
    // Windows the catalog must leave out: tiny, our own process, minimized.
    let tiny = x.window(&WindowSpec {
        width: 30,
        height: 30,
        x: 20,
        y: 600,
        ..spec("Capture Tiny", RED, 0)
    });
    let own = x.window(&WindowSpec {
        pid: Some(std::process::id()),
        y: 400,
        ..spec("Capture Own", RED, 20)
    });
    let iconic = x.window(&WindowSpec {
        iconic: true,
        y: 400,
        ..spec("Capture Minimized", RED, 360)
    });
    x.wait_managed(
        &[red, green, blue, tiny, own, iconic],
        Duration::from_secs(10),
    );

    // The backend directly: front to back is the reverse of mapping order.
    // openbox stacks each window as it manages it, so wait (under a
    // deadline) for that order rather than for a fixed time.
    let mut backend = XcapBackend::new();
    let window_titles = |listed: &[roomshare::protocol::SourceInfo]| -> Vec<String> {
        listed
            .iter()
            .filter(|s| s.kind == SourceKind::Window && s.unavailable.is_none())
            .map(|s| s.title.clone())
            .collect()
    };
    let what = "the windows listed front to back as Blue, Green, Red";
    let listed = support::wait::wait_until(Duration::from_secs(10), what, || {
        let listed = backend.list().expect("xcap lists sources");
        match window_titles(&listed) == ["Capture Blue", "Capture Green", "Capture Red"] {
            true => Ok(listed),
            false => Err(format!("{:?}", window_titles(&listed))),
        }
    });
    assert!(
        listed
            .iter()
            .any(|s| s.kind == SourceKind::Desktop && s.width == 1280 && s.height == 1024)
    );
    assert!(listed.iter().any(|s| s.kind == SourceKind::Monitor));
    let green_id = XcapBackend::window_id(green);
    let img = backend.capture(&green_id).expect("capture green");
    assert_eq!(img.dimensions(), (300, 200));
    assert!(close(dominant_rgb(img.as_raw()), GREEN, 12));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine = EngineHandle::spawn(RoomConfig {
            join_delay: Duration::from_millis(10),
            initial_sources: vec![],
            ..RoomConfig::default()
        });
        let changes = Arc::new(AtomicUsize::new(0));
        let counter = changes.clone();
        let options = CaptureOptions {
            catalog_interval: Duration::from_millis(200),
            thumbnail_interval: Duration::from_millis(200),
            ..CaptureOptions::default()
        };
        let capture = Capture::start(
            SourcesMode::Auto,
            engine.clone(),
            options,
            Arc::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            }),
        );
        assert_eq!(capture.backend_name, "x11");

        // Catalog: published to the engine, front to back, filters applied.
        let snap = wait_snapshot(&engine, DEADLINE, "the X windows in the engine", |s| {
            !test_windows(s).is_empty()
        })
        .await;
        // Indices: the desktop 0, then the monitors, then the windows (the
        // minimised one too, listed with why it cannot be captured).
        let monitors = snap.sources.iter().filter(|s| s.kind == SourceKind::Monitor).count() as u32;
        assert!(monitors >= 1, "{:#?}", snap.sources);
        let windows = test_windows(&snap);
        let titles: Vec<&str> = windows.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(titles, ["Capture Blue", "Capture Green", "Capture Red"]);
        assert!(windows.windows(2).all(|w| w[0].1 < w[1].1) && windows[0].1 > monitors, "{windows:?}");
        let minimised = snap.sources.iter().find(|s| s.title == "Capture Minimized").expect("the minimised window is listed");
        assert!(minimised.unavailable.is_some() && minimised.select_index > Some(monitors), "{minimised:?}");
        let desktop = snap.sources.iter().find(|s| s.select_index == Some(0)).unwrap();
        assert_eq!(desktop.kind, SourceKind::Desktop);
        assert!(snap.sources.iter().filter(|s| s.kind == SourceKind::Monitor).all(|s| s.select_index.is_some_and(|i| i >= 1 && i <= monitors)));

        // Thumbnails: the right colour, aspect ratio kept.
        for (win, rgb) in [(red, RED), (green, GREEN), (blue, BLUE)] {
            let id = XcapBackend::window_id(win);
            wait_until_async(DEADLINE, format!("thumbnail of {id}"), async || {
                matches!(capture.thumbnails.get(&id), ThumbnailState::Ready(_))
            })
            .await;
            let ThumbnailState::Ready(t) = capture.thumbnails.get(&id) else { unreachable!() };
            assert_eq!((t.frame.width, t.frame.height), (270, 180), "{id}");
            let got = dominant_rgb(&t.frame.rgba);
            assert!(close(got, rgb, 12), "{id}: dominant {got:?}, expected {rgb:?}");
        }
        wait_until_async(DEADLINE, "desktop thumbnail", async || matches!(capture.thumbnails.get("desktop"), ThumbnailState::Ready(_))).await;
        let ThumbnailState::Ready(d) = capture.thumbnails.get("desktop") else { unreachable!() };
        assert_eq!((d.frame.width, d.frame.height), (225, 180));

        // Share the green window (fluency_first) through the engine.
        assert!(call(&engine, "Call/Meeting", json!({"action": "StartMeeting", "action_params": {"meeting_type": "instant"}})).await.is_ok());
        wait_snapshot(&engine, DEADLINE, "in meeting", |s| s.meeting_status == 1).await;
        let snap = engine.snapshot().borrow().clone();
        let green_index = snap.sources.iter().find(|s| s.id == green_id).and_then(|s| s.select_index).unwrap();
        let r = call(&engine, "Call/Share", json!({"action": "StartShare", "action_params": {
            "share_type": 0, "fluency_first": true, "select_index": green_index, "generation": snap.generation}})).await;
        assert!(r.is_ok(), "{r:?}");
        wait_until_async(DEADLINE, "a live preview of the shared window", async || {
            capture.preview().is_some_and(|p| p.source_id == green_id && p.seq >= 5)
        })
        .await;
        let p = capture.preview().unwrap();
        assert!(close(dominant_rgb(&p.frame.rgba), GREEN, 12));
        assert_eq!((p.frame.width, p.frame.height), (300, 200));
        // A measured rate; its value depends on the machine's load.
        assert!(p.fps > 0.0 && p.fps.is_finite(), "measured fps {}", p.fps);

        // Rename: reported with the new title (event and list).
        let mut events = engine.events();
        x.set_title(red, "Capture Red Renamed");
        wait_snapshot(&engine, DEADLINE, "the new title", |s| {
            s.sources.iter().any(|s| s.title == "Capture Red Renamed")
        })
        .await;
        let mut saw_rename = false;
        while let Ok(ev) = events.try_recv() {
            if ev.event.sub_event() == "SourcesChanged" && ev.text.contains("Capture Red Renamed") {
                saw_rename = true;
            }
        }
        assert!(saw_rename, "no SourcesChanged event with the new title");

        // Close the shared window: it leaves the list, the share stops with
        // an event that says why, and an index from the old list is refused.
        let old_generation = engine.snapshot().borrow().generation;
        let mut events = engine.events();
        x.destroy(green);
        let stopped = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let ev = events.recv().await.expect("events");
                if ev.event.sub_event() == "ShareInfoChanged" {
                    return ev;
                }
            }
        })
        .await
        .expect("ShareInfoChanged after the shared window closed");
        assert!(stopped.text.contains("\"is_sharing\": false"), "{}", stopped.text);
        assert!(stopped.event.message.contains("no longer available"), "message: {:?}", stopped.event.message);
        assert!(stopped.event.message.contains("Capture Green"), "message: {:?}", stopped.event.message);
        let snap = wait_snapshot(&engine, DEADLINE, "the closed window gone", |s| {
            !s.sources.iter().any(|s| s.id == green_id)
        })
        .await;
        assert!(snap.own_share.is_none());
        assert!(snap.generation > old_generation);
        let r = call(&engine, "Call/Share", json!({"action": "StartShare", "action_params": {
            "share_type": 0, "fluency_first": true, "select_index": 1, "generation": old_generation}})).await;
        assert_eq!(r.error_code, 8, "{r:?}");
        assert!(r.message.contains("stale"), "{}", r.message);
        wait_until_async(DEADLINE, "the closed window's tile removed", async || {
            matches!(capture.thumbnails.get(&green_id), ThumbnailState::Pending)
        })
        .await;
        wait_until_async(DEADLINE, "the preview cleared", async || capture.preview().is_none()).await;

        // Drop stops every worker thread.
        drop(capture);
        let names = thread_names();
        assert!(!names.iter().any(|n| n.starts_with("capture-")), "{names:?}");
        // Drop joined the workers and every copy of the callback is gone,
        // so nothing can call on_change any more (no waiting needed).
        assert_eq!(Arc::strong_count(&changes), 1, "a worker still holds on_change");
    });
    drop(x);
    drop(server);
}
