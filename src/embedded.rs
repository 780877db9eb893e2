//! The embedded room: the share engine, its capture workers and, when
//! asked, its server on the network — started the same way by the console
//! and by `roomshare serve`.

use crate::capture::{Capture, CaptureOptions, SourcesMode};
use crate::client::Endpoint;
use crate::engine::{EngineHandle, RoomConfig};
use crate::link::Target;
use crate::media::{PreviewSlot, ThumbnailSource, ThumbnailStore};
use crate::server::{Server, ServerConfig, ServerError};
use std::net::SocketAddr;
use std::sync::Arc;

/// How to start the embedded room.
pub struct EmbeddedOptions {
    pub room: RoomConfig,
    /// Where sources come from; `None` = no capture workers (the engine's
    /// built-in demo sources, no thumbnails).
    pub sources: Option<SourcesMode>,
    /// Serve the engine to other controllers too.
    pub server: Option<ServerConfig>,
}

/// A running embedded room. [`Embedded::shutdown`] stops it gracefully.
pub struct Embedded {
    pub engine: EngineHandle,
    capture: Option<Capture>,
    server: Option<Server>,
}

impl Embedded {
    /// Start the engine and its capture (on the current tokio runtime); with
    /// a server config, also listen. Settings that would expose the room are
    /// refused before anything starts.
    pub async fn start(
        options: EmbeddedOptions,
        on_change: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Embedded, ServerError> {
        if let Some(config) = &options.server {
            config.check()?;
        }
        let engine = EngineHandle::spawn(options.room);
        let capture = options
            .sources
            .map(|mode| Capture::start(mode, engine.clone(), CaptureOptions::default(), on_change));
        if let Some(c) = &capture {
            tracing::info!(target: "roomshare::capture", "capture backend: {}", c.backend_name);
        }
        let thumbnails = capture.as_ref().map(Capture::thumbnail_source);
        let server = match options.server {
            Some(config) => Some(Server::start(config, engine.clone(), thumbnails).await?),
            None => None,
        };
        Ok(Embedded {
            engine,
            capture,
            server,
        })
    }

    /// Where the server listens, if it runs.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(Server::local_addr)
    }

    /// What the console's link drives: the engine in-process, with the
    /// capture's pictures.
    pub fn target(&self) -> Target {
        let (store, preview) = match &self.capture {
            Some(c) => (c.thumbnails.clone(), c.preview.clone()),
            None => (ThumbnailStore::default(), PreviewSlot::default()),
        };
        let thumbnails: Option<Arc<dyn ThumbnailSource>> = self
            .capture
            .as_ref()
            .map(|_| Arc::new(store.clone()) as Arc<dyn ThumbnailSource>);
        let endpoint = Endpoint::Embedded {
            engine: self.engine.clone(),
            thumbnails,
        };
        Target::embedded(endpoint, store, preview)
    }

    /// Stop serving (closing connections with 1001), then stop capture.
    pub async fn shutdown(self) {
        if let Some(server) = self.server {
            server.shutdown().await;
        }
        // Capture's worker threads are joined when it drops; they only wait
        // on their own stop signal, never on this runtime.
        drop(self.capture);
    }
}
