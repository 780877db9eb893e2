//! Capture devices through the whole capture layer and the engine: the
//! catalog publishing them (`["Share","CaptureDeviceList"]`,
//! `["RoomShare","Sources"]`), their tiles, and a `share_type` 1 share with
//! its live preview, its measured rate in `["RoomShare","ShareSession"]`,
//! and how it ends when the device is unplugged or breaks.
//!
//! **No real device exists here.** The machine these tests run on has no
//! `/dev/video*` and cannot load v4l2loopback, so the V4L2 layer is faked
//! behind its `DeviceSystem` trait (`tests/support/fake_devices.rs`): it
//! replays the synthesised UVC-style frames of `tests/fixtures/v4l2/` at a
//! device's frame rate, with one streaming owner per node, as V4L2 has.
//! Everything above that trait is the real code: `CaptureDevices`,
//! `RealBackend`, the catalog, thumbnailer and share-capture threads, and
//! the engine. The screens next to the devices are synthetic (small, and
//! animated, so that their tiles change on every refresh).
//!
//! Every wait polls a condition under a deadline; nothing sleeps before an
//! assert.

#[path = "support/fake_devices.rs"]
mod fake;
#[path = "support/wait.rs"]
mod wait;

use fake::{FakeMachine, Node, Step, bars_mismatch, fixture, h264_only, webcam, yuyv_grabber};
use roomshare::capture::devices::{CaptureDevices, DeviceError};
use roomshare::capture::real::RealBackend;
use roomshare::capture::{
    Backend, BackendFactory, Capture, CaptureOptions, SyntheticBackend, SyntheticClock,
    SyntheticSources,
};
use roomshare::engine::{EngineHandle, EventFrame, RoomConfig};
use roomshare::media::ThumbnailState;
use roomshare::protocol::{Id, Request, RpcResult, SourceInfo, SourceKind};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::Receiver;
use wait::wait_until_async;

/// A plugged or unplugged device shows in the engine within this (the
/// catalog re-reads the devices once a second).
const HOTPLUG: Duration = Duration::from_secs(2);
/// Everything else: generous for a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(15);
const WEBCAM_ID: &str = "usb-Generic_HD_Webcam_200901010001-video-index0";

// ------------------------------------------------------------ panics

/// Panics of the capture worker threads, counted by a hook (a panicking
/// worker would otherwise just stop, and its tiles freeze).
static WORKER_PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_worker_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let worker = std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("capture-"));
            if worker {
                WORKER_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

fn assert_no_worker_panicked() {
    assert_eq!(
        WORKER_PANICS.load(Ordering::SeqCst),
        0,
        "a capture worker thread panicked (see stderr)"
    );
}

// ------------------------------------------------------------ the rig

fn screen(id: &str, kind: SourceKind, title: &str) -> SourceInfo {
    SourceInfo {
        id: id.into(),
        kind,
        select_index: None,
        device_id: None,
        title: title.into(),
        app: "synthetic".into(),
        width: 320,
        height: 180,
        unavailable: None,
        health: None,
    }
}

/// The engine, the capture workers on `RealBackend` (synthetic screens +
/// the fake machine's devices), and the machine.
struct Rig {
    machine: FakeMachine,
    engine: EngineHandle,
    capture: Capture,
}

impl Rig {
    /// The default catalog interval (1 s), thumbnails every 300 ms.
    fn start(nodes: Vec<Node>) -> Rig {
        count_worker_panics();
        let machine = FakeMachine::new(nodes);
        let engine = EngineHandle::spawn(RoomConfig {
            join_delay: Duration::from_millis(10),
            initial_sources: vec![],
            ..RoomConfig::default()
        });
        let screens = SyntheticSources::new(vec![
            screen("desktop", SourceKind::Desktop, "Desktop"),
            screen("win-notes", SourceKind::Window, "Notes"),
        ]);
        let clock = SyntheticClock::real();
        // One device set for every worker, as `SourcesMode::Real` builds it:
        // each worker must see the stream the share capture holds.
        let devices = CaptureDevices::new(machine.system());
        let factory: BackendFactory = Arc::new(move || {
            let screens = SyntheticBackend::new(screens.clone(), clock.clone());
            Box::new(RealBackend::new(Box::new(screens), Some(devices.clone()))) as Box<dyn Backend>
        });
        let options = CaptureOptions {
            thumbnail_interval: Duration::from_millis(300),
            ..CaptureOptions::default()
        };
        let capture = Capture::start_with(factory, engine.clone(), options, Arc::new(|| {}));
        Rig {
            machine,
            engine,
            capture,
        }
    }

    async fn call(&self, method: &str, params: Value) -> RpcResult {
        self.engine
            .request(Request::new(Some(Id::string("t")), method, params))
            .await
            .expect("engine alive")
    }

    async fn query(&self, path: &[&str]) -> Value {
        let r = self.call("Query", json!({ "path": path })).await;
        assert_eq!(r.error_code, 0, "Query {path:?}: {r:?}");
        r.data.expect("a Query answer has data")
    }

    async fn device_list(&self) -> Vec<String> {
        let data = self.query(&["Share", "CaptureDeviceList"]).await;
        serde_json::from_value(data["capture_device_list"].clone()).expect("a list of ids")
    }

    async fn sources(&self) -> Vec<SourceInfo> {
        let data = self.query(&["RoomShare", "Sources"]).await;
        serde_json::from_value(data["sources"].clone()).expect("a source list")
    }

    async fn share_session(&self) -> Value {
        self.query(&["RoomShare", "ShareSession"]).await["share_session"].clone()
    }

    async fn start_meeting(&self) {
        let r = self
            .call(
                "Call/Meeting",
                json!({"action": "StartMeeting", "action_params": {"meeting_type": "instant"}}),
            )
            .await;
        assert_eq!(r.error_code, 0, "{r:?}");
        wait_until_async(DEADLINE, "the meeting", async || {
            self.engine.snapshot().borrow().meeting_status == 1
        })
        .await;
    }

    async fn share_device(&self, device_id: &str, fluency_first: bool) -> RpcResult {
        self.call(
            "Call/Share",
            json!({"action": "StartShare", "action_params": {
                "share_type": 1, "device_id": device_id, "fluency_first": fluency_first}}),
        )
        .await
    }

    fn tile(&self, source_id: &str) -> ThumbnailState {
        self.capture.thumbnails.get(source_id)
    }

    fn tile_seq(&self, source_id: &str) -> Option<u64> {
        match self.tile(source_id) {
            ThumbnailState::Ready(t) => Some(t.seq),
            _ => None,
        }
    }

    fn tile_reason(&self, source_id: &str) -> Option<String> {
        match self.tile(source_id) {
            ThumbnailState::Unavailable(why) => Some(why),
            _ => None,
        }
    }

    /// Until the engine lists `node` (CaptureDeviceList and Sources); how
    /// long that took.
    async fn wait_listed(&self, node: &Node, within: Duration) -> Duration {
        let t0 = Instant::now();
        let id = node.device_id();
        let what = format!("{id} in the engine's lists");
        wait_until_async(within, what, async || {
            let list = self.device_list().await;
            let sources = self.sources().await;
            let source = sources.iter().find(|s| s.device_id.as_deref() == Some(&id));
            match list.contains(&id) && source.is_some() {
                true => Ok(()),
                false => Err(format!("CaptureDeviceList {list:?}, Sources {sources:#?}")),
            }
        })
        .await;
        t0.elapsed()
    }

    /// Until the engine no longer lists `node`; how long that took.
    async fn wait_unlisted(&self, node: &Node, within: Duration) -> Duration {
        let t0 = Instant::now();
        let id = node.device_id();
        let what = format!("{id} gone from the engine's lists");
        wait_until_async(within, what, async || {
            let in_list = self.device_list().await.contains(&id);
            let in_sources = self
                .sources()
                .await
                .iter()
                .any(|s| s.device_id.as_deref() == Some(&id));
            match !in_list && !in_sources {
                true => Ok(()),
                false => Err(format!(
                    "still listed (CaptureDeviceList: {in_list}, Sources: {in_sources})"
                )),
            }
        })
        .await;
        t0.elapsed()
    }

    /// Until the synthetic screens' tiles both got `n` new pictures.
    async fn wait_screens_refresh(&self, n: u64, what: &str) {
        let start = ["desktop", "win-notes"].map(|id| self.tile_seq(id).unwrap_or(0));
        wait_until_async(
            DEADLINE,
            format!("{what}: the other tiles keep refreshing"),
            async || {
                ["desktop", "win-notes"]
                    .iter()
                    .zip(start)
                    .all(|(id, s0)| self.tile_seq(id).is_some_and(|s| s >= s0 + n))
            },
        )
        .await;
    }
}

/// The next event named `sub_event` whose frame satisfies `pred`.
async fn next_event(
    events: &mut Receiver<Arc<EventFrame>>,
    sub_event: &str,
    pred: impl Fn(&EventFrame) -> bool,
) -> Arc<EventFrame> {
    tokio::time::timeout(DEADLINE, async {
        loop {
            let frame = events.recv().await.expect("engine events");
            if frame.event.sub_event() == sub_event && pred(&frame) {
                return frame;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {sub_event} event in time"))
}

/// A `ShareInfoChanged` that ends the share.
async fn share_ended(events: &mut Receiver<Arc<EventFrame>>) -> Arc<EventFrame> {
    next_event(events, "ShareInfoChanged", |f| {
        f.event.data()["share_info"]["is_sharing"] == false
    })
    .await
}

// ------------------------------------------------------------ hotplug

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_appears_within_2s_of_plugging_and_leaves_within_2s_of_unplugging() {
    let rig = Rig::start(vec![]);
    // The screens are published first: the catalog runs.
    wait_until_async(DEADLINE, "the screens in the engine", async || {
        rig.sources().await.len() == 2
    })
    .await;
    assert!(rig.device_list().await.is_empty());
    let mut events = rig.engine.events();

    let cam = webcam("/dev/video0", WEBCAM_ID);
    rig.machine.plug(cam.clone());
    let took = rig.wait_listed(&cam, HOTPLUG).await;
    println!("plugged: listed after {took:?}");
    let sources = rig.sources().await;
    let s = sources
        .iter()
        .find(|s| s.device_id.as_deref() == Some(WEBCAM_ID))
        .expect("listed");
    assert_eq!(s.kind, SourceKind::CaptureDevice);
    assert_eq!(s.id, cam.source_id());
    assert_eq!(s.select_index, None, "devices are shared by device_id");
    assert_eq!(
        (s.title.as_str(), s.width, s.height, &s.unavailable),
        ("HD Webcam", 320, 240, &None)
    );
    // The raw answer names the kind as the wire does.
    let raw = rig.query(&["RoomShare", "Sources"]).await;
    let wire = raw["sources"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["device_id"] == WEBCAM_ID))
        .expect("on the wire")
        .clone();
    assert_eq!(wire["kind"], "capture_device", "{wire}");
    let ev = next_event(&mut events, "CaptureDeviceListChanged", |_| true).await;
    assert_eq!(
        ev.event.data()["capture_device_list"],
        json!([WEBCAM_ID]),
        "{}",
        ev.text
    );

    // Its tile: the bars, scaled into the 320x180 box.
    wait_until_async(DEADLINE, "the webcam's tile", async || {
        rig.tile_seq(&cam.source_id()).is_some()
    })
    .await;
    let ThumbnailState::Ready(t) = rig.tile(&cam.source_id()) else {
        unreachable!()
    };
    assert_eq!((t.frame.width, t.frame.height), (240, 180));
    if let Some(why) = bars_mismatch(t.frame.width, t.frame.height, &t.frame.rgba, 40) {
        panic!("the webcam's tile: {why}");
    }
    // A thumbnail does not keep the device: it is free between grabs.
    wait_until_async(
        DEADLINE,
        "the device free between thumbnail grabs",
        async || !rig.machine.is_streaming("/dev/video0"),
    )
    .await;

    rig.machine.unplug("/dev/video0");
    let took = rig.wait_unlisted(&cam, HOTPLUG).await;
    println!("unplugged: gone after {took:?}");
    let ev = next_event(&mut events, "CaptureDeviceListChanged", |f| {
        f.event.data()["capture_device_list"] == json!([])
    })
    .await;
    assert_eq!(ev.event.error_code, 0);
    wait_until_async(
        DEADLINE,
        "the unplugged device's tile removed",
        async || matches!(rig.tile(&cam.source_id()), ThumbnailState::Pending),
    )
    .await;
    assert_no_worker_panicked();
}

// ------------------------------------------------------------ sharing

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_device_previews_live_from_one_held_stream_and_reports_its_rate() {
    let cam = webcam("/dev/video0", WEBCAM_ID);
    let rig = Rig::start(vec![cam.clone()]);
    let source_id = cam.source_id();
    rig.wait_listed(&cam, DEADLINE).await;
    wait_until_async(DEADLINE, "the webcam's tile", async || {
        rig.tile_seq(&source_id).is_some()
    })
    .await;
    rig.start_meeting().await;
    let mut events = rig.engine.events();

    // Ask while the thumbnailer has the device open for a grab: the share
    // must wait for that grab, not fail as "in use by another program".
    wait_until_async(DEADLINE, "a thumbnail grab in progress", async || {
        rig.machine.is_streaming("/dev/video0")
    })
    .await;
    let r = rig.share_device(WEBCAM_ID, true).await;
    assert_eq!(r.error_code, 0, "{r:?}");

    wait_until_async(DEADLINE, "a live preview of the webcam", async || {
        rig.capture
            .preview()
            .is_some_and(|p| p.source_id == source_id && p.seq >= 3)
    })
    .await;
    let first = rig.capture.preview().expect("a preview");
    assert_eq!((first.frame.width, first.frame.height), (320, 240));
    if let Some(why) = bars_mismatch(320, 240, &first.frame.rgba, 40) {
        panic!("the preview: {why}");
    }
    // Held: 20 more frames come from the stream opened for the share, not
    // from an open per frame, and the thumbnailer reads the same stream.
    let opens = rig.machine.opens_of("/dev/video0");
    wait_until_async(DEADLINE, "20 more preview frames", async || {
        rig.capture
            .preview()
            .is_some_and(|p| p.seq >= first.seq + 20)
    })
    .await;
    assert_eq!(
        rig.machine.opens_of("/dev/video0"),
        opens,
        "the device was re-opened while shared"
    );
    assert!(rig.machine.is_streaming("/dev/video0"));
    assert_eq!(
        rig.machine.world().busy_refusals,
        0,
        "something was refused as busy"
    );
    assert!(
        rig.tile_seq(&source_id).is_some(),
        "the shared device's tile: {:?}",
        rig.tile_reason(&source_id)
    );

    // The measured rate and frame size, in the Query and in the event.
    let ev = next_event(&mut events, "ShareSessionChanged", |f| {
        f.event.data()["share_session"]["fps"].as_f64().is_some()
    })
    .await;
    let session = &ev.event.data()["share_session"];
    assert_eq!(session["source_id"], source_id, "{}", ev.text);
    assert!(session["fps"].as_f64().unwrap() > 0.0, "{}", ev.text);
    assert_eq!(
        (&session["width"], &session["height"]),
        (&json!(320), &json!(240))
    );
    let session = rig.share_session().await;
    assert_eq!(session["source_id"], source_id);
    assert_eq!(session["kind"], "capture_device");
    let fps = session["fps"].as_f64().expect("fps in ShareSession");
    assert!(fps > 0.0 && fps <= 31.0, "fps {fps}");
    assert_eq!(
        (&session["width"], &session["height"]),
        (&json!(320), &json!(240))
    );
    let preview_fps = rig.capture.preview().map_or(0.0, |p| p.fps);
    println!("share of a 30 fps device: ShareSession fps {fps}, preview fps {preview_fps:.1}");

    // Stopping lets go of the device.
    let r = rig.call("Call/Share", json!({"action": "StopShare"})).await;
    assert_eq!(r.error_code, 0, "{r:?}");
    wait_until_async(DEADLINE, "the preview cleared", async || {
        rig.capture.preview().is_none()
    })
    .await;
    wait_until_async(DEADLINE, "the device released", async || {
        !rig.machine.is_streaming("/dev/video0")
    })
    .await;
    assert_no_worker_panicked();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unplugging_the_shared_device_stops_the_share_and_names_it() {
    let cam = webcam("/dev/video0", WEBCAM_ID);
    let rig = Rig::start(vec![cam.clone()]);
    rig.wait_listed(&cam, DEADLINE).await;
    rig.start_meeting().await;
    let r = rig.share_device(WEBCAM_ID, true).await;
    assert_eq!(r.error_code, 0, "{r:?}");
    wait_until_async(DEADLINE, "a live preview", async || {
        rig.capture.preview().is_some_and(|p| p.seq >= 3)
    })
    .await;

    let mut events = rig.engine.events();
    rig.machine.unplug("/dev/video0");
    let ended = share_ended(&mut events).await;
    assert_eq!(ended.event.error_code, 1, "{}", ended.text);
    let message = &ended.event.message;
    assert!(
        message.contains("\"HD Webcam\"") && message.contains("was unplugged"),
        "message: {message:?}"
    );
    assert!(
        ended.text.contains("\"error_code\": 1"),
        "on the wire: {}",
        ended.text
    );
    rig.wait_unlisted(&cam, HOTPLUG).await;
    assert_eq!(rig.share_session().await["source_id"], "");
    wait_until_async(DEADLINE, "the preview cleared", async || {
        rig.capture.preview().is_none()
    })
    .await;
    assert!(!rig.machine.is_streaming("/dev/video0"));
    assert_no_worker_panicked();
}

/// The catalog may notice an unplug before the share capture does (a slow
/// share, or the node vanishing before the stream reports it): the event
/// still says the device was unplugged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplug_the_catalog_sees_first_still_says_unplugged() {
    let cam = webcam("/dev/video0", WEBCAM_ID);
    let rig = Rig::start(vec![cam.clone()]);
    rig.wait_listed(&cam, DEADLINE).await;
    rig.start_meeting().await;
    // Not fluency_first: 5 captures a second, so the share capture is
    // asleep most of the time.
    let r = rig.share_device(WEBCAM_ID, false).await;
    assert_eq!(r.error_code, 0, "{r:?}");
    wait_until_async(DEADLINE, "a live preview", async || {
        rig.capture.preview().is_some_and(|p| p.seq >= 2)
    })
    .await;
    let mut events = rig.engine.events();
    // The node leaves the listing while its stream still delivers: the
    // catalog is the first to see the device go.
    rig.machine.hide_from_listing("/dev/video0");
    let ended = share_ended(&mut events).await;
    assert_eq!(ended.event.error_code, 1, "{}", ended.text);
    let message = &ended.event.message;
    assert!(
        message.contains("\"HD Webcam\"") && message.contains("was unplugged"),
        "message: {message:?}"
    );
    assert_no_worker_panicked();
}

// ------------------------------------------------------------ failures

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_and_formatless_devices_are_listed_with_why() {
    let mut busy = yuyv_grabber("/dev/video2", "Busy Grabber", "usb-0000:00:14.0-4");
    busy.busy_elsewhere = true;
    let h264 = h264_only("/dev/video4", "H264 Camera", "usb-0000:00:14.0-5");
    let rig = Rig::start(vec![busy.clone(), h264.clone()]);
    rig.wait_listed(&busy, DEADLINE).await;
    rig.wait_listed(&h264, DEADLINE).await;

    // No usable format: listed, with the formats it offers as the reason.
    let sources = rig.sources().await;
    let s = sources
        .iter()
        .find(|s| s.id == h264.source_id())
        .expect("listed");
    let why = s.unavailable.as_deref().expect("a reason in the list");
    assert_eq!(
        why,
        "no supported video format (offers H264, HEVC; roomshare reads MJPEG or YUYV)"
    );
    assert_eq!(s.kind, SourceKind::CaptureDevice);
    wait_until_async(DEADLINE, "the H264 camera's tile reason", async || {
        rig.tile_reason(&h264.source_id()).as_deref() == Some(why)
    })
    .await;
    // Busy: known once tried; the tile says so.
    wait_until_async(DEADLINE, "the busy grabber's tile reason", async || {
        rig.tile_reason(&busy.source_id())
            .is_some_and(|r| r.contains("in use by another program"))
    })
    .await;
    println!(
        "tiles: busy {:?}; no format {:?}",
        rig.tile_reason(&busy.source_id()),
        rig.tile_reason(&h264.source_id())
    );

    rig.start_meeting().await;
    // Sharing the formatless one is refused at once, with the reason.
    let r = rig.share_device(&h264.device_id(), true).await;
    assert_ne!(r.error_code, 0, "{r:?}");
    assert!(r.message.contains("no supported video format"), "{r:?}");
    // Sharing the busy one starts, then ends with why.
    let mut events = rig.engine.events();
    let r = rig.share_device(&busy.device_id(), true).await;
    assert_eq!(r.error_code, 0, "{r:?}");
    let ended = share_ended(&mut events).await;
    assert_eq!(ended.event.error_code, 1, "{}", ended.text);
    let message = &ended.event.message;
    assert!(
        message.contains("\"Busy Grabber\"") && message.contains("in use by another program"),
        "message: {message:?}"
    );
    assert!(rig.machine.world().opens.is_empty());
    assert_no_worker_panicked();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_frames_and_mid_stream_errors_give_tile_reasons_while_other_tiles_refresh() {
    let mut corrupt = webcam("/dev/video0", "usb-Corrupt_Cam-video-index0");
    corrupt.card = "Corrupt Cam".into();
    corrupt.script = vec![Step::Frame(fixture("truncated_320x240.mjpg"))];
    let mut flaky = yuyv_grabber("/dev/video2", "Flaky Grabber", "usb-0000:00:14.0-4");
    // Two good frames (the warm-up of a one-shot grab), then an I/O error.
    let good = Step::Frame(fixture("bars_160x120.yuyv"));
    flaky.script = vec![
        good.clone(),
        good,
        Step::Fail(DeviceError::Io("Input/output error (os error 5)".into())),
    ];
    let rig = Rig::start(vec![corrupt.clone(), flaky.clone()]);
    rig.wait_listed(&corrupt, DEADLINE).await;
    rig.wait_listed(&flaky, DEADLINE).await;

    wait_until_async(DEADLINE, "the corrupt camera's tile reason", async || {
        rig.tile_reason(&corrupt.source_id())
            .is_some_and(|r| r.contains("bad frame: MJPEG frame is truncated"))
    })
    .await;
    wait_until_async(DEADLINE, "the flaky grabber's tile reason", async || {
        rig.tile_reason(&flaky.source_id()).as_deref()
            == Some("capture failed: device error: Input/output error (os error 5)")
    })
    .await;
    println!(
        "tiles: corrupt {:?}; mid-stream error {:?}",
        rig.tile_reason(&corrupt.source_id()),
        rig.tile_reason(&flaky.source_id())
    );
    // Meanwhile the screens' tiles keep getting new pictures, and the
    // devices keep their reasons.
    rig.wait_screens_refresh(5, "with two failing devices")
        .await;
    assert!(rig.tile_reason(&corrupt.source_id()).is_some());
    assert!(rig.tile_reason(&flaky.source_id()).is_some());

    // Sharing the corrupt camera: no preview, and the share ends with why.
    rig.start_meeting().await;
    let mut events = rig.engine.events();
    let r = rig.share_device(&corrupt.device_id(), true).await;
    assert_eq!(r.error_code, 0, "{r:?}");
    let ended = share_ended(&mut events).await;
    assert_eq!(ended.event.error_code, 1, "{}", ended.text);
    let message = &ended.event.message;
    assert!(
        message.contains("\"Corrupt Cam\"")
            && message.contains("keeps failing")
            && message.contains("MJPEG frame is truncated"),
        "message: {message:?}"
    );
    assert!(rig.capture.preview().is_none());
    rig.wait_screens_refresh(3, "after the failed share").await;
    assert_no_worker_panicked();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_device_that_errors_mid_stream_reopens_and_one_that_breaks_ends_the_share() {
    let mut cam = webcam("/dev/video0", WEBCAM_ID);
    let good = Step::Frame(fixture("bars_320x240_nodht.mjpg"));
    // Every sixth frame of a stream fails; a failed stream is reopened.
    cam.script = vec![good.clone(), good.clone(), good.clone(), good.clone(), good];
    cam.script.push(Step::Fail(DeviceError::Io(
        "Input/output error (os error 5)".into(),
    )));
    let rig = Rig::start(vec![cam.clone()]);
    rig.wait_listed(&cam, DEADLINE).await;
    rig.start_meeting().await;
    let r = rig.share_device(WEBCAM_ID, true).await;
    assert_eq!(r.error_code, 0, "{r:?}");
    wait_until_async(DEADLINE, "a live preview", async || {
        rig.capture.preview().is_some_and(|p| p.seq >= 2)
    })
    .await;
    let (seq, opens) = (
        rig.capture.preview().map_or(0, |p| p.seq),
        rig.machine.opens_of("/dev/video0"),
    );
    // The share goes on through the errors: more frames, from new streams.
    wait_until_async(
        DEADLINE,
        "30 more frames across stream errors",
        async || rig.capture.preview().is_some_and(|p| p.seq >= seq + 30),
    )
    .await;
    assert!(
        rig.machine.opens_of("/dev/video0") > opens,
        "the failed stream was not reopened"
    );
    assert_eq!(rig.share_session().await["source_id"], cam.source_id());

    // Now it breaks for good: the share ends with the device's error.
    let mut events = rig.engine.events();
    rig.machine.break_node(
        "/dev/video0",
        DeviceError::Io("Input/output error (os error 5)".into()),
    );
    let ended = share_ended(&mut events).await;
    assert_eq!(ended.event.error_code, 1, "{}", ended.text);
    let message = &ended.event.message;
    assert!(
        message.contains("\"HD Webcam\"")
            && message.contains("keeps failing")
            && message.contains("device error: Input/output error"),
        "message: {message:?}"
    );
    // Still plugged: still listed, its tile says what is wrong, and the
    // screens keep refreshing.
    wait_until_async(DEADLINE, "the broken device's tile reason", async || {
        rig.tile_reason(&cam.source_id())
            .is_some_and(|r| r.contains("device error: Input/output error"))
    })
    .await;
    assert!(rig.device_list().await.contains(&cam.device_id()));
    rig.wait_screens_refresh(3, "after the device broke").await;
    assert_no_worker_panicked();
}
