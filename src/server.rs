//! The WebSocket server: authenticates (protocol.md §1), frames, limits, and
//! hands requests to an engine [`Session`] per connection.

use crate::engine::{EngineHandle, Session, SessionError};
use crate::media::ThumbnailSource;
use crate::protocol::codes::{PASSWORD_FAILED, REQUEST_HEADER_ERROR, REQUEST_TOO_FREQUENTLY};
use crate::protocol::message::auth_failure_frame;
use crate::protocol::{RpcError, parse_request};
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{
    ErrorResponse, Request as HttpRequest, Response as HttpResponse,
};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Largest message (and frame) accepted: bigger ones close with 1009.
pub const MAX_MESSAGE: usize = 1 << 20;

/// Largest handshake request head accepted (protocol.md §2).
pub const MAX_REQUEST_HEAD: usize = 16 << 10;

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
/// connection is dropped.
const AUTH_CLOSE_GRACE: Duration = Duration::from_millis(500);

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `None` = no authentication (loopback only).
    pub password: Option<String>,
    pub max_connections: usize,
    /// Well-formed requests per second per connection, and the burst allowance.
    pub rate_per_sec: u32,
    pub rate_burst: u32,
    pub handshake_timeout: Duration,
    /// A connection whose frame cannot be written for this long has stopped
    /// reading (its TCP buffers are full): it is dropped, so it holds no
    /// slot and no memory for ever.
    pub write_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], crate::protocol::DEFAULT_PORT)),
            password: None,
            max_connections: 1024,
            rate_per_sec: 1000,
            rate_burst: 2000,
            handshake_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
        }
    }
}

impl ServerConfig {
    /// Refuse settings that would expose the room: a non-loopback address
    /// without a password.
    pub fn check(&self) -> Result<(), ServerError> {
        if self.password.as_deref().is_none_or(str::is_empty) && !self.listen.ip().is_loopback() {
            return Err(ServerError::PasswordRequired(self.listen));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "refusing to listen on {0} without a password: anyone on the network could control the room (use --password, or listen on 127.0.0.1)"
    )]
    PasswordRequired(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running server. Dropping it does not stop it; call [`Server::shutdown`].
pub struct Server {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Bind and start serving `engine`.
    pub async fn start(
        config: ServerConfig,
        engine: EngineHandle,
        thumbnails: Option<Arc<dyn ThumbnailSource>>,
    ) -> Result<Server, ServerError> {
        config.check()?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::new(config),
            engine,
            thumbnails,
            shutdown_rx,
        ));
        tracing::info!("serving the Rooms control API on ws://{local_addr}/");
        Ok(Server {
            local_addr,
            shutdown,
            task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stop accepting, close every connection with 1001 (going away), wait
    /// for them to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    engine: EngineHandle,
    thumbnails: Option<Arc<dyn ThumbnailSource>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    tracing::warn!("connection from {peer} refused: {} connections already open", config.max_connections);
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let session = Session::new(engine.clone(), thumbnails.clone());
                let config = config.clone();
                let shutdown = shutdown.clone();
                connections.spawn(async move {
                    serve_connection(stream, peer, config, session, shutdown).await;
                    drop(permit);
                });
            }
        }
    }
    // Graceful shutdown: connections see the flag and close themselves.
    while connections.join_next().await.is_some() {}
}

/// The outcome of checking the `Sec-WebSocket-Protocol` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    Accepted,
    /// Error 4: no usable `auth-` value.
    HeaderError,
    /// Error 16: wrong password.
    WrongPassword,
}

/// Pick the subprotocol to echo and judge the credentials. The first
/// `auth-…` value offered is used (and echoed alone); without one, the first
/// value offered is echoed so browsers complete the handshake and can read
/// the error frame.
pub fn check_auth(offered: Option<&str>, password: Option<&str>) -> (Option<String>, AuthOutcome) {
    let values: Vec<&str> = offered
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let auth = values.iter().find(|v| v.starts_with("auth-")).copied();
    let echo = auth.or(values.first().copied()).map(str::to_string);
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return (echo, AuthOutcome::Accepted);
    };
    let outcome = match auth.map(|a| &a["auth-".len()..]).filter(|c| !c.is_empty()) {
        None => AuthOutcome::HeaderError,
        Some(cred) => match decode_credential(cred) {
            None => AuthOutcome::HeaderError,
            Some(given) => {
                if bool::from(given.as_slice().ct_eq(password.as_bytes())) {
                    AuthOutcome::Accepted
                } else {
                    AuthOutcome::WrongPassword
                }
            }
        },
    };
    (echo, outcome)
}

/// Percent-decode, then Base64-decode: accepts the vendor's URL-encoded form
/// and the field driver's raw Base64 alike.
fn decode_credential(cred: &str) -> Option<Vec<u8>> {
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(cred).collect();
    base64::engine::general_purpose::STANDARD
        .decode(decoded)
        .ok()
}

/// The header value a client offers: `auth-` + URL-encode(Base64(password)).
pub fn auth_protocol(password: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(password.as_bytes());
    format!(
        "auth-{}",
        percent_encoding::utf8_percent_encode(&b64, percent_encoding::NON_ALPHANUMERIC)
    )
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

/// tungstenite's settings for every connection: small buffers (memory per
/// connection), bounded queues and messages.
fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(IO_BUFFER)
        .write_buffer_size(IO_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    mut session: Session,
    mut shutdown: watch::Receiver<bool>,
) {
    let ws_config = websocket_config();
    // Set by the callback, which tungstenite calls once the request is a
    // valid upgrade and before it writes the 101; `None` = no response yet.
    let mut outcome: Option<AuthOutcome> = None;
    let password = config.password.clone();
    // The signature is tungstenite's `Callback`; its error type is theirs.
    #[allow(clippy::result_large_err)]
    let callback =
        |req: &HttpRequest, mut resp: HttpResponse| -> Result<HttpResponse, ErrorResponse> {
            let offered = req
                .headers()
                .get_all("sec-websocket-protocol")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(",");
            let (echo, judged) = check_auth(Some(&offered), password.as_deref());
            outcome = Some(judged);
            if let Some(echo) = echo.and_then(|e| HeaderValue::from_str(&e).ok()) {
                resp.headers_mut().insert("sec-websocket-protocol", echo);
            }
            Ok(resp)
        };
    // One deadline for the whole handshake: a client that trickles its
    // request (slowloris) is dropped and its slot freed.
    let deadline = tokio::time::Instant::now() + config.handshake_timeout;
    // The request head is read here, not by tungstenite: that bounds its
    // size, and keeps the bytes a client sends right behind it (tungstenite
    // would reject them as junk), replaying them after the handshake.
    let mut stream = match tokio::time::timeout_at(deadline, read_request_head(stream)).await {
        Ok(Ok(Ok(stream))) => stream,
        Ok(Ok(Err(mut tcp))) => {
            tracing::debug!("{peer}: request head over {MAX_REQUEST_HEAD} bytes");
            let _ = tcp
                .write_all(&http_refusal("431 Request Header Fields Too Large"))
                .await;
            linger(&mut tcp, Duration::from_secs(1)).await;
            return;
        }
        Ok(Err(e)) => {
            tracing::debug!("handshake with {peer} failed: {e}");
            return;
        }
        Err(_) => {
            tracing::debug!("handshake with {peer} timed out");
            return;
        }
    };
    let handshake = tokio::time::timeout_at(
        deadline,
        tokio_tungstenite::accept_hdr_async_with_config(&mut stream, callback, Some(ws_config)),
    )
    .await;
    let mut ws = match handshake {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::debug!("handshake with {peer} failed: {e}");
            if outcome.is_none() {
                // Not a valid upgrade (not GET, no key, wrong version…) and
                // nothing answered yet: say so in HTTP.
                let _ = stream.write_all(&http_refusal("400 Bad Request")).await;
                linger(&mut stream, Duration::from_secs(1)).await;
            }
            return;
        }
        Err(_) => {
            tracing::debug!("handshake with {peer} timed out");
            return;
        }
    };
    ws.get_mut().handshake_done();
    let Some(outcome) = outcome else {
        return;
    };
    match outcome {
        AuthOutcome::Accepted => {}
        AuthOutcome::HeaderError | AuthOutcome::WrongPassword => {
            let code = if outcome == AuthOutcome::HeaderError {
                REQUEST_HEADER_ERROR
            } else {
                PASSWORD_FAILED
            };
            tracing::info!("connection from {peer} refused: error {code}");
            let _ = ws.send(Message::text(auth_failure_frame(code))).await;
            let reason = format!(
                "{code} {}",
                crate::protocol::codes::meaning(code).unwrap_or("")
            );
            // Half of the 1 s protocol.md allows for the TCP connection to be gone.
            close_and_drop(ws, CloseCode::Policy, &reason, AUTH_CLOSE_GRACE).await;
            return;
        }
    }
    tracing::debug!("{peer} connected");
    let mut limiter = RateLimiter::new(config.rate_per_sec, config.rate_burst);
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                close_and_drop(ws, CloseCode::Away, "server shutting down", Duration::from_secs(1)).await;
                return;
            }
            event = session.next_event() => match event {
                Ok(frame) => {
                    if let Err(why) = send_within(&mut ws, frame.text.clone(), config.write_timeout).await {
                        tracing::warn!("dropping {peer}: {why}");
                        return;
                    }
                }
                Err(SessionError::Lagged(n)) => {
                    tracing::warn!("dropping {peer}: it stopped reading and fell {n} events behind");
                    close_and_drop(ws, CloseCode::Policy, "too slow: events were not read", Duration::from_secs(1)).await;
                    return;
                }
                Err(SessionError::EngineGone(_)) => {
                    close_and_drop(ws, CloseCode::Away, "engine stopped", Duration::from_secs(1)).await;
                    return;
                }
            },
            msg = ws.next() => {
                let reply = match msg {
                    None => return,
                    Some(Ok(Message::Text(text))) => {
                        match parse_request(text.as_str()) {
                            Err(rejection) => Some(rejection.to_frame()),
                            Ok(req) if !limiter.allow() => Session::refusal(&req, RpcError::new(REQUEST_TOO_FREQUENTLY, format!("more than {} requests per second", config.rate_per_sec))),
                            Ok(req) => match session.handle_frame(req).await {
                                Ok(reply) => reply,
                                Err(_) => {
                                    close_and_drop(ws, CloseCode::Away, "engine stopped", Duration::from_secs(1)).await;
                                    return;
                                }
                            },
                        }
                    }
                    Some(Ok(Message::Binary(_))) => Some(crate::protocol::Rejection::Invalid { id: None }.to_frame()),
                    Some(Ok(Message::Close(_))) => {
                        // tungstenite has queued the answer to the close;
                        // reading on sends it (sending a Close of our own
                        // would be refused as "sending after closing").
                        finish_close(ws, Duration::from_secs(1)).await;
                        return;
                    }
                    Some(Ok(_)) => None, // Ping (auto-answered), Pong, raw frames
                    Some(Err(e)) => {
                        let (code, reason) = match &e {
                            WsError::Capacity(_) => (CloseCode::Size, "message over 1 MiB"),
                            WsError::Utf8(_) => (CloseCode::Invalid, "text frame is not valid UTF-8"),
                            WsError::Protocol(_) => (CloseCode::Protocol, "protocol error"),
                            _ => {
                                tracing::debug!("{peer}: {e}");
                                return;
                            }
                        };
                        tracing::debug!("closing {peer}: {e}");
                        close_and_drop(ws, code, reason, Duration::from_secs(1)).await;
                        return;
                    }
                };
                if let Some(reply) = reply
                    && let Err(why) = send_within(&mut ws, reply, config.write_timeout).await
                {
                    tracing::warn!("dropping {peer}: {why}");
                    return;
                }
            }
        }
    }
}

/// Send one text frame, giving up after `limit`: a peer that stopped reading
/// must not hold its connection task for ever.
async fn send_within(
    ws: &mut WebSocketStream<&mut Rewound>,
    text: String,
    limit: Duration,
) -> Result<(), String> {
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
async fn close_and_drop(
    mut ws: WebSocketStream<&mut Rewound>,
    code: CloseCode,
    reason: &str,
    grace: Duration,
) {
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
async fn finish_close(mut ws: WebSocketStream<&mut Rewound>, grace: Duration) {
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
async fn linger<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, grace: Duration) {
    let _ = tokio::time::timeout(grace, async {
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 4096];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// Read the handshake request head (up to the blank line). `Ok` gives the
/// stream with the head and anything read behind it put back in front;
/// `Err` the raw stream when the head exceeds [`MAX_REQUEST_HEAD`].
async fn read_request_head(mut tcp: TcpStream) -> Result<Result<Rewound, TcpStream>, String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = tcp.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed during the handshake".into());
        }
        // Resume the search just before the new bytes: the terminator may straddle.
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            let tail = buf.split_off(from + at + 4);
            if buf.len() > MAX_REQUEST_HEAD {
                return Ok(Err(tcp));
            }
            return Ok(Ok(Rewound {
                head: buf,
                head_pos: 0,
                handshaking: true,
                tail,
                tail_pos: 0,
                inner: tcp,
            }));
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return Ok(Err(tcp));
        }
    }
}

/// A TCP stream with bytes already read from it put back in front. During
/// the handshake it yields the request head and then end-of-file, so the
/// handshake sees exactly the request (an incomplete one fails instead of
/// waiting); the tail and the rest of the stream follow after it.
struct Rewound {
    head: Vec<u8>,
    head_pos: usize,
    handshaking: bool,
    tail: Vec<u8>,
    tail_pos: usize,
    inner: TcpStream,
}

impl Rewound {
    /// The handshake is over: the bytes behind the head are the WebSocket's.
    fn handshake_done(&mut self) {
        self.handshaking = false;
    }
}

/// A minimal HTTP refusal that closes the connection.
fn http_refusal(status: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

impl AsyncRead for Rewound {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.handshaking && this.head_pos == this.head.len() {
            return Poll::Ready(Ok(()));
        }
        for (bytes, pos) in [
            (&this.head, &mut this.head_pos),
            (&this.tail, &mut this.tail_pos),
        ] {
            if *pos < bytes.len() {
                let n = buf.remaining().min(bytes.len() - *pos);
                buf.put_slice(&bytes[*pos..*pos + n]);
                *pos += n;
                return Poll::Ready(Ok(()));
            }
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewound {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
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
