//! The handshake: reading the HTTP request head ourselves, then the
//! WebSocket upgrade with the auth check of protocol.md §1.

use super::connection::{CLOSE_GRACE, linger, websocket_config};
use crate::protocol::auth::{AuthOutcome, check_auth};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{
    ErrorResponse, Request as HttpRequest, Response as HttpResponse,
};
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Largest handshake request head accepted (protocol.md §2).
pub const MAX_REQUEST_HEAD: usize = 16 << 10;

/// A completed upgrade and the verdict on its credentials.
pub(super) struct Accepted<'s> {
    pub ws: WebSocketStream<&'s mut Rewound>,
    pub auth: AuthOutcome,
}

/// Why an upgrade did not complete.
pub(super) enum Failed {
    /// Not a valid upgrade (not GET, no key, wrong version…) and nothing
    /// answered yet: the caller says so in HTTP.
    Unanswered,
    /// Timed out, or failed after an answer: nothing more to say.
    Over,
}

/// Read the request head before `deadline`. `None` = the connection is over
/// (a head over [`MAX_REQUEST_HEAD`] has been refused with 431).
pub(super) async fn read_head(
    tcp: TcpStream,
    peer: SocketAddr,
    deadline: Instant,
) -> Option<Rewound> {
    // The request head is read here, not by tungstenite: that bounds its
    // size, and keeps the bytes a client sends right behind it (tungstenite
    // would reject them as junk), replaying them after the handshake.
    match tokio::time::timeout_at(deadline, read_request_head(tcp)).await {
        Ok(Ok(Ok(stream))) => Some(stream),
        Ok(Ok(Err(mut tcp))) => {
            tracing::debug!("{peer}: request head over {MAX_REQUEST_HEAD} bytes");
            refuse_in_http(&mut tcp, "431 Request Header Fields Too Large").await;
            None
        }
        Ok(Err(e)) => {
            tracing::debug!("handshake with {peer} failed: {e}");
            None
        }
        Err(_) => {
            tracing::debug!("handshake with {peer} timed out");
            None
        }
    }
}

/// The WebSocket upgrade of a request read by [`read_head`], before
/// `deadline`, judging the credentials on the way.
pub(super) async fn upgrade<'s>(
    stream: &'s mut Rewound,
    peer: SocketAddr,
    password: Option<&str>,
    deadline: Instant,
) -> Result<Accepted<'s>, Failed> {
    // Set by the callback, which tungstenite calls once the request is a
    // valid upgrade and before it writes the 101; `None` = no response yet.
    let mut outcome: Option<AuthOutcome> = None;
    let callback = judge_auth(password, &mut outcome);
    let handshake = tokio::time::timeout_at(
        deadline,
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(websocket_config())),
    )
    .await;
    match handshake {
        Ok(Ok(mut ws)) => {
            ws.get_mut().handshake_done();
            let auth = outcome.ok_or(Failed::Over)?;
            Ok(Accepted { ws, auth })
        }
        Ok(Err(e)) => {
            tracing::debug!("handshake with {peer} failed: {e}");
            Err(if outcome.is_none() {
                Failed::Unanswered
            } else {
                Failed::Over
            })
        }
        Err(_) => {
            tracing::debug!("handshake with {peer} timed out");
            Err(Failed::Over)
        }
    }
}

/// tungstenite's callback: judge the offered `Sec-WebSocket-Protocol`
/// values into `outcome` and echo the chosen one in the 101.
// The signature is tungstenite's `Callback`; its error type is theirs.
#[allow(clippy::result_large_err)]
fn judge_auth<'a>(
    password: Option<&'a str>,
    outcome: &'a mut Option<AuthOutcome>,
) -> impl FnOnce(&HttpRequest, HttpResponse) -> Result<HttpResponse, ErrorResponse> + 'a {
    move |req: &HttpRequest, mut resp: HttpResponse| {
        let offered = req
            .headers()
            .get_all("sec-websocket-protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        let (echo, judged) = check_auth(Some(&offered), password);
        *outcome = Some(judged);
        if let Some(echo) = echo.and_then(|e| HeaderValue::from_str(&e).ok()) {
            resp.headers_mut().insert("sec-websocket-protocol", echo);
        }
        Ok(resp)
    }
}

/// Answer in HTTP, then close lingering so the answer is read.
pub(super) async fn refuse_in_http<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    status: &str,
) {
    let _ = stream.write_all(&http_refusal(status)).await;
    linger(stream, CLOSE_GRACE).await;
}

/// A minimal HTTP refusal that closes the connection.
fn http_refusal(status: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").into_bytes()
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
pub(super) struct Rewound {
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
