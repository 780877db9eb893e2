//! Hostile input (issue 5, item 3): a table of bad inputs, each with its
//! documented answer (protocol.md §1–2): a JSON-RPC error, a device error
//! code, a close code or an HTTP refusal. Frames are built byte by byte over
//! a raw TCP stream so that anything can be sent. After every case another
//! client is still served. Also the handshake rules: slow handshakes are
//! dropped (their slot freed), oversized heads refused, the rate limit.
//!
//! Against the in-process engine, or an external `roomshare serve` named by
//! `ROOMSHARE_TEST_SERVER` (support/target.rs; scripts/wine-check.sh runs
//! these against the Windows binary under Wine). The tests that need server
//! settings of their own, the engine's handle or a restart say that they
//! are skipped there, and why.

mod support;

use roomshare::protocol::auth::auth_protocol;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::target::{skip_when_external, target};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const OP_CONTINUE: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// One frame as a client would write it.
struct RawFrame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    masked: bool,
    payload: Vec<u8>,
}

fn frame(opcode: u8, payload: impl Into<Vec<u8>>) -> RawFrame {
    RawFrame {
        fin: true,
        rsv: 0,
        opcode,
        masked: true,
        payload: payload.into(),
    }
}

fn text(s: &str) -> RawFrame {
    frame(OP_TEXT, s.as_bytes())
}

impl RawFrame {
    fn bytes(&self) -> Vec<u8> {
        let mut out = vec![(u8::from(self.fin) << 7) | (self.rsv << 4) | self.opcode];
        let mask_bit = if self.masked { 0x80 } else { 0 };
        let len = self.payload.len();
        if len < 126 {
            out.push(mask_bit | len as u8);
        } else if len <= 0xffff {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        if self.masked {
            let mask = [0x12u8, 0x34, 0x56, 0x78];
            out.extend_from_slice(&mask);
            out.extend(
                self.payload
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ mask[i % 4]),
            );
        } else {
            out.extend_from_slice(&self.payload);
        }
        out
    }
}

/// A WebSocket connection driven by hand.
struct Raw {
    tcp: TcpStream,
}

/// What the server did.
#[derive(Debug, PartialEq)]
enum Seen {
    Text(String),
    Pong(Vec<u8>),
    Close(u16),
    /// An HTTP status instead of 101.
    Http(u16),
    /// The connection ended without a close frame.
    Gone,
}

fn handshake_request(addr: SocketAddr, extra_headers: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra_headers}\r\n"
    )
}

fn auth_header(protocol: &str) -> String {
    format!("Sec-WebSocket-Protocol: {protocol}\r\n")
}

impl Raw {
    /// Send `request` and read the response head: `Ok` on 101.
    async fn handshake(addr: SocketAddr, request: &str) -> Result<Raw, Seen> {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        // The server may refuse before reading everything.
        let _ = tcp.write_all(request.as_bytes()).await;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match tokio::time::timeout(WAIT, tcp.read(&mut byte))
                .await
                .expect("an answer in time")
            {
                Ok(1) => head.push(byte[0]),
                _ => return Err(Seen::Gone),
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let status: u16 = head[9..12].parse().unwrap();
        if status == 101 {
            Ok(Raw { tcp })
        } else {
            Err(Seen::Http(status))
        }
    }

    async fn open(addr: SocketAddr, password: &str) -> Raw {
        let request = handshake_request(addr, &auth_header(&auth_protocol(password)));
        Raw::handshake(addr, &request).await.expect("101")
    }

    async fn send(&mut self, frames: &[RawFrame]) {
        let mut bytes = Vec::new();
        for f in frames {
            bytes.extend(f.bytes());
        }
        // The server may close before reading all of it (oversized frames).
        let _ = self.tcp.write_all(&bytes).await;
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> bool {
        tokio::time::timeout(WAIT, self.tcp.read_exact(buf))
            .await
            .expect("a frame in time")
            .is_ok()
    }

    /// The next thing the server did.
    async fn next(&mut self) -> Seen {
        let mut header = [0u8; 2];
        if !self.read_exact(&mut header).await {
            return Seen::Gone;
        }
        assert_eq!(header[1] & 0x80, 0, "server frames are unmasked");
        assert!(header[0] & 0x80 != 0, "server messages are unfragmented");
        let len = match header[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                assert!(self.read_exact(&mut ext).await);
                u16::from_be_bytes(ext) as usize
            }
            127 => {
                let mut ext = [0u8; 8];
                assert!(self.read_exact(&mut ext).await);
                u64::from_be_bytes(ext) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        assert!(self.read_exact(&mut payload).await);
        match header[0] & 0x0f {
            OP_TEXT => Seen::Text(String::from_utf8(payload).expect("UTF-8 from the server")),
            OP_PONG => Seen::Pong(payload),
            OP_CLOSE => Seen::Close(u16::from_be_bytes([payload[0], payload[1]])),
            other => panic!("unexpected opcode {other}"),
        }
    }

    /// Read (answering nothing) until the server closes the TCP connection;
    /// the time since `since`. Panics if it is still open after `WAIT`.
    async fn closed_by_server(mut self, since: Instant) -> Duration {
        tcp_closed_by_peer(&mut self.tcp, since).await
    }
}

/// The documented answer to a case.
enum Answer {
    /// A JSON-RPC error frame with this code and id (raw JSON); the
    /// connection stays open.
    RpcError(i64, &'static str),
    /// A result with this `error_code`; the connection stays open.
    Code(i64),
    /// A Pong with the Ping's payload.
    Pong,
    /// Close with this code, then the server closes the TCP connection.
    Close(u16),
}

struct Case {
    name: &'static str,
    frames: Vec<RawFrame>,
    answer: Answer,
}

fn case(name: &'static str, frames: Vec<RawFrame>, answer: Answer) -> Case {
    Case {
        name,
        frames,
        answer,
    }
}

fn request(method: &str, params: &str) -> String {
    format!(r#"{{"jsonrpc": "2.0", "id": "h", "method": "{method}", "params": {params}}}"#)
}

fn call_share(action_params: &str) -> RawFrame {
    text(&request(
        "Call/Share",
        &format!(r#"{{"action": "StartShare", "action_params": {action_params}}}"#),
    ))
}

fn frame_cases() -> Vec<Case> {
    use Answer::*;
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let big_id = "9".repeat(100);
    let mut fragmented_first = text(&request("Query", r#"{"path": ["Share", "CastCode"]}"#)[..20]);
    fragmented_first.fin = false;
    let mut fragmented_rest = frame(
        OP_CONTINUE,
        &request("Query", r#"{"path": ["Share", "CastCode"]}"#).as_bytes()[20..],
    );
    fragmented_rest.fin = true;
    let mut rsv = text(&request("Query", r#"{"path": ["Share"]}"#));
    rsv.rsv = 0b100;
    let mut unmasked = text(&request("Query", r#"{"path": ["Share"]}"#));
    unmasked.masked = false;
    let mut fragmented_ping = frame(OP_PING, "x");
    fragmented_ping.fin = false;
    let mut oversized = vec![b' '; (1 << 20) + 1];
    oversized[0] = b'{';
    vec![
        case("not JSON", vec![text("hello")], RpcError(-32700, "null")),
        case(
            "truncated JSON",
            vec![text(r#"{"id": 1, "method": "Query""#)],
            RpcError(-32700, "null"),
        ),
        case("empty text", vec![text("")], RpcError(-32700, "null")),
        case(
            "whitespace only",
            vec![text("  \n ")],
            RpcError(-32700, "null"),
        ),
        case(
            "nesting 200 deep",
            vec![text(&deep(200))],
            RpcError(-32700, "null"),
        ),
        case(
            "nesting 200 deep in params",
            vec![text(&request(
                "Query",
                &format!(r#"{{"path": ["Share"], "x": {}}}"#, deep(200)),
            ))],
            RpcError(-32700, "null"),
        ),
        // 128 levels in all (the request, its params and 126 arrays) are allowed.
        case(
            "nesting exactly 128 deep",
            vec![text(&request(
                "Query",
                &format!(r#"{{"path": ["Share", "CastCode"], "x": {}}}"#, deep(126)),
            ))],
            Code(0),
        ),
        case(
            "nesting 129 deep",
            vec![text(&request(
                "Query",
                &format!(r#"{{"path": ["Share", "CastCode"], "x": {}}}"#, deep(127)),
            ))],
            RpcError(-32700, "null"),
        ),
        case(
            "trailing garbage",
            vec![text(&(request("Query", "{}") + "}"))],
            RpcError(-32700, "null"),
        ),
        case("JSON array", vec![text("[]")], RpcError(-32600, "null")),
        case(
            "batch",
            vec![text(&format!("[{}]", request("Query", "{}")))],
            RpcError(-32600, "null"),
        ),
        case("JSON number", vec![text("42")], RpcError(-32600, "null")),
        case(
            "JSON string",
            vec![text(r#""Query""#)],
            RpcError(-32600, "null"),
        ),
        case("JSON null", vec![text("null")], RpcError(-32600, "null")),
        case("JSON bool", vec![text("true")], RpcError(-32600, "null")),
        case(
            "object without method",
            vec![text(r#"{"jsonrpc": "2.0", "id": "x", "params": {}}"#)],
            RpcError(-32600, r#""x""#),
        ),
        case(
            "method null",
            vec![text(r#"{"jsonrpc": "2.0", "id": 3, "method": null}"#)],
            RpcError(-32600, "null"),
        ),
        case(
            "method given twice, as numbers",
            vec![text(
                r#"{"jsonrpc": "2.0", "id": 1, "method": 1, "method": 2}"#,
            )],
            RpcError(-32600, "null"),
        ),
        case(
            "id beyond a double, no method",
            vec![text(r#"{"jsonrpc": "2.0", "id": -1e999, "params": {}}"#)],
            RpcError(-32600, "-1e999"),
        ),
        case(
            "method a number",
            vec![text(r#"{"jsonrpc": "2.0", "id": "x", "method": 1}"#)],
            RpcError(-32600, "null"),
        ),
        case(
            "id an object",
            vec![text(r#"{"jsonrpc": "2.0", "id": {}, "method": "Query"}"#)],
            RpcError(-32600, "null"),
        ),
        case(
            "id an array",
            vec![text(r#"{"jsonrpc": "2.0", "id": [1], "method": "Query"}"#)],
            RpcError(-32600, "null"),
        ),
        case(
            "id a bool",
            vec![text(
                r#"{"jsonrpc": "2.0", "id": false, "method": "Query"}"#,
            )],
            RpcError(-32600, "null"),
        ),
        case(
            "binary frame",
            vec![frame(OP_BINARY, request("Query", "{}").into_bytes())],
            RpcError(-32600, "null"),
        ),
        case(
            "huge numeric id, unknown method",
            vec![text(&format!(r#"{{"id": {big_id}, "method": "Nope"}}"#))],
            Code(9),
        ),
        case(
            "huge string id",
            vec![text(&format!(
                r#"{{"id": "{}", "method": "Query", "params": {{"path": ["Share"]}}}}"#,
                "i".repeat(10_000)
            ))],
            Code(0),
        ),
        case(
            "unknown method",
            vec![text(&request("Delete", "{}"))],
            Code(9),
        ),
        case(
            "unknown module",
            vec![text(&request("Call/Camera", r#"{"action": "On"}"#))],
            Code(9),
        ),
        case(
            "unknown action",
            vec![text(&request("Call/Share", r#"{"action": "Explode"}"#))],
            Code(9),
        ),
        case(
            "action a number",
            vec![text(&request("Call/Share", r#"{"action": 1}"#))],
            Code(8),
        ),
        case(
            "params an array",
            vec![text(&request("Query", "[1, 2]"))],
            Code(8),
        ),
        case(
            "unknown query path",
            vec![text(&request("Query", r#"{"path": ["Share", "Secrets"]}"#))],
            Code(6),
        ),
        case(
            "query path a string",
            vec![text(&request("Query", r#"{"path": "Share"}"#))],
            Code(8),
        ),
        case(
            "query path of numbers",
            vec![text(&request("Query", r#"{"path": [1, 2]}"#))],
            Code(8),
        ),
        case(
            "subscribe unknown path",
            vec![text(&request("Subscribe", r#"{"path": ["Secrets"]}"#))],
            Code(7),
        ),
        case(
            "subscribe path an object",
            vec![text(&request("Subscribe", r#"{"path": {}}"#))],
            Code(8),
        ),
        case(
            "share_type out of range",
            vec![call_share(r#"{"share_type": 7, "fluency_first": true}"#)],
            Code(8),
        ),
        case(
            "share_type a string",
            vec![call_share(r#"{"share_type": "0", "fluency_first": true}"#)],
            Code(8),
        ),
        case(
            "select_index negative",
            vec![call_share(
                r#"{"share_type": 0, "fluency_first": true, "select_index": -5}"#,
            )],
            Code(8),
        ),
        case(
            "select_index beyond u64",
            vec![call_share(
                r#"{"share_type": 0, "fluency_first": true, "select_index": 18446744073709551616}"#,
            )],
            Code(8),
        ),
        case(
            "fluency_first a string",
            vec![call_share(r#"{"share_type": 0, "fluency_first": "yes"}"#)],
            Code(8),
        ),
        case(
            "valid share outside a meeting",
            vec![call_share(r#"{"share_type": 0, "fluency_first": true}"#)],
            Code(10000),
        ),
        case(
            "fragmented text message",
            vec![fragmented_first, fragmented_rest],
            Code(0),
        ),
        case("ping", vec![frame(OP_PING, "hi")], Pong),
        case(
            "invalid UTF-8",
            vec![frame(OP_TEXT, vec![b'"', 0xc3, 0x28, b'"'])],
            Close(1007),
        ),
        case(
            "message over 1 MiB",
            vec![frame(OP_TEXT, oversized)],
            Close(1009),
        ),
        case("RSV bit set", vec![rsv], Close(1002)),
        case("unmasked client frame", vec![unmasked], Close(1002)),
        case("reserved data opcode", vec![frame(0x3, "x")], Close(1002)),
        case(
            "reserved control opcode",
            vec![frame(0xB, "x")],
            Close(1002),
        ),
        case(
            "continuation without a start",
            vec![frame(OP_CONTINUE, "x")],
            Close(1002),
        ),
        case(
            "fragmented control frame",
            vec![fragmented_ping],
            Close(1002),
        ),
        case(
            "control frame over 125 bytes",
            vec![frame(OP_PING, vec![b'p'; 200])],
            Close(1002),
        ),
    ]
}

const CAST_CODE_QUERY: &str = r#"{"jsonrpc": "2.0", "id": "still", "method": "Query", "params": {"path": ["Share", "CastCode"]}}"#;

async fn still_served(raw: &mut Raw) {
    raw.send(&[text(CAST_CODE_QUERY)]).await;
    match raw.next().await {
        Seen::Text(t) => assert!(t.contains(&format!(r#""cast_code": "{CAST_CODE}""#)), "{t}"),
        other => panic!("not served: {other:?}"),
    }
}

#[tokio::test]
async fn hostile_frames_get_their_documented_answers() {
    let target = target().await;
    let mut bystander = Raw::open(target.addr, &target.password).await;
    let cases = frame_cases();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for c in cases {
        let mut raw = Raw::open(target.addr, &target.password).await;
        raw.send(&c.frames).await;
        let seen = raw.next().await;
        let ok = match (&c.answer, &seen) {
            (Answer::RpcError(code, id), Seen::Text(t)) => {
                *t == format!(
                    r#"{{"jsonrpc": "2.0", "id": {id}, "error": {{"code": {code}, "message": "{}"}}}}"#,
                    roomshare::protocol::codes::meaning(*code).unwrap()
                )
            }
            (Answer::Code(code), Seen::Text(t)) => {
                let v: Value = serde_json::from_str(t).unwrap();
                assert_device_form(t);
                v["result"]["error_code"] == *code
            }
            (Answer::Pong, Seen::Pong(p)) => p == b"hi",
            (Answer::Close(code), Seen::Close(got)) => code == got,
            _ => false,
        };
        if !ok {
            failures.push(format!("{}: got {:?}", c.name, seen));
            continue;
        }
        match c.answer {
            // The server closes the TCP connection itself (the client never
            // answers): within WAIT, not protocol.md's 3 s, which no test
            // can hold to on a loaded machine; the server's close grace
            // (1 s) is what keeps that bound.
            Answer::Close(_) => {
                raw.closed_by_server(Instant::now()).await;
            }
            // The connection survives and serves the next request.
            _ => still_served(&mut raw).await,
        }
        still_served(&mut bystander).await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop(bystander);
    target.finish().await;
}

/// protocol.md §2 over a real connection: a numeric id beyond a double is
/// echoed exactly as written (serde_json cannot hold it, so the answer is
/// compared as text); a method that is not a string, null included, gets
/// -32600 with id null even beside a usable id.
#[tokio::test]
async fn ids_beyond_a_double_echo_exactly_and_non_string_methods_answer_id_null() {
    let target = target().await;
    let mut raw = Raw::open(target.addr, &target.password).await;
    let cast_code = |id: &str| {
        format!(
            r#"{{"jsonrpc": "2.0", "method": "Query", "id": {id}, "result": {{"error_code": 0, "message": "", "data": {{"cast_code": "{CAST_CODE}"}}}}}}"#
        )
    };
    let rpc_error = |id: &str| {
        format!(
            r#"{{"jsonrpc": "2.0", "id": {id}, "error": {{"code": -32600, "message": "Invalid Request"}}}}"#
        )
    };
    let cases = [
        (
            r#"{"jsonrpc": "2.0", "id": 1e400, "method": "Query", "params": {"path": ["Share", "CastCode"]}}"#,
            cast_code("1e400"),
        ),
        (
            r#"{"jsonrpc": "2.0", "id": -1E+999, "method": "Query", "params": {"path": ["Share", "CastCode"]}}"#,
            cast_code("-1E+999"),
        ),
        (r#"{"jsonrpc": "2.0", "id": 1e400}"#, rpc_error("1e400")),
        (
            r#"{"jsonrpc": "2.0", "id": 1e400, "method": null}"#,
            rpc_error("null"),
        ),
        (
            r#"{"jsonrpc": "2.0", "id": "m", "method": null, "params": {}}"#,
            rpc_error("null"),
        ),
        (
            r#"{"jsonrpc": "2.0", "id": 1, "method": 1, "method": 2}"#,
            rpc_error("null"),
        ),
        (
            r#"{"jsonrpc": "2.0", "id": 1, "method": "Query", "method": "Query"}"#,
            rpc_error("1"),
        ),
    ];
    for (sent, want) in cases {
        raw.send(&[text(sent)]).await;
        assert_eq!(raw.next().await, Seen::Text(want), "{sent}");
    }
    // A device error echoes it too (the message is the engine's wording).
    raw.send(&[text(r#"{"jsonrpc": "2.0", "id": 1e400, "method": "Nope"}"#)])
        .await;
    let Seen::Text(answer) = raw.next().await else {
        panic!("no answer to an unknown method")
    };
    assert!(
        answer.starts_with(
            r#"{"jsonrpc": "2.0", "method": "Nope", "id": 1e400, "result": {"error_code": 9, "#
        ),
        "{answer}"
    );
    // Still served.
    still_served(&mut raw).await;
    drop(raw);
    target.finish().await;
}

#[tokio::test]
async fn hostile_handshakes_are_refused() {
    let target = target().await;
    let addr = target.addr;
    let mut bystander = Raw::open(addr, &target.password).await;
    let good = auth_header(&auth_protocol(&target.password));

    // Auth problems: upgraded, one Auth frame, close 1008.
    for (protocol, code) in [
        (String::new(), 4),
        (auth_header("auth-"), 4),
        (auth_header("auth-@@@"), 4),
        (auth_header("auth-%ZZ"), 4),
        (auth_header(&raw_base64_protocol("wrong")), 16),
        (
            auth_header(&auth_protocol(&format!("{} ", target.password))),
            16,
        ),
    ] {
        // Before the handshake, so before the server starts its close grace.
        let t0 = Instant::now();
        let mut raw = Raw::handshake(addr, &handshake_request(addr, &protocol))
            .await
            .expect("upgraded");
        let Seen::Text(t) = raw.next().await else {
            panic!("{protocol}: no Auth frame")
        };
        assert!(t.starts_with(&format!(r#"{{"jsonrpc": "2.0", "method": "Auth", "id": null, "result": {{"error_code": {code}, "#)), "{t}");
        assert_eq!(raw.next().await, Seen::Close(1008), "{protocol}");
        // Never answering the close, we see the server close the TCP
        // connection by itself, and not before its grace for our answer ran
        // out: it waited for the close handshake. protocol.md's "within 1 s"
        // is not timed here (a loaded machine would make that flaky); it
        // rests on that grace, 500 ms.
        let gone = raw.closed_by_server(t0).await;
        assert!(
            gone >= AUTH_CLOSE_GRACE,
            "{protocol}: dropped after {gone:?}, before the close grace"
        );
        still_served(&mut bystander).await;
    }

    // Malformed upgrades: HTTP 400.
    let malformed = [
        format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{good}\r\n"
        ),
        format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n{good}\r\n"
        ),
        format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n{good}\r\n"
        ),
        "\r\n\r\n".to_string(),
        "not http at all\r\n\r\n".to_string(),
    ];
    for request in malformed {
        match Raw::handshake(addr, &request).await {
            Err(Seen::Http(status)) => assert_eq!(status, 400, "{request:?}"),
            other => panic!("{request:?}: {:?}", other.map(|_| "upgraded")),
        }
        still_served(&mut bystander).await;
    }

    // A head over 16 KiB: 431.
    let huge = format!("X-Padding: {}\r\n{good}", "p".repeat(17 << 10));
    match Raw::handshake(addr, &handshake_request(addr, &huge)).await {
        Err(Seen::Http(status)) => assert_eq!(status, 431),
        other => panic!("oversized head: {:?}", other.map(|_| "upgraded")),
    }
    // Just under the limit is fine.
    let large = format!("X-Padding: {}\r\n{good}", "p".repeat(15 << 10));
    let mut raw = Raw::handshake(addr, &handshake_request(addr, &large))
        .await
        .expect("a 15 KiB head");
    still_served(&mut raw).await;

    // A second handshake on an upgraded connection is not a frame: 1002.
    let mut raw = Raw::open(addr, &target.password).await;
    raw.tcp
        .write_all(handshake_request(addr, &good).as_bytes())
        .await
        .unwrap();
    assert_eq!(raw.next().await, Seen::Close(1002));
    still_served(&mut bystander).await;
    drop(bystander);
    target.finish().await;
}

#[tokio::test]
async fn slow_handshakes_are_dropped_and_their_slot_freed() {
    if skip_when_external(
        "slow_handshakes_are_dropped_and_their_slot_freed",
        "needs a server of its own with a 200 ms handshake timeout and one connection",
    ) {
        return;
    }
    let mut config = server_config(Some(PASSWORD));
    config.handshake_timeout = Duration::from_millis(200);
    config.max_connections = 1;
    let served = serve_with(config, room_config()).await;
    // Slowloris: half a request head, then nothing.
    let mut slow = TcpStream::connect(served.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(WAIT, slow.read(&mut buf))
        .await
        .expect("dropped in time");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    // The only slot is free again (the permit goes right after the socket,
    // so poll briefly).
    let request = handshake_request(served.addr, &auth_header(&auth_protocol(PASSWORD)));
    let mut raw = wait::wait_until_async(WAIT, "the slot to be freed", async || {
        Raw::handshake(served.addr, &request).await.ok()
    })
    .await;
    still_served(&mut raw).await;
    // The cap holds: a second connection is refused while it is open.
    let second = Raw::handshake(served.addr, &request).await;
    assert!(
        matches!(second, Err(Seen::Gone)),
        "{:?}",
        second.map(|_| "upgraded")
    );
    still_served(&mut raw).await;
    served.server.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_10_for_the_excess() {
    if skip_when_external(
        "rate_limit_answers_10_for_the_excess",
        "needs a server of its own with a rate limit of 1 per second, burst 3",
    ) {
        return;
    }
    let mut config = server_config(Some(PASSWORD));
    config.rate_per_sec = 1;
    config.rate_burst = 3;
    let served = serve_with(config, room_config()).await;
    // The connection's allowance: the burst (3), plus one token per second
    // since it opened (the limiter starts after this instant). Counted
    // against the measured time, not assumed: on a fast machine that is the
    // burst alone, and every answer below is exact.
    let opened = Instant::now();
    let allowance = || 3 + opened.elapsed().as_secs() as usize;
    let mut raw = Raw::open(served.addr, PASSWORD).await;
    let frames: Vec<RawFrame> = (0..8).map(|_| text(CAST_CODE_QUERY)).collect();
    raw.send(&frames).await;
    let mut codes = Vec::new();
    for _ in 0..8 {
        let Seen::Text(t) = raw.next().await else {
            panic!()
        };
        let v: Value = serde_json::from_str(&t).unwrap();
        assert_eq!(v["id"], "still");
        codes.push(v["result"]["error_code"].as_i64().unwrap());
    }
    // The burst passes; the excess gets 10, but for a token refilled since.
    assert_eq!(&codes[..3], &[0, 0, 0], "{codes:?}");
    assert!(codes.iter().all(|c| [0, 10].contains(c)), "{codes:?}");
    let passed = codes.iter().filter(|c| **c == 0).count();
    assert!(passed <= allowance(), "{codes:?}");
    // Malformed frames do not count and are still answered as such.
    raw.send(&[text("nope")]).await;
    let Seen::Text(t) = raw.next().await else {
        panic!()
    };
    assert!(t.contains("-32700"), "{t}");
    // A refused Call still names its action, like every Call result.
    let calls: Vec<RawFrame> = (0..5)
        .map(|_| text(&request("Call/Share", r#"{"action": "OpenShareGuide"}"#)))
        .collect();
    raw.send(&calls).await;
    let mut refused = 0;
    for _ in 0..5 {
        let Seen::Text(t) = raw.next().await else {
            panic!()
        };
        if t.contains(r#""error_code": 10"#) {
            assert!(t.ends_with(r#""result": {"error_code": 10, "action": "OpenShareGuide", "message": "more than 1 requests per second"}}"#), "{t}");
            refused += 1;
        } else {
            assert!(t.contains(r#""error_code": 0"#), "{t}");
        }
    }
    // Every request beyond the allowance was refused (all 5 on a fast machine).
    let passed = passed + 5 - refused;
    assert!(
        passed <= allowance(),
        "{passed} requests passed, {refused} calls refused"
    );
    // Other connections have their own allowance.
    let mut other = Raw::open(served.addr, PASSWORD).await;
    still_served(&mut other).await;
    served.server.shutdown().await;
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_dropped_and_others_served() {
    if skip_when_external(
        "a_subscriber_that_stops_reading_is_dropped_and_others_served",
        "needs a 300 ms write timeout and the engine's handle to push big source lists",
    ) {
        return;
    }
    let mut config = server_config(Some(PASSWORD));
    config.write_timeout = Duration::from_millis(300);
    let served = serve_with(config, room_config()).await;
    let mut stalled = Raw::open(served.addr, PASSWORD).await;
    stalled
        .send(&[text(&request("Subscribe", r#"{"path": ["RoomShare"]}"#))])
        .await;
    assert!(matches!(stalled.next().await, Seen::Text(_)));
    let mut bystander = Raw::open(served.addr, PASSWORD).await;
    // From now on `stalled` reads nothing. Big SourcesChanged events fill
    // its TCP buffers quickly (about 200 KB each).
    let list = |n: usize, tag: &str| {
        (0..n)
            .map(|i| roomshare::protocol::SourceInfo {
                id: format!("win-{tag}-{i}"),
                kind: roomshare::protocol::SourceKind::Window,
                select_index: None,
                device_id: None,
                title: format!("{tag} window {i} {}", "t".repeat(100)),
                app: "app".into(),
                width: 800,
                height: 600,
                unavailable: None,
                health: None,
            })
            .collect::<Vec<_>>()
    };
    let mut events = served.engine.events();
    // This test's receiver, the stalled subscriber's session, and whoever
    // else listens: the stalled one's session goes when it is dropped.
    let receivers = served.engine.event_receivers();
    // Keep sending until the server has given up on the stalled connection,
    // and only then read from it: reading earlier (as `closed_by_server` does)
    // would unblock a write that had waited less than write_timeout, and the
    // server would rightly keep a client that reads. How many events fill
    // its socket buffers depends on the kernel (autotuned receive buffers go
    // up to tens of MB), so no fixed number of rounds is enough.
    let deadline = tokio::time::Instant::now() + 4 * WAIT;
    let mut round = 0;
    while served.engine.event_receivers() >= receivers {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled subscriber was not dropped after {round} big events"
        );
        let tag = if round % 2 == 0 { "a" } else { "b" };
        served.engine.set_sources(list(1000, tag)).await.unwrap();
        wait_event(&mut events, "SourcesChanged").await;
        // Others keep being served while one connection is stuck.
        still_served(&mut bystander).await;
        round += 1;
    }
    // The stalled connection was dropped: reading what was buffered ends
    // in end-of-file instead of an endless stream.
    stalled.closed_by_server(Instant::now()).await;
    served.server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_vanishes_mid_request_harms_no_one() {
    let target = target().await;
    let mut bystander = Raw::open(target.addr, &target.password).await;
    for _ in 0..20 {
        let mut raw = Raw::open(target.addr, &target.password).await;
        // A request, half of another, and gone without a close.
        let whole = text(&request("Call/Share", r#"{"action": "OpenShareGuide"}"#)).bytes();
        let half = text(CAST_CODE_QUERY).bytes();
        raw.tcp.write_all(&whole).await.unwrap();
        raw.tcp.write_all(&half[..half.len() / 2]).await.unwrap();
        drop(raw);
        still_served(&mut bystander).await;
    }
    target.finish().await;
}

#[tokio::test]
async fn many_clients_reconnect_resubscribe_and_requery_after_a_restart() {
    if skip_when_external(
        "many_clients_reconnect_resubscribe_and_requery_after_a_restart",
        "restarts the server in this process",
    ) {
        return;
    }
    use roomshare::client::{Client, ClientEvent, ClientOptions, Endpoint};
    let served = serve().await;
    let addr = served.addr;
    let options = ClientOptions {
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        subscriptions: vec![vec!["Share".into(), "CastCode".into()]],
        ..ClientOptions::default()
    };
    let clients: Vec<Client> = (0..20)
        .map(|_| {
            Client::start(
                Endpoint::Remote {
                    url: served.url(),
                    password: Some(PASSWORD.into()),
                },
                options.clone(),
            )
        })
        .collect();
    let mut streams: Vec<_> = clients.iter().map(Client::events).collect();
    let connected = |events: &mut tokio::sync::broadcast::Receiver<ClientEvent>| {
        let mut events = events.resubscribe();
        async move {
            tokio::time::timeout(WAIT, async {
                while !matches!(events.recv().await.unwrap(), ClientEvent::Connected) {}
            })
            .await
            .expect("connected in time")
        }
    };
    for client in &clients {
        let mut state = client.state();
        tokio::time::timeout(
            WAIT,
            state.wait_for(|s| *s == roomshare::client::ConnState::Connected),
        )
        .await
        .unwrap()
        .unwrap();
    }
    // Restart; each client must announce a new connection.
    let waits: Vec<_> = streams.iter_mut().map(connected).collect();
    served.server.shutdown().await;
    let mut config = server_config(Some(PASSWORD));
    config.listen = addr;
    let server = roomshare::server::Server::start(config, served.engine.clone(), None)
        .await
        .unwrap();
    for wait in waits {
        wait.await;
    }
    // Every client re-queries successfully and gets events again.
    for client in &clients {
        let r = client.query(&["Share", "CastCode"]).await.unwrap();
        assert_eq!(r.data.unwrap()["cast_code"], CAST_CODE);
    }
    let mut raw = Raw::open(addr, PASSWORD).await;
    raw.send(&[text(r#"{"id": 1, "method": "Call/RoomShare", "params": {"action": "SetCastCode", "action_params": {"cast_code": "314159"}}}"#)]).await;
    assert!(matches!(raw.next().await, Seen::Text(_)));
    for events in &mut streams {
        tokio::time::timeout(WAIT, async {
            loop {
                if let ClientEvent::Event(event) = events.recv().await.unwrap()
                    && event.sub_event() == "CastCodeChanged"
                    && event.data()["cast_code"] == "314159"
                {
                    break;
                }
            }
        })
        .await
        .expect("the event after the restart");
    }
    drop(clients);
    server.shutdown().await;
}
