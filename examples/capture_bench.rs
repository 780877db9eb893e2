//! Capture figures on a private Xvfb (1920x1080) + openbox:
//! - a full catalog refresh with 20 real windows: time per cycle and CPU
//!   (ours and the X server's) as a share of one core at one refresh/s;
//! - the share session's measured frame rate on the 1920x1080 desktop with
//!   fluency_first on and off (and on a synthetic 1920x1080 source).
//!
//! `cargo run --release --example capture_bench`

#[path = "../tests/support/capture_x11.rs"]
mod x11;

use roomshare::capture::{
    Backend, BackendFactory, Capture, CaptureOptions, SyntheticBackend, SyntheticClock,
    SyntheticSources, XcapBackend,
};
use roomshare::engine::{EngineHandle, RoomConfig};
use roomshare::protocol::{Id, Request};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use x11::{WindowSpec, XClient, XServer};

/// CPU seconds (user + system) of a process, from /proc.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based) = 11 and 12 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn xvfb_pid(display: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok())
        .find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            (cmd.starts_with("Xvfb ") && cmd.split(' ').nth(1) == Some(display)).then_some(pid)
        })
}

async fn share_fps(
    engine: &EngineHandle,
    capture: &Capture,
    source_index: u32,
    fluency: bool,
) -> (f32, u32, u32) {
    let r = engine
        .request(Request::new(
            Some(Id::number(1)),
            "Call/Share",
            json!({"action": "StartShare", "action_params": {"share_type": 0, "fluency_first": fluency, "select_index": source_index}}),
        ))
        .await
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    // Warm up, then read the measured rate (a 2 s window).
    tokio::time::sleep(Duration::from_secs(4)).await;
    let p = capture.preview().expect("a share preview");
    (p.fps, p.frame.width, p.frame.height)
}

async fn share_run(factory: BackendFactory, index: u32, label: &str) {
    let engine = EngineHandle::spawn(RoomConfig {
        join_delay: Duration::from_millis(10),
        ..RoomConfig::default()
    });
    let capture = Capture::start_with(
        factory,
        engine.clone(),
        CaptureOptions::default(),
        Arc::new(|| {}),
    );
    engine
        .request(Request::new(
            Some(Id::number(0)),
            "Call/Meeting",
            json!({"action": "StartMeeting"}),
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for fluency in [true, false] {
        let (fps, w, h) = share_fps(&engine, &capture, index, fluency).await;
        println!("share session, {label}, fluency_first={fluency}: {fps:.1} fps at {w}x{h}");
    }
}

fn main() {
    let server = XServer::start(1920, 1080).expect("Xvfb + openbox");
    // SAFETY: before any other thread exists; xcap reads DISPLAY from the
    // process environment.
    unsafe {
        std::env::set_var("DISPLAY", &server.display);
        std::env::remove_var("WAYLAND_DISPLAY");
        std::env::remove_var("XDG_SESSION_TYPE");
    }
    let x = XClient::connect(&server.display);
    let mut wins = Vec::new();
    for i in 0..20u32 {
        let title = format!("Bench window {i:02}");
        wins.push(x.window(&WindowSpec {
            title: &title,
            rgb: [(i * 12) as u8, 100, 200 - (i * 8) as u8],
            x: (40 + (i % 5) * 360) as i16,
            y: (40 + (i / 5) * 250) as i16,
            width: 320,
            height: 220,
            pid: None,
            iconic: false,
        }));
    }
    let t0 = Instant::now();
    while !wins.iter().all(|w| x.client_list().contains(w))
        && t0.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(100));
        let list = x.client_list();
        let missing: Vec<u32> = wins.iter().copied().filter(|w| !list.contains(w)).collect();
        x.remap(&missing);
    }
    std::thread::sleep(Duration::from_millis(500));

    // Catalog refresh.
    let mut backend = XcapBackend::new();
    let n = backend.list().unwrap().len();
    let xpid = xvfb_pid(&server.display);
    let cycles = 20;
    let (cpu0, xcpu0) = (cpu_secs(std::process::id()), xpid.map_or(0.0, cpu_secs));
    let t = Instant::now();
    for _ in 0..cycles {
        std::hint::black_box(backend.list().unwrap());
    }
    let per = t.elapsed() / cycles;
    let cpu = (cpu_secs(std::process::id()) - cpu0) / f64::from(cycles);
    let xcpu = (xpid.map_or(0.0, cpu_secs) - xcpu0) / f64::from(cycles);
    println!(
        "catalog refresh, {n} sources (20 windows): {per:?} per cycle; CPU per cycle: roomshare {:.1} ms, Xvfb {:.1} ms; at one refresh per second: {:.1}% + {:.1}% of one core",
        cpu * 1000.0,
        xcpu * 1000.0,
        cpu * 100.0,
        xcpu * 100.0
    );

    // One thumbnail pass over all sources (what the thumbnailer does per interval).
    let list = backend.list().unwrap();
    let t = Instant::now();
    for s in &list {
        let _ = backend.capture(&s.id);
    }
    println!(
        "thumbnail captures, all {} sources once: {:?}",
        list.len(),
        t.elapsed()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let real: BackendFactory = Arc::new(|| Box::new(XcapBackend::new()) as Box<dyn Backend>);
        share_run(real, 0, "Xvfb desktop 1920x1080 (xcap)").await;
        let sources = SyntheticSources::default();
        let clock = SyntheticClock::real();
        let synthetic: BackendFactory = Arc::new(move || {
            Box::new(SyntheticBackend::new(sources.clone(), clock.clone())) as Box<dyn Backend>
        });
        share_run(synthetic, 1, "synthetic 1920x1080").await;
    });
    drop(x);
    drop(server);
}
