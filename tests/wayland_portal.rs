//! The Wayland ScreenCast portal backend, tested at its two boundaries.
//!
//! **The portal here is a fake frontend.** The real frontend
//! (`xdg-desktop-portal`) with a test backend and real PipeWire is
//! `tests/portal_frontend.rs`; this file talks to a stand-in for the
//! frontend itself, because it must produce on command what the real one
//! only does on some desktops or never in a test: a stale token that fails
//! the request instead of asking again, a portal without ScreenCast, a
//! property read that fails, a session closed from the compositor's side.
//! The fake is served with zbus on a private D-Bus session bus (a
//! `dbus-daemon` started and killed by pid, with no service of the
//! machine's: `tests/support/portal_rig.rs`) under the real name and path,
//! `org.freedesktop.portal.Desktop` at `/org/freedesktop/portal/desktop`,
//! and speaks the real protocol: CreateSession / SelectSources / Start
//! answered through `org.freedesktop.portal.Request.Response` signals on
//! the request paths the client derives from its handle tokens, Session
//! objects with Close and Closed, OpenPipeWireRemote returning an fd. Its
//! "dialog" is a policy (accept or cancel), and it issues single-use
//! restore tokens the way xdg-desktop-portal does.
//!
//! **PipeWire is real.** The `pipewire_*` tests start a private PipeWire
//! daemon and WirePlumber (which links the client's streams to their
//! target nodes, as on a desktop), and GStreamer `videotestsrc !
//! pipewiresink` processes as the monitor and window sources. The fake
//! portal's OpenPipeWireRemote hands out a socket to that daemon, so the
//! backend's real stream code negotiates formats, maps SHM buffers and
//! converts pixels from a real producer; killing a source process is the
//! window closing.
//!
//! The token tests don't need pictures: there OpenPipeWireRemote returns one
//! end of a socket pair that nothing answers (the streams just never start).
//!
//! Tools (a missing one fails the test with the package to install):
//! dbus-daemon (Debian `dbus-daemon`), pipewire + pw-dump (`pipewire`,
//! `pipewire-bin`), wireplumber, gst-launch-1.0 with videotestsrc and
//! pipewiresink (`gstreamer1.0-tools`, `gstreamer1.0-plugins-base`,
//! `gstreamer1.0-pipewire`).
#![cfg(target_os = "linux")]

use parking_lot::Mutex;
use roomshare::capture::portal::frame::{
    Chunk, Crop, FrameError, PackedRgb, PipewireFrame, copy_frame, to_rgba,
};
use roomshare::capture::portal::{
    Portal, PortalBackend, PortalConfig, PortalError, PortalSession, PortalStatus, TokenStore,
    token_path_from,
};
use roomshare::capture::{Backend, CaptureError};
use roomshare::protocol::SourceKind;
use std::collections::{HashMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use wait::wait_until;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

#[path = "support/wait.rs"]
mod wait;

#[path = "support/portal_rig.rs"]
mod portal_rig;
use portal_rig::{Bus, DEADLINE, PipeWire};

// ---------------------------------------------------------- fake portal ---

const PORTAL_NAME: &str = "org.freedesktop.portal.Desktop";
const PORTAL_PATH: &str = "/org/freedesktop/portal/desktop";

/// What the fake does with a restore token it never issued (or already
/// took back: tokens are single-use).
#[derive(Clone, Copy, PartialEq, Eq)]
enum UnknownToken {
    /// Ask the user again and grant afresh, as xdg-desktop-portal does.
    AskAgain,
    /// End the request with response code 2 (some portal backends do).
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialog {
    Accept,
    Cancel,
    /// The dialog stays up: Start is never answered.
    Never,
}

/// `decide`'s code for a dialog that is never answered.
const NO_ANSWER: u32 = u32::MAX;

#[derive(Clone)]
struct FakeStream {
    node: u32,
    source_type: u32,
    id: &'static str,
    size: (i32, i32),
    position: (i32, i32),
}

/// One SelectSources call as received.
#[derive(Debug, Clone, Default)]
struct Selected {
    types: Option<u32>,
    multiple: Option<bool>,
    cursor_mode: Option<u32>,
    persist_mode: Option<u32>,
    restore_token: Option<String>,
}

#[derive(Default)]
struct FakeState {
    selects: Vec<Selected>,
    /// Start calls that showed the dialog (no valid token).
    dialogs: u32,
    /// Start calls restored from a token, without a dialog.
    restores: u32,
    issued: Vec<String>,
    live_tokens: HashSet<String>,
    session_tokens: HashMap<String, Option<String>>,
    open_sessions: Vec<(String, String)>,
    closed_sessions: Vec<String>,
    /// The far ends of socket-pair "PipeWire" fds, kept open.
    socket_ends: Vec<UnixStream>,
}

struct FakeConfig {
    dialog: Dialog,
    unknown_token: UnknownToken,
    streams: Vec<FakeStream>,
    /// A PipeWire socket for OpenPipeWireRemote; none: a socket pair.
    pipewire: Option<PathBuf>,
    /// `AvailableSourceTypes` as served; `Err`: reading it fails so.
    source_types: Result<u32, &'static str>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            dialog: Dialog::Accept,
            unknown_token: UnknownToken::AskAgain,
            streams: vec![
                FakeStream {
                    node: 41,
                    source_type: 1,
                    id: "0",
                    size: (1920, 1080),
                    position: (0, 0),
                },
                FakeStream {
                    node: 42,
                    source_type: 2,
                    id: "1",
                    size: (800, 600),
                    position: (0, 0),
                },
            ],
            pipewire: None,
            source_types: Ok(1 | 2),
        }
    }
}

struct FakePortal {
    config: FakeConfig,
    state: Mutex<FakeState>,
}

type Results = HashMap<&'static str, OwnedValue>;

fn path_part(sender: &str) -> String {
    sender.trim_start_matches(':').replace('.', "_")
}

fn opt<'a, T: TryFrom<&'a OwnedValue>>(
    options: &'a HashMap<String, OwnedValue>,
    key: &str,
) -> Option<T> {
    options.get(key).and_then(|v| T::try_from(v).ok())
}

fn owned(v: Value<'_>) -> OwnedValue {
    v.try_to_owned().expect("owned value")
}

impl FakePortal {
    /// Answer a request the way the portal does: a Response signal on the
    /// request object, sent to the caller.
    async fn respond(
        &self,
        conn: &zbus::Connection,
        sender: &str,
        path: &str,
        code: u32,
        results: Results,
    ) {
        conn.emit_signal(
            Some(sender),
            path,
            "org.freedesktop.portal.Request",
            "Response",
            &(code, results),
        )
        .await
        .expect("emit Response");
    }

    fn request_path(sender: &str, options: &HashMap<String, OwnedValue>) -> String {
        let token: String = opt::<&str>(options, "handle_token")
            .expect("handle_token")
            .to_string();
        format!("{PORTAL_PATH}/request/{}/{token}", path_part(sender))
    }

    /// The Start decision: restored, dialog accepted, or an error code.
    fn decide(&self, token: Option<String>) -> Result<bool, u32> {
        let mut state = self.state.lock();
        match token {
            Some(t) if state.live_tokens.remove(&t) => {
                state.restores += 1;
                return Ok(true);
            }
            Some(_) if self.config.unknown_token == UnknownToken::Fail => return Err(2),
            _ => {}
        }
        state.dialogs += 1;
        match self.config.dialog {
            Dialog::Accept => Ok(false),
            Dialog::Cancel => Err(1),
            Dialog::Never => Err(NO_ANSWER),
        }
    }

    fn grant(&self) -> Results {
        let mut state = self.state.lock();
        let token = format!("fake-token-{}", state.issued.len() + 1);
        state.issued.push(token.clone());
        state.live_tokens.insert(token.clone());
        let streams: Vec<(u32, HashMap<&str, Value>)> = self
            .config
            .streams
            .iter()
            .map(|s| {
                let props = HashMap::from([
                    ("id", Value::from(s.id)),
                    ("source_type", Value::from(s.source_type)),
                    ("size", Value::from(s.size)),
                    ("position", Value::from(s.position)),
                ]);
                (s.node, props)
            })
            .collect();
        HashMap::from([
            ("streams", owned(Value::new(streams))),
            ("restore_token", owned(Value::from(token))),
            ("persist_mode", owned(Value::from(2u32))),
        ])
    }

    fn pipewire_fd(&self) -> zbus::fdo::Result<zbus::zvariant::OwnedFd> {
        let stream = match &self.config.pipewire {
            Some(socket) => {
                UnixStream::connect(socket).map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?
            }
            None => {
                let (ours, theirs) =
                    UnixStream::pair().map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
                self.state.lock().socket_ends.push(theirs);
                ours
            }
        };
        Ok(std::os::fd::OwnedFd::from(stream).into())
    }
}

struct ScreenCast(Arc<FakePortal>);

#[zbus::interface(name = "org.freedesktop.portal.ScreenCast")]
impl ScreenCast {
    async fn create_session(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
        options: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<OwnedObjectPath> {
        let sender = header.sender().expect("sender").to_string();
        let request = FakePortal::request_path(&sender, &options);
        let token: &str = opt(&options, "session_handle_token").expect("session_handle_token");
        let session = format!("{PORTAL_PATH}/session/{}/{token}", path_part(&sender));
        let object = SessionObject {
            fake: self.0.clone(),
            path: session.clone(),
        };
        conn.object_server().at(session.as_str(), object).await?;
        self.0
            .state
            .lock()
            .open_sessions
            .push((sender.clone(), session.clone()));
        // The real portal sends the handle as a string, not an object path.
        let results = HashMap::from([("session_handle", owned(Value::from(session)))]);
        self.0.respond(conn, &sender, &request, 0, results).await;
        Ok(OwnedObjectPath::try_from(request).expect("request path"))
    }

    async fn select_sources(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
        session: OwnedObjectPath,
        options: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<OwnedObjectPath> {
        let sender = header.sender().expect("sender").to_string();
        let request = FakePortal::request_path(&sender, &options);
        let selected = Selected {
            types: opt(&options, "types"),
            multiple: opt(&options, "multiple"),
            cursor_mode: opt(&options, "cursor_mode"),
            persist_mode: opt(&options, "persist_mode"),
            restore_token: opt::<&str>(&options, "restore_token").map(str::to_string),
        };
        {
            let mut state = self.0.state.lock();
            state
                .session_tokens
                .insert(session.to_string(), selected.restore_token.clone());
            state.selects.push(selected);
        }
        self.0
            .respond(conn, &sender, &request, 0, HashMap::new())
            .await;
        Ok(OwnedObjectPath::try_from(request).expect("request path"))
    }

    async fn start(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
        session: OwnedObjectPath,
        _parent_window: String,
        options: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<OwnedObjectPath> {
        let sender = header.sender().expect("sender").to_string();
        let request = FakePortal::request_path(&sender, &options);
        let token = self
            .0
            .state
            .lock()
            .session_tokens
            .get(session.as_str())
            .cloned()
            .flatten();
        let (code, results) = match self.0.decide(token) {
            Ok(_) => (0, self.0.grant()),
            Err(code) => (code, HashMap::new()),
        };
        if code != NO_ANSWER {
            self.0.respond(conn, &sender, &request, code, results).await;
        }
        Ok(OwnedObjectPath::try_from(request).expect("request path"))
    }

    async fn open_pipe_wire_remote(
        &self,
        _session: OwnedObjectPath,
        _options: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<zbus::zvariant::OwnedFd> {
        self.0.pipewire_fd()
    }

    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        5
    }

    #[zbus(property, name = "AvailableSourceTypes")]
    fn available_source_types(&self) -> zbus::fdo::Result<u32> {
        self.0
            .config
            .source_types
            .map_err(|why| zbus::fdo::Error::Failed(why.into()))
    }

    #[zbus(property, name = "AvailableCursorModes")]
    fn available_cursor_modes(&self) -> u32 {
        1 | 2 | 4
    }
}

struct SessionObject {
    fake: Arc<FakePortal>,
    path: String,
}

#[zbus::interface(name = "org.freedesktop.portal.Session")]
impl SessionObject {
    async fn close(&self) {
        self.fake
            .state
            .lock()
            .closed_sessions
            .push(self.path.clone());
    }

    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        1
    }
}

const BACKEND_NAME: &str = "org.freedesktop.impl.portal.desktop.fake";

/// What the client sees of a desktop's ScreenCast backend (its interface,
/// under its name): the fake frontend answers every call itself.
struct BackendMarker;

#[zbus::interface(name = "org.freedesktop.impl.portal.ScreenCast")]
impl BackendMarker {
    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        4
    }
}

/// The fake portal, owning its bus name on a private bus.
struct Fake {
    portal: Arc<FakePortal>,
    conn: zbus::Connection,
}

impl Fake {
    fn serve(bus: &Bus, config: FakeConfig) -> Fake {
        let portal = Arc::new(FakePortal {
            config,
            state: Mutex::new(FakeState::default()),
        });
        let conn = async_io::block_on(async {
            zbus::connection::Builder::address(bus.address.as_str())?
                .name(PORTAL_NAME)?
                .serve_at(PORTAL_PATH, ScreenCast(portal.clone()))?
                // A desktop's backend is on the bus beside its frontend;
                // without one, a refusal reads as a crashed backend.
                .name(BACKEND_NAME)?
                .serve_at(PORTAL_PATH, BackendMarker)?
                .build()
                .await
        })
        .expect("serve the fake portal");
        Fake { portal, conn }
    }

    fn state<T>(&self, f: impl FnOnce(&FakeState) -> T) -> T {
        f(&self.portal.state.lock())
    }

    /// Close every open session from the portal's side (the user pressed
    /// "stop sharing" in the compositor's UI).
    fn close_sessions(&self) {
        let open = std::mem::take(&mut self.portal.state.lock().open_sessions);
        for (sender, path) in open {
            let details: HashMap<&str, Value> = HashMap::new();
            async_io::block_on(self.conn.emit_signal(
                Some(sender.as_str()),
                path.as_str(),
                "org.freedesktop.portal.Session",
                "Closed",
                &(details,),
            ))
            .expect("emit Closed");
        }
    }
}

fn config(bus: &Bus, token_path: &Path) -> PortalConfig {
    PortalConfig {
        token_path: Some(token_path.to_path_buf()),
        bus_address: Some(bus.address.clone()),
        first_frame_timeout: Duration::from_millis(300),
    }
}

/// A private bus with a fake portal on it, and a home for its token.
fn rig(config: FakeConfig) -> (Bus, Fake, tempfile::TempDir) {
    let bus = Bus::start();
    let fake = Fake::serve(&bus, config);
    (bus, fake, tempfile::tempdir().expect("temp dir"))
}

fn start(bus: &Bus, token_path: &Path) -> Result<PortalSession, PortalError> {
    PortalSession::start(&config(bus, token_path))
}

fn stored(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("token file")
        .trim_end()
        .to_string()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Files in the token's folder other than the token (temporary leftovers).
fn strays(token_path: &Path) -> Vec<String> {
    let dir = token_path.parent().expect("folder");
    std::fs::read_dir(dir)
        .expect("read folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "portal-token")
        .collect()
}

// --------------------------------------------------------- token tests ---

#[test]
fn first_start_asks_persistently_and_stores_the_token_privately() {
    let (bus, fake, home) = rig(FakeConfig::default());
    let token_path = home.path().join("state/roomshare/portal-token");

    let _session = start(&bus, &token_path).expect("granted");

    let selects = fake.state(|s| s.selects.clone());
    assert_eq!(selects.len(), 1, "{selects:?}");
    let s = &selects[0];
    assert_eq!(s.restore_token, None, "no token on a first start");
    assert_eq!(s.persist_mode, Some(2), "persistent grant asked for");
    assert_eq!(s.types, Some(1 | 2), "monitors and windows");
    assert_eq!(s.multiple, Some(true));
    assert_eq!(s.cursor_mode, Some(2), "pointer embedded");
    assert_eq!(fake.state(|s| s.dialogs), 1);
    assert_eq!(stored(&token_path), "fake-token-1");
    assert_eq!(mode(&token_path), 0o600);
    assert_eq!(mode(token_path.parent().expect("folder")), 0o700);
    assert!(
        strays(&token_path).is_empty(),
        "left: {:?}",
        strays(&token_path)
    );
}

#[test]
fn granted_streams_are_listed_as_desktop_monitors_and_windows() {
    let (bus, _fake, home) = rig(FakeConfig::default());

    let session = start(&bus, &home.path().join("portal-token")).expect("granted");

    let nodes: Vec<_> = session.streams().iter().map(|s| s.node_id).collect();
    assert_eq!(nodes, [41, 42]);
    let sources = session.sources();
    let listed: Vec<_> = sources
        .iter()
        .map(|s| (s.id.as_str(), s.kind, s.title.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("desktop", SourceKind::Desktop, "Desktop"),
            ("portal-monitor:0", SourceKind::Monitor, "Screen 1"),
            ("portal-window:1", SourceKind::Window, "Shared window 1"),
        ]
    );
    let size = (sources[1].width, sources[1].height);
    assert_eq!(
        size,
        (1920, 1080),
        "the portal's size until a format is negotiated"
    );
}

#[test]
fn second_start_sends_the_stored_token_and_asks_nothing() {
    let (bus, fake, home) = rig(FakeConfig::default());
    let token_path = home.path().join("portal-token");

    let first = start(&bus, &token_path).expect("granted");
    let first_ids: Vec<_> = first.sources().into_iter().map(|s| s.id).collect();
    drop(first);
    assert_eq!(
        fake.state(|s| s.closed_sessions.len()),
        1,
        "dropping the session closes it"
    );

    let second = start(&bus, &token_path).expect("restored");
    let selects = fake.state(|s| s.selects.clone());
    assert_eq!(selects.len(), 2);
    assert_eq!(selects[1].restore_token.as_deref(), Some("fake-token-1"));
    assert_eq!(selects[1].persist_mode, Some(2));
    assert_eq!(
        fake.state(|s| (s.dialogs, s.restores)),
        (1, 1),
        "no second dialog"
    );
    assert_eq!(
        stored(&token_path),
        "fake-token-2",
        "the single-use token is replaced"
    );
    assert_eq!(mode(&token_path), 0o600);
    assert!(strays(&token_path).is_empty());
    let second_ids: Vec<_> = second.sources().into_iter().map(|s| s.id).collect();
    assert_eq!(first_ids, second_ids, "ids are stable across a restore");
}

#[test]
fn unknown_token_is_replaced_when_the_portal_asks_again() {
    let (bus, fake, home) = rig(FakeConfig::default());
    let token_path = home.path().join("portal-token");
    TokenStore::new(&token_path)
        .store("revoked-token")
        .expect("seed");

    let _session = start(&bus, &token_path).expect("granted");

    let selects = fake.state(|s| s.selects.clone());
    assert_eq!(selects.len(), 1);
    assert_eq!(selects[0].restore_token.as_deref(), Some("revoked-token"));
    assert_eq!(fake.state(|s| s.dialogs), 1);
    assert_eq!(stored(&token_path), "fake-token-1");
}

#[test]
fn token_that_fails_the_request_is_dropped_and_the_portal_asked_once_more() {
    let (bus, fake, home) = rig(FakeConfig {
        unknown_token: UnknownToken::Fail,
        ..FakeConfig::default()
    });
    let token_path = home.path().join("portal-token");
    TokenStore::new(&token_path)
        .store("stale-token")
        .expect("seed");

    let _session = start(&bus, &token_path).expect("granted on the second try");

    let selects = fake.state(|s| s.selects.clone());
    assert_eq!(selects.len(), 2, "{selects:?}");
    assert_eq!(selects[0].restore_token.as_deref(), Some("stale-token"));
    assert_eq!(
        selects[1].restore_token, None,
        "the retry goes without the token"
    );
    assert_eq!(selects[1].persist_mode, Some(2));
    assert_eq!(fake.state(|s| s.dialogs), 1);
    assert_eq!(
        fake.state(|s| s.closed_sessions.len()),
        1,
        "the failed session is closed"
    );
    assert_eq!(stored(&token_path), "fake-token-1");
}

#[test]
fn cancelled_dialog_is_a_clear_error_and_stores_nothing() {
    let (bus, fake, home) = rig(FakeConfig {
        dialog: Dialog::Cancel,
        ..FakeConfig::default()
    });
    let token_path = home.path().join("portal-token");

    let err = start(&bus, &token_path).err().expect("refused");

    assert_eq!(err, PortalError::Cancelled);
    assert_eq!(
        err.to_string(),
        "screen sharing was not allowed (the dialog was cancelled)"
    );
    assert_eq!(
        fake.state(|s| (s.selects.len(), s.dialogs)),
        (1, 1),
        "asked once, not again"
    );
    assert!(!token_path.exists());
}

#[test]
fn no_portal_on_the_bus_is_a_clear_error() {
    let bus = Bus::start();
    let home = tempfile::tempdir().expect("temp dir");

    let err = start(&bus, &home.path().join("portal-token"))
        .err()
        .expect("no portal");

    assert!(matches!(err, PortalError::NoPortal(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("no xdg-desktop-portal with ScreenCast on this session bus ("),
        "{text}"
    );
    assert!(
        text.contains("ServiceUnknown"),
        "the bus's reason is kept: {text}"
    );
}

#[test]
fn portal_without_screencast_is_a_clear_error() {
    struct Nothing;
    #[zbus::interface(name = "org.freedesktop.portal.Settings")]
    impl Nothing {
        #[zbus(property, name = "version")]
        fn version(&self) -> u32 {
            1
        }
    }
    let bus = Bus::start();
    let _conn = async_io::block_on(async {
        zbus::connection::Builder::address(bus.address.as_str())?
            .name(PORTAL_NAME)?
            .serve_at(PORTAL_PATH, Nothing)?
            .build()
            .await
    })
    .expect("serve a portal without ScreenCast");
    let home = tempfile::tempdir().expect("temp dir");

    let err = start(&bus, &home.path().join("portal-token"))
        .err()
        .expect("no ScreenCast");

    assert!(matches!(err, PortalError::NoPortal(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("no xdg-desktop-portal with ScreenCast on this session bus")
    );
}

/// Issue 16 item 4: a read that fails is that failure, not an empty offer
/// (the portal may still be starting, as D-Bus activates it).
#[test]
fn unreadable_source_types_are_reported_as_that_failure() {
    let (bus, fake, home) = rig(FakeConfig {
        source_types: Err("the portal backend is still starting"),
        ..FakeConfig::default()
    });

    let err = start(&bus, &home.path().join("portal-token"))
        .err()
        .expect("fails");

    let text = err.to_string();
    assert!(
        text.contains("AvailableSourceTypes"),
        "names the read: {text}"
    );
    assert!(
        text.contains("the portal backend is still starting"),
        "the bus's reason is kept: {text}"
    );
    assert!(
        !text.contains("offers neither"),
        "not an empty offer: {text}"
    );
    assert_eq!(fake.state(|s| s.dialogs), 0, "nothing asked");
}

#[test]
fn portal_offering_no_source_types_says_so() {
    let (bus, fake, home) = rig(FakeConfig {
        source_types: Ok(0),
        ..FakeConfig::default()
    });

    let err = start(&bus, &home.path().join("portal-token"))
        .err()
        .expect("fails");

    let text = err.to_string();
    assert!(
        text.contains("it offers neither monitors nor windows"),
        "{text}"
    );
    assert_eq!(fake.state(|s| s.dialogs), 0, "nothing asked");
}

#[test]
fn portal_closing_the_session_ends_every_source() {
    let (bus, fake, home) = rig(FakeConfig::default());
    let session = start(&bus, &home.path().join("portal-token")).expect("granted");
    assert_eq!(session.sources().len(), 3);

    fake.close_sessions();

    wait_until(DEADLINE, "the sources to go", || {
        session.sources().is_empty().then_some(())
    });
    let err = session.capture("portal-window:1").expect_err("gone");
    assert!(
        matches!(err, CaptureError::Gone(ref id) if id == "portal-window:1"),
        "{err:?}"
    );
}

/// A [`Portal`] on a fake whose dialog is always cancelled.
fn cancelling_portal() -> (Bus, Fake, tempfile::TempDir, Portal) {
    let (bus, fake, home) = rig(FakeConfig {
        dialog: Dialog::Cancel,
        ..FakeConfig::default()
    });
    let portal = Portal::new(config(&bus, &home.path().join("portal-token")));
    (bus, fake, home, portal)
}

#[test]
fn backend_asks_once_for_every_worker_and_keeps_the_failure() {
    let (_bus, fake, _home, portal) = cancelling_portal();
    let (mut catalog, mut thumbnails) = (portal.backend(), portal.backend());
    assert!(
        matches!(portal.status(), PortalStatus::Idle),
        "nothing asked before first use"
    );
    assert_eq!(
        catalog.list().expect("listed while asking"),
        [],
        "empty while the dialog is up"
    );

    let err = wait_until(DEADLINE, "the dialog's answer", || catalog.list().err());
    let text = "capture failed: screen sharing was not allowed (the dialog was cancelled)";
    assert_eq!(err.to_string(), text);
    for _ in 0..5 {
        assert_eq!(catalog.list().expect_err("kept").to_string(), text);
        assert_eq!(
            thumbnails.capture("desktop").expect_err("kept").to_string(),
            text
        );
    }
    assert_eq!(
        fake.state(|s| s.dialogs),
        1,
        "one dialog for every worker and call"
    );
}

#[test]
fn backend_reset_asks_again() {
    let (_bus, fake, _home, portal) = cancelling_portal();
    assert!(matches!(
        portal.wait(DEADLINE),
        PortalStatus::Failed(PortalError::Cancelled)
    ));
    assert_eq!(fake.state(|s| s.dialogs), 1);

    portal.reset();
    assert!(matches!(portal.status(), PortalStatus::Idle));
    assert!(matches!(
        portal.wait(DEADLINE),
        PortalStatus::Failed(PortalError::Cancelled)
    ));
    assert_eq!(fake.state(|s| s.dialogs), 2, "reset asks again");
}

#[test]
fn token_path_follows_the_xdg_state_home() {
    let p = |state: Option<&str>, home: Option<&str>| {
        token_path_from(state.map(Into::into), home.map(Into::into))
    };
    assert_eq!(
        p(Some("/s"), Some("/h")),
        Some(PathBuf::from("/s/roomshare/portal-token"))
    );
    assert_eq!(
        p(None, Some("/h")),
        Some(PathBuf::from("/h/.local/state/roomshare/portal-token"))
    );
    assert_eq!(
        p(Some("relative"), Some("/h")),
        Some(PathBuf::from("/h/.local/state/roomshare/portal-token")),
        "relative values are ignored"
    );
    assert_eq!(p(None, None), None);
}

#[test]
fn token_store_loads_only_good_tokens_and_clears() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = TokenStore::new(dir.path().join("a/b/portal-token"));
    assert_eq!(store.load(), None, "missing file");
    store.store("t-1").expect("store");
    store.store("t-2").expect("replace");
    assert_eq!(store.load().as_deref(), Some("t-2"));
    assert_eq!(mode(store.path()), 0o600);
    assert!(store.store("two\nlines").is_err(), "not one line");
    assert_eq!(
        store.load().as_deref(),
        Some("t-2"),
        "a refused token leaves the old one"
    );
    std::fs::write(store.path(), "bad token with spaces\n").expect("write");
    assert_eq!(store.load(), None, "malformed");
    store.clear().expect("clear");
    store.clear().expect("clear twice");
    assert!(!store.path().exists());
}

// --------------------------------------------------------- frame tests ---

/// One pixel of colour (r, g, b, a) in `format`'s byte order.
fn pixel(format: PackedRgb, [r, g, b, a]: [u8; 4]) -> Vec<u8> {
    match format {
        PackedRgb::Bgrx | PackedRgb::Bgra => vec![b, g, r, a],
        PackedRgb::Rgbx | PackedRgb::Rgba => vec![r, g, b, a],
        PackedRgb::Xrgb | PackedRgb::Argb => vec![a, r, g, b],
        PackedRgb::Xbgr | PackedRgb::Abgr => vec![a, b, g, r],
        PackedRgb::Rgb => vec![r, g, b],
        PackedRgb::Bgr => vec![b, g, r],
    }
}

#[test]
fn every_format_converts_to_the_same_rgba() {
    use PackedRgb::*;
    let colour = [0x33, 0x66, 0xcc, 0x80];
    for format in [Bgrx, Bgra, Rgbx, Rgba, Xrgb, Argb, Xbgr, Abgr, Rgb, Bgr] {
        let frame = PipewireFrame {
            format,
            width: 2,
            height: 1,
            data: pixel(format, colour).repeat(2),
        };
        let img = to_rgba(&frame).expect("converts");
        let alpha = if matches!(format, Bgra | Rgba | Argb | Abgr) {
            0x80
        } else {
            0xff
        };
        assert_eq!(
            img.get_pixel(1, 0).0,
            [0x33, 0x66, 0xcc, alpha],
            "{format:?}"
        );
    }
}

#[test]
fn buffers_with_padded_rows_offsets_and_crops_copy_the_picture() {
    // 3x2 BGRx picture, rows padded to 16 bytes, 8 bytes into the memory.
    let mut mem = vec![0xee; 8];
    for y in 0..2u8 {
        for x in 0..3u8 {
            mem.extend(pixel(PackedRgb::Bgrx, [x * 10, y * 10, 7, 0]));
        }
        mem.extend([0xee; 4]);
    }
    let copy = |crop: Option<(u32, u32, u32, u32)>| {
        let crop = crop.map(|(x, y, width, height)| Crop {
            x,
            y,
            width,
            height,
        });
        let chunk = Chunk {
            offset: 8,
            size: 32,
            stride: 16,
        };
        let mut frame = PipewireFrame::empty(PackedRgb::Bgrx);
        copy_frame(&mem, chunk, PackedRgb::Bgrx, (3, 2), crop, &mut frame).expect("copies");
        to_rgba(&frame).expect("converts")
    };

    let whole = copy(None);
    assert_eq!((whole.width(), whole.height()), (3, 2));
    assert_eq!(whole.get_pixel(2, 1).0, [20, 10, 7, 255]);
    let cropped = copy(Some((1, 1, 2, 1)));
    assert_eq!((cropped.width(), cropped.height()), (2, 1));
    assert_eq!(cropped.get_pixel(0, 0).0, [10, 10, 7, 255]);
    let outside = copy(Some((2, 0, 5, 1)));
    assert_eq!(
        (outside.width(), outside.height()),
        (3, 2),
        "a crop outside the picture is ignored"
    );
}

#[test]
fn bad_buffers_are_refused_not_read_out_of_bounds() {
    let mem = vec![0u8; 40];
    // A 3x2 BGRx picture (24 bytes packed) from a 40-byte buffer.
    let copy = |offset, size, stride| {
        let chunk = Chunk {
            offset,
            size,
            stride,
        };
        let mut frame = PipewireFrame::empty(PackedRgb::Bgrx);
        copy_frame(&mem, chunk, PackedRgb::Bgrx, (3, 2), None, &mut frame)
    };
    let stride = |stride| FrameError::Stride {
        stride,
        width: 3,
        bpp: 4,
    };
    assert_eq!(copy(0, 0, 12), Err(FrameError::Empty));
    assert_eq!(copy(0, 40, 8), Err(stride(8)), "rows too short");
    assert_eq!(copy(0, 40, -12), Err(stride(-12)), "bottom-up rows");
    assert_eq!(
        copy(20, 40, 12),
        Err(FrameError::Short { need: 24, have: 20 })
    );
    assert_eq!(copy(99, 4, 0), Err(FrameError::Short { need: 24, have: 0 }));
    assert_eq!(copy(0, 24, 0), Ok(()), "stride 0 is packed");
}

/// A backend on the fake portal and a private PipeWire with two sources,
/// "fake-monitor" (64x48 BGRx, #3366cc) and "fake-window" (40x30 RGBx,
/// #cc3311), offered as monitor "mon" and window "win", listed and
/// streaming. Fields drop in order: the backend's streams stop first.
struct Rig {
    backend: PortalBackend,
    _fake: Fake,
    pw: PipeWire,
    _home: tempfile::TempDir,
    _bus: Bus,
}

impl Rig {
    fn start() -> Rig {
        let bus = Bus::start();
        let mut pw = PipeWire::start(&bus);
        let monitor = pw.source("fake-monitor", "BGRx", 0xff3366cc, (64, 48));
        let window = pw.source("fake-window", "RGBx", 0xffcc3311, (40, 30));
        let stream = |node, source_type, id, size| FakeStream {
            node,
            source_type,
            id,
            size,
            position: (0, 0),
        };
        let streams = vec![
            stream(monitor, 1, "mon", (64, 48)),
            stream(window, 2, "win", (40, 30)),
        ];
        let pipewire = Some(pw.socket());
        let fake = Fake::serve(
            &bus,
            FakeConfig {
                streams,
                pipewire,
                ..FakeConfig::default()
            },
        );
        let home = tempfile::tempdir().expect("temp dir");
        let token_path = home.path().join("portal-token");
        let config = PortalConfig {
            first_frame_timeout: Duration::from_secs(5),
            ..config(&bus, &token_path)
        };
        let mut backend = Portal::new(config).backend();
        wait_until(DEADLINE, "the streams to be listed", || {
            (!ids(&mut backend).is_empty()).then_some(())
        });
        Rig {
            backend,
            _fake: fake,
            pw,
            _home: home,
            _bus: bus,
        }
    }

    fn picture(&mut self, id: &str) -> image::RgbaImage {
        wait_until(DEADLINE, format!("a picture of {id}"), || {
            self.backend.capture(id).ok()
        })
    }
}

fn ids(backend: &mut dyn Backend) -> Vec<String> {
    backend
        .list()
        .expect("listed")
        .into_iter()
        .map(|s| s.id)
        .collect()
}

#[test]
fn pipewire_streams_deliver_frames_in_their_size_and_colours() {
    let mut rig = Rig::start();
    assert_eq!(
        ids(&mut rig.backend),
        ["desktop", "portal-monitor:mon", "portal-window:win"]
    );

    let desktop = rig.picture("desktop");
    assert_eq!((desktop.width(), desktop.height()), (64, 48));
    assert_eq!(
        desktop.get_pixel(10, 10).0,
        [0x33, 0x66, 0xcc, 0xff],
        "BGRx converted"
    );
    let monitor = rig.picture("portal-monitor:mon");
    assert_eq!(
        monitor, desktop,
        "the desktop is the primary monitor's stream"
    );
    let win = rig.picture("portal-window:win");
    assert_eq!((win.width(), win.height()), (40, 30));
    assert_eq!(
        win.get_pixel(39, 29).0,
        [0xcc, 0x33, 0x11, 0xff],
        "RGBx converted"
    );
    let listed = rig.backend.list().expect("listed");
    assert_eq!(
        (listed[2].width, listed[2].height),
        (40, 30),
        "negotiated size listed"
    );
}

/// A producer that sends nothing for a while (SIGSTOP) without going
/// away: the grabs keep returning its last frame. Compositors send a frame
/// only when the screen changed, so an inspection reports no stall (its
/// frame intervals show the pause): "Stalled" on every still Wayland
/// screen would be a lie.
#[test]
fn pipewire_stream_that_sends_nothing_new_is_still_not_stalled() {
    use roomshare::capture::health::HealthOptions;
    use roomshare::capture::inspect::{Plan, grab_for};
    let mut rig = Rig::start();
    rig.picture("portal-window:win");
    let source = rig
        .backend
        .list()
        .expect("listed")
        .into_iter()
        .find(|s| s.id == "portal-window:win")
        .expect("the window stream");
    let plan = Plan {
        fps: 10.0,
        seconds: 4.5,
        options: HealthOptions::default(),
    };
    let pw = &rig.pw;
    let report = std::thread::scope(|scope| {
        let start = std::time::Instant::now();
        let pauser = scope.spawn(move || {
            let at = |s: f64| {
                let when = start + Duration::from_secs_f64(s);
                std::thread::sleep(when.saturating_duration_since(std::time::Instant::now()));
            };
            at(0.8);
            pw.pause("fake-window", true);
            at(3.4);
            pw.pause("fake-window", false);
        });
        let report = grab_for(&mut rig.backend, &source, &plan, &|| false);
        pauser.join().expect("the producer paused and resumed");
        report
    });
    let context = format!("{report:#?}");
    assert!(report.stalls.is_empty(), "no stall: {context}");
    // The fake producer's picture never changes: still all along.
    assert_eq!(report.still.len(), 1, "{context}");
    assert_eq!(
        (report.still[0].start, report.still[0].end),
        (0.0, None),
        "{context}"
    );
    // The pause is seen: no frame came between 0.8 s and 3.4 s.
    let longest = report.interval_ms.max.expect("intervals");
    assert!((2200.0..=3200.0).contains(&longest), "{context}");
}

#[test]
fn pipewire_source_that_ends_is_gone_and_the_others_keep_streaming() {
    let mut rig = Rig::start();
    rig.picture("portal-window:win");

    // A closed window: its producer goes away.
    rig.pw.kill("fake-window");

    let err = wait_until(DEADLINE, "the closed window to be gone", || {
        match rig.backend.capture("portal-window:win") {
            Err(e @ CaptureError::Gone(_)) => Some(e),
            _ => None,
        }
    });
    assert_eq!(err.to_string(), "source \"portal-window:win\" is gone");
    assert_eq!(
        ids(&mut rig.backend),
        ["desktop", "portal-monitor:mon"],
        "the gone window leaves the list"
    );
    let still = rig
        .backend
        .capture("portal-monitor:mon")
        .expect("the monitor still streams");
    assert_eq!(still.get_pixel(0, 0).0, [0x33, 0x66, 0xcc, 0xff]);
}

#[test]
fn pipewire_daemon_that_dies_is_a_failure_not_a_gone_source() {
    let mut rig = Rig::start();
    rig.picture("portal-monitor:mon");

    rig.pw.kill("pipewire");

    let err = wait_until(DEADLINE, "the lost daemon to show", || {
        rig.backend.capture("portal-monitor:mon").err()
    });
    assert!(matches!(err, CaptureError::Failed(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("capture failed: the PipeWire connection was lost"),
        "{text}"
    );
}

// ----- the command-line tools on a Wayland session ---------------------------

/// `roomshare ARGS` as on a Wayland session whose session bus is `bus`
/// (no X display; the token kept under `state`).
fn roomshare_on_wayland(bus: &Bus, state: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_roomshare"))
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("WAYLAND_DISPLAY", "wayland-roomshare-test")
        .env("XDG_SESSION_TYPE", "wayland")
        .env("XDG_STATE_HOME", state)
        .env("ROOMSHARE_LOG", "error")
        .env_remove("DISPLAY")
        .output()
        .expect("run roomshare")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn sources_waits_for_the_dialog_then_says_why_with_exit_2() {
    let (bus, fake, home) = rig(FakeConfig {
        dialog: Dialog::Never,
        ..FakeConfig::default()
    });

    let out = roomshare_on_wayland(&bus, home.path(), &["sources", "--wait", "1.5"]);

    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        text(&out.stdout).is_empty(),
        "no table: {}",
        text(&out.stdout)
    );
    let waiting: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("(waiting up to 1.5 s)"))
        .collect();
    assert_eq!(waiting.len(), 1, "one line says what it waits for: {err}");
    assert!(
        waiting[0].contains("allow screen sharing in the dialog that opened"),
        "{err}"
    );
    assert!(
        err.contains("cannot capture on this machine: no answer within 1.5 s (--wait)"),
        "{err}"
    );
    assert_eq!(fake.state(|s| s.dialogs), 1, "the dialog was shown once");
}

#[test]
fn sources_and_snap_say_the_dialog_was_cancelled_with_exit_2() {
    let (bus, _fake, home) = rig(FakeConfig {
        dialog: Dialog::Cancel,
        ..FakeConfig::default()
    });
    let png = home.path().join("desktop.png");
    let png = png.to_str().expect("a UTF-8 path");
    for args in [vec!["sources"], vec!["snap", "desktop", "-o", png]] {
        let out = roomshare_on_wayland(&bus, home.path(), &args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("cannot capture on this machine: screen sharing was not allowed (the dialog was cancelled). What to do: ask again"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn without_a_portal_sources_says_what_to_install_with_exit_2() {
    let bus = Bus::start();
    let home = tempfile::tempdir().expect("temp dir");

    let out = roomshare_on_wayland(&bus, home.path(), &["sources"]);

    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no xdg-desktop-portal with ScreenCast on this session bus"),
        "{err}"
    );
    assert!(
        err.contains("install xdg-desktop-portal and this desktop's backend"),
        "what to do: {err}"
    );
    assert!(
        !err.contains("test pattern") && text(&out.stdout).is_empty(),
        "no test patterns"
    );
}
