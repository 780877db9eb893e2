//! Faults (issue 5 item 2): a handshake that never completes, the
//! connection cap, a client that vanishes mid-request, a subscriber that
//! stops reading, and a server restart under load. Real sockets throughout.

use futures_util::{SinkExt, StreamExt};
use roomshare::client::{Client, ClientError, ClientEvent, ClientOptions, ConnState, Endpoint};
use roomshare::engine::{EngineHandle, RoomConfig};
use roomshare::server::{Server, ServerConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[path = "support/wait.rs"]
mod wait;

fn room() -> RoomConfig {
    RoomConfig {
        join_delay: Duration::from_millis(10),
        ..RoomConfig::default()
    }
}

async fn serve(config: ServerConfig) -> (Server, EngineHandle) {
    let engine = EngineHandle::spawn(room());
    let server = Server::start(config, engine.clone(), None)
        .await
        .expect("server starts");
    (server, engine)
}

fn loopback() -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    }
}

async fn ws(
    addr: SocketAddr,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>> {
    tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .expect("handshake")
        .0
}

/// Send a request and read frames until its answer (skipping events).
async fn ask(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    id: u64,
    method: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let req = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    ws.send(Message::text(req.to_string())).await.unwrap();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("answer in time");
        let Some(Ok(Message::Text(t))) = msg else {
            panic!("connection ended: {msg:?}")
        };
        let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
        if v.get("id") == Some(&serde_json::json!(id)) {
            return v;
        }
    }
}

/// Request `id` opens the share guide when even, closes it when odd: one
/// `ShareGuideChanged` event per request.
fn toggle_guide(id: usize) -> Message {
    let action = if id.is_multiple_of(2) {
        "OpenShareGuide"
    } else {
        "CloseShareGuide"
    };
    Message::text(format!(
        r#"{{"jsonrpc": "2.0", "id": {id}, "method": "Call/Share", "params": {{"action": "{action}"}}}}"#
    ))
}

/// True once the peer has closed the TCP connection (EOF or reset).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn unfinished_handshake_is_dropped_and_its_slot_freed() {
    let config = ServerConfig {
        max_connections: 1,
        handshake_timeout: Duration::from_millis(300),
        ..loopback()
    };
    let (server, _engine) = serve(config).await;
    let addr = server.local_addr();
    // Slowloris: half a request, then silence.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: room\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(3)).await,
        "the stalled handshake is dropped"
    );
    // The only slot is free again: a real client gets in and is served.
    let mut client = ws(addr).await;
    let answer = ask(
        &mut client,
        1,
        "Query",
        serde_json::json!({"path": ["Share", "CastCode"]}),
    )
    .await;
    assert_eq!(answer["result"]["error_code"], 0);
    server.shutdown().await;
}

#[tokio::test]
async fn connection_cap_refuses_extra_connections_then_recovers() {
    let (server, _engine) = serve(ServerConfig {
        max_connections: 2,
        ..loopback()
    })
    .await;
    let addr = server.local_addr();
    let mut a = ws(addr).await;
    let b = ws(addr).await;
    // A third is turned away while two are open: the server accepts the TCP
    // connection and closes it at once, unread and unanswered (no HTTP
    // status, no 101). Byte for byte first...
    let mut raw = TcpStream::connect(addr).await.unwrap();
    let _ = raw
        .write_all(b"GET / HTTP/1.1\r\nHost: room\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(10), raw.read_to_end(&mut answer))
        .await
        .expect("the extra connection is closed in time");
    assert!(
        answer.is_empty(),
        "an extra connection gets no answer: {:?}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        matches!(&end, Ok(0))
            || matches!(&end, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "closed (EOF or reset): {end:?}"
    );
    // ...and as a WebSocket client sees it: the handshake ends on a closed
    // or reset connection, not on an HTTP refusal or a refused connect.
    use tokio_tungstenite::tungstenite::Error as WsError;
    use tokio_tungstenite::tungstenite::error::ProtocolError;
    match tokio_tungstenite::connect_async(format!("ws://{addr}/")).await {
        Err(WsError::Protocol(ProtocolError::HandshakeIncomplete)) => {}
        Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!(
            "the third connection must be closed unanswered, got {:?}",
            other.map(|(_, response)| response.status())
        ),
    }
    drop(b);
    // Once one leaves, newcomers are served again.
    let what = "a slot to free up when a client leaves";
    let mut c = wait::wait_until_async(Duration::from_secs(10), what, async || {
        let connected = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await;
        connected.ok().map(|(s, _)| s)
    })
    .await;
    assert_eq!(
        ask(&mut c, 1, "Query", serde_json::json!({"path": ["Share"]})).await["result"]["error_code"],
        0
    );
    assert_eq!(
        ask(&mut a, 2, "Query", serde_json::json!({"path": ["Share"]})).await["result"]["error_code"],
        0
    );
    server.shutdown().await;
}

#[tokio::test]
async fn client_vanishing_mid_request_loses_nothing_for_others() {
    let (server, engine) = serve(loopback()).await;
    let addr = server.local_addr();
    let mut watcher = ws(addr).await;
    assert_eq!(
        ask(
            &mut watcher,
            1,
            "Subscribe",
            serde_json::json!({"path": ["Meeting"]})
        )
        .await["result"]["error_code"],
        0
    );
    // A client sends a request and disappears before the answer.
    let mut gone = ws(addr).await;
    gone.send(Message::text(r#"{"jsonrpc": "2.0", "id": 9, "method": "Call/Meeting", "params": {"action": "StartMeeting"}}"#)).await.unwrap();
    drop(gone);
    // The request was applied all the same, and the watcher sees it.
    let mut snapshot = engine.snapshot();
    tokio::time::timeout(
        Duration::from_secs(5),
        snapshot.wait_for(|s| s.meeting_status == 1),
    )
    .await
    .unwrap()
    .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), watcher.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        event
            .to_text()
            .unwrap()
            .contains("\"method\": \"Event/Meeting\""),
        "{event:?}"
    );
    assert_eq!(
        ask(
            &mut watcher,
            2,
            "Query",
            serde_json::json!({"path": ["Meeting", "MeetingInfo"]})
        )
        .await["result"]["error_code"],
        0
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_that_stops_reading_is_dropped_others_keep_going() {
    let config = ServerConfig {
        rate_per_sec: 1_000_000,
        rate_burst: 1_000_000,
        ..loopback()
    };
    let (server, engine) = serve(config).await;
    let addr = server.local_addr();
    // The stalled subscriber: subscribes to everything, then never reads.
    let mut stalled = ws(addr).await;
    assert_eq!(
        ask(
            &mut stalled,
            1,
            "Subscribe",
            serde_json::json!({"path": []})
        )
        .await["result"]["error_code"],
        0
    );
    // A healthy subscriber that reads everything.
    let mut healthy = ws(addr).await;
    assert_eq!(
        ask(
            &mut healthy,
            1,
            "Subscribe",
            serde_json::json!({"path": ["Share", "ShareGuide"]})
        )
        .await["result"]["error_code"],
        0
    );
    // First fill the stalled connection's socket buffers with big events
    // (source lists), so the server can no longer write to it...
    let big = |n: usize| {
        (0..200)
            .map(|i| roomshare::protocol::SourceInfo {
                id: format!("w{i}"),
                kind: roomshare::protocol::SourceKind::Window,
                select_index: None,
                device_id: None,
                title: format!("{} {n}", "a long window title ".repeat(8)),
                app: "app".into(),
                width: 800,
                height: 600,
                unavailable: None,
                health: None,
            })
            .collect::<Vec<_>>()
    };
    for n in 0..400 {
        engine.set_sources(big(n)).await.unwrap();
    }
    // ...then far more events than the engine's buffer holds.
    let toggles = roomshare::engine::actor::EVENT_BUFFER + 500;
    let mut driver = ws(addr).await;
    for i in 0..toggles {
        driver.send(toggle_guide(i)).await.unwrap();
    }
    // The driver gets every answer and the healthy subscriber every event.
    let mut answers = 0;
    while answers < toggles {
        match tokio::time::timeout(Duration::from_secs(20), driver.next())
            .await
            .expect("answers keep coming")
        {
            Some(Ok(Message::Text(_))) => answers += 1,
            other => panic!("driver connection broke: {other:?}"),
        }
    }
    let mut events = 0;
    while events < toggles {
        match tokio::time::timeout(Duration::from_secs(20), healthy.next())
            .await
            .expect("events keep coming")
        {
            Some(Ok(Message::Text(t))) => {
                assert!(t.as_str().contains("ShareGuideChanged"));
                events += 1;
            }
            other => panic!("healthy subscriber broke: {other:?}"),
        }
    }
    // The stalled one, when it finally reads, finds it was dropped with a
    // reason instead of being fed forever.
    let mut close_code = None;
    let mut received = 0usize;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), stalled.next())
            .await
            .expect("the stalled connection ends")
        {
            Some(Ok(Message::Text(_))) => received += 1,
            Some(Ok(Message::Close(frame))) => {
                close_code = frame.map(|f| u16::from(f.code));
                break;
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => break,
        }
    }
    assert!(
        received < toggles + 400,
        "the stalled subscriber must not receive everything ({received})"
    );
    assert_eq!(
        close_code,
        Some(1008),
        "dropped with a policy close after {received} frames"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_under_load_clients_reconnect_and_resubscribe() {
    let (server, _engine) = serve(loopback()).await;
    let addr = server.local_addr();
    let options = ClientOptions {
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(400),
        subscriptions: vec![vec!["Share".into()]],
        ..ClientOptions::default()
    };
    let clients: Vec<Client> = (0..20)
        .map(|_| {
            Client::start(
                Endpoint::Remote {
                    url: format!("ws://{addr}/"),
                    password: None,
                },
                options.clone(),
            )
        })
        .collect();
    for c in &clients {
        let mut state = c.state();
        tokio::time::timeout(
            Duration::from_secs(10),
            state.wait_for(|s| *s == ConnState::Connected),
        )
        .await
        .unwrap()
        .unwrap();
    }
    // Load across the restart. Every request is accounted for: answered
    // OK, or refused by the client with an explicit NotConnected while the
    // server is away. Nothing else (a timeout would be a lost request), and
    // once every client is connected again every request is answered OK.
    let restarted = Arc::new(AtomicBool::new(false));
    let progress: Vec<Arc<Progress>> = clients.iter().map(|_| Arc::default()).collect();
    let load: Vec<_> = clients
        .iter()
        .zip(&progress)
        .map(|(c, p)| {
            let (c, p, restarted) = (c.clone(), p.clone(), restarted.clone());
            tokio::spawn(async move {
                let mut t = Tally::default();
                loop {
                    let after = restarted.load(Ordering::SeqCst);
                    t.sent += 1;
                    match c.query(&["Share"]).await {
                        Ok(r) if r.error_code == 0 => {
                            t.ok += 1;
                            t.ok_after += usize::from(after);
                            p.ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(ClientError::NotConnected(_)) if !after => {
                            t.refused += 1;
                            p.refused.fetch_add(1, Ordering::SeqCst);
                        }
                        other => t
                            .other
                            .push(format!("{other:?} (after the restart: {after})")),
                    }
                    if after {
                        t.sent_after += 1;
                        if t.sent_after == 10 {
                            return t;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    // Every client has been answered: the load runs. Then the server goes.
    wait_all(&progress, "an answer for every client", |p| &p.ok).await;
    server.shutdown().await;
    for c in &clients {
        let mut state = c.state();
        tokio::time::timeout(
            Duration::from_secs(10),
            state.wait_for(|s| matches!(s, ConnState::Reconnecting { .. })),
        )
        .await
        .expect("clients notice the loss")
        .unwrap();
    }
    // Every client's load met the outage before the server comes back.
    wait_all(&progress, "a refusal for every client", |p| &p.refused).await;
    // Same port, new engine.
    let config = ServerConfig {
        listen: addr,
        ..ServerConfig::default()
    };
    let (server, engine) = serve(config).await;
    for c in &clients {
        let mut state = c.state();
        tokio::time::timeout(
            Duration::from_secs(10),
            state.wait_for(|s| *s == ConnState::Connected),
        )
        .await
        .expect("clients reconnect")
        .unwrap();
    }
    restarted.store(true, Ordering::SeqCst);
    for (i, task) in load.into_iter().enumerate() {
        // Nothing hangs: every request ended.
        let t = tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("no request hangs")
            .unwrap();
        assert!(
            t.other.is_empty(),
            "client {i}: unaccounted outcomes {:?}",
            t.other
        );
        assert_eq!(t.sent, t.ok + t.refused, "client {i}: {t:?}");
        assert!(t.ok > t.ok_after && t.refused > 0, "client {i}: {t:?}");
        assert_eq!(
            t.ok_after, 10,
            "client {i}: OK answers after the restart: {t:?}"
        );
    }
    // Re-subscribed: every client sees an event caused by another.
    let mut streams: Vec<_> = clients.iter().map(Client::events).collect();
    let first = &clients[0];
    assert!(
        first
            .request(
                "Call/Meeting",
                serde_json::json!({"action": "StartMeeting"})
            )
            .await
            .unwrap()
            .is_ok()
    );
    let mut snapshot = engine.snapshot();
    tokio::time::timeout(
        Duration::from_secs(5),
        snapshot.wait_for(|s| s.meeting_status == 1),
    )
    .await
    .unwrap()
    .unwrap();
    let start = serde_json::json!({"action": "StartShare", "action_params": {"share_type": 0, "fluency_first": true, "select_index": 1}});
    assert!(first.request("Call/Share", start).await.unwrap().is_ok());
    for events in &mut streams {
        let got = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Ok(ClientEvent::Event(event)) = events.recv().await
                    && event.sub_event() == "ShareInfoChanged"
                {
                    return;
                }
            }
        })
        .await;
        assert!(got.is_ok(), "a client did not re-subscribe");
    }
    server.shutdown().await;
}

/// One load task's live counts (for the test to wait on).
#[derive(Default)]
struct Progress {
    ok: AtomicUsize,
    refused: AtomicUsize,
}

/// Wait until the counter `which` of every load task is above zero.
async fn wait_all(progress: &[Arc<Progress>], what: &str, which: fn(&Progress) -> &AtomicUsize) {
    wait::wait_until_async(Duration::from_secs(10), what, async || {
        progress.iter().all(|p| which(p).load(Ordering::SeqCst) > 0)
    })
    .await;
}

/// One load task's account of its requests.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    ok: usize,
    refused: usize,
    sent_after: usize,
    ok_after: usize,
    other: Vec<String>,
}

/// A connection that subscribed to nothing is never dropped as a slow
/// subscriber, however long its answers stay unread while the engine emits
/// events: it holds no place in the engine's event buffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribed_connection_reading_late_is_not_dropped() {
    // Big answers first (a source list each), so that the server soon
    // blocks writing to it; then many small ones.
    const BIG: u64 = 40;
    const REQUESTS: u64 = BIG + 6000;
    let config = ServerConfig {
        rate_per_sec: 1_000_000,
        rate_burst: 1_000_000,
        // Long enough that only the event buffer could drop it.
        write_timeout: Duration::from_secs(120),
        ..loopback()
    };
    let (server, engine) = serve(config).await;
    let addr = server.local_addr();
    let sources = (0..1000)
        .map(|i| roomshare::protocol::SourceInfo {
            id: format!("w{i}"),
            kind: roomshare::protocol::SourceKind::Window,
            select_index: None,
            device_id: None,
            title: format!("window {i} {}", "t".repeat(100)),
            app: "app".into(),
            width: 800,
            height: 600,
            unavailable: None,
            health: None,
        })
        .collect::<Vec<_>>();
    engine.set_sources(sources).await.unwrap();
    // A small receive buffer, so the server soon blocks writing answers.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(addr).await.unwrap();
    let (quiet, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
        .await
        .expect("handshake");
    let (mut quiet_tx, mut quiet_rx) = quiet.split();
    // It pipelines its requests and reads nothing for now.
    let writer = tokio::spawn(async move {
        for id in 0..REQUESTS {
            let path = if id < BIG {
                r#"["RoomShare", "Sources"]"#
            } else {
                r#"["Share"]"#
            };
            let req = format!(
                r#"{{"jsonrpc": "2.0", "id": {id}, "method": "Query", "params": {{"path": {path}}}}}"#
            );
            quiet_tx.feed(Message::text(req)).await.unwrap();
        }
        quiet_tx.flush().await.unwrap();
        quiet_tx
    });
    // Meanwhile another connection causes far more events than the engine
    // buffers.
    let toggles = roomshare::engine::actor::EVENT_BUFFER + 2000;
    let mut driver = ws(addr).await;
    let mut sent = 0;
    while sent < toggles {
        let chunk = (toggles - sent).min(500);
        for i in sent..sent + chunk {
            driver.feed(toggle_guide(i)).await.unwrap();
        }
        driver.flush().await.unwrap();
        let mut answers = 0;
        while answers < chunk {
            match tokio::time::timeout(Duration::from_secs(20), driver.next())
                .await
                .expect("answers keep coming")
            {
                Some(Ok(Message::Text(t))) => {
                    assert!(t.as_str().contains(r#""error_code": 0"#), "{t}");
                    answers += 1;
                }
                Some(Ok(_)) => {}
                other => panic!("driver connection broke: {other:?}"),
            }
        }
        sent += chunk;
    }
    // Now it reads: every answer, in order, and no close.
    for id in 0..REQUESTS {
        let msg = tokio::time::timeout(Duration::from_secs(20), quiet_rx.next())
            .await
            .expect("answers keep coming");
        let Some(Ok(Message::Text(t))) = msg else {
            panic!("the unsubscribed connection ended after {id} answers: {msg:?}");
        };
        let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
        assert_eq!(v["id"], id);
        assert_eq!(v["result"]["error_code"], 0, "{}", &t.as_str()[..200]);
    }
    let mut quiet_tx = writer.await.unwrap();
    let req = format!(
        r#"{{"jsonrpc": "2.0", "id": {REQUESTS}, "method": "Query", "params": {{"path": ["Share"]}}}}"#
    );
    quiet_tx.send(Message::text(req)).await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(20), quiet_rx.next())
        .await
        .expect("still served");
    let Some(Ok(Message::Text(t))) = msg else {
        panic!("the unsubscribed connection ended: {msg:?}");
    };
    assert!(t.as_str().contains(&format!(r#""id": {REQUESTS}"#)), "{t}");
    server.shutdown().await;
}
