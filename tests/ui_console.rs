//! The console under egui_kittest: the same interactions against the
//! embedded engine (a real `EngineHandle` and `Link`) and against a real
//! server on loopback (remote mode, including a server restart), plus
//! snapshot tests of the main states from fixed views.
//!
//! Snapshots render with wgpu on Mesa's software rasterizer; the backend is
//! pinned with `WGPU_BACKEND` (vulkan = lavapipe unless set otherwise).

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use roomshare::client::{ConnState, Endpoint};
use roomshare::engine::{EngineHandle, RoomConfig};
use roomshare::link::{Extension, Link, Notice, RoomView, Subject, Target};
use roomshare::media::{
    Frame, PreviewSlot, SharePreview, Thumbnail, ThumbnailState, ThumbnailStore,
};
use roomshare::protocol::answers::ShareSession;
use roomshare::protocol::{
    MeetingInfo, ShareAction, ShareInfo, ShareTarget, ShareUserInfo, SourceHealth,
    SourceHealthState, SourceInfo, SourceKind, StartShare,
};
use roomshare::server::{Server, ServerConfig};
use roomshare::ui::{ConsoleApp, FixedRoomDesk, RoomDesk, Settings};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wait::try_wait_every;

#[path = "support/wait.rs"]
mod wait;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn fast_room() -> RoomConfig {
    RoomConfig {
        cast_code: Some("246810".into()),
        join_delay: Duration::from_millis(20),
        quick_cast_delay: Duration::from_millis(200),
        ..RoomConfig::default()
    }
}

/// The console on `f`, in 中文.
fn chinese_harness(f: FixedRoomDesk) -> Harness<'static, ConsoleApp> {
    Harness::builder()
        .with_size(egui::vec2(1360.0, 860.0))
        .build_eframe(move |cc| {
            let settings = Settings {
                lang: roomshare::ui::Lang::Zh,
                ..Settings::default()
            };
            ConsoleApp::new(&cc.egui_ctx, Arc::new(f), settings, None, None)
        })
}

fn harness_for(driver: Arc<dyn RoomDesk>) -> Harness<'static, ConsoleApp> {
    Harness::builder()
        .with_size(egui::vec2(1360.0, 860.0))
        .build_eframe(move |cc| {
            ConsoleApp::new(&cc.egui_ctx, driver, Settings::default(), None, None)
        })
}

/// Run frames until `cond` holds; panics with `what` after `timeout`. The
/// link and engine work on their own threads, so a frame may need to wait
/// a little for them: each round yields briefly rather than sleeping long.
fn step_until(
    harness: &mut Harness<'_, ConsoleApp>,
    what: &str,
    timeout: Duration,
    mut cond: impl FnMut(&mut Harness<'_, ConsoleApp>) -> bool,
) {
    let every = Duration::from_millis(2);
    let stepped = try_wait_every(every, timeout, what, || {
        harness.step();
        cond(harness)
    });
    if let Err(e) = stepped {
        panic!(
            "{e}; toasts: {:?}; view: {:?}",
            harness.state().toasts.items,
            harness.state().room.desk().view()
        );
    }
}

const T: Duration = Duration::from_secs(10);

fn has_label(h: &Harness<'_, ConsoleApp>, text: &str) -> bool {
    h.query_all_by_label(text).next().is_some()
}

fn has_label_containing(h: &Harness<'_, ConsoleApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// Click the button (or tile) labelled `text`, scrolling it into view
/// first as a person would (the side panel scrolls at small sizes).
fn click_label(h: &mut Harness<'_, ConsoleApp>, text: &str) {
    let by = || {
        egui_kittest::kittest::by()
            .label(text)
            .role(egui::Role::Button)
    };
    match h.query_all(by()).next() {
        Some(node) => node.scroll_to_me(),
        None => panic!("no button labelled {text:?}"),
    }
    h.run();
    match h.query_all(by()).next() {
        Some(node) => node.click(),
        None => panic!("no button labelled {text:?} after scrolling to it"),
    }
}

/// The engine's own view of its share (the ground truth for the UI tests).
fn own_share(engine: &EngineHandle) -> Option<(String, Option<u32>)> {
    engine
        .snapshot()
        .borrow()
        .own_share
        .as_ref()
        .map(|s| (s.source.id.clone(), s.source.select_index))
}

fn index_of(engine: &EngineHandle, id: &str) -> Option<u32> {
    engine
        .snapshot()
        .borrow()
        .sources
        .iter()
        .find(|s| s.id == id)
        .and_then(|s| s.select_index)
}

/// How a remote participant comes to share in the scenario.
#[derive(Clone, Copy, PartialEq)]
enum RemoteShare {
    /// The console's room-simulator panel (shown for an embedded engine).
    SimulatorPanel,
    /// The room itself (a remote room's console has no simulator panel).
    Room,
}

/// The interactions every mode must support. `engine` is the room the
/// console drives (embedded, or behind the server).
fn scenario(h: &mut Harness<'_, ConsoleApp>, engine: &EngineHandle, remote_share: RemoteShare) {
    // Connected, the source wall is built.
    step_until(h, "the Terminal tile", T, |h| has_label(h, "Terminal"));
    step_until(h, "connected", T, |h| has_label(h, "Connected"));

    // Not in a meeting: StartShare is refused with 10000, shown as a toast.
    click_label(h, "Terminal");
    step_until(h, "the 10000 toast", T, |h| {
        has_label_containing(h, "10000 Rooms Not In Meeting")
    });
    assert!(own_share(engine).is_none());

    // Start a meeting, then a click on a window tile shares that index.
    click_label(h, "Start meeting");
    step_until(h, "in meeting", T, |h| has_label(h, "In meeting"));
    click_label(h, "Terminal");
    step_until(h, "the engine shares Terminal", T, |_| {
        own_share(engine).is_some_and(|(id, _)| id == "win-terminal")
    });
    let (_, index) = own_share(engine).expect("shared");
    assert_eq!(index, index_of(engine, "win-terminal"));
    assert!(
        index.is_some_and(|i| i > 0),
        "a window has select_index ≥ 1"
    );
    // The card shows this room as the sharer (from the engine's answer).
    step_until(h, "the share card", T, |h| {
        has_label(h, "roomshare") && has_label(h, "Host")
    });

    // Stop.
    click_label(h, "■ Stop share");
    step_until(h, "the share stopped", T, |h| {
        !engine.snapshot().borrow().is_sharing && has_label(h, "Nobody is sharing")
    });

    // A remote participant shares: the card shows the nickname.
    assert!(!has_label(h, "张伟") && !has_label(h, "Participant"));
    match remote_share {
        RemoteShare::SimulatorPanel => click_label(h, "Starts sharing"),
        RemoteShare::Room => {
            assert!(
                !has_label(h, "Starts sharing"),
                "the simulator panel is for the embedded engine only"
            );
            let r = tokio::runtime::Handle::current()
                .block_on(engine.request(roomshare::protocol::Request::new(
                    Some(roomshare::protocol::Id::string("sim")),
                    "Call/RoomShare",
                    serde_json::json!({"action": "SimulateRemoteShare", "action_params":
                        {"nickname": "张伟", "role_type": 3, "instance_id": 2}}),
                )))
                .expect("engine alive");
            assert_eq!(r.error_code, 0, "{r:?}");
        }
    }
    step_until(h, "张伟 on the share card", T, |h| {
        has_label(h, "张伟") && has_label(h, "Participant")
    });
    assert!(
        engine.snapshot().borrow().is_sharing && own_share(engine).is_none(),
        "a remote participant shares"
    );

    // Keyboard: arrows move the focus (it is on the last clicked tile,
    // Terminal), Enter shares the focused tile, Escape stops.
    h.key_press(egui::Key::ArrowLeft); // Quarterly review — Slides
    h.step();
    h.key_press(egui::Key::Enter);
    step_until(h, "the focused window shared", T, |_| {
        own_share(engine).is_some_and(|(id, _)| id == "win-slides")
    });
    h.key_press(egui::Key::ArrowUp); // the row above: Desktop
    h.step();
    h.key_press(egui::Key::Enter);
    step_until(h, "the desktop shared", T, |_| {
        own_share(engine).is_some_and(|(id, index)| id == "desktop" && index == Some(0))
    });
    h.key_press(egui::Key::Escape);
    step_until(h, "Escape stopped the share", T, |_| {
        own_share(engine).is_none()
    });
}

#[test]
fn embedded_engine() {
    let rt = runtime();
    let _g = rt.enter();
    let engine = EngineHandle::spawn(fast_room());
    let target = Target::embedded(
        Endpoint::Embedded {
            engine: engine.clone(),
            thumbnails: None,
        },
        ThumbnailStore::default(),
        PreviewSlot::default(),
    );
    let link = Link::start(target, rt.handle(), Arc::new(|| {}));
    let mut h = harness_for(Arc::new(link));
    scenario(&mut h, &engine, RemoteShare::SimulatorPanel);
}

#[test]
fn remote_over_loopback_with_server_restart() {
    let rt = runtime();
    let _g = rt.enter();
    let engine = EngineHandle::spawn(fast_room());
    let config = ServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..ServerConfig::default()
    };
    let server = rt
        .block_on(Server::start(config.clone(), engine.clone(), None))
        .expect("server");
    let addr = server.local_addr();
    let url = roomshare::protocol::normalise_url(&addr.to_string());
    let link = Link::start(Target::remote(&url, None), rt.handle(), Arc::new(|| {}));
    let mut h = harness_for(Arc::new(link));
    step_until(&mut h, "the URL in the header", T, |h| has_label(h, &url));
    scenario(&mut h, &engine, RemoteShare::Room);

    // The server goes away: the header says so and counts down…
    rt.block_on(server.shutdown());
    step_until(&mut h, "reconnecting", T, |h| {
        has_label_containing(h, "Reconnecting in")
    });
    // …and recovers when it is back on the same address.
    let server = rt
        .block_on(Server::start(
            ServerConfig {
                listen: addr,
                ..config
            },
            engine.clone(),
            None,
        ))
        .expect("server again");
    step_until(&mut h, "connected again", Duration::from_secs(20), |h| {
        has_label(h, "Connected")
    });
    // And works: share a window again.
    click_label(&mut h, "Terminal");
    step_until(&mut h, "shares after the restart", T, |_| {
        own_share(&engine).is_some_and(|(id, _)| id == "win-terminal")
    });
    rt.block_on(server.shutdown());
}

// ----- snapshots of the main states (fixed views, no engine) --------------

#[allow(unsafe_code)] // set_var, before any renderer thread exists
fn pin_renderer() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("WGPU_BACKEND").is_none() {
            // SAFETY: set once, before any renderer thread exists in this test.
            unsafe { std::env::set_var("WGPU_BACKEND", "vulkan") };
        }
    });
}

fn source(id: &str, kind: SourceKind, index: Option<u32>, title: &str, app: &str) -> SourceInfo {
    SourceInfo {
        id: id.into(),
        kind,
        select_index: index,
        device_id: (kind == SourceKind::CaptureDevice).then(|| id.to_string()),
        title: title.into(),
        app: app.into(),
        width: 1920,
        height: 1080,
        unavailable: None,
        health: None,
    }
}

fn sources() -> Vec<SourceInfo> {
    vec![
        source(
            "desktop",
            SourceKind::Desktop,
            Some(0),
            "Desktop",
            "roomshare",
        ),
        source(
            "hdmi-1",
            SourceKind::CaptureDevice,
            None,
            "HDMI-1",
            "capture",
        ),
        source(
            "win-slides",
            SourceKind::Window,
            Some(1),
            "Quarterly review — Slides",
            "slides",
        ),
        source(
            "win-terminal",
            SourceKind::Window,
            Some(2),
            "Terminal",
            "terminal",
        ),
        source(
            "win-board",
            SourceKind::Window,
            Some(3),
            "白板 Whiteboard",
            "whiteboard",
        ),
        source(
            "win-mail",
            SourceKind::Window,
            Some(4),
            "收件箱 — 邮件",
            "mail",
        ),
    ]
}

/// A deterministic test pattern.
fn pattern(w: u32, h: u32, hue: u8) -> Arc<Frame> {
    let mut rgba = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let band = ((x / 20 + y / 20) % 2) as u8;
            rgba.extend_from_slice(&[
                hue.wrapping_add((x * 255 / w) as u8 / 2),
                (y * 255 / h) as u8 / 2 + band * 40,
                200u8.wrapping_sub(hue),
                255,
            ]);
        }
    }
    Arc::new(Frame {
        width: w,
        height: h,
        rgba,
    })
}

fn in_meeting() -> MeetingInfo {
    MeetingInfo {
        meeting_status: 1,
        meeting_type: 0,
        meeting_title: "产品周会 Weekly".into(),
        meeting_code: "123456789".into(),
        formatted_meeting_code: "123 456 789".into(),
        ..MeetingInfo::default()
    }
}

fn base_view() -> RoomView {
    RoomView {
        conn: ConnState::Connected,
        share_info: Some(ShareInfo::default()),
        meeting: Some(in_meeting()),
        cast_code: Some("246810".into()),
        capture_device_list: vec!["hdmi-1".into()],
        share_guide_open: Some(false),
        extension: Extension::Present,
        sources: sources(),
        generation: Some(3),
        ..RoomView::empty("embedded".into(), true)
    }
}

fn fixture(view: RoomView) -> FixedRoomDesk {
    let f = FixedRoomDesk::new(view);
    for (i, s) in sources().iter().enumerate() {
        let state = if s.id == "win-mail" {
            ThumbnailState::Unavailable("the window is minimised".into())
        } else {
            ThumbnailState::Ready(Thumbnail {
                frame: pattern(160, 90, (i * 40) as u8),
                seq: 1,
                captured_at: Instant::now(),
            })
        };
        f.thumbnails.set(&s.id, state);
    }
    f
}

fn sharer(nickname: &str, role_type: i64, instance_id: i64, whiteboard: bool) -> ShareUserInfo {
    ShareUserInfo {
        nickname: nickname.into(),
        role_type,
        instance_id,
        screen_sharing: true,
        screen_share_type: i64::from(whiteboard),
        ..ShareUserInfo::default()
    }
}

fn snapshot(name: &str, f: FixedRoomDesk, settle: impl FnOnce(&mut Harness<'_, ConsoleApp>)) {
    pin_renderer();
    let mut h = harness_for(Arc::new(f));
    h.run_ok();
    settle(&mut h);
    h.run_ok();
    h.snapshot(name);
}

#[test]
fn snapshot_idle_in_meeting() {
    snapshot("idle_in_meeting", fixture(base_view()), |_| {});
}

#[test]
fn snapshot_sharing_window_with_preview() {
    let view = RoomView {
        share_info: Some(ShareInfo {
            share_user_info: Some(sharer("roomshare", 1, 20, false)),
            is_sharing: true,
            quick_casting_state: 0,
        }),
        share_session: Some(ShareSession {
            source_id: "win-terminal".into(),
            fluency_first: Some(true),
            share_voice: Some(false),
            ..ShareSession::default()
        }),
        ..base_view()
    };
    let f = fixture(view);
    f.preview.set(Some(SharePreview {
        source_id: "win-terminal".into(),
        frame: pattern(320, 180, 90),
        seq: 7,
        fps: 29.7,
    }));
    snapshot("sharing_window", f, |_| {});
}

#[test]
fn snapshot_remote_participant_sharing() {
    let view = RoomView {
        share_info: Some(ShareInfo {
            share_user_info: Some(sharer("张伟", 2, 2, true)),
            is_sharing: true,
            quick_casting_state: 0,
        }),
        ..base_view()
    };
    snapshot("remote_participant", fixture(view), |_| {});
}

#[test]
fn snapshot_quick_cast_preparing() {
    let view = RoomView {
        meeting: Some(MeetingInfo {
            meeting_status: 4,
            meeting_type: 3,
            ..MeetingInfo::default()
        }),
        share_info: Some(ShareInfo {
            share_user_info: None,
            is_sharing: false,
            quick_casting_state: 1,
        }),
        ..base_view()
    };
    snapshot("quick_cast_preparing", fixture(view), |_| {});
}

#[test]
fn snapshot_error_toast() {
    let f = fixture(RoomView {
        meeting: Some(MeetingInfo::default()),
        ..base_view()
    });
    f.push_notice(Notice {
        subject: Subject::Share(ShareAction::StartShare(StartShare {
            target: ShareTarget::Index(2),
            fluency_first: true,
            share_voice: false,
            generation: Some(1),
        })),
        code: 10000,
        message: "the room is not in a meeting".into(),
    });
    snapshot("error_toast", f, |_| {});
}

#[test]
fn snapshot_remote_device_without_extension() {
    let view = RoomView {
        label: "ws://10.0.0.5:6295/".into(),
        embedded: false,
        extension: Extension::Absent("the device answered 6 Query Path Error".into()),
        sources: Vec::new(),
        generation: None,
        capture_device_list: vec!["HDMI-1".into(), "USB Capture".into()],
        ..base_view()
    };
    snapshot("remote_no_extension", fixture(view), |_| {});
}

#[test]
fn snapshot_chinese_ui() {
    let f = fixture(RoomView {
        share_info: Some(ShareInfo {
            share_user_info: Some(sharer("李娜", 3, 3, false)),
            is_sharing: true,
            quick_casting_state: 0,
        }),
        ..base_view()
    });
    pin_renderer();
    let mut h = chinese_harness(f);
    h.run_ok();
    assert!(has_label(&h, "停止共享") || has_label(&h, "■ 停止共享"));
    h.snapshot("chinese_ui");
}

// ----- state-driven behaviour on fixed views --------------------------------

#[test]
fn thumbnails_upload_once_per_seq() {
    let f = fixture(base_view());
    let store = f.thumbnails.clone();
    let mut h = harness_for(Arc::new(f));
    h.run_ok();
    let first = h.state().room.wall.textures.uploads;
    assert!(
        first >= 5,
        "one texture per visible live source, got {first}"
    );
    for _ in 0..5 {
        h.step();
    }
    assert_eq!(
        h.state().room.wall.textures.uploads,
        first,
        "no upload without a new seq"
    );
    store.set(
        "win-terminal",
        ThumbnailState::Ready(Thumbnail {
            frame: pattern(160, 90, 7),
            seq: 2,
            captured_at: Instant::now(),
        }),
    );
    h.step();
    assert_eq!(h.state().room.wall.textures.uploads, first + 1);
}

#[test]
fn filter_and_reconnect_header() {
    let f = fixture(RoomView {
        conn: ConnState::Reconnecting {
            retry_at: Instant::now() + Duration::from_secs(30),
            attempt: 3,
            last_error: "connection refused".into(),
        },
        ..base_view()
    });
    let mut h = harness_for(Arc::new(f.clone()));
    h.run_steps(3);
    assert!(has_label_containing(&h, "Reconnecting in"));
    assert!(has_label_containing(&h, "(attempt 3) — connection refused"));
    // Ctrl+F focuses the filter; typing narrows the wall.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    h.event(egui::Event::Text("term".into()));
    h.run_steps(2);
    assert!(has_label(&h, "Terminal"));
    assert!(!has_label(&h, "Quarterly review — Slides"));
    // A click on the tile asks for StartShare with the tile's index and the generation.
    click_label(&mut h, "Terminal");
    h.run_steps(2);
    let sent = f.sent();
    assert!(
        sent.iter().any(|s| matches!(s,
            roomshare::ui::Sent::Share(roomshare::protocol::ShareAction::StartShare(st))
                if st.target == roomshare::protocol::ShareTarget::Index(2) && st.generation == Some(3))),
        "{sent:?}"
    );
}

// ----- a wall that never lies ------------------------------------------------

const REFUSED: &str = "screen sharing was not allowed (the dialog was cancelled). What to do: ask again and choose what to share in the dialog";

fn refused_view() -> RoomView {
    RoomView {
        sources: Vec::new(),
        capture: roomshare::protocol::CaptureStatus::not_ok(
            roomshare::protocol::CaptureState::Refused,
            REFUSED,
        ),
        ..base_view()
    }
}

fn retries(f: &FixedRoomDesk) -> usize {
    let retry = roomshare::ui::Sent::RoomShare(roomshare::protocol::RoomShareAction::RetryCapture);
    f.sent().iter().filter(|s| **s == retry).count()
}

#[test]
fn refused_capture_says_why_and_asks_again_by_button_and_key() {
    pin_renderer();
    let f = fixture(refused_view());
    let mut h = harness_for(Arc::new(f.clone()));
    h.run_ok();
    assert!(has_label(&h, "Screen sharing was not allowed"));
    assert!(has_label(&h, "Ask again to open the dialog once more."));
    assert!(has_label(&h, REFUSED), "the engine's reason is shown");
    assert!(
        !has_label(&h, "No sources"),
        "not an unexplained empty wall"
    );
    assert_eq!(retries(&f), 0);

    click_label(&mut h, "Ask again (Ctrl+R)");
    h.run_ok();
    assert_eq!(retries(&f), 1, "the button asks the engine again");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    h.run_ok();
    assert_eq!(retries(&f), 2, "so does Ctrl+R");
    h.snapshot("capture_refused");
}

#[test]
fn refused_capture_in_chinese() {
    pin_renderer();
    let f = fixture(refused_view());
    let mut h = chinese_harness(f);
    h.run_ok();
    assert!(has_label(&h, "屏幕共享未获允许"));
    assert!(has_label(&h, "重新请求 (Ctrl+R)"));
}

#[test]
fn waiting_for_permission_has_no_ask_again_and_ctrl_r_does_nothing() {
    pin_renderer();
    let f = fixture(RoomView {
        capture: roomshare::protocol::CaptureStatus::not_ok(
            roomshare::protocol::CaptureState::Waiting,
            "waiting for permission to capture the screen: allow screen sharing in the dialog that opened",
        ),
        ..refused_view()
    });
    let mut h = harness_for(Arc::new(f.clone()));
    h.run_ok();
    assert!(has_label(&h, "Waiting for permission to capture"));
    assert!(has_label(
        &h,
        "Allow screen sharing in the dialog that opened."
    ));
    assert!(
        !has_label(&h, "Ask again (Ctrl+R)"),
        "the dialog is already up"
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    h.run_ok();
    assert_eq!(retries(&f), 0);
}

#[test]
fn test_patterns_say_so_in_the_header_and_on_every_tile() {
    let mut list = sources();
    for s in &mut list {
        s.app = roomshare::protocol::TEST_PATTERN_APP.into();
    }
    let f = fixture(RoomView {
        sources: list,
        ..base_view()
    });
    assert!(f.view.test_patterns_only());
    snapshot("test_patterns", f.clone(), |h| {
        assert!(has_label(h, "· synthetic sources (test patterns)"));
    });
    let real = fixture(base_view());
    assert!(
        !real.view.test_patterns_only(),
        "real sources are not labelled"
    );
}

// ----- health of each source --------------------------------------------------

fn with_health(list: &mut [SourceInfo], id: &str, state: SourceHealthState, since: Option<i64>) {
    let s = list.iter_mut().find(|s| s.id == id).expect("a source");
    s.health = Some(SourceHealth { state, since });
}

#[test]
fn health_shows_in_words_on_tiles_and_the_share_card() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let mut list = sources();
    // No `since` on the clocked states: the snapshot must not depend on
    // the second it is taken in (the clocks are unit-tested).
    with_health(&mut list, "desktop", SourceHealthState::Black, None);
    with_health(&mut list, "hdmi-1", SourceHealthState::Stalled, None);
    with_health(
        &mut list,
        "win-slides",
        SourceHealthState::Static,
        Some(now - 190),
    );
    with_health(
        &mut list,
        "win-terminal",
        SourceHealthState::Static,
        Some(now - 5),
    );
    with_health(
        &mut list,
        "win-board",
        SourceHealthState::Live,
        Some(now - 100),
    );
    let view = RoomView {
        sources: list,
        share_info: Some(ShareInfo {
            share_user_info: Some(sharer("roomshare", 1, 20, false)),
            is_sharing: true,
            quick_casting_state: 0,
        }),
        share_session: Some(ShareSession {
            source_id: "hdmi-1".into(),
            ..ShareSession::default()
        }),
        ..base_view()
    };
    snapshot("health", fixture(view), |h| {
        assert!(has_label(h, "Desktop — Black"));
        assert!(has_label(h, "HDMI-1 — Stalled"));
        assert!(has_label(h, "Quarterly review — Slides — Still 3 min"));
        assert!(
            has_label(h, "Terminal"),
            "still for 5 s is not worth a word"
        );
        assert!(has_label(h, "白板 Whiteboard"), "live says nothing");
        assert!(
            has_label(h, "⚠ The room is watching this: Stalled"),
            "the share card says the shared source is stalled"
        );
    });
}

// ----- the inspector ---------------------------------------------------------

/// 75 % colour bars with red and blue swapped, as a grabber that mixes up
/// its channels would deliver them.
fn swapped_bars(w: u32, h: u32) -> Arc<Frame> {
    let bars = roomshare::media::bars::BARS_75;
    let rgba = (0..h)
        .flat_map(|_| (0..w).map(move |x| bars[(x * 8 / w) as usize].1))
        .flat_map(|[r, g, b]| [b, g, r, 255])
        .collect();
    Arc::new(Frame {
        width: w,
        height: h,
        rgba,
    })
}

/// What the capture would have measured after 12 s of a grabber: black
/// for a while, a stall, a size change, and still since 8 s.
fn inspected_hdmi() -> roomshare::link::InspectorLive {
    use roomshare::protocol::inspect::*;
    let span = |start, end| Span { start, end };
    let report = InspectReport {
        source: InspectedSource {
            id: "hdmi-1".into(),
            kind: SourceKind::CaptureDevice,
            title: "HDMI-1".into(),
            width: 1920,
            height: 1080,
        },
        seconds: 12.0,
        frames: 352,
        changed: 140,
        capture_fps: 29.3,
        content_fps: 11.7,
        interval_ms: IntervalMs {
            p50: Some(33.4),
            p95: Some(36.9),
            max: Some(1210.0),
        },
        black: vec![span(2.0, Some(4.5))],
        still: vec![span(8.0, None)],
        stalls: vec![span(5.0, Some(6.2))],
        sizes: vec![
            SizeAt {
                at: 0.0,
                width: 1920,
                height: 1080,
            },
            SizeAt {
                at: 6.2,
                width: 1280,
                height: 720,
            },
        ],
        signal: Some(SignalStatus::Ok),
        verdict: Verdict::Stalled,
        corrupt: Some(2),
        timings: Some("1280×720p60".into()),
    };
    // A steady 33 ms with a little jitter, and the stall's long gap.
    let recent_intervals = (0..300)
        .map(|i| {
            let t = 2.0 + f64::from(i) / 30.0;
            let ms = if i == 100 {
                1210.0
            } else {
                33.3 + f64::from(i % 7) * 0.5
            };
            [t, ms]
        })
        .collect();
    roomshare::link::InspectorLive {
        source_id: "hdmi-1".into(),
        picture: Some(swapped_bars(640, 360)),
        seq: 1,
        live: Some(LiveInspection {
            report,
            recent_intervals,
            health: SourceHealthState::Static,
            health_since: Some(8.0),
            failures: 3,
            pixel_format: Some("MJPG".into()),
        }),
    }
}

fn inspector_sent(f: &FixedRoomDesk) -> Vec<roomshare::ui::Sent> {
    use roomshare::ui::Sent;
    f.sent()
        .into_iter()
        .filter(|s| {
            matches!(
                s,
                Sent::OpenInspector(_) | Sent::CloseInspector | Sent::Share(_)
            )
        })
        .collect()
}

#[test]
fn inspector_opens_from_a_tile_measures_saves_and_closes_with_escape() {
    use roomshare::ui::Sent;
    pin_renderer();
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut f = fixture(base_view());
    f.snapshot_dir = Some(dir.path().to_path_buf());
    *f.inspection.lock() = Some(inspected_hdmi());
    let mut h = harness_for(Arc::new(f.clone()));
    h.run_ok();
    // The first arrow focuses Desktop, the next HDMI-1; its Inspect button
    // shows on the focused tile.
    h.key_press(egui::Key::ArrowRight);
    h.key_press(egui::Key::ArrowRight);
    h.run_ok();
    click_label(&mut h, "Inspect");
    h.run_ok();
    assert_eq!(
        inspector_sent(&f),
        vec![Sent::OpenInspector("hdmi-1".into())]
    );
    assert!(
        has_label(&h, "Inspector — HDMI-1"),
        "the inspector opened on the tile"
    );
    assert!(has_label(&h, "29.3 fps") && has_label(&h, "11.7 fps"));
    assert!(has_label(&h, "p50 33.4 · p95 36.9 · max 1210.0 ms"));
    assert!(has_label(&h, "1920×1080 → 1280×720 @0:06"));
    assert!(has_label(&h, "Still since 0:08"));
    assert!(has_label(&h, "1280×720p60"), "a device's timings");
    assert!(has_label(&h, "MJPG"), "and pixel format");
    assert!(has_label(&h, "Corrupt frames"), "and its corrupt frames");
    h.get_by_label("Colour bars check").click();
    h.run_ok();
    assert!(
        has_label(&h, "Channels swapped: red ↔ blue"),
        "the bars check names the swapped channels"
    );
    h.snapshot("inspector");

    click_label(&mut h, "Save snapshot");
    h.run_ok();
    let saved = std::fs::read_dir(dir.path())
        .expect("the snapshot folder")
        .map(|e| e.expect("an entry").path())
        .collect::<Vec<_>>();
    let png = saved
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .unwrap_or_else(|| panic!("a PNG among {saved:?}"));
    assert!(
        has_label_containing(&h, &png.display().to_string()),
        "the inspector says where"
    );
    let img = image::open(png).expect("a readable PNG").to_rgba8();
    assert_eq!((img.width(), img.height()), (640, 360), "the full picture");
    let sidecar: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(png.with_extension("json")).expect("the sidecar"),
    )
    .expect("JSON");
    assert_eq!(sidecar["inspection"]["report"]["frames"], 352);
    assert_eq!(sidecar["inspection"]["report"]["static"][0]["start"], 8.0);

    // Escape closes the inspector, and only that: the share goes on.
    h.key_press(egui::Key::Escape);
    h.run_ok();
    assert!(!has_label(&h, "Inspector — HDMI-1"));
    assert_eq!(
        inspector_sent(&f),
        vec![Sent::OpenInspector("hdmi-1".into()), Sent::CloseInspector]
    );
    // I on the focused tile opens it again.
    h.key_press(egui::Key::I);
    h.run_ok();
    assert!(has_label(&h, "Inspector — HDMI-1"));
    assert_eq!(
        inspector_sent(&f).last(),
        Some(&Sent::OpenInspector("hdmi-1".into()))
    );
}
