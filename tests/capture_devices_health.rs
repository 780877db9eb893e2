//! The health of capture devices through the whole capture layer and the
//! engine: what the input reports (`no_signal`, `no_power`: in the answer
//! and in `SourcesChanged`, with its `since`) and a device
//! that stops delivering (`stalled`, then `live` again) reach the
//! `["RoomShare","Sources"]` answer; a source change (1920×1080 →
//! 1280×720) renegotiates the stream and the source's size follows; an
//! `Inspect` of a device reports its `signal`, its timings, the sizes and
//! the corrupt frames it skipped while the stream went on.
//!
//! **No real device exists here.** The machine these tests run on has no
//! `/dev/video*` and cannot load v4l2loopback, so the V4L2 layer is faked
//! behind its `DeviceSystem` trait (`tests/support/fake_devices.rs`),
//! which scripts what a driver would report: the input status word of
//! `VIDIOC_ENUMINPUT`, the timings of `VIDIOC_QUERY_DV_TIMINGS`, a
//! `V4L2_EVENT_SOURCE_CHANGE`, a pause in delivery, corrupt MJPEG frames.
//! Everything above that trait is the real code: `CaptureDevices`,
//! `RealBackend`, the catalog, thumbnailer and inspector threads, and the
//! engine. Every wait polls a condition under a deadline.

#[path = "support/fake_devices.rs"]
mod fake;
#[path = "support/wait.rs"]
mod wait;

use fake::{FakeMachine, Node, Step, discrete, fixture, format, node, webcam};
use roomshare::capture::devices::{CaptureDevices, DvTimings, SignalStatus};
use roomshare::capture::health::{InspectReport, Verdict};
use roomshare::capture::real::RealBackend;
use roomshare::capture::{
    Backend, BackendFactory, Capture, CaptureOptions, SyntheticBackend, SyntheticClock,
    SyntheticSources,
};
use roomshare::engine::{EngineHandle, RoomConfig};
use roomshare::protocol::{Id, Request, RpcResult, SourceHealthState, SourceInfo};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wait::wait_until_async;

/// Generous for a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(20);

/// The engine and the capture workers on `RealBackend` (no screens, the
/// fake machine's devices), thumbnails every 300 ms.
struct Rig {
    machine: FakeMachine,
    engine: EngineHandle,
    _capture: Capture,
}

impl Rig {
    fn start(nodes: Vec<Node>) -> Rig {
        let machine = FakeMachine::new(nodes);
        let engine = EngineHandle::spawn(RoomConfig {
            initial_sources: vec![],
            ..RoomConfig::default()
        });
        let screens = SyntheticSources::new(vec![]);
        let clock = SyntheticClock::real();
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
            _capture: capture,
        }
    }

    async fn call(&self, method: &str, params: Value) -> RpcResult {
        self.engine
            .request(Request::new(Some(Id::string("t")), method, params))
            .await
            .expect("engine alive")
    }

    async fn source(&self, node: &Node) -> Option<SourceInfo> {
        let r = self
            .call("Query", json!({"path": ["RoomShare", "Sources"]}))
            .await;
        let data = r.data.expect("a Query answer has data");
        let list: Vec<SourceInfo> =
            serde_json::from_value(data["sources"].clone()).expect("a source list");
        list.into_iter().find(|s| s.id == node.source_id())
    }

    /// Until the Sources answer gives `node` the health `state`; its `since`.
    async fn wait_health(&self, node: &Node, state: SourceHealthState) -> Option<i64> {
        let what = format!("{} {state:?} in the Sources answer", node.source_id());
        wait_until_async(DEADLINE, what, async || {
            let source = self.source(node).await;
            match source.as_ref().and_then(|s| s.health) {
                Some(h) if h.state == state => Ok(h.since),
                other => Err(format!("{other:?}")),
            }
        })
        .await
    }

    /// `Call/RoomShare` `Inspect` of `node`: the engine's capture layer
    /// inspects it and answers when done.
    async fn inspect(&self, node: &Node, seconds: f64, fps: f64) -> InspectReport {
        let params = json!({"action": "Inspect", "action_params": {
            "source_id": node.source_id(), "seconds": seconds, "fps": fps}});
        let r = self.call("Call/RoomShare", params).await;
        assert_eq!(r.error_code, 0, "{r:?}");
        serde_json::from_value(r.data.expect("the report")).expect("an inspection report")
    }
}

/// A YUYV frame of one grey level.
fn yuyv(width: u32, height: u32, luma: u8) -> Vec<u8> {
    [luma, 128].repeat((width * height) as usize)
}

/// A 160×120 YUYV grabber whose picture changes with every frame (two
/// grey levels in turn, across streams: a live picture).
fn live_grabber(path: &str, card: &str) -> Node {
    let mut n = node(
        path,
        card,
        &format!("usb-{card}"),
        vec![format("YUYV", vec![discrete(160, 120)])],
        vec![
            Step::Frame(yuyv(160, 120, 90)),
            Step::Frame(yuyv(160, 120, 170)),
        ],
    );
    n.continuous = true;
    n.signal = Some(SignalStatus::Ok);
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_signal_and_no_power_reach_the_sources_answer() {
    let grabber = live_grabber("/dev/video0", "HDMI Grabber");
    let rig = Rig::start(vec![grabber.clone()]);
    rig.wait_health(&grabber, SourceHealthState::Live).await;

    let mut events = rig.engine.events();
    rig.machine
        .set_signal(&grabber.path, Some(SignalStatus::NoSignal));
    let since = rig.wait_health(&grabber, SourceHealthState::NoSignal).await;
    // Told to subscribers too: a SourcesChanged with the new health.
    let id = grabber.source_id();
    let told = wait_until_async(DEADLINE, "SourcesChanged with no_signal", async || {
        while let Ok(frame) = events.try_recv() {
            let v: Value = serde_json::from_str(&frame.text).expect("JSON");
            let sources = v["params"]["data"]["sources"].as_array().cloned();
            let health = sources
                .unwrap_or_default()
                .into_iter()
                .find(|s| s["id"] == id.as_str())
                .map(|s| s["health"].clone());
            if v["params"]["sub_event"] == "SourcesChanged"
                && health.as_ref().is_some_and(|h| h["state"] == "no_signal")
            {
                return health;
            }
        }
        None
    })
    .await;
    assert_eq!(told["since"].as_i64(), since, "{told}");
    let now = roomshare::protocol::unix_now();
    assert!(
        since.is_some_and(|s| (0..=10).contains(&(now - s))),
        "since is when the signal went: {since:?} vs {now}"
    );
    rig.machine
        .set_signal(&grabber.path, Some(SignalStatus::NoPower));
    rig.wait_health(&grabber, SourceHealthState::NoPower).await;
    // The signal back: the frames speak again.
    rig.machine
        .set_signal(&grabber.path, Some(SignalStatus::Ok));
    rig.wait_health(&grabber, SourceHealthState::Live).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_stops_delivering_is_stalled_then_live_again() {
    let grabber = live_grabber("/dev/video0", "Camera");
    let rig = Rig::start(vec![grabber.clone()]);
    rig.wait_health(&grabber, SourceHealthState::Live).await;
    let paused = Instant::now();
    rig.machine.pause(&grabber.path);
    rig.wait_health(&grabber, SourceHealthState::Stalled).await;
    // 3 thumbnail intervals (0.9 s), at least 1 s.
    assert!(
        paused.elapsed() >= Duration::from_secs(1),
        "{:?}",
        paused.elapsed()
    );
    rig.machine.resume(&grabber.path);
    rig.wait_health(&grabber, SourceHealthState::Live).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_change_renegotiates_and_the_size_follows() {
    let hd = DvTimings {
        width: 1920,
        height: 1080,
        interlaced: false,
        rate: 60.0,
    };
    let mut grabber = node(
        "/dev/video0",
        "HDMI to USB",
        "usb-0000:00:14.0-5",
        vec![format(
            "YUYV",
            vec![discrete(1920, 1080), discrete(1280, 720)],
        )],
        vec![
            Step::Frame(yuyv(1920, 1080, 90)),
            Step::Frame(yuyv(1920, 1080, 170)),
        ],
    );
    grabber.fps = 10.0;
    grabber.timings = Some(hd);
    grabber.signal = Some(SignalStatus::Ok);
    let rig = Rig::start(vec![grabber.clone()]);
    rig.wait_health(&grabber, SourceHealthState::Live).await;
    let source = rig.source(&grabber).await.expect("listed");
    assert_eq!((source.width, source.height), (1920, 1080));

    // Inspect for 4 s; the source changes to 720p after about 1.5 s.
    let machine = rig.machine.clone();
    let path = grabber.path.clone();
    let changer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        let small = DvTimings {
            width: 1280,
            height: 720,
            ..hd
        };
        let script = vec![
            Step::Frame(yuyv(1280, 720, 90)),
            Step::Frame(yuyv(1280, 720, 170)),
        ];
        machine.change_source(&path, small, script);
    });
    let report = rig.inspect(&grabber, 4.0, 10.0).await;
    changer.join().expect("the source changed");
    let context = format!("{report:#?}");
    let sizes: Vec<(u32, u32)> = report.sizes.iter().map(|s| (s.width, s.height)).collect();
    assert_eq!(sizes, [(1920, 1080), (1280, 720)], "{context}");
    assert!(
        (0.8..=3.0).contains(&report.sizes[1].at),
        "the change at about 1.5 s: {context}"
    );
    assert_eq!(report.signal, Some(SignalStatus::Ok), "{context}");
    assert_eq!(report.timings.as_deref(), Some("1280×720p60"), "{context}");
    assert_eq!(
        report.verdict,
        Verdict::Ok,
        "renegotiated, not stalled: {context}"
    );
    // The source's listed size follows.
    wait_until_async(DEADLINE, "the listed size 1280×720", async || {
        let s = rig.source(&grabber).await;
        s.is_some_and(|s| (s.width, s.height) == (1280, 720))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_frames_are_counted_and_the_stream_goes_on() {
    let mut cam = webcam("/dev/video0", "usb-Flaky_Cam-video-index0");
    let good = Step::Frame(fixture("bars_320x240_nodht.mjpg"));
    let bad = Step::Frame(fixture("truncated_320x240.mjpg"));
    cam.script = vec![good.clone(), bad, good.clone(), good];
    cam.continuous = true;
    cam.signal = Some(SignalStatus::NoSignal);
    let rig = Rig::start(vec![cam.clone()]);
    rig.wait_health(&cam, SourceHealthState::NoSignal).await;

    let report = rig.inspect(&cam, 2.0, 10.0).await;
    let context = format!("{report:#?}");
    let corrupt = report
        .corrupt
        .expect("a device's report counts corrupt frames");
    assert!(corrupt >= 2, "one frame in four is corrupt: {context}");
    assert!(report.frames >= 12, "the stream went on: {context}");
    assert!(report.stalls.is_empty(), "{context}");
    // `inspect` on a device reports its input status word.
    assert_eq!(report.signal, Some(SignalStatus::NoSignal), "{context}");
    assert_eq!(report.verdict, Verdict::NoSignal, "{context}");
    assert_eq!(
        report.timings, None,
        "a camera has no DV timings: {context}"
    );
}
