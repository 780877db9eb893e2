//! The native X11 backend (`roomshare::capture::x11`) against a real Xvfb +
//! openbox with **no compositing manager**: covered and off-screen windows,
//! RandR monitors, the desktop, closing / renaming / minimising windows,
//! windows vanishing mid-grab, and SHM vs core `GetImage`.
//!
//! Every test starts its own X server (the harness picks a free display and
//! kills exactly what it started), so tests run in parallel without seeing
//! each other's windows. Nothing sleeps before an assert: every wait polls a
//! condition with a deadline.
#![cfg(all(target_os = "linux", not(target_env = "ohos")))]

#[path = "support/wait.rs"]
mod wait;
#[path = "support/capture_x11.rs"]
mod x11;

use roomshare::capture::x11::{X11Backend, X11Options, X11Source};
use roomshare::capture::{Backend, CaptureError};
use roomshare::protocol::SourceKind;
use std::sync::Mutex;
use std::time::Duration;
use wait::wait_until;
use x11::{WindowSpec, XClient, XServer, close, pattern_rgb, share_of};
use x11rb::connection::Connection as _;
use x11rb::protocol::randr::{ConnectionExt as _, MonitorInfo};

const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 40];
const BLUE: [u8; 3] = [40, 60, 220];
const YELLOW: [u8; 3] = [230, 210, 20];
const DEADLINE: Duration = Duration::from_secs(15);

/// One private X server with openbox, and a client that owns test windows.
/// Field order matters: the client disconnects before the server dies.
struct Env {
    x: XClient,
    server: XServer,
}

/// Starting servers one at a time keeps two tests of this binary from
/// racing for the same display number.
static START: Mutex<()> = Mutex::new(());

fn env(width: u32, height: u32) -> Env {
    let _one_at_a_time = START.lock().unwrap_or_else(|p| p.into_inner());
    let server = XServer::start(width, height).unwrap_or_else(|e| {
        panic!("{e} (the X11 backend tests need Xvfb and openbox: apt-get install xvfb openbox)")
    });
    let x = XClient::connect(&server.display);
    Env { x, server }
}

impl Env {
    fn backend(&self) -> X11Backend {
        X11Backend::connect(Some(&self.server.display)).expect("connect the X11 backend")
    }

    fn core_backend(&self) -> X11Backend {
        X11Backend::with_options(Some(&self.server.display), X11Options { use_shm: false })
            .expect("connect the X11 backend (core GetImage)")
    }
}

/// Wait until openbox manages `wins` (asking again to map those it missed:
/// see `XClient::remap`) and those not minimised are viewable.
fn managed(x: &XClient, wins: &[u32], iconic: &[u32]) {
    x.wait_managed_and(wins, DEADLINE, || {
        wins.iter().all(|w| iconic.contains(w) || x.viewable(*w))
    });
}

fn id(win: u32) -> String {
    X11Backend::window_id(win)
}

fn listed(b: &mut X11Backend, id: &str) -> Option<X11Source> {
    b.list_detailed()
        .expect("list_detailed")
        .into_iter()
        .find(|s| s.info.id == id)
}

/// Poll the listing until `f` holds for source `id` (None: not listed).
fn wait_listing(b: &mut X11Backend, what: &str, id: &str, f: impl Fn(Option<&X11Source>) -> bool) {
    wait_until(DEADLINE, what, || f(listed(b, id).as_ref()));
}

fn assert_mostly(img: &image::RgbaImage, rgb: [u8; 3], what: &str) {
    let share = share_of(img.as_raw(), rgb, 12);
    assert!(
        share > 0.99,
        "{what}: only {:.1}% of {}x{} pixels are {rgb:?} (dominant {:?})",
        share * 100.0,
        img.width(),
        img.height(),
        x11::dominant_rgb(img.as_raw())
    );
}

#[test]
fn a_covered_window_is_captured_with_its_own_pixels() {
    let e = env(1280, 1024);
    let red =
        e.x.window(&WindowSpec::solid("Covered Red", RED, 100, 100, 400, 300));
    managed(&e.x, &[red], &[]);
    let blue =
        e.x.window(&WindowSpec::solid("Cover Blue", BLUE, 150, 150, 400, 300));
    managed(&e.x, &[red, blue], &[]);
    // Proof that red really is covered: the screen shows blue inside it.
    let (rx, ry) = e.x.root_origin(red).expect("red origin");
    let inside = ((rx + 300) as i16, (ry + 250) as i16);
    wait_until(DEADLINE, "blue over red on the screen", || {
        e.x.root_pixel(inside.0, inside.1)
            .is_some_and(|p| close(p, BLUE, 12))
    });

    let mut b = e.backend();
    let img = b.capture(&id(red)).expect("capture the covered window");
    assert_eq!(img.dimensions(), (400, 300));
    assert_mostly(&img, RED, "covered red window");
    // The cover still reads as itself, and the screen did not change.
    assert_mostly(&b.capture(&id(blue)).expect("capture blue"), BLUE, "blue");
    assert!(
        e.x.root_pixel(inside.0, inside.1)
            .is_some_and(|p| close(p, BLUE, 12))
    );
}

#[test]
fn a_window_half_off_the_right_edge_is_listed_and_captured_whole() {
    let e = env(1280, 1024);
    let green =
        e.x.window(&WindowSpec::solid("Half Off", GREEN, 100, 200, 600, 300));
    managed(&e.x, &[green], &[]);
    // Openbox keeps new windows on screen; a client's own move request may
    // take it past the edge.
    e.x.move_resize(green, 980, 200, 600, 300);
    wait_until(DEADLINE, "the window half off the right edge", || {
        e.x.root_origin(green).is_some_and(|(x, _)| x >= 900)
    });

    let mut b = e.backend();
    let src = listed(&mut b, &id(green)).expect("the half-off window is listed");
    assert_eq!((src.info.width, src.info.height), (600, 300));
    assert!(src.x + 600 > 1280, "not past the edge: x = {}", src.x);
    assert_eq!(src.minimized, None);
    let img = b.capture(&id(green)).expect("capture the half-off window");
    assert_eq!(img.dimensions(), (600, 300));
    assert_mostly(&img, GREEN, "half-off green window");
}

/// Define a RandR monitor with no outputs, as `xrandr --setmonitor NAME
/// WxH+X+Y none` does.
fn set_monitor(x: &XClient, name: &str, rect: (i16, i16, u16, u16)) {
    let atom = x11::intern(&x.conn, name);
    let info = MonitorInfo {
        name: atom,
        primary: false,
        automatic: false,
        x: rect.0,
        y: rect.1,
        width: rect.2,
        height: rect.3,
        width_in_millimeters: u32::from(rect.2) / 4,
        height_in_millimeters: u32::from(rect.3) / 4,
        outputs: vec![],
    };
    x.conn
        .randr_set_monitor(x.root, info)
        .expect("RRSetMonitor")
        .check()
        .expect("RRSetMonitor accepted");
}

#[test]
fn two_randr_monitors_are_listed_and_each_captures_its_half() {
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
    set_monitor(&e.x, "LEFT-HALF", (0, 0, 640, 1024));
    set_monitor(&e.x, "RIGHT-HALF", (640, 0, 640, 1024));
    e.x.conn.flush().expect("flush");

    let mut b = e.backend();
    let all = b.list_detailed().expect("list");
    for (name, x, rgb) in [("LEFT-HALF", 0, YELLOW), ("RIGHT-HALF", 640, BLUE)] {
        let mon_id = X11Backend::monitor_id(name);
        let m = all
            .iter()
            .find(|s| s.info.id == mon_id)
            .unwrap_or_else(|| panic!("{name} not listed: {all:#?}"));
        assert_eq!((m.x, m.y, m.info.width, m.info.height), (x, 0, 640, 1024));
        assert_eq!(
            (m.info.title.as_str(), m.info.app.as_str()),
            (name, "monitor")
        );
        assert_eq!(m.info.kind, SourceKind::Monitor);
        let img = b.capture(&mon_id).expect("capture the monitor");
        assert_eq!(img.dimensions(), (640, 1024));
        assert_mostly(&img, rgb, name);
    }
    // Xvfb's own output is a monitor too: every monitor is offered.
    assert!(all.iter().filter(|s| s.info.app == "monitor").count() >= 3);
    assert!(matches!(
        b.capture(&X11Backend::monitor_id("NO-SUCH")),
        Err(CaptureError::Gone(_))
    ));
}

#[test]
fn the_desktop_is_the_whole_root_window() {
    let e = env(1280, 1024);
    let red =
        e.x.window(&WindowSpec::solid("Desktop Red", RED, 200, 150, 300, 200));
    managed(&e.x, &[red], &[]);
    let mut b = e.backend();
    let all = b.list_detailed().expect("list");
    let d = &all[0];
    assert_eq!(d.info.id, "desktop");
    assert_eq!(d.info.kind, SourceKind::Desktop);
    assert_eq!((d.x, d.y, d.info.width, d.info.height), (0, 0, 1280, 1024));
    let img = b.capture("desktop").expect("capture the desktop");
    assert_eq!(img.dimensions(), (1280, 1024));
    // The window shows at its place on the desktop.
    let (x, y) = e.x.root_origin(red).expect("origin");
    let p = img.get_pixel((x + 150) as u32, (y + 100) as u32).0;
    assert!(close([p[0], p[1], p[2]], RED, 12), "desktop pixel {p:?}");
}

#[test]
fn a_closed_window_leaves_the_list_and_is_gone() {
    let e = env(1280, 1024);
    let red =
        e.x.window(&WindowSpec::solid("Soon Closed", RED, 100, 100, 300, 200));
    managed(&e.x, &[red], &[]);
    let mut b = e.backend();
    wait_listing(&mut b, "the window listed", &id(red), |s| s.is_some());
    assert_mostly(
        &b.capture(&id(red)).expect("capture"),
        RED,
        "before closing",
    );
    e.x.destroy(red);
    wait_listing(
        &mut b,
        "the closed window to leave the list",
        &id(red),
        |s| s.is_none(),
    );
    match b.capture(&id(red)) {
        Err(CaptureError::Gone(gone)) => assert_eq!(gone, id(red)),
        other => panic!("expected Gone, got {other:?}"),
    }
}

#[test]
fn a_renamed_window_shows_its_new_title() {
    let e = env(1280, 1024);
    let win =
        e.x.window(&WindowSpec::solid("Old Title", GREEN, 100, 100, 300, 200));
    managed(&e.x, &[win], &[]);
    let mut b = e.backend();
    wait_listing(&mut b, "the old title", &id(win), |s| {
        s.is_some_and(|s| s.info.title == "Old Title")
    });
    e.x.set_title(win, "New Title ✓");
    wait_listing(&mut b, "the new title", &id(win), |s| {
        s.is_some_and(|s| s.info.title == "New Title ✓")
    });
    let s = listed(&mut b, &id(win)).expect("listed");
    assert_eq!(s.info.app, "CaptureTest");
    assert_eq!(s.info.kind, SourceKind::Window);
}

#[test]
fn a_minimised_window_is_listed_with_a_reason_not_an_error() {
    let e = env(1280, 1024);
    let iconic = e.x.window(&WindowSpec {
        iconic: true,
        ..WindowSpec::solid("Born Minimised", RED, 100, 100, 300, 200)
    });
    let normal = e.x.window(&WindowSpec::solid(
        "Minimised Later",
        BLUE,
        500,
        100,
        300,
        200,
    ));
    managed(&e.x, &[iconic, normal], &[iconic]);
    let mut b = e.backend();
    wait_listing(&mut b, "the iconic window flagged", &id(iconic), |s| {
        s.is_some_and(|s| s.minimized.is_some())
    });
    let s = listed(&mut b, &id(iconic)).expect("listed");
    let reason = s.minimized.expect("a reason");
    assert!(reason.contains("minimised"), "reason: {reason}");
    assert_eq!((s.info.width, s.info.height), (300, 200));

    // Capturable first, then minimised at run time.
    assert_mostly(
        &b.capture(&id(normal)).expect("capture"),
        BLUE,
        "before minimising",
    );
    e.x.iconify(normal);
    wait_listing(
        &mut b,
        "the window minimised at run time",
        &id(normal),
        |s| s.is_some_and(|s| s.minimized.is_some()),
    );
    // Backend::list keeps minimised windows, with why they cannot be
    // captured; capturing one says why too.
    let plain = b.list().expect("list");
    for win in [iconic, normal] {
        let listed = plain.iter().find(|s| s.id == id(win));
        assert!(
            listed.is_some_and(|s| s.unavailable.is_some()),
            "{listed:?}"
        );
    }
    match b.capture(&id(normal)) {
        Err(CaptureError::Failed(why)) => assert!(why.contains("minimised"), "{why}"),
        other => panic!("expected a 'minimised' failure, got {other:?}"),
    }
    // Restored: capturable again once openbox's restore animation (which
    // shrinks the frame) has finished.
    e.x.deiconify(normal);
    wait_listing(&mut b, "the window restored", &id(normal), |s| {
        s.is_some_and(|s| s.minimized.is_none())
    });
    wait_until(DEADLINE, "a full capture of the restored window", || {
        b.capture(&id(normal)).is_ok_and(|img| {
            img.dimensions() == (300, 200) && share_of(img.as_raw(), BLUE, 12) > 0.99
        })
    });
}

#[test]
fn a_window_destroyed_between_listing_and_grab_is_gone() {
    let e = env(1280, 1024);
    let seen = e.x.window(&WindowSpec::solid(
        "Captured Then Destroyed",
        RED,
        50,
        50,
        300,
        200,
    ));
    let unseen = e.x.window(&WindowSpec::solid(
        "Destroyed Unseen",
        GREEN,
        400,
        50,
        300,
        200,
    ));
    let keeper =
        e.x.window(&WindowSpec::solid("Keeper", BLUE, 750, 50, 300, 200));
    managed(&e.x, &[seen, unseen, keeper], &[]);
    let mut b = e.backend();
    let all = b.list().expect("list");
    for w in [seen, unseen, keeper] {
        assert!(
            all.iter().any(|s| s.id == id(w)),
            "{w} not listed: {all:#?}"
        );
    }
    assert_mostly(&b.capture(&id(seen)).expect("capture"), RED, "before");
    e.x.destroy(seen);
    e.x.destroy(unseen);
    e.x.sync(); // the server has destroyed both before we grab
    for w in [seen, unseen] {
        match b.capture(&id(w)) {
            Err(CaptureError::Gone(_)) => {}
            other => panic!("expected Gone for {w}, got {other:?}"),
        }
    }
    assert_mostly(
        &b.capture(&id(keeper)).expect("capture"),
        BLUE,
        "the next window",
    );
    assert_mostly(&b.capture(&id(keeper)).expect("again"), BLUE, "again");
    assert!(b.capture("desktop").is_ok());
}

#[test]
fn a_resized_window_is_captured_at_its_new_size() {
    let e = env(1280, 1024);
    let win =
        e.x.window(&WindowSpec::solid("Resized", GREEN, 100, 100, 300, 200));
    managed(&e.x, &[win], &[]);
    let mut b = e.backend();
    assert_eq!(
        b.capture(&id(win)).expect("capture").dimensions(),
        (300, 200)
    );
    let (x, y) = e.x.root_origin(win).expect("origin");
    e.x.move_resize(win, x, y, 520, 410);
    wait_listing(&mut b, "the new size listed", &id(win), |s| {
        s.is_some_and(|s| (s.info.width, s.info.height) == (520, 410))
    });
    let img = b.capture(&id(win)).expect("capture after resize");
    assert_eq!(img.dimensions(), (520, 410));
    assert_mostly(&img, GREEN, "resized window");
}

#[test]
fn shm_and_core_getimage_give_the_same_pixels() {
    let e = env(1280, 1024);
    let win =
        e.x.pattern_window(&WindowSpec::solid("Pattern", RED, 120, 80, 333, 211));
    let cover = e.x.window(&WindowSpec::solid(
        "Pattern Cover",
        BLUE,
        200,
        150,
        200,
        200,
    ));
    managed(&e.x, &[win, cover], &[]);
    let mut shm = e.backend();
    let mut core = e.core_backend();
    assert_eq!(shm.grab_path(), "shm", "{:?}", shm.fallback_reason());
    assert_eq!(core.grab_path(), "core");
    assert!(
        core.fallback_reason()
            .is_some_and(|r| r.contains("disabled"))
    );

    let img = shm.capture(&id(win)).expect("shm capture");
    assert_eq!(img.dimensions(), (333, 211));
    for (x, y) in [(0, 0), (1, 0), (0, 1), (100, 77), (332, 210), (250, 150)] {
        let p = img.get_pixel(x, y).0;
        assert_eq!(
            [p[0], p[1], p[2], p[3]],
            {
                let [r, g, b] = pattern_rgb(x, y);
                [r, g, b, 255]
            },
            "pattern at {x},{y}"
        );
    }
    let monitor = shm
        .list_detailed()
        .expect("list")
        .into_iter()
        .find(|s| s.info.app == "monitor")
        .expect("a monitor")
        .info
        .id;
    for source in [id(win), id(cover), "desktop".to_string(), monitor] {
        let a = shm.capture(&source).expect("shm");
        let b = core.capture(&source).expect("core");
        assert_eq!(a.dimensions(), b.dimensions(), "{source}");
        assert!(
            a.as_raw() == b.as_raw(),
            "{source}: SHM and core pixels differ"
        );
    }
}

#[test]
fn listing_is_front_to_back_without_tiny_or_own_windows() {
    let e = env(1280, 1024);
    let spec_at = |title, x| WindowSpec::solid(title, GREEN, x, 300, 200, 150);
    let first = e.x.window(&spec_at("First Mapped", 20));
    managed(&e.x, &[first], &[]);
    let second = e.x.window(&spec_at("Second Mapped", 300));
    managed(&e.x, &[first, second], &[]);
    let tiny =
        e.x.window(&WindowSpec::solid("Tiny", RED, 600, 300, 30, 30));
    let own = e.x.window(&WindowSpec {
        pid: Some(std::process::id()),
        ..spec_at("Our Own", 800)
    });
    managed(&e.x, &[first, second, tiny, own], &[]);

    let mut b = e.backend();
    assert_eq!(b.name(), "x11");
    let all = b.list().expect("list");
    let windows: Vec<&str> = all
        .iter()
        .filter(|s| s.kind == SourceKind::Window)
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(windows, ["Second Mapped", "First Mapped"]);
    assert_eq!(all[0].kind, SourceKind::Desktop);
    assert!(
        all.iter()
            .any(|s| s.kind == SourceKind::Monitor && s.app == "monitor")
    );
}

#[test]
fn an_unreachable_display_is_a_clear_error() {
    let n = (4000..4100)
        .find(|n| !std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists())
        .expect("a free display number");
    match X11Backend::connect(Some(&format!(":{n}"))) {
        Err(CaptureError::Failed(why)) => {
            assert!(
                why.starts_with(&format!("cannot open X display :{n}: ")),
                "{why}"
            )
        }
        Err(other) => panic!("unexpected error {other:?}"),
        Ok(_) => panic!("connected to :{n}"),
    }
}
