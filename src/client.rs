//! The client: one connection to a room — a remote device or engine over
//! WebSocket, or the embedded engine in-process — with id correlation,
//! per-request timeouts, subscriptions, and automatic reconnection with
//! capped backoff that re-subscribes. Auth failures (4, 5, 16) stop retrying
//! until told to, so a wrong password never turns into a retry storm.

use crate::engine::{EngineHandle, Session, SessionError, ThumbnailProvider};
use crate::protocol::codes;
use crate::protocol::{Id, Incoming, Request, RpcResult};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Where the client connects.
#[derive(Clone)]
pub enum Endpoint {
    /// The in-process engine: same frames, no socket.
    Embedded {
        engine: EngineHandle,
        thumbnails: Option<Arc<dyn ThumbnailProvider>>,
    },
    /// `ws://host:6295/` with an optional password.
    Remote {
        url: String,
        password: Option<String>,
    },
}

impl Endpoint {
    pub fn label(&self) -> String {
        match self {
            Endpoint::Embedded { .. } => "embedded".into(),
            Endpoint::Remote { url, .. } => url.clone(),
        }
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Reconnect after a lost connection (off for one-shot CLI commands).
    pub reconnect: bool,
    /// Paths subscribed on every (re)connection.
    pub subscriptions: Vec<Vec<String>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            reconnect: true,
            subscriptions: vec![vec![]],
        }
    }
}

/// The connection's state.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    Connecting,
    Connected,
    /// Lost or refused; the next attempt is at `retry_at`.
    Reconnecting {
        retry_at: Instant,
        attempt: u32,
        last_error: String,
    },
    /// The device refused the credentials (4, 5 or 16): no retry until
    /// [`Client::reconnect`].
    AuthFailed {
        code: i64,
        message: String,
    },
    /// Not reconnecting (one-shot clients, or the client was dropped).
    Closed {
        reason: String,
    },
}

/// Direction of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Out,
    In,
}

/// One frame as sent or received, for the traffic pane.
#[derive(Debug, Clone)]
pub struct TrafficEntry {
    pub at: SystemTime,
    pub direction: Direction,
    /// `Query`, `Call/Share`, `Event/Share`, …
    pub method: String,
    /// The Call action or the event's sub_event.
    pub action: Option<String>,
    /// For answers: `result.error_code` (or the JSON-RPC error code).
    pub error_code: Option<i64>,
    /// For answers: time since the request went out.
    pub round_trip: Option<Duration>,
    /// Frames sent by the console itself (polling, thumbnails).
    pub background: bool,
    /// The frame exactly as sent or received.
    pub text: String,
}

/// What the client reports to whoever listens.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// (Re)connected and re-subscribed: re-query the state.
    Connected,
    /// A pushed event.
    Event {
        method: String,
        sub_event: String,
        error_code: i64,
        message: String,
        data: Value,
    },
    /// A frame went out or came in.
    Traffic(Arc<TrafficEntry>),
}

/// Why a request got no result.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ClientError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("not connected: {0}")]
    NotConnected(String),
    #[error("authentication failed: {code} {message}")]
    AuthFailed { code: i64, message: String },
    #[error("JSON-RPC error {code}: {message}")]
    Protocol { code: i64, message: String },
    #[error("the client has stopped")]
    Stopped,
}

enum Cmd {
    Request {
        method: String,
        params: Value,
        background: bool,
        reply: oneshot::Sender<Result<RpcResult, ClientError>>,
    },
    Reconnect,
}

/// A handle on a running client. Cheap to clone; the connection task ends
/// when every handle is dropped.
#[derive(Clone)]
pub struct Client {
    tx: mpsc::Sender<Cmd>,
    state: watch::Receiver<ConnState>,
    events: broadcast::Sender<ClientEvent>,
}

impl Client {
    /// Start connecting (on the current tokio runtime).
    pub fn start(endpoint: Endpoint, options: ClientOptions) -> Client {
        Client::start_observed(endpoint, options).0
    }

    /// Like [`Client::start`], with an event receiver that exists before the
    /// connection task runs, so not even the first frame is missed (the
    /// console's traffic pane shows the handshake's `Auth` answer too).
    pub fn start_observed(
        endpoint: Endpoint,
        options: ClientOptions,
    ) -> (Client, broadcast::Receiver<ClientEvent>) {
        let (tx, rx) = mpsc::channel(256);
        let (state_tx, state) = watch::channel(ConnState::Connecting);
        let (events, observer) = broadcast::channel(4096);
        tokio::spawn(run(endpoint, options, rx, state_tx, events.clone()));
        (Client { tx, state, events }, observer)
    }

    /// Connect once (no reconnection) and wait until connected or refused.
    pub async fn connect(
        endpoint: Endpoint,
        mut options: ClientOptions,
    ) -> Result<Client, ClientError> {
        options.reconnect = false;
        let client = Client::start(endpoint, options);
        let mut state = client.state();
        loop {
            match state.borrow_and_update().clone() {
                ConnState::Connected => return Ok(client),
                ConnState::AuthFailed { code, message } => {
                    return Err(ClientError::AuthFailed { code, message });
                }
                ConnState::Closed { reason }
                | ConnState::Reconnecting {
                    last_error: reason, ..
                } => {
                    return Err(ClientError::NotConnected(reason));
                }
                ConnState::Connecting => {}
            }
            if state.changed().await.is_err() {
                return Err(ClientError::Stopped);
            }
        }
    }

    /// Send a request and wait for its result (any `error_code`).
    pub async fn request(&self, method: &str, params: Value) -> Result<RpcResult, ClientError> {
        self.send(method, params, false).await
    }

    /// Like [`Client::request`], marked as background traffic.
    pub async fn request_background(
        &self,
        method: &str,
        params: Value,
    ) -> Result<RpcResult, ClientError> {
        self.send(method, params, true).await
    }

    async fn send(
        &self,
        method: &str,
        params: Value,
        background: bool,
    ) -> Result<RpcResult, ClientError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Request {
                method: method.to_string(),
                params,
                background,
                reply,
            })
            .await
            .map_err(|_| ClientError::Stopped)?;
        rx.await.map_err(|_| ClientError::Stopped)?
    }

    /// `Query` a path.
    pub async fn query(&self, path: &[&str]) -> Result<RpcResult, ClientError> {
        self.request("Query", json!({ "path": path })).await
    }

    pub fn state(&self) -> watch::Receiver<ConnState> {
        self.state.clone()
    }

    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }

    /// Reconnect now: after an auth failure, or to skip the backoff wait.
    pub fn reconnect(&self) {
        let _ = self.tx.try_send(Cmd::Reconnect);
    }
}

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

enum Conn {
    Ws(Box<WsStream>),
    Embedded(Box<Session>),
}

/// How a connection ended.
enum Ended {
    Lost(String),
    Auth {
        code: i64,
        message: String,
    },
    /// Every handle is gone.
    Stopped,
    Reconnect,
}

async fn open(endpoint: &Endpoint, timeout: Duration) -> Result<Conn, Ended> {
    match endpoint {
        Endpoint::Embedded { engine, thumbnails } => Ok(Conn::Embedded(Box::new(Session::new(
            engine.clone(),
            thumbnails.clone(),
        )))),
        Endpoint::Remote { url, password } => {
            let mut request = url
                .as_str()
                .into_client_request()
                .map_err(|e| Ended::Lost(format!("bad URL {url}: {e}")))?;
            if let Some(pw) = password.as_deref().filter(|p| !p.is_empty()) {
                let value = HeaderValue::from_str(&crate::protocol::auth::auth_protocol(pw))
                    .map_err(|e| Ended::Lost(e.to_string()))?;
                request
                    .headers_mut()
                    .insert("sec-websocket-protocol", value);
            }
            let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                .max_message_size(Some(64 << 20))
                .max_frame_size(Some(64 << 20));
            match tokio::time::timeout(
                timeout,
                tokio_tungstenite::connect_async_with_config(request, Some(config), true),
            )
            .await
            {
                Err(_) => Err(Ended::Lost(format!(
                    "no answer from {url} within {timeout:?}"
                ))),
                Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp)))
                    if matches!(resp.status().as_u16(), 401 | 403) =>
                {
                    Err(Ended::Auth {
                        code: codes::PASSWORD_FAILED,
                        message: format!("HTTP {}", resp.status()),
                    })
                }
                Ok(Err(e)) => Err(Ended::Lost(e.to_string())),
                Ok(Ok((ws, _))) => Ok(Conn::Ws(Box::new(ws))),
            }
        }
    }
}

struct Pending {
    reply: Option<oneshot::Sender<Result<RpcResult, ClientError>>>,
    sent: Instant,
}

fn traffic(
    direction: Direction,
    text: &str,
    round_trip: Option<Duration>,
    background: bool,
) -> Arc<TrafficEntry> {
    let (mut method, mut action, mut error_code) = (String::new(), None, None);
    if let Ok(Value::Object(v)) = serde_json::from_str::<Value>(text) {
        method = v
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let params = v.get("params");
        action = params
            .and_then(|p| p.get("action").or_else(|| p.get("sub_event")))
            .or_else(|| v.get("result").and_then(|r| r.get("action")))
            .and_then(Value::as_str)
            .map(str::to_string);
        if direction == Direction::Out
            && let Some(path) = params.and_then(|p| p.get("path")).and_then(Value::as_array)
        {
            let path: Vec<&str> = path.iter().filter_map(Value::as_str).collect();
            action = Some(path.join("/"));
        }
        error_code = v
            .get("result")
            .and_then(|r| r.get("error_code"))
            .or_else(|| v.get("error").and_then(|e| e.get("code")))
            .and_then(Value::as_i64);
    }
    Arc::new(TrafficEntry {
        at: SystemTime::now(),
        direction,
        method,
        action,
        error_code,
        round_trip,
        background,
        text: text.to_string(),
    })
}

async fn run(
    endpoint: Endpoint,
    options: ClientOptions,
    mut rx: mpsc::Receiver<Cmd>,
    state: watch::Sender<ConnState>,
    events: broadcast::Sender<ClientEvent>,
) {
    let mut attempt: u32 = 0;
    let mut next_id: u64 = 1;
    loop {
        state.send_replace(ConnState::Connecting);
        let ended = match open(&endpoint, options.connect_timeout).await {
            Ok(conn) => {
                let link = Link {
                    options: &options,
                    state: &state,
                    events: &events,
                };
                converse(conn, &link, &mut rx, &mut next_id, &mut attempt).await
            }
            Err(ended) => ended,
        };
        let wait_for_user = match ended {
            Ended::Stopped => return,
            Ended::Reconnect => continue,
            Ended::Auth { code, message } => {
                tracing::warn!(
                    "{}: authentication failed: {code} {message}",
                    endpoint.label()
                );
                state.send_replace(ConnState::AuthFailed {
                    code,
                    message: message.clone(),
                });
                Some(ClientError::AuthFailed { code, message })
            }
            Ended::Lost(reason) if !options.reconnect => {
                state.send_replace(ConnState::Closed {
                    reason: reason.clone(),
                });
                Some(ClientError::NotConnected(reason))
            }
            Ended::Lost(reason) => {
                let backoff = options
                    .backoff_min
                    .saturating_mul(1 << attempt.min(16))
                    .min(options.backoff_max);
                attempt += 1;
                let retry_at = Instant::now() + backoff;
                tracing::info!("{}: {reason}; retrying in {backoff:?}", endpoint.label());
                state.send_replace(ConnState::Reconnecting {
                    retry_at,
                    attempt,
                    last_error: reason.clone(),
                });
                let sleep = tokio::time::sleep_until(retry_at.into());
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        cmd = rx.recv() => match cmd {
                            None => return,
                            Some(Cmd::Reconnect) => break,
                            Some(Cmd::Request { reply, .. }) => {
                                let _ = reply.send(Err(ClientError::NotConnected(reason.clone())));
                            }
                        },
                    }
                }
                None
            }
        };
        if let Some(error) = wait_for_user {
            // Refuse requests until the user asks to retry (or all handles drop).
            loop {
                match rx.recv().await {
                    None => return,
                    Some(Cmd::Reconnect) => break,
                    Some(Cmd::Request { reply, .. }) => {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}

/// What a connection reports to, for its whole life.
struct Link<'a> {
    options: &'a ClientOptions,
    state: &'a watch::Sender<ConnState>,
    events: &'a broadcast::Sender<ClientEvent>,
}

/// A request waiting to go out: method, params, background, reply.
type Queued = (
    String,
    Value,
    bool,
    Option<oneshot::Sender<Result<RpcResult, ClientError>>>,
);

/// One connection's life: subscribe, then serve requests and deliver frames
/// until it ends.
///
/// A completed WebSocket handshake does not mean the peer accepted us: a
/// refused password is answered with an `Auth` frame and a close right after
/// the upgrade. So the connection counts as `Connected` only once the peer
/// has answered a request (the first frame is a probe Query every device
/// answers); if a request times out before any answer came, the peer is
/// unresponsive and the connection is treated as lost.
async fn converse(
    mut conn: Conn,
    link: &Link<'_>,
    rx: &mut mpsc::Receiver<Cmd>,
    next_id: &mut u64,
    attempt: &mut u32,
) -> Ended {
    let options = link.options;
    let events = link.events;
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut backgrounds: HashMap<u64, bool> = HashMap::new();
    // A probe every device answers, then the subscriptions (a device might
    // not answer those); their answers are consumed here like any other.
    let mut queued: Vec<Queued> = vec![(
        "Query".to_string(),
        json!({ "path": ["Share", "CastCode"] }),
        true,
        None,
    )];
    queued.extend(
        options
            .subscriptions
            .iter()
            .map(|p| ("Subscribe".to_string(), json!({ "path": p }), true, None)),
    );
    let mut confirmed = false;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        // Send what is queued.
        for (method, params, background, reply) in queued.drain(..) {
            let id = *next_id;
            *next_id += 1;
            let text = Request::new(Some(Id::number(id)), &method, params).to_text();
            let _ = events.send(ClientEvent::Traffic(traffic(
                Direction::Out,
                &text,
                None,
                background,
            )));
            pending.insert(
                id,
                Pending {
                    reply,
                    sent: Instant::now(),
                },
            );
            backgrounds.insert(id, background);
            let answer = match &mut conn {
                Conn::Ws(ws) => {
                    if let Err(e) = ws.send(Message::text(text)).await {
                        let why = format!("send failed: {e}");
                        fail_all(&mut pending, ClientError::NotConnected(why.clone()));
                        return Ended::Lost(why);
                    }
                    None
                }
                Conn::Embedded(session) => match session.handle_text(&text).await {
                    Ok(answer) => answer,
                    Err(_) => return Ended::Stopped,
                },
            };
            if let Some(answer) = answer {
                let routed = incoming(&answer, &mut pending, &mut backgrounds, events);
                if let Some(ended) = settle(routed, &mut confirmed, link, attempt, &mut pending) {
                    return ended;
                }
            }
        }
        let frame: Result<String, Ended> = tokio::select! {
            cmd = rx.recv() => match cmd {
                None => return Ended::Stopped,
                Some(Cmd::Reconnect) => {
                    fail_all(&mut pending, ClientError::NotConnected("reconnecting".into()));
                    return Ended::Reconnect;
                }
                Some(Cmd::Request { method, params, background, reply }) => {
                    queued.push((method, params, background, Some(reply)));
                    continue;
                }
            },
            _ = tick.tick() => {
                let now = Instant::now();
                let mut unconfirmed = false;
                pending.retain(|id, p| {
                    if now.duration_since(p.sent) < options.request_timeout {
                        return true;
                    }
                    unconfirmed |= !confirmed;
                    if let Some(reply) = p.reply.take() {
                        let _ = reply.send(Err(ClientError::Timeout(options.request_timeout)));
                    }
                    backgrounds.remove(id);
                    false
                });
                if unconfirmed {
                    let why = format!("the peer did not answer within {:?}", options.request_timeout);
                    fail_all(&mut pending, ClientError::NotConnected(why.clone()));
                    return Ended::Lost(why);
                }
                continue;
            }
            frame = next_frame(&mut conn) => frame,
        };
        match frame {
            Ok(text) => {
                let routed = incoming(&text, &mut pending, &mut backgrounds, events);
                if let Some(ended) = settle(routed, &mut confirmed, link, attempt, &mut pending) {
                    return ended;
                }
            }
            Err(ended) => {
                let error = match &ended {
                    Ended::Lost(r) => ClientError::NotConnected(r.clone()),
                    Ended::Auth { code, message } => ClientError::AuthFailed {
                        code: *code,
                        message: message.clone(),
                    },
                    _ => ClientError::NotConnected("connection closed".into()),
                };
                fail_all(&mut pending, error);
                return ended;
            }
        }
    }
}

/// Act on a routed frame: the first answer confirms the connection; an
/// auth refusal ends it, failing what is pending with the device's code.
fn settle(
    routed: Routed,
    confirmed: &mut bool,
    link: &Link<'_>,
    attempt: &mut u32,
    pending: &mut HashMap<u64, Pending>,
) -> Option<Ended> {
    match routed {
        Routed::Answer if !*confirmed => {
            *confirmed = true;
            *attempt = 0;
            link.state.send_replace(ConnState::Connected);
            // The subscriptions are already on the wire and the peer handles
            // requests in order, so anything queried from now on sees them
            // in effect.
            let _ = link.events.send(ClientEvent::Connected);
            None
        }
        Routed::Answer | Routed::Other => None,
        Routed::End(ended) => {
            let error = match &ended {
                Ended::Auth { code, message } => ClientError::AuthFailed {
                    code: *code,
                    message: message.clone(),
                },
                _ => ClientError::NotConnected("connection closed".into()),
            };
            fail_all(pending, error);
            Some(ended)
        }
    }
}

async fn next_frame(conn: &mut Conn) -> Result<String, Ended> {
    match conn {
        Conn::Embedded(session) => match session.next_event().await {
            Ok(frame) => Ok(frame.text.clone()),
            Err(SessionError::Lagged(n)) => Err(Ended::Lost(format!("fell {n} events behind"))),
            Err(SessionError::EngineGone(_)) => Err(Ended::Stopped),
        },
        Conn::Ws(ws) => loop {
            match ws.next().await {
                None => return Err(Ended::Lost("connection closed".into())),
                Some(Err(e)) => return Err(Ended::Lost(e.to_string())),
                Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
                Some(Ok(Message::Close(frame))) => {
                    if let Some(refused) = frame.as_ref().and_then(auth_refusal) {
                        return Err(refused);
                    }
                    let reason = frame
                        .map(|f| format!("closed by peer: {} {}", u16::from(f.code), f.reason))
                        .unwrap_or_else(|| "closed by peer".into());
                    return Err(Ended::Lost(reason));
                }
                Some(Ok(_)) => continue,
            }
        },
    }
}

/// A close 1008 whose reason starts with an auth error code (`16 Rooms CSAPI
/// Password Failed`): a peer that refuses without the `Auth` frame.
fn auth_refusal(frame: &tokio_tungstenite::tungstenite::protocol::CloseFrame) -> Option<Ended> {
    if u16::from(frame.code) != 1008 {
        return None;
    }
    let (code, message) = frame.reason.as_str().split_once(' ')?;
    let code: i64 = code.parse().ok()?;
    is_auth_error(code).then(|| Ended::Auth {
        code,
        message: message.to_string(),
    })
}

/// 4 Request Header Error, 5 Authentication Failed, 16 Password Failed:
/// retrying with the same credentials cannot help.
fn is_auth_error(code: i64) -> bool {
    matches!(
        code,
        codes::REQUEST_HEADER_ERROR | codes::AUTHENTICATION_FAILED | codes::PASSWORD_FAILED
    )
}

fn fail_all(pending: &mut HashMap<u64, Pending>, error: ClientError) {
    for (_, p) in pending.drain() {
        if let Some(reply) = p.reply {
            let _ = reply.send(Err(error.clone()));
        }
    }
}

/// What an incoming frame was.
enum Routed {
    /// A response to a request (matched or not).
    Answer,
    /// An event or an unreadable frame.
    Other,
    /// The frame ends the connection (an auth refusal).
    End(Ended),
}

/// Route one incoming frame to its waiting request or the event stream.
fn incoming(
    text: &str,
    pending: &mut HashMap<u64, Pending>,
    backgrounds: &mut HashMap<u64, bool>,
    events: &broadcast::Sender<ClientEvent>,
) -> Routed {
    match Incoming::parse(text) {
        Some(Incoming::Response {
            id,
            method,
            outcome,
        }) => {
            if method.as_deref() == Some("Auth") {
                let _ = events.send(ClientEvent::Traffic(traffic(
                    Direction::In,
                    text,
                    None,
                    false,
                )));
                let (code, message) = match outcome {
                    Ok(r) => (r.error_code, r.message),
                    Err(e) => (e.code, e.message),
                };
                if code != 0 {
                    return Routed::End(Ended::Auth { code, message });
                }
                return Routed::Other;
            }
            let key = id.as_u64();
            let entry = key.and_then(|k| pending.remove(&k));
            let background = key.and_then(|k| backgrounds.remove(&k)).unwrap_or(false);
            let rtt = entry.as_ref().map(|p| p.sent.elapsed());
            let _ = events.send(ClientEvent::Traffic(traffic(
                Direction::In,
                text,
                rtt,
                background,
            )));
            if let Some(reply) = entry.and_then(|p| p.reply) {
                let _ = reply.send(outcome.map_err(|e| ClientError::Protocol {
                    code: e.code,
                    message: e.message,
                }));
            }
            Routed::Answer
        }
        Some(Incoming::Event {
            method,
            sub_event,
            error_code,
            message,
            data,
        }) => {
            let _ = events.send(ClientEvent::Traffic(traffic(
                Direction::In,
                text,
                None,
                false,
            )));
            let _ = events.send(ClientEvent::Event {
                method,
                sub_event,
                error_code,
                message,
                data,
            });
            Routed::Other
        }
        None => {
            tracing::debug!("unreadable frame ignored: {text}");
            let _ = events.send(ClientEvent::Traffic(traffic(
                Direction::In,
                text,
                None,
                false,
            )));
            Routed::Other
        }
    }
}
