//! Request dispatch without the network: parse → engine → serialise.
//!
//! Groups (ratios are printed by `examples/bench_report.rs`, `make bench`):
//! - `dispatch`: one frame of text to its answer's text, on the pure state
//!   machine, for Query ["Share"], StartShare (already sharing, and a
//!   start/stop pair with its events), and a malformed frame;
//! - `path`: pure `Room::handle` against the whole `Session::handle_text`
//!   (parse, the actor's channel hop, serialise), same request;
//! - `serialise`: the device formatter against plain `serde_json::to_string`
//!   on the same frame, the baseline of that ratio.

use criterion::{Criterion, criterion_group, criterion_main};
use roomshare::engine::{EngineHandle, Room, RoomConfig, Session};
use roomshare::protocol::message::result_frame;
use roomshare::protocol::{Request, parse_request, to_device_string};
use std::hint::black_box;
use std::time::Duration;

const QUERY_SHARE: &str = r#"{"jsonrpc": "2.0", "id": "Share Cast Code", "method": "Query", "params": {"path": ["Share"]}}"#;
const START_SHARE: &str = r#"{"jsonrpc": "2.0", "id": "c1", "method": "Call/Share", "params": {"action": "StartShare", "action_params": {"share_type": 0, "fluency_first": true, "select_index": 1}}}"#;
const STOP_SHARE: &str =
    r#"{"jsonrpc": "2.0", "id": "c2", "method": "Call/Share", "params": {"action": "StopShare"}}"#;
const MALFORMED: &str =
    r#"{"jsonrpc": "2.0", "id": "x", "method": "Query", "params": {"path": ["Share"]"#;
const NOW: i64 = 1_700_000_000;

/// A room in a meeting (StartMeeting, then the join completes at once).
fn room_in_meeting() -> Room {
    let mut room = Room::new(RoomConfig {
        cast_code: Some("123456".into()),
        ..RoomConfig::default()
    });
    let start = parse_request(
        r#"{"id": 1, "method": "Call/Meeting", "params": {"action": "StartMeeting"}}"#,
    )
    .expect("valid request");
    let step = room.handle(&start, NOW);
    for (_, d) in step.deferred {
        room.complete(&d);
    }
    assert_eq!(room.meeting_info().meeting_status, 1, "room set up");
    room
}

/// What the server does with one frame: parse, apply, render the answer
/// and every event.
fn dispatch(room: &mut Room, text: &str) -> usize {
    match parse_request(text) {
        Ok(req) => {
            let step = room.handle(&req, NOW);
            let mut bytes = 0;
            if let (Some(id), Some(result)) = (&req.id, &step.result) {
                bytes += result_frame(&req.method_name, id, result).len();
            }
            for e in &step.events {
                bytes += e.to_frame().len();
            }
            bytes
        }
        Err(rejection) => rejection.to_frame().len(),
    }
}

fn bench_dispatch(c: &mut Criterion) {
    let mut g = c.benchmark_group("dispatch");
    let mut room = room_in_meeting();
    g.bench_function("query_share", |b| {
        b.iter(|| dispatch(&mut room, black_box(QUERY_SHARE)))
    });
    // StartShare of the source already shared: answered 0, no events.
    dispatch(&mut room, START_SHARE);
    g.bench_function("start_share_already_sharing", |b| {
        b.iter(|| dispatch(&mut room, black_box(START_SHARE)))
    });
    // A real state change each time, with its events serialised.
    g.bench_function("start_stop_pair", |b| {
        b.iter(|| {
            dispatch(&mut room, black_box(STOP_SHARE)) + dispatch(&mut room, black_box(START_SHARE))
        })
    });
    g.bench_function("malformed_frame", |b| {
        b.iter(|| dispatch(&mut room, black_box(MALFORMED)))
    });
    g.finish();
}

fn bench_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("path");
    let req: Request = parse_request(QUERY_SHARE).expect("valid request");
    let mut room = room_in_meeting();
    g.bench_function("room_handle_query_share", |b| {
        b.iter(|| room.handle(black_box(&req), NOW))
    });
    g.bench_function("room_dispatch_query_share", |b| {
        b.iter(|| dispatch(&mut room, black_box(QUERY_SHARE)))
    });
    // The whole session path, through the actor (a task on a current-thread
    // runtime: the channel hop and task switch, without thread wake-ups)...
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut session =
        rt.block_on(async { Session::new(EngineHandle::spawn(RoomConfig::default()), None) });
    g.bench_function("session_handle_text_query_share", |b| {
        b.iter(|| rt.block_on(session.handle_text(black_box(QUERY_SHARE))))
    });
    // ...and on a multi-thread runtime, as the server runs it (the actor may
    // be woken on another worker).
    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut session_mt =
        mt.block_on(async { Session::new(EngineHandle::spawn(RoomConfig::default()), None) });
    g.bench_function("session_handle_text_query_share_mt", |b| {
        b.iter(|| mt.block_on(session_mt.handle_text(black_box(QUERY_SHARE))))
    });
    g.finish();
}

fn bench_serialise(c: &mut Criterion) {
    let mut g = c.benchmark_group("serialise");
    let mut room = room_in_meeting();
    dispatch(&mut room, START_SHARE);
    // The answer to Query ["Share"] while sharing (share_user_info present),
    // as a JSON value so both serialisers get exactly the same input.
    let data = room.query(&["Share".to_string()]).expect("known path");
    let frame = serde_json::json!({
        "jsonrpc": "2.0",
        "method": "Query",
        "id": "Share Cast Code",
        "result": {"error_code": 0, "message": "", "data": data},
    });
    g.bench_function("query_share_device_form", |b| {
        b.iter(|| to_device_string(black_box(&frame)))
    });
    g.bench_function("query_share_serde_json", |b| {
        b.iter(|| serde_json::to_string(black_box(&frame)).expect("serialises"))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // Short runs: the machine is small and shared; ratios within one run
    // matter more than absolute precision.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = bench_dispatch, bench_path, bench_serialise
}
criterion_main!(benches);
