//! The WebSocket server: authenticates (protocol.md §1), frames, limits, and
//! hands requests to an engine [`Session`] per connection.
//!
//! Here: settings, the accept loop, the connection limit and graceful
//! shutdown. `handshake` reads the request head and upgrades; `connection`
//! serves the frames after that.

mod connection;
mod handshake;

pub use connection::AUTH_CLOSE_GRACE;
pub use handshake::MAX_REQUEST_HEAD;

use crate::engine::{EngineHandle, Session};
use crate::media::ThumbnailSource;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// Largest message (and frame) accepted: bigger ones close with 1009.
pub const MAX_MESSAGE: usize = 1 << 20;

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

/// Accept connections (up to `max_connections` at once) until shutdown,
/// then wait for every connection to close.
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

/// One connection, from its first byte to its close.
async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    session: Session,
    shutdown: watch::Receiver<bool>,
) {
    // One deadline for the whole handshake: a client that trickles its
    // request (slowloris) is dropped and its slot freed.
    let deadline = tokio::time::Instant::now() + config.handshake_timeout;
    let Some(mut stream) = handshake::read_head(tcp, peer, deadline).await else {
        return;
    };
    let password = config.password.as_deref();
    let accepted = match handshake::upgrade(&mut stream, peer, password, deadline).await {
        Ok(accepted) => accepted,
        Err(handshake::Failed::Unanswered) => {
            // Not a valid upgrade (not GET, no key, wrong version…) and
            // nothing answered yet: say so in HTTP.
            handshake::refuse_in_http(&mut stream, "400 Bad Request").await;
            return;
        }
        Err(handshake::Failed::Over) => return,
    };
    match accepted.auth.error_code() {
        None => connection::serve(accepted.ws, peer, &config, session, shutdown).await,
        Some(code) => connection::refuse(accepted.ws, peer, code).await,
    }
}
