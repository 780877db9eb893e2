//! The properties the fuzz targets check, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/*.rs`), the dependency-free random driver
//! (`examples/fuzz_plain.rs`) and the regression test
//! (`tests/fuzz_regressions.rs`); the latter two include this file with
//! `#[path]`, so it uses nothing but `roomshare`, `serde_json` and `std`.
//!
//! A violated property panics, which is what both libFuzzer and the plain
//! driver report as a crash.

use roomshare::engine::Room;
use roomshare::engine::RoomConfig;
use roomshare::engine::room::{Deferred, Step};
use roomshare::protocol::message::result_frame;
use roomshare::protocol::{Id, Request, RpcResult, SourceInfo, SourceKind, parse_request};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Hits of known, reported and not yet fixed bugs (see `KNOWN_OPEN`).
pub static KNOWN_OPEN_HITS: AtomicU64 = AtomicU64::new(0);

/// Bugs found by fuzzing that are reported to the owner of `src/` but not
/// fixed yet. The checks count them instead of failing, so a fuzz run keeps
/// looking for new ones; `ROOMSHARE_FUZZ_STRICT=1` makes them fail again,
/// and their inputs stay under `fuzz/regressions/` (tested, `#[ignore]`d
/// until fixed). Remove an entry when its fix lands.
pub const KNOWN_OPEN: &[(&str, &str)] = &[];

thread_local! {
    static STRICT_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Make known open bugs fail again on this thread (for their own tests).
pub fn set_strict_on_this_thread(on: bool) {
    STRICT_HERE.with(|s| s.set(on));
}

fn strict() -> bool {
    STRICT_HERE.with(std::cell::Cell::get)
        || std::env::var_os("ROOMSHARE_FUZZ_STRICT").is_some_and(|v| v != "0")
}

/// True (and counted) when `hit` is a known open bug and we are not strict.
fn known_open(tag: &str, hit: bool) -> bool {
    if hit && !strict() && KNOWN_OPEN.iter().any(|(t, _)| *t == tag) {
        KNOWN_OPEN_HITS.fetch_add(1, Ordering::Relaxed);
        return true;
    }
    false
}

/// Would a JSON reader fail to read this id back? Ids are strings, numbers
/// or null; only a string can be unreadable (an unpaired `\uD800`-`\uDFFF`
/// escape: RawValue keeps ids unchecked). Numbers are echoed exactly as
/// written, even beyond f64 (`1e400`, protocol.md §2), but must be JSON
/// numbers.
pub fn id_unreadable(id: &Id) -> bool {
    let raw = id.raw().get();
    match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(raw).is_err(),
        Some(b'-' | b'0'..=b'9') => !json_number(raw),
        _ => raw != "null",
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, RFC 8259's number.
fn json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(i) == Some(&b'0') {
        i += 1;
    } else if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// Fuzz target 1: the request decoder on arbitrary bytes, plus round trips.
///
/// - no panic;
/// - a rejection's frame is JSON in device form, `{"jsonrpc", "id", "error"}`;
/// - a request's id survives into a result frame (device form, echoed
///   exactly as written) and the request re-encodes (`to_text`) to a frame
///   that decodes to the same id, method and params.
pub fn parse_request_case(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_request(text) {
        Err(rejection) => {
            let echoed = match &rejection {
                roomshare::protocol::Rejection::Invalid { id: Some(id) } => id_unreadable(id),
                _ => false,
            };
            if known_open("unreadable-id", echoed) {
                return;
            }
            let frame = rejection.to_frame();
            let id = match &rejection {
                roomshare::protocol::Rejection::Invalid { id: Some(id) } => id.clone(),
                _ => Id::null(),
            };
            let v = device_json_echoing(&frame, &id);
            assert_keys(&v, &["jsonrpc", "id", "error"], &frame);
            assert_eq!(
                v["error"]["code"].as_i64(),
                Some(rejection.code()),
                "rejection frame carries its code: {frame}"
            );
        }
        Ok(req) => {
            if known_open("unreadable-id", req.id.as_ref().is_some_and(id_unreadable)) {
                return;
            }
            if let Some(id) = &req.id {
                let frame = result_frame(&req.method_name, id, &RpcResult::ok(None, None));
                let v = device_json_echoing(&frame, id);
                assert_keys(&v, &["jsonrpc", "method", "id", "result"], &frame);
                assert_eq!(v["method"].as_str(), Some(req.method_name.as_str()));
            }
            let again = req.to_text();
            let back = parse_request(&again)
                .unwrap_or_else(|e| panic!("own encoding {again:?} does not decode: {e:?}"));
            assert_eq!(
                back.id.as_ref().map(|i| i.raw().get().to_string()),
                req.id.as_ref().map(|i| i.raw().get().to_string()),
                "id round trip via {again}"
            );
            assert_eq!(back.method_name, req.method_name, "method round trip");
            assert!(
                same_json(
                    &Value::Object(back.params.clone()),
                    &Value::Object(req.params)
                ),
                "params round trip via {again}"
            );
        }
    }
}

/// Fuzz target 2: arbitrary sequences of requests and internal transitions
/// against the pure state machine.
///
/// - no panic;
/// - every answer and every event serialises to JSON in device form, with
///   the wire key order of protocol.md §2/§5;
/// - answers keep the framing regex-matching controllers rely on (§2): no
///   `}}}}` before the end of a Query answer, no `}}` before the end of a
///   Call answer without `data`;
/// - a Query answer carries `data` exactly when it succeeded.
pub fn engine_case(data: &[u8]) {
    let mut input = ByteSource::new(data);
    let mut room = Room::new(RoomConfig {
        cast_code: Some("123456".into()),
        ..RoomConfig::default()
    });
    let mut pending: Vec<Deferred> = Vec::new();
    let mut now: i64 = 1_700_000_000;
    // Bounded: at most 256 operations per input.
    for _ in 0..256 {
        if input.is_empty() {
            break;
        }
        now += i64::from(input.byte() % 4);
        let op = input.byte() % 12;
        let step = match op {
            0..=2 => {
                let req = request(&mut input);
                let step = room.handle(&req, now);
                check_answer(&req, &step);
                step
            }
            3 => {
                // Raw text through the real decoder, then the engine.
                let len = usize::from(input.byte());
                let text = String::from_utf8_lossy(input.take(len)).into_owned();
                match parse_request(&text) {
                    Ok(req) => {
                        let step = room.handle(&req, now);
                        check_answer(&req, &step);
                        step
                    }
                    Err(_) => continue,
                }
            }
            4 | 5 => {
                if pending.is_empty() {
                    continue;
                }
                let i = usize::from(input.byte()) % pending.len();
                let d = pending.remove(i);
                room.complete(&d)
            }
            6 => {
                // A stale or made-up deferred transition must be harmless.
                let epoch = u64::from(input.byte() % 4);
                let d = if input.byte().is_multiple_of(2) {
                    Deferred::JoinCompleted { epoch }
                } else {
                    Deferred::QuickCastSharing { epoch }
                };
                room.complete(&d)
            }
            7 | 8 => room.set_sources(sources(&mut input)),
            9 => {
                let id = *input.pick(&SOURCE_IDS);
                room.share_failed(id, "fuzz: capture failed")
            }
            _ => {
                let req = request(&mut input);
                let step = room.handle(&req, now);
                check_answer(&req, &step);
                step
            }
        };
        for event in &step.events {
            let frame = event.to_frame();
            let v = device_json(&frame);
            assert_keys(&v, &["jsonrpc", "method", "params"], &frame);
            assert_keys(
                &v["params"],
                &["sub_event", "error_code", "message", "data"],
                &frame,
            );
            assert_eq!(v["method"].as_str(), Some(event.method().as_str()));
        }
        pending.extend(step.deferred.into_iter().map(|(_, d)| d));
        // Keep the queue bounded whatever the input does.
        if pending.len() > 16 {
            pending.remove(0);
        }
    }
    // Every read-side view serialises too.
    for path in QUERY_PATHS {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if let Ok(data) = room.query(&path) {
            device_json(&roomshare::protocol::to_device_string(&data));
        }
    }
}

/// Check one answer of the engine.
fn check_answer(req: &Request, step: &Step) {
    let Some(result) = &step.result else {
        panic!("a request got no result: {req:?}");
    };
    if known_open("unreadable-id", req.id.as_ref().is_some_and(id_unreadable)) {
        return;
    }
    let id = req.id.clone().unwrap_or_else(|| Id::number(7));
    let frame = result_frame(&req.method_name, &id, result);
    let v = device_json_echoing(&frame, &id);
    assert_keys(&v, &["jsonrpc", "method", "id", "result"], &frame);
    let r = v["result"]
        .as_object()
        .unwrap_or_else(|| panic!("result is an object: {frame}"));
    assert_eq!(
        r.keys().next().map(String::as_str),
        Some("error_code"),
        "error_code first: {frame}"
    );
    if r.contains_key("data") {
        assert_eq!(
            r.keys().next_back().map(String::as_str),
            Some("data"),
            "data last: {frame}"
        );
    }
    let code = r["error_code"].as_i64().expect("integer error_code");
    if req.method_name == "Query" {
        assert_eq!(
            code == 0,
            r.contains_key("data"),
            "a Query answer has data exactly when it succeeded: {frame}"
        );
        let at = first_structural(&frame, "}}}}");
        assert!(
            at.is_none_or(|at| at == frame.len() - 4),
            "a Query answer must not close four objects before its end (regex controllers match \"result\": {{.*?}}}}}}}}): {frame}"
        );
    } else if req.method_name.starts_with("Call/") && !r.contains_key("data") {
        let at = first_structural(&frame, "}}");
        assert!(
            at.is_none_or(|at| at == frame.len() - 2),
            "a Call answer must not close two objects before its end (regex controllers match \"result\": {{.*?}}}}): {frame}"
        );
    }
}

/// Parse `frame` as JSON and check it is in the device form: outside string
/// literals every `,` and `:` is followed by exactly one space and there is
/// no other whitespace (`json.dumps` with its default separators).
pub fn device_json(frame: &str) -> Value {
    let v: Value = serde_json::from_str(frame)
        .unwrap_or_else(|e| panic!("frame is not JSON ({e}): {frame:?}"));
    let bytes = frame.as_bytes();
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b',' | b':' => assert!(
                bytes.get(i + 1) == Some(&b' ') && bytes.get(i + 2) != Some(&b' '),
                "separator at byte {i} is not `{} `: {frame}",
                b as char
            ),
            b' ' => assert!(
                i > 0 && matches!(bytes[i - 1], b',' | b':'),
                "stray space at byte {i}: {frame}"
            ),
            b'\n' | b'\r' | b'\t' => panic!("whitespace at byte {i}: {frame}"),
            _ => {}
        }
    }
    v
}

/// [`device_json`] for a frame that answers `id`: the id is echoed exactly
/// as written (`"id": <id>, `) and then read as `null`, since a number
/// beyond f64 (echoed as written, protocol.md §2) is beyond serde_json's
/// `Value`. The pattern cannot match inside a string literal, where every
/// `"` is escaped.
pub fn device_json_echoing(frame: &str, id: &Id) -> Value {
    assert!(
        !id_unreadable(id),
        "an echoed id reads back as JSON ({}): {frame}",
        id.raw().get()
    );
    let written = format!("\"id\": {}, ", id.raw().get());
    let at = frame
        .find(&written)
        .unwrap_or_else(|| panic!("id echoed exactly as written ({}): {frame}", id.raw().get()));
    let rest = &frame[at + written.len()..];
    device_json(&format!("{}\"id\": null, {rest}", &frame[..at]))
}

/// The object's keys are exactly `keys`, in that order.
fn assert_keys(v: &Value, keys: &[&str], frame: &str) {
    let got: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {frame}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(got, keys, "key order of {frame}");
}

/// Byte offset of the first occurrence of `pattern` outside string literals.
fn first_structural(frame: &str, pattern: &str) -> Option<usize> {
    let bytes = frame.as_bytes();
    let (mut in_string, mut escaped) = (false, false);
    for i in 0..bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if b == b'"' {
            in_string = true;
        } else if bytes[i..].starts_with(pattern.as_bytes()) {
            return Some(i);
        }
    }
    None
}

/// JSON equality, allowing floats to differ in the last bit (serde_json's
/// default float parser is not guaranteed to round-trip every value).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            _ if x == y => true,
            (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()) * 4.0,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_json(va, vb))
        }
        _ => a == b,
    }
}

// ----- turning bytes into requests --------------------------------------------

/// Reads choices out of the fuzzer's bytes; zeros once they run out, so
/// every input is a valid (finite) program.
pub struct ByteSource<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> ByteSource<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        ByteSource { data, pos: 0 }
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = (start + n).min(self.data.len());
        self.pos = end;
        &self.data[start..end]
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[usize::from(self.byte()) % items.len()]
    }
}

const QUERY_PATHS: &[&[&str]] = &[
    &["Share"],
    &["Share", "ShareInfo"],
    &["Share", "CastCode"],
    &["Share", "CaptureDeviceList"],
    &["Share", "ShareGuide"],
    &["Meeting"],
    &["Meeting", "MeetingInfo"],
    &["RoomShare"],
    &["RoomShare", "Sources"],
    &["RoomShare", "ShareSession"],
    &["RoomShare", "Thumbnail"],
    &[],
    &["Nope"],
    &["Share", "Nope"],
    &["Share", "ShareInfo", "Deeper"],
];

const METHODS: &[&str] = &[
    "Query",
    "Call/Share",
    "Call/Share",
    "Call/Share",
    "Call/Meeting",
    "Call/Meeting",
    "Call/RoomShare",
    "Call/Nope",
    "Call/",
    "Subscribe",
    "unsubscribe",
    "Event/Share",
    "",
];

const ACTIONS: &[&str] = &[
    "StartShare",
    "StopShare",
    "StartWindowShare",
    "StopWindowShare",
    "EndQuickShare",
    "CancelQuickShare",
    "OpenShareGuide",
    "CloseShareGuide",
    "StartMeeting",
    "JoinMeeting",
    "LeaveMeeting",
    "DissolveMeeting",
    "SimulateRemoteShare",
    "SimulateRemoteStop",
    "SimulateQuickCast",
    "SetCastCode",
    "startshare",
    "",
];

const KEYS: &[&str] = &[
    "share_type",
    "fluency_first",
    "share_voice",
    "select_index",
    "device_id",
    "generation",
    "meeting_type",
    "meeting_code",
    "password",
    "nickname",
    "whiteboard",
    "instance_id",
    "role_type",
    "cast_code",
    "source_id",
    "path",
];

const SOURCE_IDS: [&str; 7] = [
    "desktop",
    "hdmi-1",
    "hdmi-2",
    "win-slides",
    "win-terminal",
    "win-board",
    "",
];

fn value(input: &mut ByteSource) -> Value {
    match input.byte() % 24 {
        0 => Value::Null,
        1 => Value::Bool(true),
        2 => Value::Bool(false),
        3..=6 => Value::from(i64::from(input.byte() % 8)),
        7 => Value::from(-1),
        8 => Value::from(u64::MAX),
        9 => Value::from(i64::MIN),
        10 => Value::from(1.5),
        11 => Value::from(4_294_967_296u64),
        12 => Value::from(""),
        13 => Value::from(*input.pick(&SOURCE_IDS)),
        14 => Value::from("123456"),
        15 => Value::from("castMeeting"),
        16 => Value::from("白板 }}}} \"\\ \u{0}"),
        17 => Value::Array(vec![]),
        18 => Value::Object(Map::new()),
        19 => Value::from(vec![Value::from("Share"), Value::from("ShareInfo")]),
        20 => Value::from(input.byte().to_string()),
        21 => Value::from(f64::from(input.byte()) / 3.0),
        22 => Value::from("instant"),
        _ => {
            let len = usize::from(input.byte() % 16);
            Value::from(String::from_utf8_lossy(input.take(len)).into_owned())
        }
    }
}

fn params_object(input: &mut ByteSource) -> Map<String, Value> {
    let mut m = Map::new();
    for _ in 0..input.byte() % 5 {
        let k = *input.pick(KEYS);
        m.insert(k.to_string(), value(input));
    }
    m
}

/// A request built from the vocabulary above: mostly well-formed, often
/// slightly wrong (wrong types, missing inputs, parameters in both places).
fn request(input: &mut ByteSource) -> Request {
    let method = *input.pick(METHODS);
    let mut params = Map::new();
    match input.byte() % 8 {
        // No params at all.
        0 => {}
        // Query-shaped.
        1 | 2 => {
            let path = input.pick(QUERY_PATHS);
            params.insert(
                "path".into(),
                Value::from(path.iter().map(|s| Value::from(*s)).collect::<Vec<_>>()),
            );
            if input.byte().is_multiple_of(4) {
                params.insert("source_id".into(), value(input));
            }
        }
        // A path of the wrong type.
        3 => {
            params.insert("path".into(), value(input));
        }
        // Call-shaped, inputs in action_params and/or directly in params.
        _ => {
            let action = if input.byte().is_multiple_of(16) {
                value(input)
            } else {
                Value::from(*input.pick(ACTIONS))
            };
            params.insert("action".into(), action);
            let ap = params_object(input);
            match input.byte() % 4 {
                0 => params.extend(ap),
                1 => {
                    params.insert("action_params".into(), value(input));
                }
                _ => {
                    params.insert("action_params".into(), Value::Object(ap));
                }
            }
        }
    }
    let id = match input.byte() % 4 {
        0 => None,
        1 => Some(Id::string("fuzz")),
        2 => Some(Id::null()),
        _ => Some(Id::number(u64::from(input.byte()))),
    };
    Request::new(id, method, Value::Object(params))
}

/// A source list: a selection from a fixed catalogue, in a chosen order,
/// sometimes renamed or resized (ids stay stable, as capture promises).
fn sources(input: &mut ByteSource) -> Vec<SourceInfo> {
    let catalogue: [(&str, SourceKind, &str); 6] = [
        ("desktop", SourceKind::Desktop, "Desktop"),
        ("hdmi-1", SourceKind::CaptureDevice, "HDMI-1"),
        ("hdmi-2", SourceKind::CaptureDevice, "HDMI-2"),
        ("win-slides", SourceKind::Window, "Slides"),
        ("win-terminal", SourceKind::Window, "Terminal"),
        ("win-board", SourceKind::Window, "白板"),
    ];
    let mut list = Vec::new();
    let mask = input.byte();
    for (bit, (id, kind, title)) in catalogue.iter().enumerate() {
        if mask & (1 << bit) != 0 {
            let renamed = input.byte().is_multiple_of(4);
            list.push(SourceInfo {
                id: (*id).into(),
                kind: *kind,
                select_index: None,
                device_id: None,
                title: if renamed {
                    format!("{title} (renamed)")
                } else {
                    (*title).into()
                },
                app: "fuzz".into(),
                width: if renamed { 1280 } else { 1920 },
                height: 1080,
                unavailable: None,
                health: None,
            });
        }
    }
    if !list.is_empty() && input.byte().is_multiple_of(2) {
        let n = list.len();
        list.rotate_left(usize::from(input.byte()) % n);
    }
    list
}
