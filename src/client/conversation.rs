//! The connection task: connect, converse until the connection ends, then
//! wait (backoff, or the user after an auth failure) and connect again.
//!
//! A completed WebSocket handshake does not mean the peer accepted us: a
//! refused password is answered with an `Auth` frame and a close right
//! after the upgrade. So a connection counts as `Connected` only once the
//! peer has answered a request (the first frame is a probe Query every
//! device answers); if a request times out before any answer came, the
//! peer is unresponsive and the connection is treated as lost.

use super::traffic::{Direction, TrafficEntry};
use super::{ClientError, ClientEvent, ClientOptions, ConnState, Endpoint, Instruction};
use crate::engine::{Session, SessionError};
use crate::protocol::auth::auth_protocol;
use crate::protocol::{Event, answers::Answer, answers::CastCodeAnswer};
use crate::protocol::{EventEnvelope, Id, Incoming, Request, RpcResult, codes};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Reply = oneshot::Sender<Result<RpcResult, ClientError>>;
type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An open connection: a socket, or a session of the in-process engine.
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

impl Ended {
    /// What the requests still waiting are told.
    fn error(&self) -> ClientError {
        match self {
            Ended::Lost(reason) => ClientError::NotConnected(reason.clone()),
            Ended::Auth { code, message } => ClientError::AuthFailed {
                code: *code,
                message: message.clone(),
            },
            Ended::Stopped => ClientError::Stopped,
            Ended::Reconnect => ClientError::NotConnected("reconnecting".into()),
        }
    }
}

/// Where a connection reports, for its whole life.
struct Reporter<'a> {
    options: &'a ClientOptions,
    state: &'a watch::Sender<ConnState>,
    events: &'a broadcast::Sender<ClientEvent>,
}

impl Reporter<'_> {
    fn traffic(&self, direction: Direction, text: &str, rtt: Option<Duration>, background: bool) {
        if !self.options.traffic {
            return;
        }
        let entry = TrafficEntry::of(direction, text, rtt, background);
        let _ = self.events.send(ClientEvent::Traffic(entry));
    }
}

/// The connection task: until every handle is dropped.
pub(super) async fn run(
    endpoint: Endpoint,
    options: ClientOptions,
    mut rx: mpsc::Receiver<Instruction>,
    state: watch::Sender<ConnState>,
    events: broadcast::Sender<ClientEvent>,
) {
    let reporter = Reporter {
        options: &options,
        state: &state,
        events: &events,
    };
    let mut attempt: u32 = 0;
    let mut next_id: u64 = 1;
    // Said once when the room goes down, once when it is back; the retries
    // in between are debug lines (a site with rooms down is not a log flood).
    let mut down = false;
    loop {
        state.send_replace(ConnState::Connecting);
        let ended = match open_in_turn(&endpoint, &options).await {
            Ok(conn) => {
                if std::mem::take(&mut down) {
                    tracing::info!("{}: connected again", endpoint.label());
                }
                let mut talk = Conversation::new(conn, &reporter, &mut next_id, &mut attempt);
                talk.run(&mut rx).await
            }
            Err(ended) => ended,
        };
        let carry_on = match ended {
            Ended::Stopped => false,
            Ended::Reconnect => true,
            Ended::Auth { code, message } => {
                tracing::warn!(
                    "{}: authentication failed: {code} {message}",
                    endpoint.label()
                );
                let error = ClientError::AuthFailed {
                    code,
                    message: message.clone(),
                };
                state.send_replace(ConnState::AuthFailed { code, message });
                wait_for_user(&mut rx, error).await
            }
            Ended::Lost(reason) if !options.reconnect => {
                let error = ClientError::NotConnected(reason.clone());
                state.send_replace(ConnState::Closed { reason });
                wait_for_user(&mut rx, error).await
            }
            Ended::Lost(reason) => {
                let backoff = backoff(&options, attempt);
                attempt += 1;
                if std::mem::replace(&mut down, true) {
                    tracing::debug!("{}: {reason}; retrying in {backoff:?}", endpoint.label());
                } else {
                    tracing::warn!(
                        "{}: down: {reason}; retrying in {backoff:?}",
                        endpoint.label()
                    );
                }
                wait_to_retry(&mut rx, &state, backoff, attempt, reason).await
            }
        };
        if !carry_on {
            return;
        }
    }
}

/// How long to wait before the next attempt: a random point in the upper
/// half of `backoff_min` doubled per failed attempt, capped at `backoff_max`.
///
/// Why jitter: when a campus switch reboots, every client of every room
/// loses its connection in the same instant; without jitter they would all
/// retry in lockstep, doubling together, and hit the devices (and the
/// console's own runtime) as one storm at every step. The lower half is
/// kept free so that no retry comes sooner than half the nominal wait.
fn backoff(options: &ClientOptions, attempt: u32) -> Duration {
    jittered(options, attempt, rand::random::<f64>())
}

/// [`backoff`] for a given draw `unit` in `[0, 1)`: the nominal wait `d`
/// scaled into `[d/2, d]`.
fn jittered(options: &ClientOptions, attempt: u32, unit: f64) -> Duration {
    let nominal = options
        .backoff_min
        .saturating_mul(1 << attempt.min(16))
        .min(options.backoff_max);
    nominal.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

/// Sleep until `deadline`, or forever without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Show the countdown and wait for it (or for a "retry now"); requests in
/// the meantime fail at once. False when every handle is gone.
async fn wait_to_retry(
    rx: &mut mpsc::Receiver<Instruction>,
    state: &watch::Sender<ConnState>,
    backoff: Duration,
    attempt: u32,
    reason: String,
) -> bool {
    let retry_at = Instant::now() + backoff;
    state.send_replace(ConnState::Reconnecting {
        retry_at,
        attempt,
        last_error: reason.clone(),
    });
    let sleep = tokio::time::sleep_until(retry_at.into());
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            _ = &mut sleep => return true,
            instruction = rx.recv() => match instruction {
                None => return false,
                Some(Instruction::Reconnect) => return true,
                Some(Instruction::Request { reply, .. }) => {
                    let _ = reply.send(Err(ClientError::NotConnected(reason.clone())));
                }
            },
        }
    }
}

/// Refuse requests with `error` until the user asks to retry. False when
/// every handle is gone.
async fn wait_for_user(rx: &mut mpsc::Receiver<Instruction>, error: ClientError) -> bool {
    loop {
        match rx.recv().await {
            None => return false,
            Some(Instruction::Reconnect) => return true,
            Some(Instruction::Request { reply, .. }) => {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

/// How long one connection attempt may hold its turn at the connect gate.
/// The gate spreads attempts out (no storm of sockets when a campus switch
/// comes back); it must not let rooms that never answer (blackholed: no
/// RST, no SYN-ACK) hold every turn for their whole `connect_timeout`
/// while the rooms that would answer at once wait behind them. A healthy
/// room on a LAN is connected well within this.
pub(super) const CONNECT_TURN: Duration = Duration::from_millis(250);

/// Open a connection, holding a turn at the connect gate (if any) until it
/// is open or for [`CONNECT_TURN`], whichever comes first; a slow attempt
/// goes on without the turn, still bounded by `connect_timeout`.
async fn open_in_turn(endpoint: &Endpoint, options: &ClientOptions) -> Result<Conn, Ended> {
    let Some(gate) = &options.connect_gate else {
        return open(endpoint, options).await;
    };
    let turn = gate.clone().acquire_owned().await;
    let opening = open(endpoint, options);
    tokio::pin!(opening);
    tokio::select! {
        opened = &mut opening => return opened,
        () = tokio::time::sleep(CONNECT_TURN) => {}
    }
    drop(turn);
    opening.await
}

async fn open(endpoint: &Endpoint, options: &ClientOptions) -> Result<Conn, Ended> {
    match endpoint {
        Endpoint::Embedded { engine, thumbnails } => Ok(Conn::Embedded(Box::new(Session::new(
            engine.clone(),
            thumbnails.clone(),
        )))),
        Endpoint::Remote { url, password } => open_ws(url, password.as_deref(), options)
            .await
            .map(Conn::Ws),
    }
}

async fn open_ws(
    url: &str,
    password: Option<&str>,
    options: &ClientOptions,
) -> Result<Box<WsStream>, Ended> {
    let timeout = options.connect_timeout;
    let mut request = url
        .into_client_request()
        .map_err(|e| Ended::Lost(format!("bad URL {url}: {e}")))?;
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        let value =
            HeaderValue::from_str(&auth_protocol(pw)).map_err(|e| Ended::Lost(e.to_string()))?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", value);
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(options.read_buffer)
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    match tokio::time::timeout(timeout, connecting).await {
        Err(_) => Err(Ended::Lost(format!(
            "no answer from {url} within {timeout:?}"
        ))),
        Ok(Err(WsError::Http(resp))) if matches!(resp.status().as_u16(), 401 | 403) => {
            Err(Ended::Auth {
                code: codes::PASSWORD_FAILED,
                message: format!("HTTP {}", resp.status()),
            })
        }
        Ok(Err(e)) => Err(Ended::Lost(e.to_string())),
        Ok(Ok((ws, _))) => Ok(Box::new(ws)),
    }
}

/// A request waiting for its answer.
struct Pending {
    reply: Option<Reply>,
    sent: Instant,
    background: bool,
}

/// A request waiting to go out.
struct Queued {
    method: String,
    params: Value,
    background: bool,
    reply: Option<Reply>,
}

/// One connection's life: subscribe, then serve requests and deliver
/// frames until it ends.
struct Conversation<'a> {
    conn: Conn,
    reporter: &'a Reporter<'a>,
    pending: HashMap<u64, Pending>,
    /// The peer has answered at least once.
    confirmed: bool,
    next_id: &'a mut u64,
    attempt: &'a mut u32,
}

/// What woke the conversation up.
enum Wake {
    Instruction(Option<Instruction>),
    Tick,
    Frame(Result<String, Ended>),
}

impl<'a> Conversation<'a> {
    fn new(
        conn: Conn,
        reporter: &'a Reporter<'a>,
        next_id: &'a mut u64,
        attempt: &'a mut u32,
    ) -> Conversation<'a> {
        Conversation {
            conn,
            reporter,
            pending: HashMap::new(),
            confirmed: false,
            next_id,
            attempt,
        }
    }

    async fn run(&mut self, rx: &mut mpsc::Receiver<Instruction>) -> Ended {
        let mut queued = self.opening();
        loop {
            let mut batch = std::mem::take(&mut queued).into_iter();
            while let Some(request) = batch.next() {
                if let Err(ended) = self.send(request).await {
                    let error = ended.error();
                    for unsent in batch.filter_map(|q| q.reply) {
                        let _ = unsent.send(Err(error.clone()));
                    }
                    return self.end(ended);
                }
            }
            let expiry = self.next_expiry();
            let wake = tokio::select! {
                instruction = rx.recv() => Wake::Instruction(instruction),
                _ = until(expiry) => Wake::Tick,
                frame = next_frame(&mut self.conn) => Wake::Frame(frame),
            };
            let outcome = match wake {
                Wake::Instruction(None) => Err(Ended::Stopped),
                Wake::Instruction(Some(Instruction::Reconnect)) => Err(Ended::Reconnect),
                Wake::Instruction(Some(Instruction::Request {
                    method,
                    params,
                    background,
                    reply,
                })) => {
                    queued.push(Queued {
                        method,
                        params,
                        background,
                        reply: Some(reply),
                    });
                    Ok(())
                }
                Wake::Tick => self.expire(),
                Wake::Frame(frame) => frame.and_then(|text| self.receive(&text)),
            };
            if let Err(ended) = outcome {
                return self.end(ended);
            }
        }
    }

    /// A probe every device answers, then the subscriptions (a device might
    /// not answer those); their answers are consumed like any other.
    fn opening(&self) -> Vec<Queued> {
        let probe = Queued {
            method: "Query".into(),
            params: json!({ "path": CastCodeAnswer::PATH }),
            background: true,
            reply: None,
        };
        let subscriptions = self.reporter.options.subscriptions.iter().map(|p| Queued {
            method: "Subscribe".into(),
            params: json!({ "path": p }),
            background: true,
            reply: None,
        });
        std::iter::once(probe).chain(subscriptions).collect()
    }

    /// Fail what is still waiting, and say how the connection ended.
    fn end(&mut self, ended: Ended) -> Ended {
        let error = ended.error();
        for (_, p) in self.pending.drain() {
            if let Some(reply) = p.reply {
                let _ = reply.send(Err(error.clone()));
            }
        }
        ended
    }

    async fn send(&mut self, request: Queued) -> Result<(), Ended> {
        let id = *self.next_id;
        *self.next_id += 1;
        let text = Request::new(Some(Id::number(id)), &request.method, request.params).to_text();
        self.reporter
            .traffic(Direction::Out, &text, None, request.background);
        self.pending.insert(
            id,
            Pending {
                reply: request.reply,
                sent: Instant::now(),
                background: request.background,
            },
        );
        match &mut self.conn {
            Conn::Ws(ws) => ws
                .send(Message::text(text))
                .await
                .map_err(|e| Ended::Lost(format!("send failed: {e}"))),
            Conn::Embedded(session) => match session.handle_text(&text).await {
                Ok(Some(answer)) => self.receive(&answer),
                Ok(None) => Ok(()),
                Err(_) => Err(Ended::Stopped),
            },
        }
    }

    /// Time out requests that waited too long. Before the peer has ever
    /// answered, a timeout means it is unresponsive: the connection is lost.
    /// When the oldest request waiting for its answer times out. The
    /// conversation wakes for that and nothing else: an idle connection
    /// costs no timer wake-ups, which matters with hundreds of rooms open
    /// (a 100 ms tick each was 2,000 wake-ups a second for 200 rooms).
    fn next_expiry(&self) -> Option<Instant> {
        let limit = self.reporter.options.request_timeout;
        self.pending.values().map(|p| p.sent + limit).min()
    }

    fn expire(&mut self) -> Result<(), Ended> {
        let limit = self.reporter.options.request_timeout;
        let now = Instant::now();
        let mut expired = false;
        self.pending.retain(|_, p| {
            if now.duration_since(p.sent) < limit {
                return true;
            }
            expired = true;
            if let Some(reply) = p.reply.take() {
                let _ = reply.send(Err(ClientError::Timeout(limit)));
            }
            false
        });
        if expired && !self.confirmed {
            return Err(Ended::Lost(format!(
                "the peer did not answer within {limit:?}"
            )));
        }
        Ok(())
    }

    /// Route one incoming frame: an answer to its request, an event to the
    /// listeners, an auth refusal ends the connection.
    fn receive(&mut self, text: &str) -> Result<(), Ended> {
        match Incoming::parse(text) {
            Some(Incoming::Response {
                method, outcome, ..
            }) if method.as_deref() == Some("Auth") => {
                self.reporter.traffic(Direction::In, text, None, false);
                let (code, message) = match outcome {
                    Ok(r) => (r.error_code, r.message),
                    Err(e) => (e.code, e.message),
                };
                if code != 0 {
                    return Err(Ended::Auth { code, message });
                }
                Ok(())
            }
            Some(Incoming::Response { id, outcome, .. }) => {
                self.answered(id.as_u64(), text, outcome);
                Ok(())
            }
            Some(Incoming::Event {
                method,
                sub_event,
                error_code,
                message,
                data,
            }) => {
                self.reporter.traffic(Direction::In, text, None, false);
                let module = method.strip_prefix("Event/").unwrap_or(&method);
                let envelope = EventEnvelope {
                    event: Event::decode(module, &sub_event, data),
                    error_code,
                    message,
                };
                let _ = self
                    .reporter
                    .events
                    .send(ClientEvent::Event(Arc::new(envelope)));
                Ok(())
            }
            None => {
                tracing::debug!("unreadable frame ignored: {text}");
                self.reporter.traffic(Direction::In, text, None, false);
                Ok(())
            }
        }
    }

    /// An answer: hand it to its request; the first answer confirms the
    /// connection.
    fn answered(
        &mut self,
        id: Option<u64>,
        text: &str,
        outcome: Result<RpcResult, crate::protocol::RpcError>,
    ) {
        let pending = id.and_then(|k| self.pending.remove(&k));
        let rtt = pending.as_ref().map(|p| p.sent.elapsed());
        let background = pending.as_ref().is_some_and(|p| p.background);
        self.reporter.traffic(Direction::In, text, rtt, background);
        if let Some(reply) = pending.and_then(|p| p.reply) {
            let _ = reply.send(outcome.map_err(|e| ClientError::Protocol {
                code: e.code,
                message: e.message,
            }));
        }
        if !self.confirmed {
            self.confirmed = true;
            *self.attempt = 0;
            self.reporter.state.send_replace(ConnState::Connected);
            // The subscriptions are already on the wire and the peer handles
            // requests in order, so anything queried from now on sees them
            // in effect.
            let _ = self.reporter.events.send(ClientEvent::Connected);
        }
    }
}

/// The next text frame from the peer (or event of the embedded session).
async fn next_frame(conn: &mut Conn) -> Result<String, Ended> {
    match conn {
        Conn::Embedded(session) => match session.next_outgoing().await {
            Ok(text) => Ok(text),
            Err(SessionError::Lagged(n)) => Err(Ended::Lost(format!("fell {n} events behind"))),
            Err(SessionError::EngineGone(_)) => Err(Ended::Stopped),
        },
        Conn::Ws(ws) => loop {
            match ws.next().await {
                None => return Err(Ended::Lost("connection closed".into())),
                Some(Err(e)) => return Err(Ended::Lost(e.to_string())),
                Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
                Some(Ok(Message::Close(frame))) => return Err(closed(frame)),
                Some(Ok(_)) => continue,
            }
        },
    }
}

/// Why the peer closed: an auth refusal, or a plain close.
fn closed(frame: Option<CloseFrame>) -> Ended {
    if let Some(refused) = frame.as_ref().and_then(auth_refusal) {
        return refused;
    }
    let reason = frame
        .map(|f| format!("closed by peer: {} {}", u16::from(f.code), f.reason))
        .unwrap_or_else(|| "closed by peer".into());
    Ended::Lost(reason)
}

/// A close 1008 whose reason starts with an auth error code (`16 Rooms CSAPI
/// Password Failed`): a peer that refuses without the `Auth` frame.
fn auth_refusal(frame: &CloseFrame) -> Option<Ended> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ClientOptions {
        ClientOptions {
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            ..ClientOptions::default()
        }
    }

    #[test]
    fn backoff_is_jittered_within_half_to_full_nominal_and_capped() {
        let options = options();
        for attempt in [0u32, 1, 2, 4, 5, 10, 40] {
            let nominal = Duration::from_millis(500)
                .saturating_mul(1 << attempt.min(16))
                .min(Duration::from_secs(10));
            let draws: Vec<Duration> = (0..5000).map(|_| backoff(&options, attempt)).collect();
            let (lo, hi) = (nominal / 2, nominal);
            assert!(
                draws
                    .iter()
                    .all(|d| *d >= lo && *d <= hi && *d <= options.backoff_max),
                "attempt {attempt}: a draw outside [{lo:?}, {hi:?}]"
            );
            // Spread over the whole range, not piled up: every tenth of it
            // is hit, and the mean sits near the middle.
            let span = (hi - lo).as_secs_f64();
            let mut buckets = [0usize; 10];
            for d in &draws {
                let at = ((d.as_secs_f64() - lo.as_secs_f64()) / span * 10.0) as usize;
                buckets[at.min(9)] += 1;
            }
            assert!(
                buckets.iter().all(|&n| n > 250),
                "attempt {attempt}: uneven {buckets:?}"
            );
            let mean = draws.iter().map(Duration::as_secs_f64).sum::<f64>() / draws.len() as f64;
            let middle = (lo + hi).as_secs_f64() / 2.0;
            assert!(
                (mean - middle).abs() < span * 0.05,
                "attempt {attempt}: mean {mean}"
            );
        }
    }

    #[test]
    fn backoff_bounds_are_exact_at_the_ends_of_the_draw() {
        let options = options();
        assert_eq!(jittered(&options, 0, 0.0), Duration::from_millis(250));
        assert_eq!(jittered(&options, 0, 1.0), Duration::from_millis(500));
        assert_eq!(jittered(&options, 3, 0.0), Duration::from_secs(2));
        // Capped: attempt 10 would be 512 s nominal.
        assert_eq!(jittered(&options, 10, 1.0), Duration::from_secs(10));
        assert_eq!(jittered(&options, 10, 0.0), Duration::from_secs(5));
    }
}
