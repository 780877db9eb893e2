//! One connection after its handshake: the frame loop (requests, events,
//! rate limit, write deadline) and the ways it ends (protocol.md §1–2).

use super::handshake::Rewound;
use super::{MAX_MESSAGE, ServerConfig};
use crate::engine::{Session, SessionError};
use crate::protocol::codes::REQUEST_TOO_FREQUENTLY;
use crate::protocol::message::auth_failure_frame;
use crate::protocol::{Rejection, RpcError, parse_request};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// A connection's WebSocket, over the stream the handshake read from.
pub(super) type Ws<'s> = WebSocketStream<&'s mut Rewound>;

/// tungstenite's read buffer and write target per connection. Its defaults
/// (128 KiB each, the read one allocated up front) cost about 130 KiB per
/// idle connection; requests are small, and a bigger frame just takes a few
/// more reads or writes.
const IO_BUFFER: usize = 4 << 10;

/// Most bytes queued for one connection inside tungstenite: each frame is
/// flushed before the next, so this bounds the largest frame the server
/// sends, and a stalled peer can never grow it further.
const MAX_WRITE_BUFFER: usize = 2 << 20;

/// How long a refused client has to answer the close before the TCP
/// connection is dropped: half of the 1 s protocol.md §1 allows.
pub const AUTH_CLOSE_GRACE: Duration = Duration::from_millis(500);

/// How long a peer has to finish a close (or read an HTTP refusal) before
/// the TCP connection is dropped whatever it does.
pub(super) const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// tungstenite's settings for every connection: small buffers (memory per
/// connection), bounded queues and messages.
pub(super) fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(IO_BUFFER)
        .write_buffer_size(IO_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// A connection whose credentials failed: one Auth frame with error `code`,
/// then close 1008 (protocol.md §1). No request is processed.
pub(super) async fn refuse(mut ws: Ws<'_>, peer: SocketAddr, code: i64) {
    tracing::info!("connection from {peer} refused: error {code}");
    let _ = ws.send(Message::text(auth_failure_frame(code))).await;
    let reason = format!(
        "{code} {}",
        crate::protocol::codes::meaning(code).unwrap_or("")
    );
    // Half of the 1 s protocol.md allows for the TCP connection to be gone.
    close_and_drop(ws, CloseCode::Policy, &reason, AUTH_CLOSE_GRACE).await;
}

/// What the connection does next.
enum Step {
    /// Send this text frame.
    Send(String),
    /// Nothing to send: a Ping (tungstenite answers it), a Pong, a
    /// notification.
    Nothing,
    /// Close with this code and reason, then drop the TCP connection.
    Close(CloseCode, &'static str),
    /// The peer sent Close: finish the closing handshake.
    PeerClosed,
    /// The connection is gone or broken beyond a close: drop it.
    Drop,
}

/// Serve an authenticated connection: answer its requests, push its events,
/// until either side closes or the server shuts down.
pub(super) async fn serve(
    mut ws: Ws<'_>,
    peer: SocketAddr,
    config: &ServerConfig,
    mut session: Session,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::debug!("{peer} connected");
    let mut limiter = RateLimiter::new(config.rate_per_sec, config.rate_burst);
    loop {
        let step = tokio::select! {
            _ = shutdown.changed() => Step::Close(CloseCode::Away, "server shutting down"),
            out = session.next_outgoing() => push(out, peer),
            msg = ws.next() => reply_to(msg, &mut session, &mut limiter, config, peer).await,
        };
        match step {
            Step::Send(text) => {
                if let Err(why) = send_within(&mut ws, text, config.write_timeout).await {
                    tracing::warn!("dropping {peer}: {why}");
                    return;
                }
            }
            Step::Nothing => {}
            Step::Close(code, reason) => {
                close_and_drop(ws, code, reason, CLOSE_GRACE).await;
                return;
            }
            Step::PeerClosed => {
                // tungstenite has queued the answer to the close; reading
                // on sends it (sending a Close of our own would be refused
                // as "sending after closing").
                finish_close(ws, CLOSE_GRACE).await;
                return;
            }
            Step::Drop => return,
        }
    }
}

/// An event or a late answer for this connection, or why there are no more.
fn push(out: Result<String, SessionError>, peer: SocketAddr) -> Step {
    match out {
        Ok(text) => Step::Send(text),
        Err(SessionError::Lagged(n)) => {
            tracing::warn!("dropping {peer}: it stopped reading and fell {n} events behind");
            Step::Close(CloseCode::Policy, "too slow: events were not read")
        }
        Err(SessionError::EngineGone(_)) => Step::Close(CloseCode::Away, "engine stopped"),
    }
}

/// The answer to what the peer sent.
async fn reply_to(
    msg: Option<Result<Message, WsError>>,
    session: &mut Session,
    limiter: &mut RateLimiter,
    config: &ServerConfig,
    peer: SocketAddr,
) -> Step {
    match msg {
        None => Step::Drop,
        Some(Ok(Message::Text(text))) => {
            answer(text.as_str(), session, limiter, config.rate_per_sec).await
        }
        Some(Ok(Message::Binary(_))) => Step::Send(Rejection::Invalid { id: None }.to_frame()),
        Some(Ok(Message::Close(_))) => Step::PeerClosed,
        Some(Ok(_)) => Step::Nothing, // Ping (auto-answered), Pong, raw frames
        Some(Err(e)) => broken(&e, peer),
    }
}

/// The answer to one text frame: a JSON-RPC rejection, error 10 beyond the
/// rate limit (only well-formed requests count), or the engine's.
async fn answer(
    text: &str,
    session: &mut Session,
    limiter: &mut RateLimiter,
    rate_per_sec: u32,
) -> Step {
    let reply = match parse_request(text) {
        Err(rejection) => Some(rejection.to_frame()),
        Ok(req) if !limiter.allow() => Session::refusal(
            &req,
            RpcError::new(
                REQUEST_TOO_FREQUENTLY,
                format!("more than {rate_per_sec} requests per second"),
            ),
        ),
        Ok(req) => match session.handle_frame(req).await {
            Ok(reply) => reply,
            Err(_) => return Step::Close(CloseCode::Away, "engine stopped"),
        },
    };
    reply.map_or(Step::Nothing, Step::Send)
}

/// A read error: the close RFC 6455 prescribes for it, or nothing more to
/// say when the connection itself failed.
fn broken(e: &WsError, peer: SocketAddr) -> Step {
    let (code, reason) = match e {
        WsError::Capacity(_) => (CloseCode::Size, "message over 1 MiB"),
        WsError::Utf8(_) => (CloseCode::Invalid, "text frame is not valid UTF-8"),
        WsError::Protocol(_) => (CloseCode::Protocol, "protocol error"),
        _ => {
            tracing::debug!("{peer}: {e}");
            return Step::Drop;
        }
    };
    tracing::debug!("closing {peer}: {e}");
    Step::Close(code, reason)
}

/// Send one text frame, giving up after `limit`: a peer that stopped reading
/// must not hold its connection task for ever.
async fn send_within(ws: &mut Ws<'_>, text: String, limit: Duration) -> Result<(), String> {
    match tokio::time::timeout(limit, ws.send(Message::text(text))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("send failed: {e}")),
        Err(_) => Err(format!(
            "it stopped reading (a frame could not be written for {limit:?})"
        )),
    }
}

/// Send a close frame and give the peer `grace` to answer; then the TCP
/// connection is dropped whatever the peer does.
async fn close_and_drop(mut ws: Ws<'_>, code: CloseCode, reason: &str, grace: Duration) {
    let frame = CloseFrame {
        code,
        reason: reason.to_string().into(),
    };
    let deadline = tokio::time::Instant::now() + grace;
    let _ = tokio::time::timeout_at(deadline, ws.close(Some(frame))).await;
    finish_close(
        ws,
        deadline.saturating_duration_since(tokio::time::Instant::now()),
    )
    .await;
}

/// The end of a closing handshake: read until the peer's close arrives
/// (reading also sends a queued answer to the peer's close), then close the
/// TCP connection ourselves within `grace`, whatever the peer does.
async fn finish_close(mut ws: Ws<'_>, grace: Duration) {
    let _ = tokio::time::timeout(grace, async {
        while let Some(Ok(_)) = ws.next().await {}
        // The rest of an oversized frame or garbage after a protocol error
        // may still be unread.
        linger(ws.into_inner(), grace).await;
    })
    .await;
}

/// A lingering close: send FIN, then discard what the peer still sends until
/// it closes too (or `grace` ends). Closing with unread bytes would reset the
/// connection, and a reset can destroy our last words (a close frame, an
/// HTTP refusal) before the peer has read them.
pub(super) async fn linger<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, grace: Duration) {
    let _ = tokio::time::timeout(grace, async {
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 4096];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// A token bucket: `rate` per second, up to `burst` at once.
struct RateLimiter {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl RateLimiter {
    fn new(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            tokens: f64::from(burst),
            rate: f64::from(rate),
            burst: f64::from(burst),
            last: Instant::now(),
        }
    }

    fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tungstenite's defaults cost ~130 KiB per idle connection (a 128 KiB
    /// read buffer allocated up front) and let a stalled peer's queue grow
    /// without bound.
    #[test]
    fn connections_have_small_bounded_buffers() {
        let c = websocket_config();
        assert!(c.read_buffer_size <= 8 << 10, "{}", c.read_buffer_size);
        assert!(c.write_buffer_size <= 8 << 10, "{}", c.write_buffer_size);
        assert!(c.max_write_buffer_size <= 4 << 20);
        // Room for the largest message behind a full write target.
        assert!(c.max_write_buffer_size > c.write_buffer_size + MAX_MESSAGE);
        assert_eq!(c.max_message_size, Some(MAX_MESSAGE));
    }
}
