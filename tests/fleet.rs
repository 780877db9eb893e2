//! The fleet (`link::fleet`) over real servers on loopback: demo engines
//! in several states, set through the JSON-RPC API, beside rooms that
//! refuse the password, have nothing listening, never answer, or answer
//! garbage. Every wait is a deadline poll on the fleet's own snapshot.

mod support;

use roomshare::client::ConnState;
use roomshare::embedded::{DemoOptions, DemoRooms, Embedded, EmbeddedOptions};
use roomshare::engine::EngineHandle;
use roomshare::link::fleet::{
    self, Fleet, FleetOptions, NamedTarget, PasswordSource, RoomEntry, RoomStatus, RoomsFile,
};
use roomshare::link::{NO_ANSWER, Target};
use roomshare::protocol::model::terminal_name;
use roomshare::protocol::{RoomShareAction, ShareAction};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::rooms::{QuietDevice, Silent, act, closed_port, garbage};
use support::{PASSWORD, room_config, wait, wait_for};

/// Generous for a loaded 2-core machine; the independence checks below
/// do not depend on it (they compare with a 30 s handshake timeout).
const DEADLINE: Duration = Duration::from_secs(10);

/// The two timing tests of the connect turns run one at a time: 100 demo
/// engines starting at once would make the other's accepts late.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn demo(count: usize, password: Option<&str>) -> DemoRooms {
    let options = DemoOptions {
        count,
        password: password.map(str::to_string),
        room: room_config(),
        ..DemoOptions::default()
    };
    DemoRooms::start(options).await.expect("demo rooms start")
}

/// Fast reconnects, and handshakes/answers so slow to time out that a room
/// waiting on another would be caught by [`DEADLINE`].
fn options() -> FleetOptions {
    FleetOptions {
        connect_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(30),
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_millis(500),
        ..FleetOptions::default()
    }
}

fn start(rooms: Vec<NamedTarget>, options: FleetOptions) -> Fleet {
    Fleet::start(
        rooms,
        &tokio::runtime::Handle::current(),
        Arc::new(|| {}),
        options,
    )
}

fn room(name: &str, group: &str, url: &str, password: Option<&str>) -> NamedTarget {
    NamedTarget::new(
        name,
        group,
        Target::remote(url, password.map(str::to_string)),
    )
}

/// Poll the fleet's snapshot until `cond` holds; panics with the rooms.
async fn wait_rooms(
    fleet: &Fleet,
    what: &str,
    cond: impl Fn(&[RoomStatus]) -> bool,
) -> Arc<Vec<RoomStatus>> {
    wait::wait_until_async(DEADLINE, what, async || {
        let rooms = fleet.rooms();
        match cond(&rooms) {
            true => Ok(rooms),
            false => Err(format!("{rooms:#?}")),
        }
    })
    .await
}

fn by_name<'a>(rooms: &'a [RoomStatus], name: &str) -> &'a RoomStatus {
    rooms
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no room {name}"))
}

/// Connected, and its meeting, share state and cast code are known.
fn known(room: &RoomStatus) -> bool {
    room.is_connected()
        && room.meeting.is_some()
        && room.share_info.is_some()
        && room.cast_code.is_some()
}

async fn start_meeting(engine: &EngineHandle) {
    let params = json!({"action": "StartMeeting", "action_params": {"meeting_type": "instant"}});
    act(engine, "Call/Meeting", params).await;
    wait_for(engine, |s| s.meeting_status == 1).await;
}

async fn remote_share(engine: &EngineHandle, nickname: &str, whiteboard: bool, instance_id: i64) {
    let params = json!({"action": "SimulateRemoteShare", "action_params":
        {"nickname": nickname, "whiteboard": whiteboard, "instance_id": instance_id}});
    act(engine, "Call/RoomShare", params).await;
    wait_for(engine, |s| s.is_sharing).await;
}

async fn set_cast_code(engine: &EngineHandle, code: &str) {
    let params = json!({"action": "SetCastCode", "action_params": {"cast_code": code}});
    act(engine, "Call/RoomShare", params).await;
}

/// Four rooms in four states: sharing a whiteboard in a meeting, in a
/// meeting without sharing, idle, and quick casting before a meeting.
async fn four_states(demo: &DemoRooms) {
    let e: Vec<&EngineHandle> = demo.rooms.iter().map(|r| &r.engine).collect();
    for (i, engine) in e.iter().enumerate() {
        set_cast_code(engine, &format!("10000{i}")).await;
    }
    start_meeting(e[0]).await;
    remote_share(e[0], "Alice 爱丽丝", true, 2).await;
    start_meeting(e[1]).await;
    let params = json!({"action": "SimulateQuickCast", "action_params": {"nickname": "Phone"}});
    act(e[3], "Call/RoomShare", params).await;
    wait_for(e[3], |s| s.is_sharing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_room_shows_its_truth_and_bad_rooms_delay_no_one() {
    let demo = demo(4, Some(PASSWORD)).await;
    four_states(&demo).await;
    let silent = Silent::start().await;
    let garbage = format!("ws://{}/", garbage().await);
    let closed = format!("ws://{}/", closed_port());
    let mut rooms: Vec<NamedTarget> = demo
        .rooms
        .iter()
        .map(|r| room(&r.name, &r.group, &r.url(), Some(PASSWORD)))
        .collect();
    // The bad ones first, so that a fleet that served rooms in order
    // would make the good ones wait.
    let bad = vec![
        room("Silent", "Trouble", &silent.url(), None),
        room("Garbage", "Trouble", &garbage, None),
        room("Closed", "Trouble", &closed, None),
        room(
            "Wrong password",
            "Trouble",
            &demo.rooms[0].url(),
            Some("nope"),
        ),
    ];
    rooms.splice(0..0, bad);
    let started = Instant::now();
    let fleet = start(rooms, options());
    let rooms = wait_rooms(
        &fleet,
        "the good rooms known, the bad ones diagnosed",
        |rs| {
            demo.rooms.iter().all(|d| known(by_name(rs, &d.name)))
                && by_name(rs, "Wrong password").is_auth_failed()
                && matches!(by_name(rs, "Closed").conn, ConnState::Reconnecting { .. })
        },
    )
    .await;
    // Well before any 30 s timeout could have fired: nobody waited on the
    // silent room, whose handshake is still pending.
    assert!(started.elapsed() < DEADLINE);
    assert_eq!(by_name(&rooms, "Silent").conn, ConnState::Connecting);
    assert!(by_name(&rooms, "Garbage").meeting.is_none());
    assert!(silent.accepted() >= 1, "the silent room was tried");

    let sharing = by_name(&rooms, "Demo 001");
    assert_eq!(sharing.meeting_status(), Some(1));
    assert!(sharing.meeting_title().is_some_and(|t| !t.is_empty()));
    assert_eq!(sharing.is_sharing(), Some(true));
    assert_eq!(sharing.sharer(), Some("Alice 爱丽丝"));
    assert_eq!(sharing.sharer_terminal(), Some(terminal_name(2)));
    assert_eq!(sharing.share_kind(), Some("whiteboard"));
    assert_eq!(sharing.cast_code.as_deref(), Some("100000"));
    assert_eq!(sharing.share_guide_open, Some(false));
    assert!(sharing.changed_at.is_some() && sharing.error.is_none());

    let meeting = by_name(&rooms, "Demo 002");
    assert_eq!(
        (
            meeting.meeting_status(),
            meeting.is_sharing(),
            meeting.sharer()
        ),
        (Some(1), Some(false), None)
    );
    let idle = by_name(&rooms, "Demo 003");
    assert_eq!(
        (idle.meeting_status(), idle.is_sharing()),
        (Some(0), Some(false))
    );
    assert_eq!(idle.cast_code.as_deref(), Some("100002"));
    let casting = by_name(&rooms, "Demo 004");
    assert_eq!(casting.quick_casting_state(), Some(2));
    assert_eq!(casting.sharer(), Some("Phone"));

    let wrong = by_name(&rooms, "Wrong password");
    assert!(wrong.has_problem() && wrong.meeting.is_none());
    assert!(
        wrong
            .error
            .as_deref()
            .is_some_and(|e| e.contains("authentication failed")),
        "{wrong:?}"
    );
    let closed = by_name(&rooms, "Closed");
    assert!(closed.reconnect_in().is_some() && closed.error.is_some());
    assert!(rooms.iter().filter(|r| r.has_problem()).count() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_show_live_and_only_in_their_room() {
    let demo = demo(2, None).await;
    let rooms = demo
        .rooms
        .iter()
        .map(|r| room(&r.name, &r.group, &r.url(), None))
        .collect();
    let fleet = start(rooms, options());
    let before = wait_rooms(&fleet, "both known", |rs| rs.iter().all(known)).await;
    let other_changed = by_name(&before, "Demo 002").changed_at;
    let (a, b) = (&demo.rooms[0].engine, &demo.rooms[1].engine);

    start_meeting(a).await;
    remote_share(a, "Bob", false, 1).await;
    let rooms = wait_rooms(&fleet, "Bob sharing in Demo 001", |rs| {
        by_name(rs, "Demo 001").sharer() == Some("Bob")
    })
    .await;
    let shown = by_name(&rooms, "Demo 001");
    assert_eq!(shown.meeting_status(), Some(1));
    assert_eq!(shown.share_kind(), Some("screen"));
    assert!(shown.changed_at > by_name(&before, "Demo 001").changed_at);
    assert_eq!(by_name(&rooms, "Demo 002").changed_at, other_changed);

    let params = json!({"action": "SimulateRemoteStop"});
    act(a, "Call/RoomShare", params).await;
    set_cast_code(b, "654321").await;
    wait_rooms(&fleet, "the stop and the new cast code", |rs| {
        by_name(rs, "Demo 001").is_sharing() == Some(false)
            && by_name(rs, "Demo 002").cast_code.as_deref() == Some("654321")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_reaches_exactly_the_named_rooms() {
    let demo = demo(4, None).await;
    for r in &demo.rooms {
        start_meeting(&r.engine).await;
    }
    let mut rooms: Vec<NamedTarget> = demo
        .rooms
        .iter()
        .map(|r| room(&r.name, &r.group, &r.url(), None))
        .collect();
    rooms.push(room(
        "Closed",
        "",
        &format!("ws://{}/", closed_port()),
        None,
    ));
    let silent = Silent::start().await;
    rooms.push(room("Silent", "", &silent.url(), None));
    let fleet = start(rooms, options());
    wait_rooms(&fleet, "all four known", |rs| rs.iter().take(4).all(known)).await;

    // The silent room's answer would take a minute (30 s handshake + 30 s
    // answer): the others' results come without waiting for it.
    let names = ["Silent", "Demo 002", "Demo 004", "Closed", "Nowhere"].map(String::from);
    let share = RoomShareAction::RemoteShare {
        nickname: "Carol".into(),
        whiteboard: false,
        instance_id: 1,
        role_type: 3,
    };
    let mut batch = fleet.call(&names, share);
    assert_eq!(batch.expected(), 5);
    let mut results = Vec::new();
    let four = async {
        while results.len() < 4 {
            results.push(batch.next().await.expect("a result"));
        }
    };
    tokio::time::timeout(DEADLINE, four)
        .await
        .expect("the other rooms answered without waiting for the silent one");
    results.sort_by(|x, y| x.0.cmp(&y.0));
    let codes: Vec<(&str, Option<i64>)> = results
        .iter()
        .map(|(name, outcome)| (name.as_str(), outcome.code))
        .collect();
    assert_eq!(
        codes,
        [
            ("Closed", Some(NO_ANSWER)),
            ("Demo 002", Some(0)),
            ("Demo 004", Some(0)),
            ("Nowhere", Some(NO_ANSWER)),
        ]
    );
    assert!(results[3].1.summary().contains("no room named"));
    let sharing: Vec<bool> = demo
        .rooms
        .iter()
        .map(|r| r.engine.snapshot().borrow().is_sharing)
        .collect();
    assert_eq!(sharing, [false, true, false, true]);
    let rooms = wait_rooms(&fleet, "the results in last_call", |rs| {
        by_name(rs, "Demo 004").sharer() == Some("Carol")
    })
    .await;
    assert!(
        by_name(&rooms, "Demo 002")
            .last_call
            .as_ref()
            .unwrap()
            .is_done()
    );
    assert!(by_name(&rooms, "Demo 001").last_call.is_none());

    // A refusal comes back with its code and meaning.
    let names = ["Demo 001".to_string()];
    let result = fleet.call(&names, ShareAction::StopShare).all().await;
    let r = &result[0].1;
    assert!(r.code.is_some_and(|c| c > 0), "{r:?}");
    assert!(r.meaning().is_some() && r.summary().starts_with(&r.code.unwrap().to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_written_back_and_kept_rooms_keep_their_connection() {
    let demo = demo(3, None).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.toml");
    let text = format!("# my floor\n{}", demo.rooms_toml(None));
    let first_two = text
        .split("[[room]]")
        .take(3)
        .collect::<Vec<_>>()
        .join("[[room]]");
    std::fs::write(&path, first_two).unwrap();
    let mut file = RoomsFile::load(&path).unwrap();
    let fleet = start(file.fleet_rooms().unwrap(), options());
    wait_rooms(&fleet, "two rooms known", |rs| {
        rs.len() == 2 && rs.iter().all(known)
    })
    .await;

    let third = &demo.rooms[2];
    let entry = RoomEntry::new(&third.name, &third.url(), "Floor 9", PasswordSource::None);
    fleet.add(&mut file, entry).unwrap();
    wait_rooms(&fleet, "the added room", |rs| {
        rs.len() == 3 && rs.iter().all(known)
    })
    .await;
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(on_disk.starts_with("# my floor\n") && on_disk.contains("Floor 9"));

    let first = &demo.rooms[0];
    let moved = RoomEntry::new("Everest", &first.url(), "Moved", PasswordSource::None);
    fleet.update(&mut file, "Demo 001", moved.clone()).unwrap();
    let kept = RoomEntry::new("Everest", &first.url(), "Moved again", PasswordSource::None);
    fleet.update(&mut file, "Everest", kept).unwrap();
    fleet.remove(&mut file, "Demo 002").unwrap();
    let rooms = wait_rooms(&fleet, "renamed, regrouped, removed", |rs| {
        rs.len() == 2 && rs.iter().all(known)
    })
    .await;
    let names: Vec<&str> = rooms.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Everest", "Demo 003"]);
    assert_eq!(by_name(&rooms, "Everest").group, "Moved again");
    assert_eq!(
        by_name(&rooms, "Everest").connects,
        1,
        "a regroup keeps the link"
    );
    let reloaded = RoomsFile::load(&path).unwrap();
    let on_disk: Vec<&str> = reloaded.entries().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(on_disk, ["Everest", "Demo 003"]);

    // An inline password in a file others can read is refused, and the
    // file is left as it was.
    set_mode(&path, 0o644);
    let before = std::fs::read_to_string(&path).unwrap();
    let secret = PasswordSource::Inline("pw".into());
    let err = fleet
        .add(
            &mut file,
            RoomEntry::new("K2", "ws://127.0.0.1:9/", "", secret),
        )
        .unwrap_err();
    assert!(err.reason.contains("chmod 600"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert_eq!(fleet.rooms().len(), 2);
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &std::path::Path, _mode: u32) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_file_the_embedded_engine_is_the_one_room() {
    let engine = EmbeddedOptions {
        room: room_config(),
        sources: None,
        server: None,
    };
    let embedded = Embedded::start(engine, Arc::new(|| {})).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = RoomsFile::load_or_new(&dir.path().join("rooms.toml")).unwrap();
    assert!(!file.exists());
    let rooms = fleet::starting_rooms(&file, Some(embedded.target())).unwrap();
    let fleet = start(rooms, options());
    let rooms = wait_rooms(&fleet, "the embedded room known", |rs| {
        rs.len() == 1 && known(&rs[0])
    })
    .await;
    assert_eq!(rooms[0].name, fleet::EMBEDDED_NAME);
    assert!(rooms[0].embedded);
    assert_eq!(rooms[0].cast_code.as_deref(), Some(support::CAST_CODE));
    assert!(fleet.target(fleet::EMBEDDED_NAME).unwrap().is_embedded());
    assert!(fleet.target("nothing").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_devices_are_polled_in_turn_within_one_budget() {
    const BUDGET: f64 = 20.0;
    let mut devices = Vec::new();
    for i in 0..8 {
        devices.push(QuietDevice::start(&format!("20000{i}")).await);
    }
    let rooms = devices
        .iter()
        .enumerate()
        .map(|(i, d)| room(&format!("Quiet {i}"), "", &d.url(), None))
        .collect();
    // Each room alone would be read 20 times a second; together they get 20.
    let options = FleetOptions {
        poll_budget: BUDGET,
        poll_interval: Duration::from_millis(50),
        ..options()
    };
    let fleet = start(rooms, options);
    wait_rooms(&fleet, "all quiet rooms known", |rs| rs.iter().all(known)).await;
    let at_start: Vec<usize> = devices.iter().map(QuietDevice::reads).collect();
    let started = Instant::now();
    let total = |ds: &[QuietDevice]| ds.iter().map(QuietDevice::reads).sum::<usize>();
    let base = total(&devices);
    wait::wait_until_async(DEADLINE, "40 more reads (polling stalled)", async || {
        total(&devices) >= base + 40
    })
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let reads: Vec<usize> = devices
        .iter()
        .zip(&at_start)
        .map(|(d, s)| d.reads() - s)
        .collect();
    let sum: usize = reads.iter().sum();
    // Bounded: one tick's worth of slack on top of the budget.
    assert!(
        (sum as f64) <= BUDGET * elapsed + BUDGET * 0.1 + 2.0,
        "{sum} reads in {elapsed:.2} s"
    );
    // Fair: round-robin, so no room gets more than a turn or two ahead.
    let (min, max) = (reads.iter().min().unwrap(), reads.iter().max().unwrap());
    assert!(*min >= 3 && max - min <= 2, "uneven: {reads:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_is_paced_and_a_room_that_never_answers_holds_no_turn() {
    let _alone = HEAVY.lock().await;
    let silent = Silent::start().await;
    let rooms = (0..6)
        .map(|i| room(&format!("Silent {i}"), "", &silent.url(), None))
        .collect();
    // Two turns, and handshakes that would hold a turn for 30 s each.
    let options = FleetOptions {
        max_connecting: 2,
        ..options()
    };
    let fleet = start(rooms, options);
    // Every room gets its turn, long before any handshake times out (a
    // turn held for the whole handshake would take 3 × 30 s)…
    wait::wait_until_async(DEADLINE, "all 6 rooms to try", async || {
        match silent.accepted() {
            6.. => Ok(()),
            n => Err(format!("only {n} tried")),
        }
    })
    .await;
    // …but never more than two attempts start within one turn: the third
    // waits until a turn is handed back (CONNECT_TURN, 250 ms). Seen from
    // the server's accepts, which may each come a little late: 100 ms of
    // slack for a loaded machine (without turns the gap would be ~0).
    let at = silent.accepted_at();
    for (i, pair) in at.windows(3).enumerate() {
        let gap = pair[2] - pair[0];
        assert!(
            gap >= Duration::from_millis(150),
            "attempts {i}..{}: {gap:?}",
            i + 2
        );
    }
    drop(fleet);
}

/// Rooms that accept a connection and never answer it (as a blackholed
/// device behaves, which loopback cannot do: a SYN is always answered
/// here) must not keep the rooms that answer waiting for a turn to
/// connect: 100 such rooms listed first beside 100 live ones, and every
/// live one known within 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_rooms_that_never_answer_delay_no_live_room() {
    let _alone = HEAVY.lock().await;
    let live = demo(100, Some(PASSWORD)).await;
    let silent = Silent::start().await;
    let mut rooms: Vec<NamedTarget> = (0..100)
        .map(|i| room(&format!("Silent {i:03}"), "Trouble", &silent.url(), None))
        .collect();
    rooms.extend(
        live.rooms
            .iter()
            .map(|r| room(&r.name, &r.group, &r.url(), Some(PASSWORD))),
    );
    let started = Instant::now();
    let fleet = start(rooms, options());
    wait::wait_until_async(
        Duration::from_secs(5),
        "every live room known",
        async || {
            let rooms = fleet.rooms();
            let unknown: Vec<&str> = live
                .rooms
                .iter()
                .filter(|d| !known(by_name(&rooms, &d.name)))
                .map(|d| d.name.as_str())
                .collect();
            match unknown.len() {
                0 => Ok(()),
                n => Err(format!(
                    "{n} not known yet, e.g. {:?}",
                    &unknown[..n.min(3)]
                )),
            }
        },
    )
    .await;
    eprintln!(
        "100 live rooms beside 100 silent ones: every live room known after {:?}",
        started.elapsed()
    );
    assert!(silent.accepted() >= 64, "the silent rooms were tried first");
    drop(fleet);
}
