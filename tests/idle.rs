//! An idle console draws nothing: the real binary under Xvfb + openbox,
//! with `--stats` (one `frames: N` line per second from a timer thread, not
//! from a repaint), must report 0 frames for 5 seconds once it has settled.
//!
//! - embedded, real capture (the X11 backend): two real Tk windows beside
//!   the console, the room in a meeting, nothing shared. The desktop and
//!   monitor thumbnails contain the console itself, so a console that
//!   redraws for its own thumbnails never settles;
//! - remote, against `roomshare serve --no-capture` (a room without
//!   thumbnails), polled every 2 s: polling that changes nothing must not
//!   redraw, and neither must the embedded engine's capture the console
//!   does not show.
//!
//! "Settled": the console logged `ready` with its tiles, a full capture
//! cycle has passed since (2 s), and then a second reported 0 frames; this
//! must happen within 40 s. Every one of the 5 seconds after it must report
//! 0. On failure the message carries the repaint causes egui recorded
//! (`roomshare::frames=trace`) and the end of the log.
//!
//! - the connection dialog open (Ctrl+L) over the embedded console: a
//!   focused text field, the window dimmed under the modal.
//!
//! Needs Xvfb, openbox, xdotool and python3 with tkinter (scripts/deps.sh installs
//! them); a missing tool fails the test. Every process is started here and
//! ended by its pid.
// Needs Xvfb, openbox and the X11 backend.
#![cfg(all(target_os = "linux", not(target_env = "ohos")))]

#[path = "support/wait.rs"]
mod wait;
#[path = "support/capture_x11.rs"]
mod x11;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wait::{Met, try_wait_until, wait_until};
use x11::{WindowSpec, XClient, XServer, free_port, xdotool};

/// Both tests use the machine's two cores and a display each: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const IDLE_SECONDS: usize = 5;
const SETTLE_DEADLINE: Duration = Duration::from_secs(40);
/// After `ready`: one full catalog + thumbnail cycle (1 s each) and margin,
/// then the health rule's 2 s before a still picture is reported static
/// and the catalog cycle that publishes it (the list changes once more).
const FIRST_CYCLE: Duration = Duration::from_secs(5);

fn require_tools() {
    for (tool, package) in [
        ("Xvfb", "xvfb"),
        ("openbox", "openbox"),
        ("python3", "python3"),
    ] {
        assert!(
            x11::have_tool(tool),
            "{tool} is not installed: run scripts/deps.sh (apt-get install {package})"
        );
    }
    let tk = Command::new("python3")
        .args(["-c", "import tkinter"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        tk,
        "python3 has no tkinter: run scripts/deps.sh (apt-get install python3-tk)"
    );
}

/// A child process we started, with its stderr (or stdout) collected line
/// by line with the time each arrived; ended by its own pid on drop.
struct Proc {
    name: &'static str,
    child: Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Proc {
    fn spawn(name: &'static str, mut cmd: Command, stdout: bool) -> Proc {
        if stdout {
            cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader: Box<dyn std::io::Read + Send> = if stdout {
            Box::new(child.stdout.take().expect("piped stdout"))
        } else {
            Box::new(child.stderr.take().expect("piped stderr"))
        };
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap_or_else(|p| p.into_inner());
                l.push((Instant::now(), line));
            }
        });
        Proc { name, child, lines }
    }

    fn lines(&self) -> Vec<(Instant, String)> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn has_line(&self, needle: &str) -> bool {
        self.lines().iter().any(|(_, l)| l.contains(needle))
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped {} (pid {})", self.name, self.child.id());
    }
}

/// Wait until `deadline` for `cond` while the console runs; fails at once
/// if it exits, and with its log (see [`report`]) after the deadline.
fn console_until<M: Met>(
    console: &mut Proc,
    deadline: Instant,
    what: &str,
    mut cond: impl FnMut(&Proc) -> M,
) -> M::Value {
    let left = deadline.saturating_duration_since(Instant::now());
    try_wait_until(left, what, || {
        assert!(console.alive(), "{}", report(console, "the console exited"));
        cond(console)
    })
    .unwrap_or_else(|e| panic!("{}", report(console, &e.to_string())))
}

/// Two Tk windows with labels, buttons and a canvas, nothing animated.
const TK_WINDOWS: &str = r##"
import tkinter as tk
root = tk.Tk()
root.title("Idle Tk One")
root.geometry("360x260+1180+40")
tk.Label(root, text="An idle Tk window", font=("DejaVu Sans", 16)).pack(pady=10)
tk.Button(root, text="Does nothing").pack()
canvas = tk.Canvas(root, width=300, height=120, bg="#204070")
canvas.create_oval(20, 20, 120, 100, fill="#e0a030")
canvas.create_text(200, 60, text="canvas", fill="white")
canvas.pack(pady=10)
two = tk.Toplevel(root)
two.title("Idle Tk Two")
two.geometry("360x260+1180+420")
for i in range(6):
    tk.Label(two, text=f"row {i}: some text").pack(anchor="w")
def check():
    if root.winfo_viewable() and two.winfo_viewable():
        print("tk ready", flush=True)
    else:
        root.after(100, check)
root.after(100, check)
root.mainloop()
"##;

fn tk_windows(display: &str) -> Proc {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", TK_WINDOWS])
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY");
    let tk = Proc::spawn("python3 (Tk windows)", cmd, true);
    wait_until(
        Duration::from_secs(30),
        "the Tk windows to be shown",
        || tk.has_line("tk ready"),
    );
    tk
}

/// `roomshare` with a private home, `--stats`, and frame causes logged.
fn roomshare(name: &'static str, display: &str, home: &std::path::Path, args: &[&str]) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_roomshare"));
    cmd.args(args)
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("XDG_SESSION_TYPE")
        .env_remove("ROOMSHARE_RENDERER")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_RUNTIME_DIR", home)
        .env("ROOMSHARE_LOG", "roomshare=info,roomshare::frames=trace")
        .env("NO_COLOR", "1");
    Proc::spawn(name, cmd, false)
}

/// `roomshare call Meeting StartMeeting` against `url`, retried until the
/// room answers, then wait until it is in the meeting.
fn start_meeting(url: &str) {
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_roomshare"))
            .args(args)
            .args(["--url", url])
            .env("ROOMSHARE_LOG", "off")
            .output()
            .expect("run roomshare")
    };
    wait_until(
        Duration::from_secs(60),
        "the room to start a meeting",
        || cli(&["call", "Meeting", "StartMeeting"]).status.success(),
    );
    wait_until(Duration::from_secs(30), "meeting_status 1", || {
        let out = cli(&["query", "Meeting", "MeetingInfo"]);
        let text = String::from_utf8_lossy(&out.stdout);
        text.contains("\"meeting_status\": 1")
    });
}

/// The console's `frames: N` lines, with when each arrived.
fn frame_seconds(console: &Proc) -> Vec<(Instant, u64)> {
    console
        .lines()
        .into_iter()
        .filter_map(|(at, l)| {
            let n = l.split("roomshare::frames: frames: ").nth(1)?;
            Some((at, n.trim().parse().ok()?))
        })
        .collect()
}

/// When the console logged `ready:` with at least `tiles` tiles.
fn ready_at(console: &Proc, tiles: usize) -> Option<Instant> {
    console.lines().into_iter().find_map(|(at, l)| {
        let rest = &l[l.find("ready: ")? + "ready: ".len()..];
        let (n, _) = rest.split_once(" tiles")?;
        (n.parse::<usize>().ok()? >= tiles).then_some(at)
    })
}

fn report(console: &Proc, what: &str) -> String {
    let lines = console.lines();
    let causes: Vec<&str> = lines
        .iter()
        .filter(|(_, l)| l.contains("roomshare::frames: frame "))
        .map(|(_, l)| l.as_str())
        .collect();
    let tail: Vec<&str> = lines
        .iter()
        .filter(|(_, l)| !l.contains("roomshare::frames: frame "))
        .map(|(_, l)| l.as_str())
        .collect();
    format!(
        "{what}\nlast frames drawn and why:\n{}\nconsole log (end):\n{}",
        causes[causes.len().saturating_sub(25)..].join("\n"),
        tail[tail.len().saturating_sub(25)..].join("\n")
    )
}

/// Wait until the console settles (no sooner than `not_before`), then
/// require 0 frames for [`IDLE_SECONDS`] seconds; returns the per-second
/// counts seen.
fn assert_idle(console: &mut Proc, tiles: usize, not_before: Instant) -> Vec<u64> {
    let deadline = Instant::now() + SETTLE_DEADLINE;
    let what = format!("`ready` with {tiles} tiles");
    let ready = console_until(console, deadline, &what, |c| ready_at(c, tiles));
    let settled_index = console_until(console, deadline, "the console to settle", |c| {
        let seconds = frame_seconds(c);
        let after = (ready + FIRST_CYCLE).max(not_before);
        match seconds.iter().position(|&(at, n)| at >= after && n == 0) {
            Some(i) => Ok(i),
            None => Err(format!(
                "frames per second {:?}",
                seconds.iter().map(|s| s.1).collect::<Vec<_>>()
            )),
        }
    });
    // The stats line comes every second: 5 of them well within 30 s.
    let more = deadline + Duration::from_secs(30);
    let window = console_until(console, more, "the frame counter to report", |c| {
        let seconds = frame_seconds(c);
        (seconds.len() > settled_index + IDLE_SECONDS)
            .then(|| seconds[settled_index + 1..=settled_index + IDLE_SECONDS].to_vec())
    });
    let counts: Vec<u64> = window.iter().map(|s| s.1).collect();
    assert!(
        counts.iter().all(|&n| n == 0),
        "{}",
        report(
            console,
            &format!("an idle console kept drawing: frames per second after settling {counts:?}")
        )
    );
    counts
}

/// Time for a key's own frames (egui animates for a fraction of a second).
const KEY_GRACE: Duration = Duration::from_secs(1);

/// Require 0 frames in each of the [`IDLE_SECONDS`] stats seconds that
/// begin at or after `from`: no waiting for the console to settle.
fn assert_quiet_after(console: &mut Proc, from: Instant) -> Vec<u64> {
    let deadline = from + Duration::from_secs(IDLE_SECONDS as u64 + 30);
    let window = console_until(console, deadline, "the frame counter to report", |c| {
        let after: Vec<u64> = frame_seconds(c)
            .into_iter()
            .filter(|&(at, _)| at >= from + Duration::from_secs(1))
            .map(|s| s.1)
            .collect();
        (after.len() >= IDLE_SECONDS).then(|| after[..IDLE_SECONDS].to_vec())
    });
    assert!(
        window.iter().all(|&n| n == 0),
        "{}",
        report(
            console,
            &format!("the console kept drawing after its own change: frames per second {window:?}")
        )
    );
    window
}

fn x_server() -> XServer {
    require_tools();
    XServer::start(1600, 1000).unwrap_or_else(|e| panic!("{e} (scripts/deps.sh installs it)"))
}

#[test]
fn idle_embedded_console_with_real_capture_draws_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let x = x_server();
    assert!(
        x11::have_tool("xdotool"),
        "xdotool is not installed: run scripts/deps.sh"
    );
    let _tk = tk_windows(&x.display);
    let home = tempfile::tempdir().expect("temp home");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut console = roomshare(
        "roomshare (embedded console)",
        &x.display,
        home.path(),
        &["--sources", "real", "--listen", &listen, "--stats"],
    );
    start_meeting(&format!("ws://{listen}"));
    // The desktop, the monitor and the two Tk windows (the console's own
    // window is never listed).
    let counts = assert_idle(&mut console, 4, Instant::now());
    assert!(
        console.has_line("capture backend: x11"),
        "{}",
        report(
            &console,
            "the console did not capture through the X11 backend"
        )
    );
    eprintln!("embedded, real capture: frames per idle second {counts:?}");

    // The console changes its own pixels for good (Right: the first tile
    // gets the focus ring). It is on its own desktop and monitor
    // thumbnails, so without Damage and the mask the next grab of each
    // would differ and be drawn, and the grab after that, for several
    // capture cycles (the nested picture shrinks by 5× a cycle: measured
    // without them, 3–4 frames a second for 5 s). It must go quiet right
    // after the key's own frames instead.
    let window = console_window(&x.display);
    wait_until(SETTLE_DEADLINE, "the console to have the keyboard", || {
        let _ = xdotool(&x.display, &["windowactivate", "--sync", &window]);
        std::thread::sleep(Duration::from_millis(200));
        console.has_line("window focused: true")
    });
    let pressed = Instant::now();
    assert!(
        xdotool(&x.display, &["key", "Right"]).is_some(),
        "xdotool key Right"
    );
    wait_until(SETTLE_DEADLINE, "the frame for the key", || {
        frame_seconds(&console)
            .iter()
            .any(|&(at, n)| at > pressed && n > 0)
    });
    let counts = assert_quiet_after(&mut console, pressed + KEY_GRACE);
    let since: Vec<u64> = frame_seconds(&console)
        .iter()
        .filter(|s| s.0 > pressed)
        .map(|s| s.1)
        .collect();
    eprintln!("embedded, after a key: frames per second since the key {since:?}");
    eprintln!("embedded, after a key: frames per idle second {counts:?}");
}

/// The console's X window (by its title), waiting for it to be mapped.
fn console_window(display: &str) -> String {
    wait_until(SETTLE_DEADLINE, "the console window", || {
        xdotool(
            display,
            &["search", "--onlyvisible", "--name", "^roomshare$"],
        )
        .filter(|w| !w.is_empty())
        .map(|w| w.lines().next().unwrap_or_default().to_string())
    })
}

#[test]
fn idle_remote_console_draws_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let x = x_server();
    let home = tempfile::tempdir().expect("temp home");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("ws://{listen}");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_roomshare"));
    serve
        .args(["serve", "--no-capture", "--listen", &listen])
        .env("ROOMSHARE_LOG", "roomshare=info")
        .env("NO_COLOR", "1");
    let mut server = Proc::spawn("roomshare serve --no-capture", serve, false);
    start_meeting(&url);
    assert!(server.alive(), "roomshare serve exited");
    let mut console = roomshare(
        "roomshare (remote console)",
        &x.display,
        home.path(),
        &["--url", &url, "--sources", "real", "--stats"],
    );
    // The engine's demo sources: at least the desktop.
    let counts = assert_idle(&mut console, 1, Instant::now());
    assert!(
        console.has_line("renderer: "),
        "{}",
        report(&console, "no renderer line")
    );
    eprintln!("remote: frames per idle second {counts:?}");
}

/// The connection dialog open over an embedded console with real capture
/// (its text field has the keyboard focus: a blinking cursor would redraw
/// the whole window twice a second, and the dimmed window is on the
/// desktop thumbnail under the dialog).
#[test]
fn idle_connection_dialog_draws_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let x = x_server();
    assert!(
        x11::have_tool("xdotool"),
        "xdotool is not installed: run scripts/deps.sh"
    );
    let _tk = tk_windows(&x.display);
    let home = tempfile::tempdir().expect("temp home");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut console = roomshare(
        "roomshare (connection dialog)",
        &x.display,
        home.path(),
        &["--sources", "real", "--listen", &listen, "--stats"],
    );
    start_meeting(&format!("ws://{listen}"));
    let window = console_window(&x.display);
    // Ctrl+L until the console says the dialog is open (the first press
    // may come before the window has the keyboard).
    wait_until(SETTLE_DEADLINE, "the connection dialog", || {
        let _ = xdotool(&x.display, &["windowactivate", "--sync", &window]);
        let _ = xdotool(&x.display, &["key", "ctrl+l"]);
        std::thread::sleep(Duration::from_millis(300));
        console.has_line("connection dialog open")
    });
    // Seconds counted from the one after the dialog opened.
    let counts = assert_idle(&mut console, 4, Instant::now() + Duration::from_secs(1));
    eprintln!("connection dialog: frames per idle second {counts:?}");
}

/// Repaint `win` in `rgb` (new background, then cleared: the server draws
/// it) and wait until the root shows it at root position `at`.
fn repaint(x: &XClient, win: u32, rgb: [u8; 3], at: (i16, i16)) {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{ChangeWindowAttributesAux, ConnectionExt as _};
    let pixel = u32::from(rgb[0]) << 16 | u32::from(rgb[1]) << 8 | u32::from(rgb[2]);
    let aux = ChangeWindowAttributesAux::new().background_pixel(pixel);
    x.conn
        .change_window_attributes(win, &aux)
        .expect("background");
    x.conn.clear_area(false, win, 0, 0, 0, 0).expect("clear");
    x.conn.flush().expect("flush");
    wait_until(Duration::from_secs(10), "the repaint on screen", || {
        x.root_pixel(at.0, at.1)
            .is_some_and(|p| x11::close(p, rgb, 8))
    });
}

/// The self-feedback loop, at the capture layer against a real X server:
/// drawing inside a window of this process (`_NET_WM_PID`, as the
/// console's own window) leaves the desktop "unchanged" by Damage, and its
/// fingerprint (own windows masked) the same although its pixels differ;
/// drawing in another window is a change. The control half is what a
/// console without the fix sees for its own drawing.
#[test]
fn own_drawing_does_not_change_the_desktop_but_others_do() {
    use roomshare::capture::Backend as _;
    use roomshare::capture::scale::{frame_hash, masked_frame_hash};
    use roomshare::capture::x11::{DESKTOP_ID, X11Backend};
    // Also keeps two X servers from racing for one display number.
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let server = XServer::start(1280, 1024).unwrap_or_else(|e| panic!("{e}"));
    let x = XClient::connect(&server.display);
    let spec = |title, rgb, pid, x0| WindowSpec {
        title,
        rgb,
        x: x0,
        y: 100,
        width: 400,
        height: 300,
        pid,
        iconic: false,
    };
    let own = x.window(&spec(
        "Console Stand-in",
        [220, 30, 30],
        Some(std::process::id()),
        50,
    ));
    let other = x.window(&spec("Someone Else", [30, 200, 40], None, 700));
    x.wait_managed(&[own, other], Duration::from_secs(30));
    let origin = |w| x.root_origin(w).expect("window origin");
    let (ox, oy) = origin(own);
    let (fx, fy) = origin(other);
    let own_at = ((ox + 200) as i16, (oy + 150) as i16);
    let other_at = ((fx + 200) as i16, (fy + 150) as i16);
    wait_until(Duration::from_secs(10), "both windows on screen", || {
        x.root_pixel(own_at.0, own_at.1)
            .is_some_and(|p| x11::close(p, [220, 30, 30], 8))
            && x.root_pixel(other_at.0, other_at.1)
                .is_some_and(|p| x11::close(p, [30, 200, 40], 8))
    });

    let mut b = X11Backend::connect(Some(&server.display)).expect("X11 backend");
    let fingerprint = |b: &mut X11Backend| {
        let img = b.capture(DESKTOP_ID).expect("desktop");
        let (w, h) = img.dimensions();
        let own = b.own_regions(DESKTOP_ID, (w, h));
        (
            frame_hash(w, h, img.as_raw()),
            masked_frame_hash(w, h, img.as_raw(), &own),
            own,
        )
    };
    // Openbox may still be drawing frames (focus): grab until a grab is
    // followed by no damage at all.
    let (plain0, masked0, regions) = wait_until(Duration::from_secs(10), "a still desktop", || {
        let first = fingerprint(&mut b);
        b.unchanged(DESKTOP_ID).then_some(first)
    });
    assert!(
        regions
            .iter()
            .any(|r| r[0] as i32 <= ox && r[1] as i32 <= oy && r[2] >= 400 && r[3] >= 300),
        "the stand-in window at {ox},{oy} is not among the own regions {regions:?}"
    );

    // The "console" redraws itself, three times.
    for rgb in [[40, 60, 220], [230, 210, 20], [200, 200, 200]] {
        repaint(&x, own, rgb, own_at);
        x.sync();
        assert!(
            b.unchanged(DESKTOP_ID),
            "drawing inside the console's own window counted as a desktop change"
        );
    }
    let (plain1, masked1, _) = fingerprint(&mut b);
    assert_ne!(
        plain1, plain0,
        "the desktop's pixels did change (the control)"
    );
    assert_eq!(
        masked1, masked0,
        "the masked fingerprint changed with the console's own pixels"
    );

    // Someone else draws: a change, by Damage and by fingerprint.
    repaint(&x, other, [40, 60, 220], other_at);
    wait_until(
        Duration::from_secs(10),
        "damage outside the console to count",
        || !b.unchanged(DESKTOP_ID),
    );
    let (_, masked2, _) = fingerprint(&mut b);
    assert_ne!(masked2, masked1, "another window's drawing was masked out");

    // A window source (grabbed from its redirected frame): unchanged until
    // it draws, then changed; its thumbnail must not go stale.
    let id = X11Backend::window_id(other);
    // (Its first grab redirects it, which the server may count as drawing.)
    wait_until(
        Duration::from_secs(10),
        "a grab of the window with no damage after it",
        || {
            b.capture(&id).expect("grab the other window");
            b.unchanged(&id)
        },
    );
    repaint(&x, other, [220, 30, 30], other_at);
    wait_until(
        Duration::from_secs(10),
        "drawing in the window to count",
        || !b.unchanged(&id),
    );
}

/// The Rooms view over 20 live demo rooms (`serve --rooms-demo`, real
/// sockets): once every room is known it draws nothing but its "changed …
/// ago" clock — one frame per 10 s tick while rooms changed in the last
/// minute, one a minute after — however many rooms changed at slightly
/// different moments. So 5 idle seconds hold at most one frame.
#[test]
fn idle_rooms_view_draws_only_its_clock() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let x = x_server();
    let home = tempfile::tempdir().expect("temp home");
    let rooms_toml = home.path().join("rooms.toml");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_roomshare"));
    demo.args([
        "serve",
        "--rooms-demo",
        "20",
        "--port-base",
        "0",
        "--rooms-out",
    ])
    .arg(&rooms_toml)
    .env("NO_COLOR", "1");
    let mut server = Proc::spawn("roomshare serve --rooms-demo 20", demo, false);
    wait_until(Duration::from_secs(20), "the demo's rooms file", || {
        std::fs::read_to_string(&rooms_toml).is_ok_and(|t| t.matches("[[room]]").count() == 20)
    });
    assert!(server.alive(), "the demo rooms exited");
    let path = rooms_toml.to_str().expect("utf-8 path");
    let mut console = roomshare(
        "roomshare (rooms view)",
        &x.display,
        home.path(),
        &["--rooms", path, "--sources", "synthetic", "--stats"],
    );
    let deadline = Instant::now() + SETTLE_DEADLINE;
    let known_at = console_until(&mut console, deadline, "all 20 rooms known", |c| {
        c.lines()
            .iter()
            .find(|(_, l)| l.contains("rooms view: 20 rooms, 20 known"))
            .map(|&(at, _)| at)
    });
    // (This wait had no deadline: the stats line comes every second, so
    // five of them come well within 30 s.)
    let more = deadline + Duration::from_secs(30);
    let counts = console_until(&mut console, more, "the frame counter to report", |c| {
        let seconds: Vec<u64> = frame_seconds(c)
            .into_iter()
            .filter(|&(at, _)| at > known_at + FIRST_CYCLE)
            .map(|(_, n)| n)
            .collect();
        (seconds.len() >= IDLE_SECONDS).then(|| seconds[..IDLE_SECONDS].to_vec())
    });
    assert!(
        counts.iter().sum::<u64>() <= 1,
        "{}",
        report(
            &console,
            &format!("the Rooms view kept drawing: frames per second {counts:?}")
        )
    );
    eprintln!("rooms view: frames per idle second {counts:?}");
}
