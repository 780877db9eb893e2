//! xcap and the native X11 backend side by side, on the same X server:
//! - time per grab (median and p90 of 40 grabs) of the 1920x1080 desktop /
//!   monitor and of an 800x600 window;
//! - the capture rate of the 1080p desktop (grab + convert to RGBA, back to
//!   back for about 3 s) and the ratio new / xcap.
//!
//! `cargo run --release --example x11_vs_xcap` starts a private Xvfb
//! 1920x1080 + openbox (no compositing manager); add `-- --display` to
//! measure on `$DISPLAY` instead.

#[cfg(all(target_os = "linux", not(target_env = "ohos")))]
#[path = "../tests/support/capture_x11.rs"]
mod x11;

#[cfg(all(target_os = "linux", not(target_env = "ohos")))]
fn main() {
    bench::run();
}

#[cfg(not(all(target_os = "linux", not(target_env = "ohos"))))]
fn main() {
    eprintln!("x11_vs_xcap measures X11 capture: Linux only");
}

#[cfg(all(target_os = "linux", not(target_env = "ohos")))]
mod bench {
    use super::x11::{WindowSpec, XClient, XServer};
    use roomshare::capture::Backend;
    use roomshare::capture::x11::{X11Backend, X11Options};
    use std::time::{Duration, Instant};

    const GRABS: usize = 40;
    const RATE_FOR: Duration = Duration::from_secs(3);

    /// Median and p90 of a set of durations, in milliseconds.
    fn stats(mut v: Vec<Duration>) -> (f64, f64) {
        v.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let p90 = (v.len() * 9 / 10).min(v.len().saturating_sub(1));
        (ms(v[v.len() / 2]), ms(v[p90]))
    }

    /// `GRABS` timed calls of `grab` after one warm-up call.
    fn time<T, E: std::fmt::Debug>(
        what: &str,
        mut grab: impl FnMut() -> Result<T, E>,
    ) -> (f64, f64) {
        if let Err(e) = grab() {
            panic!("{what}: {e:?}");
        }
        let v = (0..GRABS)
            .map(|_| {
                let t = Instant::now();
                grab().unwrap_or_else(|e| panic!("{what}: {e:?}"));
                t.elapsed()
            })
            .collect();
        stats(v)
    }

    /// Frames per second of `grab` run back to back for `RATE_FOR`.
    fn rate<T, E: std::fmt::Debug>(what: &str, mut grab: impl FnMut() -> Result<T, E>) -> f64 {
        let start = Instant::now();
        let mut frames = 0u32;
        while start.elapsed() < RATE_FOR {
            grab().unwrap_or_else(|e| panic!("{what}: {e:?}"));
            frames += 1;
        }
        f64::from(frames) / start.elapsed().as_secs_f64()
    }

    fn row(what: &str, xcap: (f64, f64), new: (f64, f64)) {
        println!(
            "{what:<28} {:>9.2} {:>9.2}   {:>9.2} {:>9.2}   {:>6.1}x",
            xcap.0,
            xcap.1,
            new.0,
            new.1,
            xcap.0 / new.0
        );
    }

    /// A private Xvfb + openbox, or the caller's `$DISPLAY`.
    fn display() -> (Option<XServer>, String) {
        if std::env::args().any(|a| a == "--display") {
            let d = std::env::var("DISPLAY").expect("--display needs DISPLAY set");
            return (None, d);
        }
        let server = XServer::start(1920, 1080)
            .unwrap_or_else(|e| panic!("{e} (apt-get install xvfb openbox)"));
        let d = server.display.clone();
        (Some(server), d)
    }

    /// An 800x600 window managed by the WM and viewable.
    fn test_window(x: &XClient) -> u32 {
        let spec = WindowSpec {
            title: "x11_vs_xcap 800x600",
            rgb: [200, 120, 40],
            x: 200,
            y: 150,
            width: 800,
            height: 600,
            pid: None,
            iconic: false,
        };
        let win = x.pattern_window(&spec);
        let end = Instant::now() + Duration::from_secs(15);
        while !(x.client_list().contains(&win) && x.viewable(win)) {
            assert!(
                Instant::now() < end,
                "the window manager did not map the window"
            );
            x.remap(&[win]);
            std::thread::sleep(Duration::from_millis(100));
        }
        win
    }

    pub fn run() {
        let (server, display) = display();
        // SAFETY: no other thread exists yet; xcap reads DISPLAY.
        unsafe {
            std::env::set_var("DISPLAY", &display);
            std::env::remove_var("WAYLAND_DISPLAY");
            std::env::remove_var("XDG_SESSION_TYPE");
        }
        let x = XClient::connect(&display);
        let win = test_window(&x);

        let mut new = X11Backend::connect(Some(&display)).expect("X11 backend");
        let mut core = X11Backend::with_options(Some(&display), X11Options { use_shm: false })
            .expect("X11 backend (core)");
        let monitors = xcap::Monitor::all().expect("xcap monitors");
        let monitor = monitors.first().expect("xcap lists a monitor");
        let xwin = xcap::Window::all()
            .expect("xcap windows")
            .into_iter()
            .find(|w| w.id().ok() == Some(win))
            .expect("xcap lists the test window");
        let mon_id = new
            .list_detailed()
            .expect("list")
            .into_iter()
            .find(|s| s.info.app == "monitor")
            .expect("a RandR monitor")
            .info
            .id;
        let win_id = X11Backend::window_id(win);
        let desktop = new.capture("desktop").expect("desktop");

        let path = new.grab_path();
        println!(
            "display {display}: desktop {}x{}, window 800x600; new backend grabs via {path}{}",
            desktop.width(),
            desktop.height(),
            new.fallback_reason()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
        println!(
            "ms per grab ({GRABS} grabs)       xcap med  xcap p90     new med   new p90   speed-up"
        );
        let xcap_monitor = time("xcap monitor", || monitor.capture_image());
        row(
            "desktop 1920x1080",
            xcap_monitor,
            time("x11 desktop", || new.capture("desktop")),
        );
        row(
            "monitor 1920x1080",
            xcap_monitor,
            time("x11 monitor", || new.capture(&mon_id)),
        );
        row(
            "window 800x600",
            time("xcap window", || xwin.capture_image()),
            time("x11 window", || new.capture(&win_id)),
        );
        row(
            "desktop, new forced to core",
            xcap_monitor,
            time("x11 core desktop", || core.capture("desktop")),
        );

        let xcap_fps = rate("xcap monitor", || monitor.capture_image());
        let new_fps = rate("x11 desktop", || new.capture("desktop"));
        let core_fps = rate("x11 core desktop", || core.capture("desktop"));
        println!(
            "1080p desktop capture rate (grab + RGBA, back to back, {} s each):",
            RATE_FOR.as_secs()
        );
        println!("  xcap                 {xcap_fps:7.1} fps");
        println!(
            "  {:<20} {new_fps:7.1} fps   new/xcap = {:.1}x",
            format!("new ({path})"),
            new_fps / xcap_fps
        );
        println!(
            "  new (forced core)    {core_fps:7.1} fps   core/xcap = {:.1}x",
            core_fps / xcap_fps
        );
        drop((new, core, x));
        drop(server);
    }
}
