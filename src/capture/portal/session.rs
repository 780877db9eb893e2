//! A started ScreenCast session: the portal grant kept open and its
//! PipeWire streams running.

use super::LOG;
use super::error::PortalError;
use super::frame;
use super::handshake::{self, Grant};
use super::sources::{self, DESKTOP_ID, StreamInfo};
use super::stream::{End, PwThread, Slot};
use super::token::TokenStore;
use crate::capture::CaptureError;
use crate::protocol::SourceInfo;
use ashpd::zbus::MessageStream;
use futures_util::{FutureExt, StreamExt};
use image::RgbaImage;
use parking_lot::Mutex;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long closing the portal session may take when it is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How a [`PortalSession`] is started.
#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// Where the restore token is kept; `None`: not kept (asks every start).
    pub token_path: Option<PathBuf>,
    /// The D-Bus address of the session bus; `None`: the usual one
    /// (`DBUS_SESSION_BUS_ADDRESS`).
    pub bus_address: Option<String>,
    /// How long a capture waits for a stream's first picture.
    pub first_frame_timeout: Duration,
}

impl Default for PortalConfig {
    /// The user's token file ([`super::default_token_path`]), the session
    /// bus, 3 s for a first picture.
    fn default() -> Self {
        PortalConfig {
            token_path: super::default_token_path(),
            bus_address: None,
            first_frame_timeout: Duration::from_secs(3),
        }
    }
}

/// A granted screen-cast session with a PipeWire stream per chosen source.
/// Thread-safe: share it with `Arc`. Dropping it stops the streams and
/// closes the portal session (the restore token stays valid).
pub struct PortalSession {
    streams: Vec<(StreamInfo, Arc<Slot>)>,
    first_frame_timeout: Duration,
    /// The portal's "session closed" signals, polled without blocking.
    closed: Mutex<Option<MessageStream>>,
    // Drop order: the streams stop before the portal session is closed.
    pipewire: Option<PwThread>,
    grant: Option<Grant>,
}

impl PortalSession {
    /// Ask the portal (a dialog unless the stored token restores the last
    /// grant), store the new token, and open the streams. Blocks until the
    /// user has answered: call it off the UI thread.
    pub fn start(config: &PortalConfig) -> Result<PortalSession, PortalError> {
        let store = config.token_path.clone().map(TokenStore::new);
        let bus = config.bus_address.clone();
        let grant = guarded("the portal request", async {
            handshake::negotiate(bus.as_deref(), store.as_ref()).await
        })?;
        // Listen for Closed before anything else can take time, so a close
        // right after the grant is not missed.
        let closed = guarded("the Closed signal", async {
            Ok(handshake::closed_signal(&grant).await)
        })?;
        let fd = guarded("OpenPipeWireRemote", handshake::open_remote(&grant))?;
        let streams: Vec<(StreamInfo, Arc<Slot>)> = sources::describe(&grant.streams)
            .into_iter()
            .map(|info| (info, Arc::new(Slot::default())))
            .collect();
        let nodes = streams
            .iter()
            .map(|(i, s)| (i.node_id, s.clone()))
            .collect();
        let pipewire = PwThread::spawn(fd, nodes)?;
        tracing::info!(target: LOG, "screen sharing portal: {} stream(s)", streams.len());
        Ok(PortalSession {
            streams,
            first_frame_timeout: config.first_frame_timeout,
            closed: Mutex::new(closed),
            pipewire: Some(pipewire),
            grant: Some(grant),
        })
    }

    /// The streams as the portal gave them, gone ones included.
    pub fn streams(&self) -> Vec<StreamInfo> {
        self.streams.iter().map(|(info, _)| info.clone()).collect()
    }

    /// The catalog entries of the streams that are still live.
    pub fn sources(&self) -> Vec<SourceInfo> {
        self.check_closed();
        let live: Vec<_> = self
            .streams
            .iter()
            .filter(|(_, slot)| slot.is_live())
            .map(|(info, slot)| (info.clone(), slot.size()))
            .collect();
        sources::catalog(&live)
    }

    /// The newest picture of a source, without asking the portal anything.
    /// Waits (up to the configured time) only for a stream's first picture.
    pub fn capture(&self, source_id: &str) -> Result<RgbaImage, CaptureError> {
        self.check_closed();
        let slot = self
            .slot(source_id)
            .ok_or_else(|| CaptureError::Gone(source_id.to_string()))?;
        let raw = slot.latest(source_id, self.first_frame_timeout)?;
        frame::to_rgba(&raw).map_err(|e| CaptureError::Failed(e.to_string()))
    }

    /// How long ago `source_id`'s stream delivered its newest frame.
    pub fn frame_age(&self, source_id: &str) -> Option<std::time::Duration> {
        self.slot(source_id)?.frame_age()
    }

    fn slot(&self, source_id: &str) -> Option<&Arc<Slot>> {
        self.streams
            .iter()
            .find(|(info, _)| {
                info.source_id == source_id || (source_id == DESKTOP_ID && info.primary)
            })
            .map(|(_, slot)| slot)
    }

    /// The portal closing the session (the user revoked it in the
    /// compositor's UI, say) ends every stream.
    fn check_closed(&self) {
        let mut closed = self.closed.lock();
        let Some(signal) = closed.as_mut() else {
            return;
        };
        if let Some(event) = signal.next().now_or_never() {
            *closed = None;
            if let Some(Ok(_)) = event {
                tracing::info!(target: LOG, "the screen sharing session was closed by the portal");
                for (_, slot) in &self.streams {
                    slot.end(End::Gone);
                }
            }
        }
    }
}

impl Drop for PortalSession {
    fn drop(&mut self) {
        self.pipewire.take();
        if let Some(grant) = self.grant.take() {
            // A portal that stopped answering must not hang a shutdown.
            let close = std::pin::pin!(grant.session.close());
            let timeout = std::pin::pin!(async_io::Timer::after(CLOSE_TIMEOUT));
            let _ = guarded("closing the portal session", async {
                futures_util::future::select(close, timeout).await;
                Ok(())
            });
        }
    }
}

/// Run a portal call to completion on this thread, turning a panic inside
/// the D-Bus libraries (they assert on some malformed portal answers) into
/// an error instead of taking down the capture thread.
fn guarded<T>(
    what: &str,
    call: impl Future<Output = Result<T, PortalError>>,
) -> Result<T, PortalError> {
    let run = std::panic::AssertUnwindSafe(|| async_io::block_on(call));
    std::panic::catch_unwind(run).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(PortalError::Protocol(format!("{what} failed: {why}")))
    })
}
