//! One client's conversation with the engine: parsing frames, per-connection
//! subscriptions, answers in the device form. The WebSocket server wraps a
//! session per connection; the console's embedded link uses one directly, so
//! embedded and remote behave identically, frame for frame.
//!
//! Most requests are answered at once. An `Inspect` is answered when the
//! inspection ends: its answer is kept as a pending future and goes out
//! with the events ([`Session::next_outgoing`]), so the connection keeps
//! serving other requests meanwhile.

use super::actor::{EngineGone, EngineHandle, EventFrame, Reply};
use crate::media::ThumbnailSource;
use crate::protocol::answers::{Answer, ThumbnailAnswer};
use crate::protocol::codes::{FAIL, PARAMETER_ERROR, SUBSCRIBE_PATH_ERROR};
use crate::protocol::message::result_frame;
use crate::protocol::{Id, Method, Request, RpcError, RpcResult, is_subscribable, parse_request};
use base64::Engine as _;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::oneshot;

/// Why a session cannot deliver events any more.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the subscriber fell {0} events behind and was dropped")]
    Lagged(u64),
    #[error(transparent)]
    EngineGone(#[from] EngineGone),
}

/// One connection's state.
pub struct Session {
    engine: EngineHandle,
    /// The engine's events, held only while there is a subscription: a
    /// receiver nobody drains lags, and a connection that subscribed to
    /// nothing must never be dropped as a slow subscriber.
    events: Option<broadcast::Receiver<Arc<EventFrame>>>,
    subscriptions: Vec<Vec<String>>,
    thumbnails: Option<Arc<dyn ThumbnailSource>>,
    /// Answers still being worked on (inspections): each yields its frame.
    later: FuturesUnordered<BoxFuture<'static, String>>,
}

impl Session {
    pub fn new(engine: EngineHandle, thumbnails: Option<Arc<dyn ThumbnailSource>>) -> Session {
        Session {
            events: None,
            engine,
            subscriptions: Vec::new(),
            thumbnails,
            later: FuturesUnordered::new(),
        }
    }

    /// Handle one text frame; `Some(frame)` is the answer to send back
    /// (`None` for notifications).
    pub async fn handle_text(&mut self, text: &str) -> Result<Option<String>, EngineGone> {
        match parse_request(text) {
            Ok(req) => self.handle_frame(req).await,
            Err(rejection) => Ok(Some(rejection.to_frame())),
        }
    }

    /// Handle a parsed request and render the answer frame. `None` for a
    /// notification, and for a request answered later (an inspection: its
    /// frame comes from [`Session::next_outgoing`]).
    pub async fn handle_frame(&mut self, req: Request) -> Result<Option<String>, EngineGone> {
        let id = req.id.clone();
        let method = req.method_name.clone();
        let reply = match req.method {
            Method::Subscribe | Method::Unsubscribe => Reply::Now(self.subscription(&req)),
            Method::Query if is_thumbnail_query(&req) => Reply::Now(self.thumbnail(&req)),
            _ => self.engine.submit(req).await?,
        };
        match (reply, id) {
            (Reply::Now(result), id) => Ok(id.map(|id| result_frame(&method, &id, &result))),
            (Reply::Later(later), Some(id)) => {
                self.later.push(Box::pin(answer_later(later, method, id)));
                Ok(None)
            }
            // A notification is not answered: nobody waits for its result
            // (dropping the receiver lets the work stop early).
            (Reply::Later(_), None) => Ok(None),
        }
    }

    /// The answer frame for a request refused before it was handled.
    pub fn refusal(req: &Request, error: RpcError) -> Option<String> {
        let id = req.id.as_ref()?;
        // A Call result names its action, refused or not.
        let action = match req.method {
            Method::Call(_) => req.params.get("action").and_then(Value::as_str),
            _ => None,
        };
        Some(result_frame(
            &req.method_name,
            id,
            &RpcResult::err(action, error),
        ))
    }

    /// Handle a parsed request.
    pub async fn handle(&mut self, req: Request) -> Result<RpcResult, EngineGone> {
        match req.method {
            Method::Subscribe | Method::Unsubscribe => Ok(self.subscription(&req)),
            Method::Query if is_thumbnail_query(&req) => Ok(self.thumbnail(&req)),
            _ => self.engine.request(req).await,
        }
    }

    fn subscription(&mut self, req: &Request) -> RpcResult {
        let path = match req.path() {
            Ok(p) => p.unwrap_or_default(),
            Err(e) => return RpcResult::err(None, e),
        };
        if !is_subscribable(&path) {
            return RpcResult::err(
                None,
                RpcError::new(
                    SUBSCRIBE_PATH_ERROR,
                    format!(
                        "unknown subscribe path {path:?}; use [], [\"Share\"], [\"Share\",\"ShareInfo\"], [\"Meeting\"] …"
                    ),
                ),
            );
        }
        if req.method == Method::Subscribe {
            if !self.subscriptions.contains(&path) {
                self.subscriptions.push(path);
            }
        } else if path.is_empty() {
            self.subscriptions.clear();
        } else {
            self.subscriptions.retain(|p| p != &path);
        }
        if self.subscriptions.is_empty() {
            self.events = None;
        } else if self.events.is_none() {
            // Events from now on: nothing emitted before the subscription.
            self.events = Some(self.engine.events());
        }
        RpcResult::ok(None, None)
    }

    fn thumbnail(&self, req: &Request) -> RpcResult {
        let source_id = match req.params.get("source_id") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return RpcResult::err(
                    None,
                    RpcError::new(PARAMETER_ERROR, "Thumbnail needs `source_id` (string)"),
                );
            }
        };
        let Some(provider) = &self.thumbnails else {
            return RpcResult::err(
                None,
                RpcError::new(PARAMETER_ERROR, "this engine has no capture layer"),
            );
        };
        match provider.jpeg(&source_id) {
            Ok(t) => {
                let answer = ThumbnailAnswer {
                    jpeg_base64: base64::engine::general_purpose::STANDARD.encode(&t.jpeg),
                    id: source_id,
                    width: t.width,
                    height: t.height,
                };
                RpcResult::ok(None, serde_json::to_value(answer).ok())
            }
            Err(why) => RpcResult::err(
                None,
                RpcError::new(
                    PARAMETER_ERROR,
                    format!("no thumbnail for {source_id:?}: {why}"),
                ),
            ),
        }
    }

    /// The next event this session is subscribed to. Without subscriptions
    /// this never resolves.
    pub async fn next_event(&mut self) -> Result<Arc<EventFrame>, SessionError> {
        next_event_of(self.events.as_mut(), &self.subscriptions).await
    }

    /// The next frame to send unasked: an answer that was worked on (an
    /// inspection's), or an event this session is subscribed to. Never
    /// resolves while there is neither. Cancel-safe.
    pub async fn next_outgoing(&mut self) -> Result<String, SessionError> {
        let event = next_event_of(self.events.as_mut(), &self.subscriptions);
        if self.later.is_empty() {
            return event.await.map(|frame| frame.text.clone());
        }
        tokio::select! {
            Some(answer) = self.later.next() => Ok(answer),
            frame = event => frame.map(|frame| frame.text.clone()),
        }
    }
}

/// The answer frame of a request worked on elsewhere, when the work ends.
async fn answer_later(later: oneshot::Receiver<RpcResult>, method: String, id: Id) -> String {
    let result = later.await.unwrap_or_else(|_| {
        RpcResult::err(
            Some("Inspect"),
            RpcError::new(FAIL, "the work was abandoned: the engine's capture stopped"),
        )
    });
    result_frame(&method, &id, &result)
}

async fn next_event_of(
    events: Option<&mut broadcast::Receiver<Arc<EventFrame>>>,
    subscriptions: &[Vec<String>],
) -> Result<Arc<EventFrame>, SessionError> {
    let Some(events) = events else {
        return std::future::pending().await;
    };
    loop {
        match events.recv().await {
            Ok(frame) => {
                if subscriptions.iter().any(|p| frame.event.matches(p)) {
                    return Ok(frame);
                }
            }
            Err(RecvError::Lagged(n)) => return Err(SessionError::Lagged(n)),
            Err(RecvError::Closed) => return Err(SessionError::EngineGone(EngineGone)),
        }
    }
}

/// Thumbnails are answered here, from the capture layer's store, not by
/// the room (which has no pictures).
fn is_thumbnail_query(req: &Request) -> bool {
    req.path()
        .ok()
        .flatten()
        .is_some_and(|p| p == ThumbnailAnswer::PATH)
}
