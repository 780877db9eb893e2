//! Rooms that misbehave, for the fleet tests: a port with nothing
//! listening, a server that accepts and never answers, one that answers
//! garbage, and a device that answers but never pushes events (counting
//! how often it is read).

use futures_util::{SinkExt, StreamExt};
use roomshare::engine::EngineHandle;
use roomshare::protocol::{Id, Request};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

/// A loopback port where nothing listens (bound, then released).
pub fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// Accepts TCP connections and holds them open without a byte in reply;
/// counts them, and the most that were open at once.
///
/// "Open" is judged at each accept, from what the kernel already knows: a
/// client that gave up closed its socket before it let the next one
/// connect, so that close is there to be read (no task racing the count).
pub struct Silent {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    max_open: Arc<AtomicUsize>,
    /// When each connection was accepted, in order.
    accepted_at: Arc<Mutex<Vec<Instant>>>,
}

impl Silent {
    pub async fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let silent = Silent {
            addr: listener.local_addr().expect("addr"),
            accepted: Arc::default(),
            max_open: Arc::default(),
            accepted_at: Arc::default(),
        };
        let (accepted, max_open) = (silent.accepted.clone(), silent.max_open.clone());
        let accepted_at = silent.accepted_at.clone();
        tokio::spawn(async move {
            let mut held: Vec<TcpStream> = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                accepted_at.lock().expect("times").push(Instant::now());
                held.retain(still_open);
                held.push(stream);
                accepted.fetch_add(1, Ordering::SeqCst);
                max_open.fetch_max(held.len(), Ordering::SeqCst);
            }
        });
        silent
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn max_open(&self) -> usize {
        self.max_open.load(Ordering::SeqCst)
    }

    /// When each connection was accepted, in order.
    pub fn accepted_at(&self) -> Vec<Instant> {
        self.accepted_at.lock().expect("times").clone()
    }
}

/// Drain what the peer sent (its handshake request); false once it closed.
fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.try_read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
}

/// A WebSocket server that answers every frame with text that is not JSON.
pub async fn garbage() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(babble(stream));
        }
    });
    addr
}

async fn babble(stream: TcpStream) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if msg.is_text() && ws.send(Message::text("}{ not json \u{0}")).await.is_err() {
            return;
        }
    }
}

/// A device that answers Query and Subscribe but never pushes an event, as
/// real devices may do for the Share module. Counts the `["Share"]` reads.
pub struct QuietDevice {
    pub addr: SocketAddr,
    pub share_reads: Arc<AtomicUsize>,
}

impl QuietDevice {
    pub async fn start(cast_code: &str) -> QuietDevice {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let share_reads = Arc::new(AtomicUsize::new(0));
        let (reads, code) = (share_reads.clone(), cast_code.to_string());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer_quietly(stream, code.clone(), reads.clone()));
            }
        });
        QuietDevice { addr, share_reads }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    pub fn reads(&self) -> usize {
        self.share_reads.load(Ordering::SeqCst)
    }
}

async fn answer_quietly(stream: TcpStream, cast_code: String, reads: Arc<AtomicUsize>) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        let Ok(text) = msg.into_text() else { continue };
        let Ok(request) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let data = quiet_data(&request["params"]["path"], &cast_code, &reads);
        let answer = json!({"jsonrpc": "2.0", "id": request["id"], "method": request["method"],
                            "result": {"error_code": 0, "message": "", "data": data}});
        if ws.send(Message::text(answer.to_string())).await.is_err() {
            return;
        }
    }
}

fn quiet_data(path: &Value, cast_code: &str, reads: &AtomicUsize) -> Value {
    let share_info = json!({"is_sharing": false, "quick_casting_state": 0});
    let meeting_info = json!({"meeting_status": 0, "meeting_title": ""});
    match path.as_array().map(Vec::as_slice).unwrap_or_default() {
        [s] if s == "Share" => {
            reads.fetch_add(1, Ordering::SeqCst);
            json!({"share": {"share_info": share_info, "cast_code": cast_code}})
        }
        [s, c] if s == "Share" && c == "CastCode" => json!({"cast_code": cast_code}),
        [s, c] if s == "Share" && c == "ShareGuide" => json!({"share_guide_open": false}),
        [m, i] if m == "Meeting" && i == "MeetingInfo" => json!({"meeting_info": meeting_info}),
        _ => Value::Null,
    }
}

/// Send one request straight to an engine (the JSON-RPC API, without a
/// socket) and insist that it succeeds.
pub async fn act(engine: &EngineHandle, method: &str, params: Value) {
    let request = Request::new(Some(Id::number(1)), method, params.clone());
    let result = engine.request(request).await.expect("engine alive");
    assert_eq!(
        result.error_code, 0,
        "{method} {params}: {}",
        result.message
    );
}
