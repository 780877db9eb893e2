//! The embedded room: the share engine, its capture workers and, when
//! asked, its server on the network — started the same way by the console
//! and by `roomshare serve`.

use crate::capture::{Capture, CaptureOptions, Inspectors, SourcesMode};
use crate::client::Endpoint;
use crate::engine::{EngineHandle, RoomConfig};
use crate::link::{InspectorLive, LocalInspector, Target};
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
        let mut room = options.room;
        if options.sources.is_some() {
            // The capture publishes this machine's sources: until then, no
            // demo sources that look like them.
            room.initial_sources = Vec::new();
        }
        let engine = EngineHandle::spawn(room);
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
        let target = Target::embedded(endpoint, store, preview);
        match &self.capture {
            Some(c) => target.with_inspector(Arc::new(c.inspectors.clone())),
            None => target,
        }
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

/// Many demo rooms in one process: `n` engines, each served on its own
/// loopback (or `ip`) port — for `roomshare serve --rooms-demo N`, the
/// fleet tests and the 200-room benchmark.
///
/// Why one process: 200 `roomshare serve` processes would cost 200 runtimes
/// and make a benchmark measure process start-up; engines are plain tasks,
/// so one runtime carries hundreds of them.
pub struct DemoRooms {
    pub rooms: Vec<DemoRoom>,
}

/// One demo room: its name and group in the generated rooms file, its
/// engine (to set its state directly) and where it is served.
pub struct DemoRoom {
    pub name: String,
    pub group: String,
    pub engine: EngineHandle,
    pub addr: SocketAddr,
    server: Server,
}

impl DemoRoom {
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

/// How [`DemoRooms::start`] sets the rooms up.
#[derive(Clone)]
pub struct DemoOptions {
    pub count: usize,
    /// Where to listen; room `i` takes port `port + i`, or a free port
    /// each when the port is 0.
    pub listen: SocketAddr,
    /// Every room's password (none when `None`: loopback only).
    pub password: Option<String>,
    /// Rooms per group ("Floor 1", "Floor 2", …).
    pub per_group: usize,
    /// The engines' settings (the room name is replaced by each room's).
    pub room: RoomConfig,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            count: 10,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            password: None,
            per_group: 10,
            room: RoomConfig::default(),
        }
    }
}

impl DemoRooms {
    /// Start every room (on the current tokio runtime); refused before
    /// anything starts when the settings would expose them.
    pub async fn start(options: DemoOptions) -> Result<DemoRooms, ServerError> {
        let mut rooms = Vec::with_capacity(options.count);
        for i in 0..options.count {
            rooms.push(DemoRoom::start(&options, i).await?);
        }
        Ok(DemoRooms { rooms })
    }

    /// A rooms file listing them (`password_env` when they have a
    /// password: `ROOMSHARE_DEMO_PASSWORD`).
    pub fn rooms_toml(&self, password_env: Option<&str>) -> String {
        let mut text = String::new();
        for room in &self.rooms {
            text.push_str(&format!(
                "[[room]]\nname = {:?}\nurl = {:?}\ngroup = {:?}\n",
                room.name,
                room.url(),
                room.group
            ));
            if let Some(var) = password_env {
                text.push_str(&format!("password_env = {var:?}\n"));
            }
            text.push('\n');
        }
        text
    }

    pub async fn shutdown(self) {
        for room in self.rooms {
            room.server.shutdown().await;
        }
    }
}

impl DemoRoom {
    async fn start(options: &DemoOptions, i: usize) -> Result<DemoRoom, ServerError> {
        let name = format!("Demo {:03}", i + 1);
        let group = format!("Floor {}", i / options.per_group.max(1) + 1);
        let mut listen = options.listen;
        if listen.port() != 0 {
            let port = usize::from(listen.port()) + i;
            let port = u16::try_from(port).map_err(|_| ServerError::Bind {
                addr: listen,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("room {} would be past port 65535", i + 1),
                ),
            })?;
            listen.set_port(port);
        }
        let config = ServerConfig {
            listen,
            password: options.password.clone(),
            ..ServerConfig::default()
        };
        config.check()?;
        let room = RoomConfig {
            room_name: name.clone(),
            ..options.room.clone()
        };
        let engine = EngineHandle::spawn(room);
        let server = Server::start(config, engine.clone(), None).await?;
        Ok(DemoRoom {
            name,
            group,
            addr: server.local_addr(),
            engine,
            server,
        })
    }
}

/// The capture's live inspector, as the link's [`LocalInspector`].
impl LocalInspector for Inspectors {
    fn open(&self, source_id: &str) -> Result<(), String> {
        Inspectors::open(self, source_id)
    }

    fn close(&self) {
        Inspectors::close(self)
    }

    fn latest(&self) -> Option<InspectorLive> {
        let (source_id, feed) = Inspectors::latest(self)?;
        Some(InspectorLive {
            source_id,
            picture: feed.as_ref().and_then(|f| f.picture.clone()),
            seq: feed.as_ref().map_or(0, |f| f.seq),
            live: feed.map(|f| f.live),
        })
    }
}
