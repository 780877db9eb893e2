//! `roomshare inspect` end to end: the real binary grabbing a real X11
//! window on a private Xvfb + openbox (no compositor), while the test
//! drives the window through a timeline it records itself:
//! - a window that animates at 10 Hz, turns black, animates again and then
//!   stops changing: the black and the static stretch where the window had
//!   them (±0.3 s), the content rate the window was redrawn at (±20 %),
//!   exit 4 with `--fail-on black`;
//! - a window closed mid-inspection: verdict `gone`, the figures so far,
//!   exit 4, the command ending when the window went;
//! - a still window: the human report, static is information (exit 0)
//!   unless `--fail-on static`;
//! - a window minimised for 2 s: its grabs fail, a stall;
//! - Ctrl+C: the report of what was inspected so far;
//! - bad input: a clear error and exit 2.
//!
//! The test's clock and the inspection's are lined up by the line the
//! command writes to stderr just before its first grab ("inspecting …"):
//! the window's timeline starts when the test reads it. The window is
//! paced by sleeping until each step's time (that is the window's own
//! animation, not a wait before an assert); every wait for an outcome
//! polls under a deadline.
#![cfg(all(target_os = "linux", not(target_env = "ohos")))]

#[path = "support/inspect.rs"]
mod inspect;
#[path = "support/wait.rs"]
mod wait;
#[path = "support/capture_x11.rs"]
mod x11;

use inspect::{DEADLINE, command, report_of, start_inspect};
use roomshare::capture::health::{Span, Verdict};
use roomshare::capture::x11::X11Backend;
use roomshare::protocol::SourceKind;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wait::wait_until;
use x11::{WindowSpec, XClient, XServer};

/// How far a reported stretch may be from when the window did it.
const TOLERANCE: f64 = 0.3;
/// Bright colours (luma far above black), each different from the next.
const COLOURS: [[u8; 3]; 5] = [
    [220, 60, 60],
    [60, 200, 60],
    [60, 90, 220],
    [220, 200, 40],
    [60, 200, 200],
];

/// Field order matters: the client disconnects before the server dies.
struct Env {
    x: XClient,
    server: XServer,
}

/// Starting servers one at a time keeps two tests from racing for a display.
static START: Mutex<()> = Mutex::new(());

fn env() -> Env {
    let _one_at_a_time = START.lock().unwrap_or_else(|p| p.into_inner());
    let server = XServer::start(1280, 720).unwrap_or_else(|e| {
        panic!("{e} (the inspect tests need Xvfb and openbox: apt-get install xvfb openbox)")
    });
    let x = XClient::connect(&server.display);
    Env { x, server }
}

/// A managed, viewable 320×240 window of `COLOURS[0]`.
fn window(e: &Env, title: &str) -> u32 {
    let win =
        e.x.window(&WindowSpec::solid(title, COLOURS[0], 80, 60, 320, 240));
    e.x.wait_managed_and(&[win], DEADLINE, || e.x.viewable(win));
    win
}

/// Sleep until `zero + at` seconds (the window's own pacing).
fn at(zero: Instant, at: f64) {
    let when = zero + Duration::from_secs_f64(at);
    std::thread::sleep(when.saturating_duration_since(Instant::now()));
}

/// Paint `win` and wait until the server has done it; when that was.
fn paint(e: &Env, win: u32, rgb: [u8; 3], zero: Instant) -> f64 {
    e.x.set_background(win, rgb);
    e.x.sync();
    zero.elapsed().as_secs_f64()
}

fn near(what: &str, reported: Option<f64>, did: f64) {
    let reported = reported.unwrap_or_else(|| panic!("{what}: no time reported"));
    assert!(
        (reported - did).abs() <= TOLERANCE,
        "{what}: reported at {reported:.3} s, the window did it at {did:.3} s"
    );
}

/// What the window did, in seconds from the timeline's 0.
#[derive(Debug, Default)]
struct Timeline {
    black_from: f64,
    black_to: f64,
    still_from: f64,
    /// Redraws that changed the picture (each new colour, to black, from black).
    changes: u32,
}

/// Animate at 10 Hz until 1 s, black until 3 s, animate until 4 s, then
/// stop changing. Redraw k is at k/10 s; the first is at 0.1 s, so that
/// the inspection's first grab sees the starting picture.
fn run_timeline(e: &Env, win: u32, zero: Instant) -> Timeline {
    let mut t = Timeline::default();
    let mut shown = COLOURS[0];
    let mut redraw = |k: u32, rgb: [u8; 3], t: &mut Timeline| {
        at(zero, f64::from(k) / 10.0);
        t.changes += u32::from(rgb != shown);
        shown = rgb;
        paint(e, win, rgb, zero)
    };
    for k in 1..10 {
        redraw(k, COLOURS[k as usize % 5], &mut t);
    }
    t.black_from = redraw(10, [0, 0, 0], &mut t);
    t.black_to = redraw(30, COLOURS[0], &mut t);
    for k in 31..40 {
        t.still_from = redraw(k, COLOURS[k as usize % 5], &mut t);
    }
    t
}

#[test]
fn a_window_that_animates_turns_black_animates_and_stops_is_reported_as_it_did() {
    let e = env();
    let win = window(&e, "Inspect Animated");
    let id = X11Backend::window_id(win);
    let args = [
        id.as_str(),
        "--sources",
        "real",
        "--json",
        "--seconds",
        "6",
        "--fps",
        "30",
        "--min-duration",
        "1",
        "--fail-on",
        "black",
    ];
    let (running, zero) = start_inspect(&e.server.display, &args);
    let did = run_timeline(&e, win, zero);
    let (out, said) = running.finish(DEADLINE);
    let r = report_of(&out);
    let context = format!("{did:?}\n{r:#?}\nstderr: {said:?}");
    eprintln!("{context}");
    assert_eq!(out.status.code(), Some(4), "--fail-on black: {context}");
    assert_eq!(
        (r.source.id.as_str(), r.source.kind, r.source.title.as_str()),
        (id.as_str(), SourceKind::Window, "Inspect Animated")
    );
    assert!((r.seconds - 6.0).abs() < 0.5, "{context}");
    // One black stretch, where the window was black.
    assert_eq!(r.black.len(), 1, "{context}");
    near("black start", Some(r.black[0].start), did.black_from);
    near("black end", r.black[0].end, did.black_to);
    // One static stretch: from the last redraw to the end (the black one
    // is not also static, the 10 Hz parts are never still for 1 s).
    assert_eq!(r.still.len(), 1, "{context}");
    near("static start", Some(r.still[0].start), did.still_from);
    assert_eq!(r.still[0].end, None, "still at the end: {context}");
    assert!(r.stalls.is_empty(), "{context}");
    assert_eq!(r.verdict, Verdict::Black, "{context}");
    // The content rate: the picture changes the window made, over the time
    // inspected (20 changes in 6 s; at 10 Hz while it animated), ±20 %.
    let made = f64::from(did.changes) / r.seconds;
    assert!(
        (r.content_fps - made).abs() <= 0.2 * made,
        "content_fps {} against {} changes in {} s = {made:.2}/s: {context}",
        r.content_fps,
        did.changes,
        r.seconds
    );
    assert!(
        r.capture_fps >= 10.0 && r.frames >= 60,
        "grabbing kept up: {context}"
    );
    assert!(r.interval_ms.p50.is_some_and(|p| p <= 100.0), "{context}");
    assert_eq!(r.sizes.len(), 1, "{context}");
    assert_eq!(
        (r.sizes[0].at, r.sizes[0].width, r.sizes[0].height),
        (0.0, 320, 240)
    );
    assert_eq!(r.signal, None);
}

#[test]
fn a_window_closed_mid_inspection_is_gone_with_the_figures_so_far() {
    let e = env();
    let win = window(&e, "Inspect Closed");
    let id = X11Backend::window_id(win);
    let args = [
        id.as_str(),
        "--sources",
        "real",
        "--json",
        "--seconds",
        "30",
    ];
    let (running, zero) = start_inspect(&e.server.display, &args);
    for k in 1..10u32 {
        at(zero, f64::from(k) / 10.0);
        paint(&e, win, COLOURS[k as usize % 5], zero);
    }
    at(zero, 1.0);
    e.x.destroy(win);
    e.x.sync();
    let closed = zero.elapsed().as_secs_f64();
    let (out, said) = running.finish(Duration::from_secs(10));
    let ended = zero.elapsed().as_secs_f64();
    let r = report_of(&out);
    let context = format!("closed at {closed:.3} s\n{r:#?}\nstderr: {said:?}");
    assert_eq!(r.verdict, Verdict::Gone, "{context}");
    assert_eq!(
        out.status.code(),
        Some(4),
        "gone is in the default --fail-on: {context}"
    );
    assert!(
        ended < 10.0,
        "the inspection ended with the window, not after 30 s"
    );
    near("the end of the inspection", Some(r.seconds), closed);
    assert!(
        r.frames >= 10 && r.changed >= 5,
        "the figures so far: {context}"
    );
    assert!(
        r.black.is_empty() && r.still.is_empty() && r.stalls.is_empty(),
        "{context}"
    );
    assert_eq!(r.sizes.len(), 1, "{context}");
}

#[test]
fn a_window_minimised_for_two_seconds_is_a_stall_of_its_grabs() {
    let e = env();
    let win = window(&e, "Inspect Minimised");
    let id = X11Backend::window_id(win);
    let args = [id.as_str(), "--sources", "real", "--json", "--seconds", "4"];
    let (running, zero) = start_inspect(&e.server.display, &args);
    at(zero, 0.5);
    e.x.iconify(win);
    wait_until(DEADLINE, "the window minimised", || !e.x.viewable(win));
    let hidden = zero.elapsed().as_secs_f64();
    at(zero, 2.5);
    e.x.deiconify(win);
    wait_until(DEADLINE, "the window shown again", || e.x.viewable(win));
    let shown = zero.elapsed().as_secs_f64();
    let (out, said) = running.finish(DEADLINE);
    let r = report_of(&out);
    let context = format!("hidden {hidden:.3}–{shown:.3} s\n{r:#?}\nstderr: {said:?}");
    eprintln!("{context}");
    assert_eq!(
        out.status.code(),
        Some(4),
        "stalled is in the default --fail-on: {context}"
    );
    assert_eq!(r.verdict, Verdict::Stalled, "{context}");
    // The stall runs from the last picture before the window went to the
    // first after it came back.
    assert_eq!(r.stalls.len(), 1, "{context}");
    near("stall start", Some(r.stalls[0].start), hidden);
    near("stall end", r.stalls[0].end, shown);
}

#[test]
fn a_still_window_is_static_information_unless_fail_on_static() {
    let e = env();
    let win = window(&e, "Inspect Still");
    let id = X11Backend::window_id(win);
    let human = [
        "--sources",
        "real",
        "--seconds",
        "1.5",
        "--min-duration",
        "1",
    ];
    let (running, _) = start_inspect(&e.server.display, &[&[id.as_str()][..], &human].concat());
    let (out, said) = running.finish(DEADLINE);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "static is not in the default --fail-on: {text} {said:?}"
    );
    assert!(
        text.starts_with(&format!(
            "source:   {id} \"Inspect Still\" (window, 320x240)\n"
        )),
        "{text}"
    );
    for line in [
        "black:    none",
        "stalls:   none",
        "sizes:    320x240 from 0.00 s",
        "verdict:  static",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in:\n{text}"
        );
    }
    assert!(
        text.contains("static:   0.0"),
        "a static stretch from the start:\n{text}"
    );
    let json = [
        &[id.as_str()][..],
        &human,
        &["--json", "--fail-on", "static"],
    ]
    .concat();
    let (running, _) = start_inspect(&e.server.display, &json);
    let (out, said) = running.finish(DEADLINE);
    let r = report_of(&out);
    assert_eq!(out.status.code(), Some(4), "{r:?} {said:?}");
    assert_eq!(r.verdict, Verdict::Static);
    assert!(
        matches!(r.still.as_slice(), [Span { end: None, .. }]),
        "{r:?}"
    );
    assert_eq!(r.changed, 0, "{r:?}");
}

#[test]
fn ctrl_c_ends_the_inspection_early_and_still_reports() {
    // Synthetic sources: no display needed.
    let args = [
        "1",
        "--sources",
        "synthetic",
        "--seconds",
        "60",
        "--fps",
        "10",
        "--json",
        "--fail-on",
        "gone",
    ];
    let (running, zero) = start_inspect("", &args);
    let status = Command::new("kill")
        .args(["-INT", &running.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let (out, said) = running.finish(DEADLINE);
    assert!(
        zero.elapsed() < Duration::from_secs(30),
        "it did not run its 60 s"
    );
    assert_eq!(out.status.code(), Some(0), "{said:?}");
    let r = report_of(&out);
    assert!(r.seconds < 30.0, "{r:?}");
    assert_eq!(r.source.id, "win-slides");
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
}

/// Run without a display (the arguments are refused before anything is grabbed).
fn refused(args: &[&str]) -> String {
    let mut all = vec!["inspect"];
    all.extend_from_slice(args);
    let out = command("", &all).output().expect("run roomshare");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{all:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{all:?}: nothing on stdout");
    stderr
}

#[test]
fn bad_input_is_a_clear_error_and_exit_2() {
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["1", "--seconds", "0"],
            &["--seconds", "must be more than 0 and at most 3600 seconds"],
        ),
        (
            &["1", "--fps", "1000"],
            &["--fps", "must be from 1 to 120 frames per second"],
        ),
        (
            &["1", "--fps", "fast"],
            &["--fps", "\"fast\" is not a number"],
        ),
        (
            &["1", "--black-pixel", "1.5"],
            &["--black-pixel", "must be a fraction from 0 to 1"],
        ),
        (
            &["1", "--black-ratio=-0.1"],
            &["--black-ratio", "must be a fraction from 0 to 1"],
        ),
        (&["1", "--min-duration", "-1"], &["--min-duration"]),
        (
            &["1", "--fail-on", "black,purple"],
            &["purple", "no_signal"],
        ),
    ];
    for (args, words) in cases {
        let stderr = refused(args);
        for w in words {
            assert!(stderr.contains(w), "{args:?}: {w:?} not in {stderr}");
        }
    }
    // A source that is not there: the `snap` wording, exit 1.
    let out = command(
        "",
        &[
            "inspect",
            "nothing-here",
            "--sources",
            "synthetic",
            "--seconds",
            "1",
        ],
    )
    .output()
    .expect("run roomshare");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no source \"nothing-here\"; see `roomshare sources`"),
        "{stderr}"
    );
}
