//! Test harness for real X11 capture: an `Xvfb` server and an `openbox`
//! window manager started by pid (and killed by pid on drop), and helpers to
//! make real solid-colour windows with x11rb.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

// The includer provides `wait` (`support/wait.rs`), as its own module or
// through `support`: a file loaded twice is one module too many.
use super::wait::{try_wait_until, wait_until};

/// A private X display with a window manager. Dropping it kills exactly the
/// two processes it started.
pub struct XServer {
    pub display: String,
    xvfb: Child,
    wm: Option<Child>,
}

impl XServer {
    /// Start `Xvfb` on a free display number derived from our pid, then
    /// `openbox` on it, and wait until the WM announces itself (EWMH).
    pub fn start(width: u32, height: u32) -> Result<XServer, String> {
        let pid = std::process::id();
        for k in 0..40 {
            let n = 200 + (pid + k * 7) % 700;
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let mut xvfb = Command::new("Xvfb")
                .args([
                    &display,
                    "-screen",
                    "0",
                    &format!("{width}x{height}x24"),
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start Xvfb (apt-get install xvfb): {e}"))?;
            // Up means *our* Xvfb serves the display: another process that
            // won the race for this number answers connections too, but its
            // pid is the one in the lock file.
            let ours = xvfb.id();
            let lock = format!("/tmp/.X{n}-lock");
            let owner = || {
                std::fs::read_to_string(&lock)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok())
            };
            let up = try_wait_until(Duration::from_secs(10), "Xvfb", || {
                (owner() == Some(ours) && x11rb::connect(Some(&display)).is_ok())
                    || xvfb.try_wait().ok().flatten().is_some()
                    || owner().is_some_and(|p| p != ours)
            });
            if up.is_err() || xvfb.try_wait().ok().flatten().is_some() || owner() != Some(ours) {
                // Lost a race for this display number: try another.
                let _ = xvfb.kill();
                let _ = xvfb.wait();
                continue;
            }
            let mut server = XServer {
                display,
                xvfb,
                wm: None,
            };
            let wm = Command::new("openbox")
                .env("DISPLAY", &server.display)
                .env_remove("WAYLAND_DISPLAY")
                .env_remove("XDG_SESSION_TYPE")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start openbox (apt-get install openbox): {e}"))?;
            server.wm = Some(wm);
            let (conn, screen) =
                x11rb::connect(Some(&server.display)).map_err(|e| e.to_string())?;
            let root = conn.setup().roots[screen].root;
            let ready = try_wait_until(Duration::from_secs(10), "openbox", || {
                let atom = intern(&conn, "_NET_SUPPORTING_WM_CHECK");
                conn.get_property(false, root, atom, AtomEnum::WINDOW, 0, 1)
                    .ok()
                    .and_then(|c| c.reply().ok())
                    .is_some_and(|r| r.value_len > 0)
            });
            if ready.is_err() {
                return Err("openbox did not start (no _NET_SUPPORTING_WM_CHECK)".into());
            }
            // openbox announces itself before its event loop runs; map
            // requests sent in that gap can be lost (see `XClient::remap`).
            std::thread::sleep(Duration::from_millis(500));
            return Ok(server);
        }
        Err("no free X display number".into())
    }
}

impl Drop for XServer {
    fn drop(&mut self) {
        if let Some(mut wm) = self.wm.take() {
            stop(&mut wm);
        }
        stop(&mut self.xvfb);
    }
}

/// End a child we started, by its pid: SIGTERM first, so that Xvfb removes
/// its socket and lock file (after SIGKILL they stay in /tmp and later runs
/// skip those display numbers), SIGKILL if it has not exited after 5 s.
fn stop(child: &mut Child) {
    if matches!(child.try_wait(), Ok(None)) {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let exited = || !matches!(child.try_wait(), Ok(None));
        if try_wait_until(Duration::from_secs(5), "the child to exit", exited).is_ok() {
            return;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

pub fn intern(conn: &RustConnection, name: &str) -> u32 {
    conn.intern_atom(false, name.as_bytes())
        .ok()
        .and_then(|c| c.reply().ok())
        .map_or(0, |r| r.atom)
}

/// What a test window looks like.
pub struct WindowSpec<'a> {
    pub title: &'a str,
    pub rgb: [u8; 3],
    pub x: i16,
    pub y: i16,
    pub width: u16,
    pub height: u16,
    /// `_NET_WM_PID` to announce (None: not set).
    pub pid: Option<u32>,
    /// Ask the WM to map it minimized (WM_HINTS initial_state Iconic).
    pub iconic: bool,
}

impl<'a> WindowSpec<'a> {
    /// A plain solid-colour, normal window (no pid, not minimised).
    pub fn solid(title: &'a str, rgb: [u8; 3], x: i16, y: i16, width: u16, height: u16) -> Self {
        WindowSpec {
            title,
            rgb,
            x,
            y,
            width,
            height,
            pid: None,
            iconic: false,
        }
    }
}

/// Whether `tool` is on the PATH (tests assert it: a missing tool is a
/// failure, never a silent pass).
pub fn have_tool(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A client connection that owns test windows.
pub struct XClient {
    pub conn: RustConnection,
    pub root: u32,
}

impl XClient {
    pub fn connect(display: &str) -> XClient {
        let (conn, screen) = x11rb::connect(Some(display)).expect("connect to Xvfb");
        let root = conn.setup().roots[screen].root;
        XClient { conn, root }
    }

    /// Create and map a solid-colour window; returns its X id.
    pub fn window(&self, spec: &WindowSpec) -> u32 {
        let c = &self.conn;
        let win = c.generate_id().expect("xid");
        let [r, g, b] = spec.rgb;
        let pixel = u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b);
        c.create_window(
            x11rb::COPY_DEPTH_FROM_PARENT,
            win,
            self.root,
            spec.x,
            spec.y,
            spec.width,
            spec.height,
            0,
            WindowClass::INPUT_OUTPUT,
            0,
            &CreateWindowAux::new()
                .background_pixel(pixel)
                .event_mask(EventMask::EXPOSURE | EventMask::STRUCTURE_NOTIFY),
        )
        .expect("create_window");
        self.set_title(win, spec.title);
        c.change_property8(
            PropMode::REPLACE,
            win,
            AtomEnum::WM_CLASS,
            AtomEnum::STRING,
            b"capturetest\0CaptureTest\0",
        )
        .expect("WM_CLASS");
        if let Some(pid) = spec.pid {
            let atom = intern(c, "_NET_WM_PID");
            c.change_property32(PropMode::REPLACE, win, atom, AtomEnum::CARDINAL, &[pid])
                .expect("_NET_WM_PID");
        }
        // Program-specified position and size, so openbox keeps the layout.
        let (x, y) = (spec.x as u32, spec.y as u32);
        let mut normal = [0u32; 18];
        normal[0] = 1 | 2 | 4 | 8; // USPosition | USSize | PPosition | PSize
        normal[1] = x;
        normal[2] = y;
        normal[3] = u32::from(spec.width);
        normal[4] = u32::from(spec.height);
        c.change_property32(
            PropMode::REPLACE,
            win,
            AtomEnum::WM_NORMAL_HINTS,
            AtomEnum::WM_SIZE_HINTS,
            &normal,
        )
        .expect("WM_NORMAL_HINTS");
        if spec.iconic {
            // flags = StateHint, initial_state = IconicState (3).
            let hints = [2u32, 0, 3, 0, 0, 0, 0, 0, 0];
            c.change_property32(
                PropMode::REPLACE,
                win,
                AtomEnum::WM_HINTS,
                AtomEnum::WM_HINTS,
                &hints,
            )
            .expect("WM_HINTS");
        }
        c.map_window(win).expect("map");
        c.flush().expect("flush");
        win
    }

    pub fn set_title(&self, win: u32, title: &str) {
        let c = &self.conn;
        let net_wm_name = intern(c, "_NET_WM_NAME");
        let utf8 = intern(c, "UTF8_STRING");
        c.change_property8(PropMode::REPLACE, win, net_wm_name, utf8, title.as_bytes())
            .expect("_NET_WM_NAME");
        c.change_property8(
            PropMode::REPLACE,
            win,
            AtomEnum::WM_NAME,
            AtomEnum::STRING,
            title.as_bytes(),
        )
        .expect("WM_NAME");
        c.flush().expect("flush");
    }

    /// Ask again to map windows the WM has not managed yet.
    pub fn remap(&self, wins: &[u32]) {
        for &w in wins {
            let _ = self.conn.map_window(w);
        }
        let _ = self.conn.flush();
    }

    pub fn destroy(&self, win: u32) {
        let _ = self.conn.destroy_window(win);
        let _ = self.conn.flush();
    }

    /// Wait until the WM manages every window of `wins` (in its client
    /// list), asking again to map the missing ones once a second: openbox
    /// can lose map requests sent while it starts. Panics after `timeout`.
    pub fn wait_managed(&self, wins: &[u32], timeout: Duration) {
        self.wait_managed_and(wins, timeout, || true);
    }

    /// [`XClient::wait_managed`], and until `also` holds (the windows
    /// viewable, say).
    pub fn wait_managed_and(&self, wins: &[u32], timeout: Duration, also: impl Fn() -> bool) {
        let mut last_remap = Instant::now();
        let what = format!("the window manager to manage the windows {wins:?}");
        wait_until(timeout, what, || {
            let list = self.client_list();
            let missing: Vec<u32> = wins.iter().copied().filter(|w| !list.contains(w)).collect();
            if missing.is_empty() && also() {
                return Ok(());
            }
            if last_remap.elapsed() > Duration::from_secs(1) {
                self.remap(&missing);
                last_remap = Instant::now();
            }
            Err(format!("client list {list:?}"))
        })
    }

    /// The WM's client list (bottom to top), to wait for windows to be managed.
    pub fn client_list(&self) -> Vec<u32> {
        let atom = intern(&self.conn, "_NET_CLIENT_LIST_STACKING");
        self.conn
            .get_property(false, self.root, atom, AtomEnum::WINDOW, 0, 1024)
            .ok()
            .and_then(|c| c.reply().ok())
            .and_then(|r| r.value32().map(|v| v.collect()))
            .unwrap_or_default()
    }
}

/// The most common colour of a picture, quantised to 32 levels per channel
/// and reported as the bucket's centre.
pub fn dominant_rgb(rgba: &[u8]) -> [u8; 3] {
    let mut counts = std::collections::HashMap::<[u8; 3], usize>::new();
    for p in rgba.chunks_exact(4) {
        *counts.entry([p[0] >> 3, p[1] >> 3, p[2] >> 3]).or_default() += 1;
    }
    let best = counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or([0; 3], |(c, _)| c);
    [best[0] << 3 | 4, best[1] << 3 | 4, best[2] << 3 | 4]
}

/// Colours within `tol` per channel.
pub fn close(a: [u8; 3], b: [u8; 3], tol: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tol)
}

/// Names of this process's threads (Linux), to check that workers ended.
pub fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                .map(|s| s.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

// ---- Helpers for the native X11 backend tests (tests/x11_backend.rs). ----

/// The colour of the [`XClient::pattern_window`] picture at `(x, y)`: every
/// channel different, so a channel swap or an offset shows.
pub fn pattern_rgb(x: u32, y: u32) -> [u8; 3] {
    [(x * 7) as u8, (y * 5) as u8, ((x + 2 * y) * 3) as u8]
}

/// Fraction of the pixels of an RGBA picture within `tol` of `rgb`.
pub fn share_of(rgba: &[u8], rgb: [u8; 3], tol: u8) -> f64 {
    let n = rgba.len() / 4;
    let hits = rgba
        .chunks_exact(4)
        .filter(|p| close([p[0], p[1], p[2]], rgb, tol))
        .count();
    if n == 0 { 0.0 } else { hits as f64 / n as f64 }
}

impl XClient {
    /// A round trip: every request sent so far on this connection has been
    /// processed by the server when this returns.
    pub fn sync(&self) {
        let _ = self
            .conn
            .get_input_focus()
            .ok()
            .and_then(|c| c.reply().ok());
    }

    /// An unmanaged (override-redirect) solid window at exactly this place,
    /// with no frame: the WM never moves or decorates it.
    pub fn override_window(&self, rgb: [u8; 3], x: i16, y: i16, width: u16, height: u16) -> u32 {
        let c = &self.conn;
        let win = c.generate_id().expect("xid");
        let [r, g, b] = rgb;
        let pixel = u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b);
        c.create_window(
            x11rb::COPY_DEPTH_FROM_PARENT,
            win,
            self.root,
            x,
            y,
            width,
            height,
            0,
            WindowClass::INPUT_OUTPUT,
            0,
            &CreateWindowAux::new()
                .background_pixel(pixel)
                .override_redirect(1),
        )
        .expect("create_window");
        c.map_window(win).expect("map");
        c.flush().expect("flush");
        win
    }

    /// Like [`XClient::window`], but painted (by the server, from a
    /// background pixmap) with [`pattern_rgb`] instead of a solid colour.
    pub fn pattern_window(&self, spec: &WindowSpec) -> u32 {
        let win = self.window(spec);
        let pixmap = self.pattern_pixmap(spec.width, spec.height);
        let aux =
            x11rb::protocol::xproto::ChangeWindowAttributesAux::new().background_pixmap(pixmap);
        self.conn
            .change_window_attributes(win, &aux)
            .expect("background_pixmap");
        let _ = self.conn.free_pixmap(pixmap);
        // Repaint now if it is already mapped; otherwise the map paints it.
        let _ = self.conn.clear_area(false, win, 0, 0, 0, 0);
        self.conn.flush().expect("flush");
        win
    }

    fn pattern_pixmap(&self, width: u16, height: u16) -> u32 {
        let c = &self.conn;
        let depth = c.setup().roots[0].root_depth;
        let pixmap = c.generate_id().expect("xid");
        c.create_pixmap(depth, pixmap, self.root, width, height)
            .expect("create_pixmap");
        let gc = c.generate_id().expect("xid");
        c.create_gc(gc, pixmap, &x11rb::protocol::xproto::CreateGCAux::new())
            .expect("create_gc");
        // Z-pixmap, 32 bits per pixel, LSBFirst (Xvfb on x86): B, G, R, X.
        let rows_per_chunk = (60_000 / (usize::from(width) * 4)).max(1);
        for y0 in (0..usize::from(height)).step_by(rows_per_chunk) {
            let rows = rows_per_chunk.min(usize::from(height) - y0);
            let mut data = Vec::with_capacity(rows * usize::from(width) * 4);
            for y in y0..y0 + rows {
                for x in 0..usize::from(width) {
                    let [r, g, b] = pattern_rgb(x as u32, y as u32);
                    data.extend_from_slice(&[b, g, r, 0]);
                }
            }
            c.put_image(
                x11rb::protocol::xproto::ImageFormat::Z_PIXMAP,
                pixmap,
                gc,
                width,
                rows as u16,
                0,
                y0 as i16,
                0,
                depth,
                &data,
            )
            .expect("put_image");
        }
        let _ = c.free_gc(gc);
        pixmap
    }

    /// Ask the WM to minimise a window (ICCCM `WM_CHANGE_STATE` IconicState).
    pub fn iconify(&self, win: u32) {
        let atom = intern(&self.conn, "WM_CHANGE_STATE");
        let event =
            x11rb::protocol::xproto::ClientMessageEvent::new(32, win, atom, [3u32, 0, 0, 0, 0]);
        let _ = self.conn.send_event(
            false,
            self.root,
            EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY,
            event,
        );
        let _ = self.conn.flush();
    }

    /// Map a window again (the WM restores a minimised one on map).
    pub fn deiconify(&self, win: u32) {
        let _ = self.conn.map_window(win);
        let _ = self.conn.flush();
    }

    /// Ask for a new position and size of a (managed) window.
    pub fn move_resize(&self, win: u32, x: i32, y: i32, width: u32, height: u32) {
        let aux = x11rb::protocol::xproto::ConfigureWindowAux::new()
            .x(x)
            .y(y)
            .width(width)
            .height(height);
        let _ = self.conn.configure_window(win, &aux);
        let _ = self.conn.flush();
    }

    /// Whether a window is viewable (mapped, and all its ancestors too).
    pub fn viewable(&self, win: u32) -> bool {
        self.conn
            .get_window_attributes(win)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|a| a.map_state == x11rb::protocol::xproto::MapState::VIEWABLE)
    }

    /// A window's top-left corner (inside its border) on the root.
    pub fn root_origin(&self, win: u32) -> Option<(i32, i32)> {
        self.conn
            .translate_coordinates(win, self.root, 0, 0)
            .ok()
            .and_then(|c| c.reply().ok())
            .map(|r| (i32::from(r.dst_x), i32::from(r.dst_y)))
    }

    /// The colour on screen at a root position (core GetImage of one pixel).
    pub fn root_pixel(&self, x: i16, y: i16) -> Option<[u8; 3]> {
        let reply = self
            .conn
            .get_image(
                x11rb::protocol::xproto::ImageFormat::Z_PIXMAP,
                self.root,
                x,
                y,
                1,
                1,
                !0,
            )
            .ok()?
            .reply()
            .ok()?;
        let p = reply.data.get(..4)?;
        Some([p[2], p[1], p[0]])
    }
}

// ---- Helpers for the real-capture tests (tests/capture_real*.rs). ----

/// Run `xrandr ARGS` against `display`; a missing `xrandr` is an error with
/// the package to install, a failing one an error with its stderr.
pub fn xrandr(display: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("xrandr")
        .args(args)
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run xrandr (apt-get install x11-xserver-utils): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "xrandr {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The RandR outputs `xrandr` reports as connected (Xvfb has one, "screen").
pub fn connected_outputs(display: &str) -> Result<Vec<String>, String> {
    Ok(xrandr(display, &[])?
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("connected"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect())
}

impl XClient {
    /// Repaint a window in another solid colour (background and clear).
    pub fn set_background(&self, win: u32, rgb: [u8; 3]) {
        let [r, g, b] = rgb;
        let pixel = u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b);
        let aux = x11rb::protocol::xproto::ChangeWindowAttributesAux::new().background_pixel(pixel);
        let _ = self.conn.change_window_attributes(win, &aux);
        let _ = self.conn.clear_area(false, win, 0, 0, 0, 0);
        let _ = self.conn.flush();
    }
}

/// A TCP port free on loopback now, for a child to listen on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Run `xdotool` on `display`; its output, trimmed, when it succeeded.
pub fn xdotool(display: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
