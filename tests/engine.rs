//! The engine matrix of protocol.md §4: each Share action in each room state,
//! and each parameter problem, answered with the documented code (checks in
//! the order 9, 8, 10000, 8 for state, 17) and a message naming the problem.
//! Over a real WebSocket, plus pure state-machine tests without tokio.

mod support;

use roomshare::engine::Room;
use roomshare::engine::room::Deferred;
use roomshare::protocol::{Request, parse_request};
use serde_json::{Value, json};
use support::*;

/// The room states a Share action meets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// meeting_status 0.
    NotInMeeting,
    /// meeting_status 2: joining is not "in meeting".
    Joining,
    /// In a meeting, nobody shares.
    Nothing,
    /// In a meeting, this Rooms shares.
    OwnShare,
    /// In a meeting, a remote participant shares.
    RemoteShare,
    /// A pre-meeting cast (meeting_status 4, quick cast 2).
    QuickCast,
}

const STATES: [State; 6] = [
    State::NotInMeeting,
    State::Joining,
    State::Nothing,
    State::OwnShare,
    State::RemoteShare,
    State::QuickCast,
];

/// A fresh room in `state`, with a raw client.
async fn room_in(state: State) -> (Served, Ws) {
    let mut room = room_config();
    if state == State::Joining {
        // Long enough that the join never completes during the test.
        room.join_delay = std::time::Duration::from_secs(3600);
    }
    let served = serve_with(server_config(Some(PASSWORD)), room).await;
    let mut ws = served.connect().await;
    match state {
        State::NotInMeeting => {}
        State::Joining => {
            let r = call_code(
                &mut ws,
                "Meeting",
                "JoinMeeting",
                json!({"meeting_code": "123 456 789"}),
            )
            .await;
            assert_eq!(r["error_code"], 0);
            assert_eq!(served.engine.snapshot().borrow().meeting_status, 2);
        }
        State::Nothing | State::OwnShare | State::RemoteShare => {
            join_meeting(&served, &mut ws).await;
            if state == State::OwnShare {
                let r = call_code(
                    &mut ws,
                    "Share",
                    "StartShare",
                    json!({"share_type": 0, "fluency_first": false, "select_index": 2}),
                )
                .await;
                assert_eq!(r["error_code"], 0, "{r}");
            }
            if state == State::RemoteShare {
                let r = call_code(
                    &mut ws,
                    "RoomShare",
                    "SimulateRemoteShare",
                    json!({"nickname": "王五"}),
                )
                .await;
                assert_eq!(r["error_code"], 0, "{r}");
            }
        }
        State::QuickCast => quick_cast_sharing(&served, &mut ws).await,
    }
    (served, ws)
}

/// The documented answer of a valid call of `action` in `state`.
fn expected(action: &str, state: State) -> i64 {
    use State::*;
    let in_meeting = !matches!(state, NotInMeeting | Joining);
    match action {
        "OpenShareGuide" | "CloseShareGuide" => 0,
        _ if !in_meeting => 10000,
        "StartShare" | "StartWindowShare" => 0,
        // StopShare stops this Rooms' share or a quick cast, nothing else.
        "StopShare" => match state {
            OwnShare | QuickCast => 0,
            _ => 17,
        },
        "StopWindowShare" => match state {
            OwnShare => 0,
            _ => 17,
        },
        "EndQuickShare" | "CancelQuickShare" => match state {
            QuickCast => 0,
            _ => 17,
        },
        other => unreachable!("{other}"),
    }
}

fn valid_params(action: &str) -> Value {
    match action {
        "StartShare" => json!({"share_type": 0, "fluency_first": true, "select_index": 1}),
        "StartWindowShare" => {
            json!({"share_voice": false, "fluency_first": true, "select_index": 3})
        }
        "EndQuickShare" | "CancelQuickShare" => json!({"meeting_type": "castMeeting"}),
        _ => Value::Null,
    }
}

#[tokio::test]
async fn every_share_action_in_every_state() {
    let actions = [
        "StartShare",
        "StopShare",
        "StartWindowShare",
        "StopWindowShare",
        "EndQuickShare",
        "CancelQuickShare",
        "OpenShareGuide",
        "CloseShareGuide",
    ];
    let mut failures = Vec::new();
    for state in STATES {
        for action in actions {
            // A fresh room per case: one action's effect must not hide another's.
            let (served, mut ws) = room_in(state).await;
            let before = served.engine.snapshot().borrow().clone();
            let r = call_code(&mut ws, "Share", action, valid_params(action)).await;
            let want = expected(action, state);
            if r["error_code"] != want || r["action"] != action {
                failures.push(format!("{action} in {state:?}: want {want}, got {r}"));
            }
            let message = r["message"].as_str().unwrap_or_default().to_string();
            match want {
                0 => assert_eq!(message, "", "{action} in {state:?}"),
                10000 => assert!(message.contains("not in a meeting"), "{message}"),
                17 => assert!(!message.is_empty(), "{action} in {state:?}: a reason"),
                _ => {}
            }
            // A refused call changes nothing.
            if want != 0 {
                let after = served.engine.snapshot().borrow().clone();
                assert_eq!(before.own_share, after.own_share, "{action} in {state:?}");
                assert_eq!(before.meeting_status, after.meeting_status);
                assert_eq!(before.is_sharing, after.is_sharing);
            }
            drop(ws);
            served.server.shutdown().await;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The effects of the successful calls (the state the matrix leaves).
#[tokio::test]
async fn share_effects() {
    // StartShare over a remote participant's share takes it over.
    let (served, mut ws) = room_in(State::RemoteShare).await;
    let r = call_code(
        &mut ws,
        "Share",
        "StartShare",
        json!({"share_type": 1, "device_id": "hdmi-1"}),
    )
    .await;
    assert_eq!(r["error_code"], 0, "{r}");
    let v = call(
        &mut ws,
        "q",
        "Query",
        json!({"path": ["Share", "ShareInfo"]}),
    )
    .await;
    let info = &v["result"]["data"]["share_info"];
    assert_eq!(info["share_user_info"]["nickname"], "roomshare");
    let own = served.engine.snapshot().borrow().own_share.clone().unwrap();
    assert_eq!(own.source.id, "hdmi-1");
    // type 1 without fluency_first defaults to false (field controllers omit it).
    assert!(!own.fluency_first);
    // StartShare while sharing switches the source.
    let r = call_code(
        &mut ws,
        "Share",
        "StartShare",
        json!({"share_type": 0, "fluency_first": true, "select_index": 3}),
    )
    .await;
    assert_eq!(r["error_code"], 0, "{r}");
    let own = served.engine.snapshot().borrow().own_share.clone().unwrap();
    assert_eq!(own.source.select_index, Some(3));
    assert_eq!(own.source.id, "win-board");
    // StopShare ends it; the remote share that was taken over does not come back.
    let r = call_code(&mut ws, "Share", "StopShare", Value::Null).await;
    assert_eq!(r["error_code"], 0);
    let v = call(
        &mut ws,
        "q",
        "Query",
        json!({"path": ["Share", "ShareInfo"]}),
    )
    .await;
    assert_eq!(
        v["result"]["data"],
        json!({"share_info": {"is_sharing": false, "quick_casting_state": 0}})
    );
    drop(ws);
    served.server.shutdown().await;

    // StopShare during a quick cast ends the cast meeting.
    let (served, mut ws) = room_in(State::QuickCast).await;
    let r = call_code(&mut ws, "Share", "StopShare", Value::Null).await;
    assert_eq!(r["error_code"], 0);
    assert_eq!(served.engine.snapshot().borrow().meeting_status, 0);
    drop(ws);
    served.server.shutdown().await;
}

/// One parameter case: the inputs, the state, the code and words the
/// message must contain.
struct Case {
    state: State,
    module: &'static str,
    action: &'static str,
    params: Value,
    code: i64,
    names: &'static [&'static str],
}

fn case(
    state: State,
    action: &'static str,
    params: Value,
    code: i64,
    names: &'static [&'static str],
) -> Case {
    Case {
        state,
        module: "Share",
        action,
        params,
        code,
        names,
    }
}

#[tokio::test]
async fn parameter_checks_in_documented_order() {
    use State::*;
    let cases = vec![
        // 9 before anything: an unknown action, even with bad inputs, outside a meeting.
        case(
            NotInMeeting,
            "StartSharing",
            json!({"share_type": "x"}),
            9,
            &["StartSharing", "StartShare"],
        ),
        case(Nothing, "stopshare", Value::Null, 9, &["stopshare"]),
        // 8 before 10000: missing / mistyped / out-of-enum inputs.
        case(NotInMeeting, "StartShare", json!({}), 8, &["share_type"]),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 2, "fluency_first": true}),
            8,
            &["share_type", "0", "1"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": -1, "fluency_first": true}),
            8,
            &["share_type"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": "0", "fluency_first": true}),
            8,
            &["share_type"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 0.0, "fluency_first": true}),
            8,
            &["share_type"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 0}),
            8,
            &["fluency_first"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 0, "fluency_first": "true"}),
            8,
            &["fluency_first", "bool"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 0, "fluency_first": true, "share_voice": 1}),
            8,
            &["share_voice"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 0, "fluency_first": true, "select_index": -1}),
            8,
            &["select_index"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 0, "fluency_first": true, "select_index": "1"}),
            8,
            &["select_index"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 0, "fluency_first": true, "select_index": 1.5}),
            8,
            &["select_index"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 1, "device_id": 5}),
            8,
            &["device_id"],
        ),
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 1, "fluency_first": "no"}),
            8,
            &["fluency_first"],
        ),
        case(
            NotInMeeting,
            "StartWindowShare",
            json!({"fluency_first": true}),
            8,
            &["share_voice"],
        ),
        case(
            NotInMeeting,
            "StartWindowShare",
            json!({"share_voice": true}),
            8,
            &["fluency_first"],
        ),
        case(
            NotInMeeting,
            "StartWindowShare",
            json!({"share_voice": true, "fluency_first": true, "select_index": true}),
            8,
            &["select_index"],
        ),
        case(
            NotInMeeting,
            "EndQuickShare",
            json!({"meeting_type": 3}),
            8,
            &["meeting_type"],
        ),
        // 10000 before the state-dependent 8.
        case(
            NotInMeeting,
            "StartShare",
            json!({"share_type": 0, "fluency_first": true, "select_index": 99}),
            10000,
            &["not in a meeting"],
        ),
        case(
            Joining,
            "StartShare",
            json!({"share_type": 1, "device_id": "nope"}),
            10000,
            &["not in a meeting", "2"],
        ),
        case(
            NotInMeeting,
            "StopShare",
            Value::Null,
            10000,
            &["not in a meeting"],
        ),
        // The state-dependent 8: the value does not match the current sources.
        case(
            Nothing,
            "StartShare",
            json!({"share_type": 0, "fluency_first": true, "select_index": 99}),
            8,
            &["select_index", "99", "3 window(s)"],
        ),
        case(
            Nothing,
            "StartWindowShare",
            json!({"share_voice": true, "fluency_first": true, "select_index": 4}),
            8,
            &["select_index", "4"],
        ),
        case(
            Nothing,
            "StartShare",
            json!({"share_type": 1, "device_id": "nope"}),
            8,
            &["device_id", "nope", "hdmi-1"],
        ),
        case(
            Nothing,
            "StartShare",
            json!({"share_type": 0, "fluency_first": true, "select_index": 1, "generation": 99}),
            8,
            &["generation", "stale"],
        ),
        // Inputs that do not apply to the share_type are ignored.
        case(
            Nothing,
            "StartShare",
            json!({"share_type": 0, "fluency_first": true, "device_id": "nope"}),
            0,
            &[],
        ),
        case(
            Nothing,
            "StartShare",
            json!({"share_type": 1, "select_index": 99}),
            0,
            &[],
        ),
        case(
            Nothing,
            "StartShare",
            json!({"share_type": 1, "device_id": ""}),
            0,
            &[],
        ),
        // 17: nothing to stop.
        case(Nothing, "StopShare", Value::Null, 17, &["nothing"]),
        case(RemoteShare, "StopShare", Value::Null, 17, &["remote"]),
        case(Nothing, "EndQuickShare", Value::Null, 17, &["quick cast"]),
        // Meeting module.
        Case {
            state: Nothing,
            module: "Meeting",
            action: "StartMeeting",
            params: Value::Null,
            code: 10001,
            names: &["already"],
        },
        Case {
            state: QuickCast,
            module: "Meeting",
            action: "StartMeeting",
            params: Value::Null,
            code: 10026,
            names: &[],
        },
        Case {
            state: QuickCast,
            module: "Meeting",
            action: "JoinMeeting",
            params: json!({"meeting_code": "123456789"}),
            code: 10027,
            names: &[],
        },
        Case {
            state: NotInMeeting,
            module: "Meeting",
            action: "JoinMeeting",
            params: json!({}),
            code: 8,
            names: &["meeting_code"],
        },
        Case {
            state: NotInMeeting,
            module: "Meeting",
            action: "LeaveMeeting",
            params: Value::Null,
            code: 10000,
            names: &["not in a meeting"],
        },
        Case {
            state: NotInMeeting,
            module: "Meeting",
            action: "DissolveMeeting",
            params: Value::Null,
            code: 10000,
            names: &["not in a meeting"],
        },
        Case {
            state: NotInMeeting,
            module: "Meeting",
            action: "Nope",
            params: Value::Null,
            code: 9,
            names: &["Nope"],
        },
        // Unknown module.
        Case {
            state: NotInMeeting,
            module: "Camera",
            action: "StartShare",
            params: Value::Null,
            code: 9,
            names: &["Call/Camera"],
        },
    ];
    let mut failures = Vec::new();
    for c in cases {
        let (served, mut ws) = room_in(c.state).await;
        let r = call_code(&mut ws, c.module, c.action, c.params.clone()).await;
        let message = r["message"].as_str().unwrap_or_default();
        if r["error_code"] != c.code {
            failures.push(format!(
                "{} {} {} in {:?}: want {}, got {r}",
                c.module, c.action, c.params, c.state, c.code
            ));
        } else if let Some(missing) = c.names.iter().find(|n| !message.contains(*n)) {
            failures.push(format!(
                "{} {}: message {message:?} does not name {missing:?}",
                c.action, c.params
            ));
        }
        // A Call result names its action (echoed even on errors).
        assert_eq!(r["action"], c.action);
        drop(ws);
        served.server.shutdown().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Envelope-level problems a device judges: unknown method, paths, `action`.
#[tokio::test]
async fn methods_paths_and_action_types() {
    let served = serve().await;
    let mut ws = served.connect().await;
    let cases: Vec<(Value, i64, &str)> = vec![
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Nope", "params": {}}),
            9,
            "Nope",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Call/", "params": {"action": "StartShare"}}),
            9,
            "Call/",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Query", "params": {}}),
            8,
            "path",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Query"}),
            8,
            "path",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Query", "params": {"path": "Share"}}),
            8,
            "path",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Query", "params": {"path": [1]}}),
            8,
            "path",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Query", "params": {"path": ["Nope"]}}),
            6,
            "Nope",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Query", "params": {"path": ["Share", "Nope"]}}),
            6,
            "Nope",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Query", "params": {"path": []}}),
            6,
            "path",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Query", "params": {"path": ["Share", "CastCode", "X"]}}),
            6,
            "X",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Call/Share", "params": {}}),
            8,
            "action",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Call/Share", "params": {"action": 5}}),
            8,
            "action",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Subscribe", "params": {"path": ["Nope"]}}),
            7,
            "Nope",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Subscribe", "params": {"path": "Share"}}),
            8,
            "path",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "method": "Unsubscribe", "params": {"path": {"a": 1}}}),
            8,
            "path",
        ),
        // A missing or different jsonrpc value is served anyway.
        (
            json!({"id": "a", "method": "Query", "params": {"path": ["Share", "CastCode"]}}),
            0,
            "",
        ),
        (
            json!({"jsonrpc": "1.0", "id": "a", "method": "Query", "params": {"path": ["Share", "CastCode"]}}),
            0,
            "",
        ),
    ];
    let mut failures = Vec::new();
    for (request, code, name) in cases {
        let answer = rpc(&mut ws, &request.to_string()).await;
        let v = assert_device_form(&answer);
        assert_eq!(
            v["method"], request["method"],
            "the method is echoed: {answer}"
        );
        assert_eq!(v["id"], "a");
        let message = v["result"]["message"].as_str().unwrap_or_default();
        if v["result"]["error_code"] != code || !message.contains(name) {
            failures.push(format!(
                "{request}: want {code} naming {name:?}, got {answer}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop(ws);
    served.server.shutdown().await;
}

// ----- the pure state machine, no tokio ------------------------------------

fn req(text: &str) -> Request {
    parse_request(text).expect("a request")
}

#[test]
fn pure_join_and_quick_cast_transitions() {
    let mut room = Room::new(room_config());
    let step = room.handle(
        &req(r#"{"id": 1, "method": "Call/Meeting", "params": {"action": "StartMeeting"}}"#),
        1_700_000_000,
    );
    assert_eq!(step.result.unwrap().error_code, 0);
    assert_eq!(room.meeting_info().meeting_status, 2);
    assert_eq!(step.events[0].sub_event(), "MeetingStatusChanged");
    let [(delay, deferred)] = step.deferred.as_slice() else {
        panic!("one deferred step")
    };
    assert_eq!(*delay, room_config().join_delay);
    // Leaving before the join completes makes the completion stale.
    let stale = deferred.clone();
    let step = room.handle(
        &req(r#"{"id": 2, "method": "Call/Meeting", "params": {"action": "LeaveMeeting"}}"#),
        1_700_000_001,
    );
    assert_eq!(step.result.unwrap().error_code, 0);
    assert!(room.complete(&stale).events.is_empty());
    assert_eq!(room.meeting_info().meeting_status, 0);

    // Join again and complete: status 1, JoinMeetingCompleted with self_user_info.
    let step = room.handle(&req(r#"{"id": 3, "method": "Call/Meeting", "params": {"action": "JoinMeeting", "action_params": {"meeting_code": "123-456-789", "password": ""}}}"#), 1_700_000_002);
    let done = room.complete(&step.deferred[0].1);
    assert_eq!(room.meeting_info().meeting_status, 1);
    assert_eq!(room.meeting_info().meeting_code, "123456789");
    assert_eq!(done.events[0].sub_event(), "JoinMeetingCompleted");
    assert!(done.events[0].data()["self_user_info"].is_object());
    let step = room.handle(
        &req(r#"{"id": 4, "method": "Call/Meeting", "params": {"action": "DissolveMeeting"}}"#),
        1_700_000_003,
    );
    assert_eq!(step.events[0].sub_event(), "DissolveMeeting");

    // A quick cast: 4/1 preparing, then 2 after the deferred step.
    let step = room.handle(
        &req(r#"{"id": 5, "method": "Call/RoomShare", "params": {"action": "SimulateQuickCast"}}"#),
        1_700_000_004,
    );
    assert_eq!(room.meeting_info().meeting_status, 4);
    assert_eq!(room.meeting_info().meeting_type, 3);
    assert_eq!(room.share_info().quick_casting_state, 1);
    assert!(!room.share_info().is_sharing);
    let Deferred::QuickCastSharing { .. } = step.deferred[0].1 else {
        panic!()
    };
    let shared = room.complete(&step.deferred[0].1);
    assert_eq!(room.share_info().quick_casting_state, 2);
    assert!(room.share_info().is_sharing);
    assert_eq!(shared.events[0].sub_event(), "ShareInfoChanged");
    // CancelQuickShare ends it and the cast meeting.
    let step = room.handle(&req(r#"{"id": 6, "method": "Call/Share", "params": {"action": "CancelQuickShare", "meeting_type": "castMeeting"}}"#), 1_700_000_005);
    assert_eq!(step.result.unwrap().error_code, 0);
    assert_eq!(room.meeting_info().meeting_status, 0);
    assert_eq!(room.share_info().quick_casting_state, 0);
    let subs: Vec<_> = step.events.iter().map(|e| e.sub_event()).collect();
    assert!(
        subs.contains(&"ShareInfoChanged") && subs.contains(&"MeetingStatusChanged"),
        "{subs:?}"
    );
}

#[test]
fn pure_events_for_share_changes_and_none_for_refusals() {
    let mut room = Room::new(room_config());
    let start = req(
        r#"{"id": 1, "method": "Call/Share", "params": {"action": "StartShare", "action_params": {"share_type": 0, "fluency_first": true}}}"#,
    );
    let step = room.handle(&start, 1);
    assert_eq!(step.result.unwrap().error_code, 10000);
    assert!(step.events.is_empty() && step.deferred.is_empty());
    let join = room.handle(
        &req(r#"{"id": 2, "method": "Call/Meeting", "params": {"action": "StartMeeting"}}"#),
        2,
    );
    room.complete(&join.deferred[0].1);
    let step = room.handle(&start, 3);
    assert_eq!(step.result.unwrap().error_code, 0);
    let share_event = step
        .events
        .iter()
        .find(|e| e.sub_event() == "ShareInfoChanged")
        .expect("ShareInfoChanged");
    assert_eq!(share_event.data()["share_info"]["is_sharing"], true);
    // Starting the same share again changes nothing and pushes no ShareInfoChanged.
    let again = room.handle(&start, 4);
    assert_eq!(again.result.unwrap().error_code, 0);
    assert!(
        again
            .events
            .iter()
            .all(|e| e.sub_event() != "ShareInfoChanged")
    );
    // The guide: an event on change only.
    let open = req(r#"{"id": 5, "method": "Call/Share", "params": {"action": "OpenShareGuide"}}"#);
    assert_eq!(room.handle(&open, 5).events.len(), 1);
    assert!(room.handle(&open, 6).events.is_empty());
    // A vanished shared window stops the share with a reason and error_code 1.
    let mut sources = room.sources().to_vec();
    sources.retain(|s| s.id != "desktop");
    let step = room.set_sources(sources);
    assert!(room.own_share().is_none());
    let stopped = step
        .events
        .iter()
        .find(|e| e.sub_event() == "ShareInfoChanged")
        .expect("stop event");
    assert_eq!(stopped.error_code, 1);
    assert!(
        stopped.message.contains("no longer available"),
        "{}",
        stopped.message
    );
}

/// `Inspect` is checked by the room (the source must be listed, the
/// inputs in range) and handed over, not answered: the capture layer
/// answers when the inspection ends.
#[test]
fn pure_inspect_is_handed_over_not_answered() {
    let mut room = Room::new(room_config());
    let source = room.sources()[1].clone();
    let text = json!({"id": 1, "method": "Call/RoomShare", "params": {"action": "Inspect",
        "action_params": {"source_id": source.id, "seconds": 2.5, "fps": 30, "black_pixel": 0.2}}});
    let step = room.handle(&req(&text.to_string()), 1_700_000_000);
    assert!(step.result.is_none() && step.events.is_empty());
    let job = step.inspect.expect("an inspection to run");
    assert_eq!(job.source, source);
    assert_eq!((job.params.seconds, job.params.fps), (2.5, 30.0));
    assert_eq!(
        (job.params.black_pixel, job.params.black_ratio),
        (Some(0.2), None)
    );
    let unknown = json!({"id": 2, "method": "Call/RoomShare", "params": {"action": "Inspect",
        "action_params": {"source_id": "window:404", "seconds": 1, "fps": 1}}});
    let step = room.handle(&req(&unknown.to_string()), 1_700_000_000);
    assert!(step.inspect.is_none());
    let result = step.result.expect("answered at once");
    assert_eq!(
        (result.error_code, result.action.as_deref()),
        (8, Some("Inspect"))
    );
    assert!(result.message.contains("window:404"), "{}", result.message);
}

/// An engine without a capture layer (`serve --no-capture`) has nothing
/// to inspect with: error 1, at once, saying so.
#[tokio::test]
async fn inspect_without_capture_is_refused_at_once() {
    let served = serve().await;
    let mut ws = served.connect().await;
    let id = served.engine.snapshot().borrow().sources[0].id.clone();
    let r = call_code(
        &mut ws,
        "RoomShare",
        "Inspect",
        json!({"source_id": id, "seconds": 1, "fps": 10}),
    )
    .await;
    assert_eq!(r["error_code"], 1, "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap_or("")
            .contains("no capture layer"),
        "{r}"
    );
}
