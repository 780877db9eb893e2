//! Native X11 capture on x11rb: the whole root window, every RandR monitor,
//! and every managed window through Composite, grabbed with MIT-SHM.
//!
//! Why not xcap's core `GetImage` on the root: without a compositing manager
//! (kiosks, many room PCs) that reads the *screen*, so a covered window comes
//! out with the coverer's (or black) pixels and a window hanging past the
//! screen edge cannot be read at all. Composite keeps each redirected window
//! in an off-screen pixmap of its own, which we read instead.
//!
//! Layout: `convert.rs` (pixels to RGBA), `grab.rs` (SHM / core `GetImage`),
//! `list.rs` (sources), `window.rs` (Composite redirects and window grabs),
//! `damage.rs` (what changed since the last grab, so unchanged sources are
//! not grabbed and the console's own drawing does not count).
//!
//! One connection per backend; every worker thread owns its own backend
//! (see [`crate::capture`]), so nothing here is shared between threads.

mod convert;
mod damage;
mod grab;
mod list;
mod window;

use super::{Backend, CaptureError};
use crate::protocol::SourceInfo;
use grab::{Grabber, Rect};
use image::RgbaImage;
use std::collections::HashMap;
use x11rb::connection::{Connection, RequestConnection as _};
use x11rb::errors::{ConnectionError, ReplyError, ReplyOrIdError};
use x11rb::protocol::ErrorKind;
use x11rb::protocol::xproto::{Atom, ConnectionExt as _, Window};
use x11rb::rust_connection::RustConnection;

pub use list::X11Source;

/// Windows smaller than this (either side, in pixels) are left out.
pub const MIN_WINDOW_SIDE: u32 = 40;
/// The id of the whole root window.
pub const DESKTOP_ID: &str = "desktop";
const MONITOR_PREFIX: &str = "monitor:";
const WINDOW_PREFIX: &str = "window:";

x11rb::atom_manager! {
    /// The atoms the listing reads, interned once per connection.
    pub(crate) Atoms: AtomsCookie {
        _NET_CLIENT_LIST_STACKING,
        _NET_CLIENT_LIST,
        _NET_WM_NAME,
        _NET_WM_PID,
        _NET_WM_STATE,
        _NET_WM_STATE_HIDDEN,
        WM_STATE,
    }
}

/// How an [`X11Backend`] talks to the server.
#[derive(Debug, Clone)]
pub struct X11Options {
    /// Try MIT-SHM (true by default); false forces core `GetImage`.
    pub use_shm: bool,
}

impl Default for X11Options {
    fn default() -> Self {
        X11Options { use_shm: true }
    }
}

/// Why an X request failed, before it is tied to a source id.
#[derive(Debug)]
pub(crate) enum XFail {
    /// The window (or its pixmap) no longer exists.
    Gone,
    Failed(String),
}

impl XFail {
    fn for_source(self, id: &str) -> CaptureError {
        match self {
            XFail::Gone => CaptureError::Gone(id.to_string()),
            XFail::Failed(why) => CaptureError::Failed(why),
        }
    }
}

impl From<ReplyError> for XFail {
    fn from(e: ReplyError) -> XFail {
        match e {
            ReplyError::X11Error(x)
                if matches!(
                    x.error_kind,
                    ErrorKind::Window | ErrorKind::Drawable | ErrorKind::Pixmap
                ) =>
            {
                XFail::Gone
            }
            ReplyError::X11Error(x) => XFail::Failed(format!("X error {:?}", x.error_kind)),
            ReplyError::ConnectionError(e) => e.into(),
        }
    }
}

impl From<ConnectionError> for XFail {
    fn from(e: ConnectionError) -> XFail {
        XFail::Failed(format!("the X connection failed: {e}"))
    }
}

impl From<ReplyOrIdError> for XFail {
    fn from(e: ReplyOrIdError) -> XFail {
        match e {
            ReplyOrIdError::X11Error(x) => ReplyError::X11Error(x).into(),
            ReplyOrIdError::ConnectionError(e) => e.into(),
            ReplyOrIdError::IdsExhausted => XFail::Failed("the X server ran out of ids".into()),
        }
    }
}

/// Capture straight from an X server (see the module docs).
pub struct X11Backend {
    conn: RustConnection,
    root: Window,
    display: String,
    atoms: Atoms,
    grabber: Grabber,
    /// Composite 0.2+ (`NameWindowPixmap`); without it windows are read off
    /// the screen like xcap does.
    composite: bool,
    /// RandR 1.5+ (`GetMonitors`); without it no monitors are listed.
    randr_monitors: bool,
    /// One pixmap id, reused for every window grab (named, read, freed).
    pixmap: u32,
    /// Client window → the frame we redirected for it.
    redirected: HashMap<Window, Window>,
    /// Monitor name atoms seen so far (atom names never change).
    atom_names: HashMap<Atom, String>,
    own_pid: u32,
    /// Damage objects of the sources grabbed so far.
    damage: damage::DamageTracker,
    /// The last listing problem, logged once rather than every second.
    last_warning: Option<String>,
}

impl X11Backend {
    /// Connect to `display` (None: `$DISPLAY`) with the default options.
    pub fn connect(display: Option<&str>) -> Result<X11Backend, CaptureError> {
        X11Backend::with_options(display, X11Options::default())
    }

    /// Connect with explicit options (tests force the core path this way).
    pub fn with_options(
        display: Option<&str>,
        options: X11Options,
    ) -> Result<X11Backend, CaptureError> {
        let name = display_name(display);
        let (conn, screen) = x11rb::connect(display)
            .map_err(|e| CaptureError::Failed(format!("cannot open X display {name}: {e}")))?;
        let setup_error = |e: String| {
            CaptureError::Failed(format!("cannot set up capture on X display {name}: {e}"))
        };
        let Some(scr) = conn.setup().roots.get(screen) else {
            return Err(setup_error(format!("screen {screen} does not exist")));
        };
        let (root, root_bytes) = (
            scr.root,
            usize::from(scr.width_in_pixels) * usize::from(scr.height_in_pixels) * 4,
        );
        let atoms = intern_atoms(&conn).map_err(setup_error)?;
        let pixmap = conn.generate_id().map_err(|e| setup_error(e.to_string()))?;
        let grabber = Grabber::new(&conn, options.use_shm, root_bytes);
        let damage = damage::DamageTracker::new(&conn);
        let composite = window::composite_usable(&conn);
        log_degraded(&grabber, composite);
        let backend = X11Backend {
            composite,
            randr_monitors: list::randr_monitors_usable(&conn),
            conn,
            root,
            display: name,
            atoms,
            grabber,
            pixmap,
            redirected: HashMap::new(),
            atom_names: HashMap::new(),
            own_pid: std::process::id(),
            damage,
            last_warning: None,
        };
        backend.log_setup();
        Ok(backend)
    }

    fn log_setup(&self) {
        tracing::info!(
            target: "roomshare::capture",
            "x11 on {}: grabs via {}{}, composite {}, randr monitors {}, damage {}",
            self.display,
            self.grab_path(),
            self.grabber.fallback_reason().map(|r| format!(" ({r})")).unwrap_or_default(),
            self.composite,
            self.randr_monitors,
            self.damage.usable(),
        );
    }

    /// "shm" (MIT-SHM into a shared segment) or "core" (`GetImage`).
    pub fn grab_path(&self) -> &'static str {
        self.grabber.path_name()
    }

    /// Why the core path is in use (None on the SHM path).
    pub fn fallback_reason(&self) -> Option<&str> {
        self.grabber.fallback_reason()
    }

    /// The display this backend is connected to, as named to the user.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The source id of an X window.
    pub fn window_id(xid: u32) -> String {
        format!("{WINDOW_PREFIX}{xid}")
    }

    /// The source id of a RandR monitor.
    pub fn monitor_id(name: &str) -> String {
        format!("{MONITOR_PREFIX}{name}")
    }

    /// Throw away queued events and errors of requests whose replies we
    /// dropped early; nothing here selects events, so nothing else queues up.
    fn drain_events(&self) {
        while let Ok(Some(_)) = self.conn.poll_for_event() {}
    }

    fn capture_desktop(&mut self) -> Result<RgbaImage, XFail> {
        let g = self.conn.get_geometry(self.root)?.reply()?;
        let rect = Rect {
            x: 0,
            y: 0,
            width: g.width,
            height: g.height,
        };
        self.arm_damage(DESKTOP_ID, self.root);
        self.grabber.grab(&self.conn, self.root, rect)
    }

    fn capture_monitor(&mut self, name: &str) -> Result<RgbaImage, XFail> {
        let rect = self.monitor_rect(name)?.ok_or(XFail::Gone)?;
        let g = self.conn.get_geometry(self.root)?.reply()?;
        // A monitor may be defined partly outside the root; read what exists.
        let rect = rect
            .clip_to(g.width, g.height)
            .ok_or_else(|| XFail::Failed(format!("monitor {name} lies outside the X screen")))?;
        self.arm_damage(&X11Backend::monitor_id(name), self.root);
        self.grabber.grab(&self.conn, self.root, rect)
    }
}

/// Whether the server has extension `name` at version `min` or later;
/// `version` asks the server, only once the extension is known to be there.
fn extension_at_least(
    conn: &RustConnection,
    name: &'static str,
    min: (u32, u32),
    version: impl FnOnce() -> Option<(u32, u32)>,
) -> bool {
    let present = conn.extension_information(name).is_ok_and(|e| e.is_some());
    present && version().is_some_and(|v| v >= min)
}

fn display_name(display: Option<&str>) -> String {
    match display {
        Some(d) => d.to_string(),
        None => match std::env::var("DISPLAY") {
            Ok(d) if !d.is_empty() => d,
            _ => "(DISPLAY is not set)".to_string(),
        },
    }
}

fn intern_atoms(conn: &RustConnection) -> Result<Atoms, String> {
    Atoms::new(conn)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())
}

impl Backend for X11Backend {
    fn name(&self) -> &'static str {
        "x11"
    }

    /// Minimised windows are listed too, with why they cannot be
    /// captured in `unavailable`.
    fn list(&mut self) -> Result<Vec<SourceInfo>, CaptureError> {
        Ok(self.list_detailed()?.into_iter().map(|s| s.info).collect())
    }

    fn capture(&mut self, source_id: &str) -> Result<RgbaImage, CaptureError> {
        self.drain_events();
        let result = if source_id == DESKTOP_ID {
            self.capture_desktop()
        } else if let Some(name) = source_id.strip_prefix(MONITOR_PREFIX) {
            self.capture_monitor(name)
        } else if let Some(xid) = source_id
            .strip_prefix(WINDOW_PREFIX)
            .and_then(|n| n.parse::<u32>().ok())
        {
            self.capture_window(xid)
        } else {
            Err(XFail::Gone)
        };
        result.map_err(|e| e.for_source(source_id))
    }

    /// Nothing was drawn into the source since this backend last grabbed
    /// it (for the desktop and monitors: nothing outside the console's own
    /// windows), by the Damage extension.
    fn unchanged(&mut self, source_id: &str) -> bool {
        self.drain_events();
        self.damage_says_unchanged(source_id)
    }

    fn own_regions(&mut self, source_id: &str, _picture: (u32, u32)) -> Vec<[u32; 4]> {
        self.drain_events();
        self.own_regions_in(source_id)
    }
}

impl Drop for X11Backend {
    fn drop(&mut self) {
        // The server frees all of a client's resources when it disconnects;
        // doing it here too keeps the order explicit and the log quiet.
        self.release_redirects();
        self.damage.release(&self.conn);
        self.grabber.release(&self.conn);
        let _ = self.conn.flush();
    }
}

/// What still works on an X server without MIT-SHM or Composite, said
/// once when the backend starts (capture itself goes on).
fn log_degraded(grabber: &Grabber, composite: bool) {
    if let Some(why) = grabber.fallback_reason() {
        tracing::info!(target: "roomshare::capture", "x11: grabbing with core GetImage ({why}): everything works, each grab costs more");
    }
    if !composite {
        tracing::warn!(target: "roomshare::capture", "x11: no Composite extension: a covered window captures what covers it");
    }
}
