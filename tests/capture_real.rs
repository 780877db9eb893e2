//! Real capture end to end on a private Xvfb + openbox with **no
//! compositing manager** (where reading the screen, as xcap does, gets
//! covered and off-screen windows wrong):
//! - the real binary's `roomshare sources --sources real` and
//!   `roomshare snap … --sources real` (pointed at the test's display
//!   through the child's `DISPLAY`) on a covered window, a window half off
//!   the right edge, and two monitors made with `xrandr --setmonitor`;
//! - the thumbnailer on the X11 backend when a window is destroyed between
//!   the catalog listing it and the thumbnailer grabbing it.
//!
//! (`capture_real_served.rs` drives `roomshare serve --sources real` over
//! WebSockets: the engine's view of shared, closed and renamed windows.)
//!
//! Every test starts its own X server and kills exactly what it started.
//! Nothing sleeps before an assert: every wait polls under a deadline.
#![cfg(all(target_os = "linux", not(target_env = "ohos")))]

#[path = "support/wait.rs"]
mod wait;
#[path = "support/capture_x11.rs"]
mod x11;

use roomshare::capture::x11::X11Backend;
use roomshare::capture::{Backend, BackendFactory, Capture, CaptureError, CaptureOptions};
use roomshare::engine::{EngineHandle, RoomConfig};
use roomshare::media::ThumbnailState;
use roomshare::protocol::SourceInfo;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wait::{try_wait_until, wait_until};
use x11::{WindowSpec, XClient, XServer, close, dominant_rgb, share_of};
use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::ConnectionExt as _;

const BIN: &str = env!("CARGO_BIN_EXE_roomshare");
const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 40];
const BLUE: [u8; 3] = [40, 60, 220];
const YELLOW: [u8; 3] = [230, 210, 20];
const MAGENTA: [u8; 3] = [200, 40, 190];
const DEADLINE: Duration = Duration::from_secs(20);

/// One private X server with openbox, and a client that owns test windows.
/// Field order matters: the client disconnects before the server dies.
struct Env {
    x: XClient,
    server: XServer,
    dir: tempfile::TempDir,
}

/// Starting servers one at a time keeps two tests of this binary from
/// racing for the same display number.
static START: Mutex<()> = Mutex::new(());

fn env(width: u32, height: u32) -> Env {
    let _one_at_a_time = START.lock().unwrap_or_else(|p| p.into_inner());
    let server = XServer::start(width, height).unwrap_or_else(|e| {
        panic!("{e} (the real-capture tests need Xvfb and openbox: apt-get install xvfb openbox)")
    });
    let x = XClient::connect(&server.display);
    let dir = tempfile::tempdir().expect("a temporary directory");
    Env { x, server, dir }
}

/// Wait until openbox manages `wins` and shows them.
fn managed(x: &XClient, wins: &[u32]) {
    x.wait_managed_and(wins, DEADLINE, || wins.iter().all(|w| x.viewable(*w)));
}

fn window_id(win: u32) -> String {
    X11Backend::window_id(win)
}

// ------------------------------------------------------------ the binary

/// Run the real binary against the test's display (its own environment:
/// `DISPLAY` set, no Wayland variables), killed by its handle if it hangs.
fn roomshare(display: &str, args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("XDG_SESSION_TYPE")
        .env("ROOMSHARE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn roomshare");
    let finished = || !matches!(child.try_wait(), Ok(None));
    if let Err(e) = try_wait_until(
        Duration::from_secs(60),
        format!("roomshare {args:?}"),
        finished,
    ) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{e} to finish");
    }
    let out = child.wait_with_output().expect("roomshare output");
    assert!(
        out.status.success(),
        "roomshare {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One row of `roomshare sources`.
#[derive(Debug, Clone)]
struct Row {
    index: Option<u32>,
    kind: String,
    id: String,
    title: String,
    size: String,
    state: String,
}

/// `roomshare sources --sources real`, parsed by the header's columns.
fn sources(display: &str) -> Vec<Row> {
    let out = roomshare(display, &["sources", "--sources", "real"]);
    let text = String::from_utf8(out.stdout).expect("UTF-8 table");
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let names = ["INDEX", "KIND", "ID", "TITLE", "APP", "SIZE", "STATE"];
    let starts: Vec<usize> = names
        .iter()
        .map(|n| {
            let byte = header
                .find(n)
                .unwrap_or_else(|| panic!("no {n} in {header:?}"));
            header[..byte].chars().count()
        })
        .collect();
    lines
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            let cell = |i: usize| -> String {
                let from = starts[i].min(chars.len());
                let to = starts
                    .get(i + 1)
                    .map_or(chars.len(), |&e| e.min(chars.len()));
                chars[from..to]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string()
            };
            Row {
                index: cell(0).parse().ok(),
                kind: cell(1),
                id: cell(2),
                title: cell(3),
                size: cell(5),
                state: cell(6),
            }
        })
        .collect()
}

fn row<'a>(rows: &'a [Row], id: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{id} not listed: {rows:#?}"))
}

/// `roomshare snap SOURCE -o DIR/NAME.png --sources real`, read back.
fn snap(e: &Env, source: &str, name: &str) -> image::RgbaImage {
    let path = e.dir.path().join(format!("{name}.png"));
    let out = roomshare(
        &e.server.display,
        &["snap", source, "-o", path_str(&path), "--sources", "real"],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(path_str(&path)), "snap said {said:?}");
    image::open(&path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .to_rgba8()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

fn assert_mostly(img: &image::RgbaImage, rgb: [u8; 3], what: &str) {
    let share = share_of(img.as_raw(), rgb, 12);
    assert!(
        share > 0.99,
        "{what}: only {:.1}% of {}x{} pixels are {rgb:?} (dominant {:?})",
        share * 100.0,
        img.width(),
        img.height(),
        dominant_rgb(img.as_raw())
    );
}

// ------------------------------------------------------------ CLI tests

#[test]
fn snap_of_a_covered_window_is_its_own_colour() {
    let e = env(1280, 1024);
    let red =
        e.x.window(&WindowSpec::solid("Covered Red", RED, 100, 100, 400, 300));
    managed(&e.x, &[red]);
    let blue =
        e.x.window(&WindowSpec::solid("Cover Blue", BLUE, 150, 150, 400, 300));
    managed(&e.x, &[red, blue]);
    // Proof that red really is covered: the screen shows blue inside it.
    let (rx, ry) = e.x.root_origin(red).expect("red's origin");
    let inside = ((rx + 300) as i16, (ry + 250) as i16);
    wait_until(DEADLINE, "blue over red on the screen", || {
        e.x.root_pixel(inside.0, inside.1)
            .is_some_and(|p| close(p, BLUE, 12))
    });

    let rows = sources(&e.server.display);
    let r = row(&rows, &window_id(red));
    assert_eq!(
        (r.kind.as_str(), r.title.as_str(), r.size.as_str()),
        ("window", "Covered Red", "400x300")
    );
    assert_eq!(r.state, "ok (400x300)");
    let index = r.index.expect("a window has a select_index");
    // By select_index and by id: the covered window's own pixels, whole.
    for (source, name) in [(index.to_string(), "by-index"), (window_id(red), "by-id")] {
        let img = snap(&e, &source, name);
        assert_eq!(img.dimensions(), (400, 300), "{name}");
        assert_mostly(&img, RED, &format!("covered window, snap {name}"));
    }
    let cover = snap(&e, &window_id(blue), "cover");
    assert_mostly(&cover, BLUE, "the cover");
    // Capturing changed nothing on the screen.
    assert!(
        e.x.root_pixel(inside.0, inside.1)
            .is_some_and(|p| close(p, BLUE, 12))
    );
}

#[test]
fn a_window_half_off_the_right_edge_is_listed_and_snapped_whole() {
    let e = env(1280, 1024);
    let green =
        e.x.window(&WindowSpec::solid("Half Off", GREEN, 100, 200, 600, 300));
    managed(&e.x, &[green]);
    // openbox keeps new windows on screen; a client's own move request may
    // take it past the edge.
    e.x.move_resize(green, 980, 200, 600, 300);
    wait_until(DEADLINE, "the window half off the right edge", || {
        e.x.root_origin(green).is_some_and(|(x, _)| x >= 900)
    });
    let (x, _) = e.x.root_origin(green).expect("origin");
    assert!(x + 600 > 1280, "not past the edge: x = {x}");

    let rows = sources(&e.server.display);
    let r = row(&rows, &window_id(green));
    assert_eq!(
        (r.kind.as_str(), r.title.as_str(), r.size.as_str()),
        ("window", "Half Off", "600x300")
    );
    assert_eq!(r.state, "ok (600x300)");
    let img = snap(&e, &window_id(green), "half-off");
    assert_eq!(img.dimensions(), (600, 300));
    assert_mostly(&img, GREEN, "the window half off the screen");
}

#[test]
fn two_xrandr_monitors_are_indices_1_and_2_and_each_snaps_its_half() {
    let e = env(1280, 1024);
    // Unmanaged windows paint exact halves: no WM frame or placement.
    let left = e.x.override_window(YELLOW, 0, 0, 640, 1024);
    let right = e.x.override_window(BLUE, 640, 0, 640, 1024);
    wait_until(DEADLINE, "both halves painted", || {
        e.x.viewable(left)
            && e.x.viewable(right)
            && e.x.root_pixel(10, 10).is_some_and(|p| close(p, YELLOW, 12))
            && e.x
                .root_pixel(1270, 1000)
                .is_some_and(|p| close(p, BLUE, 12))
    });
    let display = e.server.display.clone();
    let outputs = x11::connected_outputs(&display).unwrap_or_else(|err| panic!("{err}"));
    let output = outputs.first().expect("Xvfb has a connected output");
    // The left monitor takes Xvfb's output (so RandR no longer adds an
    // automatic monitor for it); the right one has none.
    for (name, geometry, out) in [
        ("LEFT-HALF", "640/169x1024/271+0+0", output.as_str()),
        ("RIGHT-HALF", "640/169x1024/271+640+0", "none"),
    ] {
        x11::xrandr(&display, &["--setmonitor", name, geometry, out])
            .unwrap_or_else(|err| panic!("{err}"));
    }
    let listed = x11::xrandr(&display, &["--listmonitors"]).unwrap_or_else(|err| panic!("{err}"));
    assert!(listed.starts_with("Monitors: 2"), "{listed}");

    let rows = sources(&display);
    let desktop = rows.iter().find(|r| r.index == Some(0)).expect("index 0");
    assert_eq!(
        (
            desktop.kind.as_str(),
            desktop.id.as_str(),
            desktop.size.as_str()
        ),
        ("desktop", "desktop", "1280x1024")
    );
    let monitors: Vec<(Option<u32>, &str, &str)> = rows
        .iter()
        .filter(|r| r.kind == "monitor")
        .map(|r| (r.index, r.id.as_str(), r.size.as_str()))
        .collect();
    assert_eq!(
        monitors,
        [
            (Some(1), "monitor:LEFT-HALF", "640x1024"),
            (Some(2), "monitor:RIGHT-HALF", "640x1024")
        ],
        "{rows:#?}"
    );
    for (index, rgb) in [(1, YELLOW), (2, BLUE)] {
        let img = snap(&e, &index.to_string(), &format!("monitor-{index}"));
        assert_eq!(img.dimensions(), (640, 1024), "monitor {index}");
        assert_mostly(&img, rgb, &format!("monitor {index}"));
    }
    // The desktop is both halves.
    let whole = snap(&e, "0", "desktop");
    assert_eq!(whole.dimensions(), (1280, 1024));
    let half = |x0: u32| {
        image::imageops::crop_imm(&whole, x0, 0, 640, 1024)
            .to_image()
            .into_raw()
    };
    assert!(share_of(&half(0), YELLOW, 12) > 0.99);
    assert!(share_of(&half(640), BLUE, 12) > 0.99);
}

// ------------------------------------------------------------ thumbnailer

/// The X11 backend, with a trap: the first grab of the armed window
/// destroys it first (and waits until the server has), i.e. the window is
/// destroyed after the catalog listed it and before the thumbnailer grabs
/// it. From then on the catalog's listings wait until the test lets them
/// go, so the dead window stays in the catalog and the test can read its
/// tile (and the others') for as long as it likes, with no race against
/// the next listing.
struct Trapped {
    inner: X11Backend,
    trap: Arc<Trap>,
}

struct Trap {
    display: String,
    armed: Mutex<Option<u32>>,
    /// What the grab of the destroyed window returned.
    sprung: Mutex<Option<Result<(u32, u32), CaptureError>>>,
    /// Listings wait while this is set (at most `DEADLINE`).
    hold_listing: AtomicBool,
}

impl Trap {
    /// Block the calling worker while the test holds listings.
    fn wait_while_held(&self) {
        let released = || !self.hold_listing.load(Ordering::SeqCst);
        let _ = try_wait_until(DEADLINE, "the test to release listings", released);
    }

    /// The armed window, if `source_id` is it (disarming the trap).
    fn take_victim(&self, source_id: &str) -> Option<u32> {
        let mut armed = self.armed.lock().unwrap();
        match *armed {
            Some(win) if window_id(win) == source_id => armed.take(),
            _ => None,
        }
    }
}

impl Backend for Trapped {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn list(&mut self) -> Result<Vec<SourceInfo>, CaptureError> {
        self.trap.wait_while_held();
        self.inner.list()
    }

    fn capture(&mut self, source_id: &str) -> Result<image::RgbaImage, CaptureError> {
        let Some(win) = self.trap.take_victim(source_id) else {
            return self.inner.capture(source_id);
        };
        self.trap.hold_listing.store(true, Ordering::SeqCst);
        let (conn, _) = x11rb::connect(Some(&self.trap.display)).expect("connect");
        conn.destroy_window(win)
            .expect("destroy")
            .check()
            .expect("destroyed");
        let result = self.inner.capture(source_id);
        *self.trap.sprung.lock().unwrap() = Some(
            result
                .as_ref()
                .map(|i| i.dimensions())
                .map_err(Clone::clone),
        );
        result
    }
}

fn tile_rgb(capture: &Capture, id: &str) -> Option<([u8; 3], u64)> {
    match capture.thumbnails.get(id) {
        ThumbnailState::Ready(t) => Some((dominant_rgb(&t.frame.rgba), t.seq)),
        _ => None,
    }
}

fn tile_reason(capture: &Capture, id: &str) -> Option<String> {
    match capture.thumbnails.get(id) {
        ThumbnailState::Unavailable(why) => Some(why),
        _ => None,
    }
}

/// The capture workers on the trapped X11 backend, thumbnails every 100 ms.
fn trapped_capture(display: &str, trap: &Arc<Trap>, engine: &EngineHandle) -> Capture {
    let (display, t) = (display.to_string(), trap.clone());
    let factory: BackendFactory = Arc::new(move || {
        let inner = X11Backend::connect(Some(&display)).expect("the X11 backend");
        Box::new(Trapped {
            inner,
            trap: t.clone(),
        }) as Box<dyn Backend>
    });
    let options = CaptureOptions {
        thumbnail_interval: Duration::from_millis(100),
        ..CaptureOptions::default()
    };
    Capture::start_with(factory, engine.clone(), options, Arc::new(|| {}))
}

/// Repaint `win` in each colour in turn and wait for its tile to follow.
fn assert_tile_follows(e: &Env, capture: &Capture, win: u32, colours: &[[u8; 3]]) {
    for &rgb in colours {
        let (_, seq) = tile_rgb(capture, &window_id(win)).expect("a ready tile");
        e.x.set_background(win, rgb);
        wait_until(
            DEADLINE,
            format!("the tile of {win:#x} turning {rgb:?}"),
            || {
                tile_rgb(capture, &window_id(win))
                    .is_some_and(|(c, s)| close(c, rgb, 12) && s > seq)
            },
        );
    }
}

#[test]
fn a_window_destroyed_between_listing_and_grab_is_handled_and_other_tiles_refresh() {
    let e = env(1280, 1024);
    let keeper =
        e.x.window(&WindowSpec::solid("Keeper", BLUE, 40, 40, 300, 200));
    let doomed =
        e.x.window(&WindowSpec::solid("Doomed", RED, 400, 40, 300, 200));
    let other =
        e.x.window(&WindowSpec::solid("Other", GREEN, 760, 40, 300, 200));
    managed(&e.x, &[keeper, doomed, other]);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let _in_rt = rt.enter();
    let engine = EngineHandle::spawn(RoomConfig {
        initial_sources: vec![],
        ..RoomConfig::default()
    });
    let trap = Arc::new(Trap {
        display: e.server.display.clone(),
        armed: Mutex::new(None),
        sprung: Mutex::new(None),
        hold_listing: AtomicBool::new(false),
    });
    let capture = trapped_capture(&e.server.display, &trap, &engine);
    assert_eq!(capture.backend_name, "x11");
    for (win, rgb) in [(keeper, BLUE), (doomed, RED), (other, GREEN)] {
        wait_until(DEADLINE, format!("the tile of {win:#x}"), || {
            tile_rgb(&capture, &window_id(win)).is_some_and(|(c, _)| close(c, rgb, 12))
        });
    }

    // The catalog has listed it; the next thumbnail grab finds it destroyed.
    *trap.armed.lock().unwrap() = Some(doomed);
    wait_until(DEADLINE, "the trap sprung", || {
        trap.sprung.lock().unwrap().is_some()
    });
    let sprung = trap.sprung.lock().unwrap().clone().expect("sprung");
    match sprung {
        Err(CaptureError::Gone(id)) => assert_eq!(id, window_id(doomed)),
        other => panic!("the destroyed window's grab: expected Gone, got {other:?}"),
    }
    // Still in the catalog (listings are held): its tile says why...
    let doomed_id = window_id(doomed);
    wait_until(DEADLINE, "the destroyed window's tile reason", || {
        tile_reason(&capture, &doomed_id).is_some()
    });
    let why = tile_reason(&capture, &doomed_id).expect("a reason");
    assert_eq!(why, "\"Doomed\" was closed", "the tile's reason");
    println!("the destroyed window's tile: {why:?}");
    // ...and the other tiles keep refreshing meanwhile.
    assert_tile_follows(&e, &capture, keeper, &[YELLOW, MAGENTA]);
    assert!(tile_reason(&capture, &doomed_id).is_some_and(|w| w == why));

    // The next listing drops it: its tile goes, and the engine's list too.
    trap.hold_listing.store(false, Ordering::SeqCst);
    wait_until(DEADLINE, "the destroyed window's tile removed", || {
        matches!(capture.thumbnails.get(&doomed_id), ThumbnailState::Pending)
    });
    wait_until(DEADLINE, "the engine's list without it", || {
        !engine
            .snapshot()
            .borrow()
            .sources
            .iter()
            .any(|s| s.id == doomed_id)
    });
    assert_tile_follows(&e, &capture, keeper, &[BLUE]);
    assert!(tile_rgb(&capture, &window_id(other)).is_some_and(|(c, _)| close(c, GREEN, 12)));
    assert!(matches!(
        capture.thumbnails.get("desktop"),
        ThumbnailState::Ready(_)
    ));
    drop(capture);
    e.x.conn.flush().expect("flush");
}
