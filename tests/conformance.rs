//! Every request/response example of `seeds/share-api.md`, sent over a real
//! WebSocket with the room put into the state the example needs, checking
//! the exact wire text of the answer (the device form of protocol.md §2),
//! the documented fields and types, and the regex rules controllers use.
//! Run once per auth encoding (URL-encoded and raw Base64).
//!
//! Against the in-process engine, or an external `roomshare serve` named by
//! `ROOMSHARE_TEST_SERVER` (support/target.rs; scripts/wine-check.sh runs
//! these against the Windows binary under Wine): the room's state is put in
//! place and checked over the wire only.

mod support;

use serde_json::{Value, json};
use support::target::*;
use support::*;

/// The seed's request texts, verbatim except the `//` comment of 1.2.
const QUERY_SHARE: &str = r#"{
"jsonrpc": "2.0",
"id": "xxx",
"method": "Query",
"params": {
"path": ["Share"]
}
}"#;

const QUERY_CAST_CODE: &str = r#"{
"jsonrpc": "2.0",
"id": "xxx",
"method": "Query",
"params": {
"path": ["Share", "CastCode"]
}
}"#;

const END_QUICK_SHARE: &str = r#"{
"jsonrpc":"2.0",
"id":"xxx",
"method":"Call/Share",
"params":{
"action":"EndQuickShare",
"meeting_type":"castMeeting"
}
}"#;

const CANCEL_QUICK_SHARE: &str = r#"{
"jsonrpc":"2.0",
"id":"xxx",
"method":"Call/Share",
"params":{
"action":"CancelQuickShare",
"meeting_type":"castMeeting"
}
}"#;

const START_WINDOW_SHARE: &str = r#"{
"jsonrpc": "2.0",
"id": "xxx",
"method": "Call/Share",
"params": {
"action": "StartWindowShare",
"action_params": {
"share_voice": true,
"fluency_first": true,
"select_index": 0
}
}
}"#;

const STOP_WINDOW_SHARE: &str = r#"{
"jsonrpc": "2.0",
"id": "xxx",
"method": "Call/Share",
"params": {
"action": "StopWindowShare"
}
}"#;

const OPEN_SHARE_GUIDE: &str = r#"{
"jsonrpc": "2.0",
"id": "xxx",
"method": "Call/Share",
"params": {
"action": "OpenShareGuide"
}
}"#;

const CLOSE_SHARE_GUIDE: &str = r#"{
"jsonrpc": "2.0",
"id": "xxx",
"method": "Call/Share",
"params": {
"action": "CloseShareGuide"
}
}"#;

const START_SHARE: &str = r#"{
"jsonrpc": "2.0",
"id": "xxx",
"method": "Call/Share",
"params": {
"action": "StartShare",
"action_params":{
"share_type": 0,
"share_voice": true,
"fluency_first": true,
"select_index": 0,
"device_id": ""
}
}
}"#;

const STOP_SHARE: &str = r#"{
"jsonrpc": "2.0",
"id": "xxx",
"method": "Call/Share",
"params": {
"action": "StopShare"
}
}"#;

/// The success answer of a Call, as the seed shows it, in the device form.
fn call_ok(action: &str) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "method": "Call/Share", "id": "xxx", "result": {{"error_code": 0, "action": "{action}", "message": ""}}}}"#
    )
}

/// Send a Call example and check its answer byte for byte.
async fn call_example(ws: &mut Ws, request: &str, action: &str) {
    let answer = rpc(ws, request).await;
    assert_eq!(answer, call_ok(action));
    let v = assert_device_form(&answer);
    assert_regex_rule(&answer, "}}");
    assert!(v["result"]["error_code"].is_i64());
    assert!(v["result"]["message"].is_string());
}

/// A documented field: its name and a check of its JSON type.
type Field = (&'static str, fn(&Value) -> bool);

fn assert_types(value: &Value, fields: &[Field]) {
    for (name, is_type) in fields {
        let field = value
            .get(*name)
            .unwrap_or_else(|| panic!("`{name}` missing in {value}"));
        assert!(is_type(field), "`{name}` has the wrong type in {value}");
    }
}

const SHARE_USER_INFO_FIELDS: &[Field] = &[
    ("app_uid", Value::is_string),
    ("app_id", Value::is_string),
    ("user_id", Value::is_string),
    ("host", Value::is_boolean),
    ("co_host", Value::is_boolean),
    ("instance_id", Value::is_i64),
    ("user_type", Value::is_i64),
    ("is_creator", Value::is_boolean),
    ("role_type", Value::is_i64),
    ("video_on", Value::is_boolean),
    ("audio_on", Value::is_boolean),
    ("screen_sharing", Value::is_boolean),
    ("screen_share_type", Value::is_i64),
    ("web_sharing", Value::is_boolean),
    ("nickname", Value::is_string),
];

/// The seed's examples, authenticating with `protocol` (made from the
/// target's password).
async fn seed_examples(protocol: impl Fn(&str) -> String) {
    let target = target().await;
    let protocol = protocol(&target.password);
    let (mut ws, response) = connect_raw(target.addr, Some(&protocol)).await;
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        protocol,
        "the 101 echoes the offered subprotocol"
    );

    // 1.1 Query Share, nobody sharing: share_user_info absent.
    let answer = rpc(&mut ws, QUERY_SHARE).await;
    assert_eq!(
        answer,
        format!(
            r#"{{"jsonrpc": "2.0", "method": "Query", "id": "xxx", "result": {{"error_code": 0, "message": "", "data": {{"share": {{"share_info": {{"is_sharing": false, "quick_casting_state": 0}}, "cast_code": "{CAST_CODE}", "capture_device_list": ["hdmi-1"]}}}}}}}}"#
        )
    );
    assert_regex_rule(&answer, "}}}}");

    // 1.1 again while this Rooms shares: the seed's shape, every field typed.
    wire_join_meeting(&mut ws).await;
    call_example(&mut ws, START_SHARE, "StartShare").await;
    let answer = rpc(&mut ws, QUERY_SHARE).await;
    assert_eq!(
        answer,
        format!(
            r#"{{"jsonrpc": "2.0", "method": "Query", "id": "xxx", "result": {{"error_code": 0, "message": "", "data": {{"share": {{"share_info": {{"share_user_info": {{"app_uid": "", "app_id": "", "user_id": "rooms", "host": true, "co_host": false, "instance_id": 20, "user_type": 1, "is_creator": true, "role_type": 1, "video_on": false, "audio_on": true, "screen_sharing": true, "screen_share_type": 0, "web_sharing": false, "nickname": "roomshare"}}, "is_sharing": true, "quick_casting_state": 0}}, "cast_code": "{CAST_CODE}", "capture_device_list": ["hdmi-1"]}}}}}}}}"#
        )
    );
    let v = assert_device_form(&answer);
    assert_regex_rule(&answer, "}}}}");
    let share = &v["result"]["data"]["share"];
    assert_types(
        share,
        &[
            ("share_info", Value::is_object),
            ("cast_code", Value::is_string),
            ("capture_device_list", Value::is_array),
        ],
    );
    assert!(
        share["capture_device_list"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string)
    );
    assert_types(
        &share["share_info"],
        &[
            ("is_sharing", Value::is_boolean),
            ("quick_casting_state", Value::is_i64),
            ("share_user_info", Value::is_object),
        ],
    );
    assert_types(
        &share["share_info"]["share_user_info"],
        SHARE_USER_INFO_FIELDS,
    );

    // A remote participant with a Chinese nickname: raw UTF-8 on the wire.
    let r = call_code(
        &mut ws,
        "RoomShare",
        "SimulateRemoteShare",
        json!({"nickname": "张三"}),
    )
    .await;
    assert_eq!(r["error_code"], 0);
    let answer = rpc(&mut ws, QUERY_SHARE).await;
    assert!(answer.contains(r#""nickname": "张三"}"#), "{answer}");
    assert_device_form(&answer);
    assert_regex_rule(&answer, "}}}}");
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_types(
        &v["result"]["data"]["share"]["share_info"]["share_user_info"],
        SHARE_USER_INFO_FIELDS,
    );

    // 1.2 Query Share CastCode (the seed says "成功"; roomshare sends "").
    let answer = rpc(&mut ws, QUERY_CAST_CODE).await;
    assert_eq!(
        answer,
        format!(
            r#"{{"jsonrpc": "2.0", "method": "Query", "id": "xxx", "result": {{"error_code": 0, "message": "", "data": {{"cast_code": "{CAST_CODE}"}}}}}}"#
        )
    );
    assert_device_form(&answer);
    // A scalar node: the data object, the result and the frame close.
    assert_regex_rule(&answer, "}}}");

    // 4, 5: StartWindowShare, StopWindowShare (in a meeting).
    call_example(&mut ws, START_WINDOW_SHARE, "StartWindowShare").await;
    let own = share_session(&mut ws).await.share_session;
    assert_eq!(own.source_id, source_at(&mut ws, 0).await, "{own:?}");
    assert_eq!(
        (own.fluency_first, own.share_voice),
        (Some(true), Some(true))
    );
    call_example(&mut ws, STOP_WINDOW_SHARE, "StopWindowShare").await;
    assert_eq!(share_session(&mut ws).await.share_session.source_id, "");

    // 8, 9: StartShare (the seed's own inputs, device_id "" with type 0), StopShare.
    call_example(&mut ws, START_SHARE, "StartShare").await;
    assert_ne!(share_session(&mut ws).await.share_session.source_id, "");
    call_example(&mut ws, STOP_SHARE, "StopShare").await;
    assert_eq!(share_session(&mut ws).await.share_session.source_id, "");

    // 6, 7: the share guide (no precondition; idempotent).
    for _ in 0..2 {
        call_example(&mut ws, OPEN_SHARE_GUIDE, "OpenShareGuide").await;
    }
    for _ in 0..2 {
        call_example(&mut ws, CLOSE_SHARE_GUIDE, "CloseShareGuide").await;
    }

    // 2, 3: End/CancelQuickShare, with `meeting_type` directly in params,
    // each against a running quick cast (which ends the cast meeting).
    let r = call_code(&mut ws, "Meeting", "LeaveMeeting", Value::Null).await;
    assert_eq!(r["error_code"], 0);
    for (request, action) in [
        (END_QUICK_SHARE, "EndQuickShare"),
        (CANCEL_QUICK_SHARE, "CancelQuickShare"),
    ] {
        wire_quick_cast_sharing(&mut ws).await;
        call_example(&mut ws, request, action).await;
        let v: Value = serde_json::from_str(&rpc(&mut ws, QUERY_SHARE).await).unwrap();
        assert_eq!(
            v["result"]["data"]["share"]["share_info"]["quick_casting_state"],
            0
        );
        assert_eq!(meeting_status(&mut ws).await, 0);
    }
    drop(ws);
    target.finish().await;
}

#[tokio::test]
async fn seed_examples_with_url_encoded_auth() {
    seed_examples(roomshare::protocol::auth::auth_protocol).await;
}

#[tokio::test]
async fn seed_examples_with_raw_base64_auth() {
    seed_examples(|password| {
        let raw = raw_base64_protocol(password);
        // The password's Base64 has `+`, `/` or `=`, so the two forms differ.
        assert_ne!(raw, roomshare::protocol::auth::auth_protocol(password));
        raw
    })
    .await;
}

/// Every object node of the Query tree ends in a scalar, so the Query regex
/// finds exactly the answer, whatever the state.
#[tokio::test]
async fn query_nodes_keep_the_regex_rule() {
    let target = target().await;
    let mut ws = target.connect().await;
    let nodes: [&[&str]; 4] = [
        &["Share"],
        &["Share", "ShareInfo"],
        &["Meeting"],
        &["Meeting", "MeetingInfo"],
    ];
    let check = |answer: String| {
        assert_device_form(&answer);
        assert_regex_rule(&answer, "}}}}");
    };
    for path in nodes {
        check(rpc(&mut ws, &json!({"jsonrpc": "2.0", "id": "Share Cast Code", "method": "Query", "params": {"path": path}}).to_string()).await);
    }
    wire_join_meeting(&mut ws).await;
    let r = call_code(
        &mut ws,
        "RoomShare",
        "SimulateRemoteShare",
        json!({"nickname": "李四", "whiteboard": true}),
    )
    .await;
    assert_eq!(r["error_code"], 0);
    for path in nodes {
        let answer = rpc(
            &mut ws,
            &json!({"jsonrpc": "2.0", "id": 7, "method": "Query", "params": {"path": path}})
                .to_string(),
        )
        .await;
        assert!(
            answer.starts_with(r#"{"jsonrpc": "2.0", "method": "Query", "id": 7, "result": {"#)
        );
        check(answer);
    }
    // The meeting node carries the times both ways (protocol.md §6).
    let v = call(
        &mut ws,
        "m",
        "Query",
        json!({"path": ["Meeting", "MeetingInfo"]}),
    )
    .await;
    let info = &v["result"]["data"]["meeting_info"];
    assert_eq!(info["meeting_status"], 1);
    assert!(info["begin_time"].as_i64().unwrap() > 0);
    assert_eq!(info["begin_time"], info["meeting_time"]["begin_time"]);
    drop(ws);
    target.finish().await;
}
