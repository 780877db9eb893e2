//! The client: one connection to a room — a remote device or engine over
//! WebSocket, or the embedded engine in-process — with id correlation,
//! per-request timeouts, subscriptions, typed answers, and automatic
//! reconnection with capped, jittered backoff that re-subscribes. Auth
//! failures (4, 5, 16) stop retrying until told to, so a wrong password
//! never turns into a retry storm.
//!
//! [`Client`] is the handle; the connection task lives in `conversation`;
//! every frame it sends or receives is reported as a [`TrafficEntry`].

mod conversation;
mod traffic;

pub use traffic::{Direction, TrafficEntry};

use crate::engine::EngineHandle;
use crate::media::ThumbnailSource;
use crate::protocol::{Answer, EventEnvelope, RpcResult, codes};
use serde_json::{Map, Value, json};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Where the client connects.
#[derive(Clone)]
pub enum Endpoint {
    /// The in-process engine: same frames, no socket.
    Embedded {
        engine: EngineHandle,
        thumbnails: Option<Arc<dyn ThumbnailSource>>,
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
    /// Shared by many clients (a fleet of rooms): a turn is taken for each
    /// connection attempt, so that hundreds of rooms never open sockets all
    /// in the same instant — on the first start and on every reconnection
    /// alike. A turn is held until the connection is open (handshake
    /// included) or for a quarter of a second at most, so rooms that never
    /// answer cannot keep the others waiting.
    pub connect_gate: Option<Arc<tokio::sync::Semaphore>>,
    /// Report every frame as [`ClientEvent::Traffic`] (the console's
    /// traffic pane). Off for the fleet, which shows no traffic.
    pub traffic: bool,
    /// Slots of the event channel, allocated up front. The console's
    /// traffic pane needs thousands to ride out bursts; a fleet room that
    /// reads only pushed events needs few, and 4,096 slots per room were
    /// most of a 200-room fleet's memory (~300 KiB a room).
    pub event_capacity: usize,
    /// The WebSocket read buffer, which tungstenite fills with zeros up
    /// front (all of it is resident): its 128 KiB default suits thumbnails;
    /// a fleet room, whose answers are a few hundred bytes, needs little.
    pub read_buffer: usize,
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
            connect_gate: None,
            traffic: true,
            event_capacity: 4096,
            read_buffer: 128 * 1024,
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

/// In words, as people read it: `reconnecting in 0.3 s (attempt 1):
/// connection reset`.
impl fmt::Display for ConnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnState::Connecting => f.write_str("connecting"),
            ConnState::Connected => f.write_str("connected"),
            ConnState::Reconnecting {
                retry_at,
                attempt,
                last_error,
            } => {
                let wait = retry_at.saturating_duration_since(Instant::now());
                write!(
                    f,
                    "reconnecting in {:.1} s (attempt {attempt}): {last_error}",
                    wait.as_secs_f64()
                )
            }
            ConnState::AuthFailed { code, message } => {
                let meaning = codes::meaning(*code).unwrap_or("undocumented code");
                write!(f, "authentication failed: {code} {meaning}")?;
                if !message.is_empty() && message != meaning {
                    write!(f, " ({message})")?;
                }
                Ok(())
            }
            ConnState::Closed { reason } => write!(f, "closed: {reason}"),
        }
    }
}

/// What the client reports to whoever listens.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// (Re)connected and re-subscribed: re-query the state.
    Connected,
    /// A pushed event, decoded.
    Event(Arc<EventEnvelope>),
    /// A frame went out or came in.
    Traffic(Arc<TrafficEntry>),
}

/// Why a request got no usable result.
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
    /// The device answered with a non-zero `error_code`.
    #[error("error {code} ({}): {message}", codes::meaning(*.code).unwrap_or("undocumented code"))]
    Refused { code: i64, message: String },
    /// The answer arrived but is not the shape the node has.
    #[error("malformed answer to {path}: {reason}")]
    Malformed { path: String, reason: String },
    #[error("the client has stopped")]
    Stopped,
}

/// What the handle asks of the connection task.
enum Instruction {
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
    tx: mpsc::Sender<Instruction>,
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
        let (events, observer) = broadcast::channel(options.event_capacity.max(1));
        tokio::spawn(conversation::run(
            endpoint,
            options,
            rx,
            state_tx,
            events.clone(),
        ));
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
                } => return Err(ClientError::NotConnected(reason)),
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

    async fn send(
        &self,
        method: &str,
        params: Value,
        background: bool,
    ) -> Result<RpcResult, ClientError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Instruction::Request {
                method: method.to_string(),
                params,
                background,
                reply,
            })
            .await
            .map_err(|_| ClientError::Stopped)?;
        rx.await.map_err(|_| ClientError::Stopped)?
    }

    /// `Query` a path given as strings; the raw result (any `error_code`).
    pub async fn query(&self, path: &[&str]) -> Result<RpcResult, ClientError> {
        self.request("Query", json!({ "path": path })).await
    }

    /// `Query` the node `A` and decode its answer. A non-zero `error_code`
    /// is [`ClientError::Refused`].
    pub async fn fetch<A: Answer>(&self) -> Result<A, ClientError> {
        self.fetch_with(Map::new(), false).await
    }

    /// [`Client::fetch`] as background traffic (polling).
    pub async fn fetch_background<A: Answer>(&self) -> Result<A, ClientError> {
        self.fetch_with(Map::new(), true).await
    }

    /// [`Client::fetch`] with more `params` beside `path` (a thumbnail's
    /// `source_id`).
    pub async fn fetch_with<A: Answer>(
        &self,
        extra: Map<String, Value>,
        background: bool,
    ) -> Result<A, ClientError> {
        let mut params = Map::new();
        params.insert("path".into(), json!(A::PATH));
        params.extend(extra);
        let result = self
            .send("Query", Value::Object(params), background)
            .await?;
        decode_answer(result)
    }

    pub fn state(&self) -> watch::Receiver<ConnState> {
        self.state.clone()
    }

    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }

    /// Reconnect now: after an auth failure, or to skip the backoff wait.
    pub fn reconnect(&self) {
        let _ = self.tx.try_send(Instruction::Reconnect);
    }
}

/// The typed `data` of a successful answer.
pub fn decode_answer<A: Answer>(result: RpcResult) -> Result<A, ClientError> {
    if !result.is_ok() {
        return Err(ClientError::Refused {
            code: result.error_code,
            message: result.message,
        });
    }
    serde_json::from_value(result.data.unwrap_or(Value::Null)).map_err(|e| ClientError::Malformed {
        path: format!("{:?}", A::PATH),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_as_sentences() {
        let state = ConnState::Reconnecting {
            retry_at: Instant::now() + Duration::from_millis(300),
            attempt: 1,
            last_error: "connection reset".into(),
        };
        let text = state.to_string();
        assert!(
            text.starts_with("reconnecting in 0.")
                && text.ends_with(" s (attempt 1): connection reset"),
            "{text}"
        );
        let auth = ConnState::AuthFailed {
            code: 16,
            message: "Rooms CSAPI Password Failed".into(),
        };
        assert_eq!(
            auth.to_string(),
            "authentication failed: 16 Rooms CSAPI Password Failed"
        );
    }

    #[test]
    fn refused_answers_keep_their_code() {
        use crate::protocol::answers::CastCodeAnswer;
        let refused = RpcResult::err(None, crate::protocol::RpcError::new(6, "no such path"));
        assert_eq!(
            decode_answer::<CastCodeAnswer>(refused),
            Err(ClientError::Refused {
                code: 6,
                message: "no such path".into()
            })
        );
        let odd = RpcResult::ok(None, Some(json!({"cast": 1})));
        assert!(matches!(
            decode_answer::<CastCodeAnswer>(odd),
            Err(ClientError::Malformed { .. })
        ));
    }
}
