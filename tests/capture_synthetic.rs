//! Synthetic sources: deterministic pictures, the thumbnailer's change
//! detection, the share session, a vanished source, stale indices, Drop.

mod support;

use roomshare::capture::synthetic::render;
use roomshare::capture::{
    Backend, BackendFactory, Capture, CaptureOptions, SyntheticBackend, SyntheticClock,
    SyntheticSources, diff_sources,
};
use roomshare::engine::{EngineHandle, RoomConfig, demo_sources};
use roomshare::media::ThumbnailState;
use roomshare::protocol::{Id, Request, RpcResult, SourceInfo, SourceKind};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::wait::wait_until_async;
use support::wait_snapshot;

const DEADLINE: Duration = Duration::from_secs(10);

fn source(id: &str, title: &str) -> SourceInfo {
    SourceInfo {
        id: id.into(),
        kind: SourceKind::Window,
        select_index: None,
        device_id: None,
        title: title.into(),
        app: "test".into(),
        width: 640,
        height: 360,
        unavailable: None,
        health: None,
    }
}

#[test]
fn frames_are_deterministic_and_distinct() {
    let sources = demo_sources();
    let a = &sources[2];
    let b = &sources[3];
    assert_eq!(render(a, 1234), render(a, 1234), "same input, same pixels");
    assert_ne!(render(a, 1234), render(b, 1234), "different sources differ");
    assert_ne!(render(a, 0), render(a, 500), "the bars move");
    // Only the clock's tenths digit changes between these two.
    let (p, q) = (render(a, 100), render(a, 200));
    assert_ne!(p, q, "the clock runs");
    assert_eq!(p.dimensions(), (1920, 1080));

    // The backend under a manual clock: still the same pixels until moved.
    let clock = SyntheticClock::manual(5_000);
    let list = SyntheticSources::default();
    let mut be = SyntheticBackend::new(list.clone(), clock.clone());
    let first = be.capture("win-slides").unwrap();
    assert_eq!(first, be.capture("win-slides").unwrap());
    assert_eq!(first, render(&list.list()[2], 5_000));
    clock.advance(40);
    assert_ne!(first, be.capture("win-slides").unwrap());
    assert!(matches!(
        be.capture("nope"),
        Err(roomshare::capture::CaptureError::Gone(_))
    ));
}

#[test]
fn diff_by_stable_id() {
    let before = vec![source("a", "A"), source("b", "B")];
    let after = vec![source("b", "B2"), source("c", "C")];
    let d = diff_sources(&before, &after);
    assert_eq!(d.added.iter().map(|s| &s.id).collect::<Vec<_>>(), ["c"]);
    assert_eq!(d.removed.iter().map(|s| &s.id).collect::<Vec<_>>(), ["a"]);
    assert_eq!(d.renamed, [("b".into(), "B".into(), "B2".into())]);
    assert!(diff_sources(&after, &after).is_empty());
}

async fn call(engine: &EngineHandle, method: &str, params: Value) -> RpcResult {
    engine
        .request(Request::new(Some(Id::string("t")), method, params))
        .await
        .expect("engine alive")
}

fn synthetic(sources: &SyntheticSources, clock: &SyntheticClock) -> BackendFactory {
    let (s, c) = (sources.clone(), clock.clone());
    Arc::new(move || Box::new(SyntheticBackend::new(s.clone(), c.clone())) as Box<dyn Backend>)
}

fn seq(capture: &Capture, id: &str) -> Option<u64> {
    match capture.thumbnails.get(id) {
        ThumbnailState::Ready(t) => Some(t.seq),
        _ => None,
    }
}

fn options() -> CaptureOptions {
    CaptureOptions {
        catalog_interval: Duration::from_millis(50),
        thumbnail_interval: Duration::from_millis(50),
        ..CaptureOptions::default()
    }
}

/// What the workers asked a backend, in order, each with the number of
/// `on_change` calls made before it (read under the log's lock, so the log
/// order is also the order of those reads).
type CallLog = Arc<Mutex<Vec<(Option<String>, usize)>>>;

/// A synthetic backend that records every `list` (None) and `capture`
/// (Some(id)): the thumbnailer captures each listed source once per cycle,
/// so the log shows where each cycle starts.
struct Recorded {
    inner: SyntheticBackend,
    log: CallLog,
    changes: Arc<AtomicUsize>,
}

impl Recorded {
    fn record(&self, call: Option<&str>) {
        let mut log = self.log.lock().unwrap();
        log.push((
            call.map(str::to_string),
            self.changes.load(Ordering::SeqCst),
        ));
    }
}

impl Backend for Recorded {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn list(&mut self) -> Result<Vec<SourceInfo>, roomshare::capture::CaptureError> {
        self.record(None);
        self.inner.list()
    }
    fn capture(&mut self, id: &str) -> Result<image::RgbaImage, roomshare::capture::CaptureError> {
        self.record(Some(id));
        self.inner.capture(id)
    }
}

/// Calls logged since `mark`: how many lists, and the `on_change` count at
/// each capture of `id` (one per thumbnail cycle).
fn since(log: &CallLog, mark: usize, id: &str) -> (usize, Vec<usize>) {
    let log = log.lock().unwrap();
    let lists = log[mark..].iter().filter(|(c, _)| c.is_none()).count();
    let cycles = log[mark..]
        .iter()
        .filter(|(c, _)| c.as_deref() == Some(id))
        .map(|(_, n)| *n)
        .collect();
    (lists, cycles)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_change_only_when_the_picture_does() {
    let engine = EngineHandle::spawn(RoomConfig::default());
    let sources = SyntheticSources::new(vec![source("one", "One"), source("two", "Two")]);
    let clock = SyntheticClock::manual(0);
    let changes = Arc::new(AtomicUsize::new(0));
    let log: CallLog = Arc::default();
    let factory: BackendFactory = {
        let (s, c, log, changes) = (sources.clone(), clock.clone(), log.clone(), changes.clone());
        Arc::new(move || {
            Box::new(Recorded {
                inner: SyntheticBackend::new(s.clone(), c.clone()),
                log: log.clone(),
                changes: changes.clone(),
            }) as Box<dyn Backend>
        })
    };
    let counter = changes.clone();
    let capture = Capture::start_with(
        factory,
        engine.clone(),
        options(),
        Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }),
    );
    // Both thumbnails made, and the catalog listed twice: its one
    // publication (and that on_change) lies behind it.
    wait_until_async(
        DEADLINE,
        "both thumbnails, the list published",
        async || {
            seq(&capture, "one") == Some(1)
                && seq(&capture, "two") == Some(1)
                && since(&log, 0, "one").0 >= 2
        },
    )
    .await;
    let ThumbnailState::Ready(t) = capture.thumbnails.get("one") else {
        unreachable!()
    };
    assert_eq!((t.frame.width, t.frame.height), (320, 180));
    // The catalog replaced the engine's demo list.
    let snap = wait_snapshot(&engine, DEADLINE, "synthetic list", |s| {
        s.sources.len() == 2
    })
    .await;
    assert_eq!(snap.sources[0].id, "one");
    // A frozen picture turns static (after the health rule's 2 s), which
    // the list tells too; from then on nothing changes.
    wait_snapshot(&engine, DEADLINE, "both sources static", |s| {
        s.sources.iter().all(|s| {
            s.health.map(|h| h.state) == Some(roomshare::protocol::SourceHealthState::Static)
        })
    })
    .await;

    // A frozen clock: whole thumbnail cycles pass (counted, not timed),
    // nothing changes, nobody is woken. Every capture of "one" after `mark`
    // starts a cycle that began after the list with the health was
    // announced.
    let mark = log.lock().unwrap().len();
    wait_until_async(DEADLINE, "four more thumbnail cycles", async || {
        since(&log, mark, "one").1.len() >= 4
    })
    .await;
    let (_, quiet_cycles) = since(&log, mark, "one");
    let quiet = quiet_cycles[0];
    assert!(
        quiet >= 3,
        "at least one on_change for the list, one per new thumbnail: {quiet}"
    );
    assert_eq!(
        quiet_cycles[..4],
        [quiet; 4],
        "on_change without a change, across three whole cycles"
    );
    assert_eq!(seq(&capture, "one"), Some(1));
    assert_eq!(seq(&capture, "two"), Some(1));

    // The picture moves: new thumbnails with a higher seq, and exactly one
    // repaint per changed tile, then quiet again.
    clock.advance(1_000);
    wait_until_async(DEADLINE, "new thumbnails", async || {
        seq(&capture, "one") == Some(2) && seq(&capture, "two") == Some(2)
    })
    .await;
    // The pictures moved: live again, which the list tells (once or twice:
    // both sources may change in one catalog cycle or in two).
    wait_snapshot(&engine, DEADLINE, "both sources live", |s| {
        s.sources.iter().all(|s| {
            s.health.map(|h| h.state) == Some(roomshare::protocol::SourceHealthState::Live)
        })
    })
    .await;
    let mark = log.lock().unwrap().len();
    wait_until_async(DEADLINE, "two more thumbnail cycles", async || {
        since(&log, mark, "one").1.len() >= 2
    })
    .await;
    let (_, after) = since(&log, mark, "one");
    assert!(
        (quiet + 3..=quiet + 4).contains(&after[0]),
        "one on_change per changed tile, one or two for the list: {} after {quiet}",
        after[0]
    );
    assert_eq!(after[1], after[0], "then quiet again");
    assert_eq!(seq(&capture, "one"), Some(2));

    // A source that vanishes loses its tile.
    sources.remove("two");
    wait_until_async(DEADLINE, "tile removed", async || {
        matches!(capture.thumbnails.get("two"), ThumbnailState::Pending)
    })
    .await;

    // Drop joins the workers: every copy of the callback is released (the
    // backends' too), so nothing can call it any more.
    drop(capture);
    assert_eq!(Arc::strong_count(&changes), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_session_previews_and_stops_when_the_source_vanishes() {
    let engine = EngineHandle::spawn(RoomConfig {
        join_delay: Duration::from_millis(10),
        ..RoomConfig::default()
    });
    // Small pictures and a small fluent width: unoptimised test builds run
    // fast_image_resize's generic code at opt-level 0 (slow), and this test
    // is about the mechanism; benchmarks give 1920x1080 figures.
    let small = |id: &str, title: &str, kind| SourceInfo {
        kind,
        width: 800,
        height: 450,
        unavailable: None,
        health: None,
        ..source(id, title)
    };
    let sources = SyntheticSources::new(vec![
        small("desktop", "Desktop", SourceKind::Desktop),
        small("win-slides", "Slides", SourceKind::Window),
        small("win-terminal", "Terminal", SourceKind::Window),
    ]);
    let clock = SyntheticClock::real();
    let capture = Capture::start_with(
        synthetic(&sources, &clock),
        engine.clone(),
        CaptureOptions {
            thumbnail_interval: Duration::from_secs(1),
            fluent_max_width: 640,
            ..options()
        },
        Arc::new(|| {}),
    );
    assert!(
        call(&engine, "Call/Meeting", json!({"action": "StartMeeting"}))
            .await
            .is_ok()
    );
    let snap = wait_snapshot(&engine, DEADLINE, "in meeting, synthetic list", |s| {
        s.meeting_status == 1 && s.sources.len() == 3
    })
    .await;
    let idx = snap
        .sources
        .iter()
        .find(|s| s.id == "win-terminal")
        .and_then(|s| s.select_index)
        .unwrap();

    // fluency_first: reduced resolution (≤ 1280 wide), a measured rate.
    let r = call(
        &engine,
        "Call/Share",
        json!({"action": "StartShare", "action_params": {
        "share_type": 0, "fluency_first": true, "select_index": idx}}),
    )
    .await;
    assert!(r.is_ok(), "{r:?}");
    wait_until_async(DEADLINE, "fluent preview", async || {
        capture
            .preview()
            .is_some_and(|p| p.source_id == "win-terminal" && p.seq >= 8)
    })
    .await;
    let p = capture.preview().unwrap();
    assert_eq!((p.frame.width, p.frame.height), (640, 360));
    // The rate is measured from real frame times: a rate, but no bound on
    // it. Those times jitter with the machine's load (a slow capture then a
    // fast one reads as a burst above 30 fps), and design.md keeps timed
    // asserts out of tests; benchmarks give figures.
    assert!(p.fps > 0.0 && p.fps.is_finite(), "fps {}", p.fps);

    // Sharp: full resolution.
    let r = call(
        &engine,
        "Call/Share",
        json!({"action": "StartShare", "action_params": {
        "share_type": 0, "fluency_first": false, "select_index": idx}}),
    )
    .await;
    assert!(r.is_ok(), "{r:?}");
    wait_until_async(DEADLINE, "sharp preview", async || {
        capture
            .preview()
            .is_some_and(|p| (p.frame.width, p.frame.height) == (800, 450))
    })
    .await;

    // The shared source vanishes: the share stops and the event says why.
    let mut events = engine.events();
    assert!(sources.remove("win-terminal"));
    let ev = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let ev = events.recv().await.expect("events");
            if ev.event.sub_event() == "ShareInfoChanged" {
                return ev;
            }
        }
    })
    .await
    .expect("ShareInfoChanged");
    assert!(ev.text.contains("\"is_sharing\": false"), "{}", ev.text);
    assert!(
        ev.event.message.contains("no longer available") && ev.event.message.contains("Terminal"),
        "{:?}",
        ev.event.message
    );
    wait_until_async(DEADLINE, "preview cleared", async || {
        capture.preview().is_none()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_select_index_is_refused() {
    let engine = EngineHandle::spawn(RoomConfig {
        join_delay: Duration::from_millis(10),
        ..RoomConfig::default()
    });
    let sources = SyntheticSources::new(vec![
        SourceInfo {
            kind: SourceKind::Desktop,
            ..source("desktop", "Desktop")
        },
        source("w-a", "Alpha"),
        source("w-b", "Beta"),
    ]);
    let clock = SyntheticClock::manual(0);
    let _capture = Capture::start_with(
        synthetic(&sources, &clock),
        engine.clone(),
        options(),
        Arc::new(|| {}),
    );
    assert!(
        call(&engine, "Call/Meeting", json!({"action": "StartMeeting"}))
            .await
            .is_ok()
    );
    let old = wait_snapshot(&engine, DEADLINE, "listed, in meeting", |s| {
        s.meeting_status == 1 && s.sources.iter().any(|s| s.id == "w-b")
    })
    .await;
    let beta = old
        .sources
        .iter()
        .find(|s| s.id == "w-b")
        .unwrap()
        .select_index
        .unwrap();
    assert_eq!(beta, 2);

    // A new window appears in front: indices shift, the generation moves.
    let mut list = sources.list();
    list.insert(1, source("w-new", "Newcomer"));
    sources.set(list);
    let now = wait_snapshot(&engine, DEADLINE, "new generation", |s| {
        s.generation > old.generation
    })
    .await;
    assert_eq!(
        now.sources
            .iter()
            .find(|s| s.select_index == Some(beta))
            .map(|s| s.id.as_str()),
        Some("w-a"),
        "index 2 now points at another window"
    );
    let r = call(&engine, "Call/Share", json!({"action": "StartShare", "action_params": {
        "share_type": 0, "fluency_first": true, "select_index": beta, "generation": old.generation}}))
    .await;
    assert_eq!(r.error_code, 8, "{r:?}");
    assert!(r.message.contains("stale"), "{}", r.message);
    assert!(
        engine.snapshot().borrow().own_share.is_none(),
        "nothing was shared"
    );

    // A rename keeps the indices (same generation) and is published.
    assert!(sources.rename("w-a", "Alpha renamed"));
    let renamed = wait_snapshot(&engine, DEADLINE, "rename", |s| {
        s.sources.iter().any(|s| s.title == "Alpha renamed")
    })
    .await;
    assert_eq!(renamed.generation, now.generation);

    // With the current generation the right window is shared.
    let new_beta = renamed
        .sources
        .iter()
        .find(|s| s.id == "w-b")
        .unwrap()
        .select_index
        .unwrap();
    let r = call(&engine, "Call/Share", json!({"action": "StartShare", "action_params": {
        "share_type": 0, "fluency_first": true, "select_index": new_beta, "generation": renamed.generation}}))
    .await;
    assert!(r.is_ok(), "{r:?}");
    let shared = engine.snapshot().borrow().own_share.clone().unwrap();
    assert_eq!(shared.source.id, "w-b");
}
