//! What a frame of the real console window costs with each renderer: the
//! console over a fixture of `--tiles` tiles (default 60; 4 is an idle
//! console's desktop, monitor and two windows) in a real eframe window,
//! redrawn in a forced loop for `--frames` frames; then the same window
//! left alone for `--idle-secs` seconds. CPU is the whole process's (every thread, the
//! renderer's and the driver's included: utime + stime from /proc/self/stat).
//!
//!     cargo run --release --example render_cost -- --renderer glow
//!     cargo run --release --example render_cost -- --renderer wgpu
//!
//! Under Xvfb the GL and Vulkan drivers are Mesa's software rasterizers
//! (llvmpipe / lavapipe), as on a VM, over RDP or VNC, or without a GPU
//! driver; the adapter is printed. `scripts/render-cost.sh` runs both in a
//! private Xvfb.

use roomshare::client::ConnState;
use roomshare::link::{Extension, RoomView};
use roomshare::media::{Frame, Thumbnail, ThumbnailState};
use roomshare::protocol::{MeetingInfo, ShareInfo, SourceInfo, SourceKind};
use roomshare::ui::{ConsoleApp, FixedRoomDesk, Settings};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn frame(w: u32, h: u32, seed: u8) -> Arc<Frame> {
    let mut rgba = vec![0u8; (w * h * 4) as usize];
    for (i, px) in rgba.chunks_exact_mut(4).enumerate() {
        let i = i as u32;
        px.copy_from_slice(&[(i % w) as u8 ^ seed, (i / w) as u8, seed, 255]);
    }
    Arc::new(Frame {
        width: w,
        height: h,
        rgba,
    })
}

/// The desktop and `tiles - 1` windows, each with a 320×180 thumbnail.
fn wall_of(tiles: u32) -> FixedRoomDesk {
    let mut sources = vec![SourceInfo {
        id: "desktop".into(),
        kind: SourceKind::Desktop,
        select_index: Some(0),
        device_id: None,
        title: "Desktop".into(),
        app: "roomshare".into(),
        width: 1920,
        height: 1080,
        unavailable: None,
        health: None,
    }];
    for w in 1..tiles.max(1) {
        sources.push(SourceInfo {
            id: format!("win-{w}"),
            kind: SourceKind::Window,
            select_index: Some(w),
            device_id: None,
            title: format!("Window number {w} — a fairly long document title.txt"),
            app: format!("app{}", w % 7),
            width: 1280,
            height: 720,
            unavailable: None,
            health: None,
        });
    }
    let view = RoomView {
        conn: ConnState::Connected,
        share_info: Some(ShareInfo::default()),
        meeting: Some(MeetingInfo {
            meeting_status: 1,
            ..MeetingInfo::default()
        }),
        cast_code: Some("246810".into()),
        extension: Extension::Present,
        sources: sources.clone(),
        generation: Some(1),
        ..RoomView::empty("embedded".into(), true)
    };
    let fixture = FixedRoomDesk::new(view);
    for (i, s) in sources.iter().enumerate() {
        fixture.thumbnails.set(
            &s.id,
            ThumbnailState::Ready(Thumbnail {
                frame: frame(320, 180, i as u8),
                seq: 1,
                captured_at: Instant::now(),
            }),
        );
    }
    fixture
}

/// CPU time of this process so far (all threads).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 here.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    // Clock ticks of USER_HZ, which Linux fixes at 100 for user space.
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Warmup,
    Loop,
    Idle,
}

struct Bench {
    app: ConsoleApp,
    renderer: &'static str,
    tiles: u32,
    frames: u64,
    warmup: u64,
    idle: Duration,
    phase: Phase,
    drawn: u64,
    mark: Option<(Instant, Duration, u64)>,
    adapter: Option<String>,
}

impl Bench {
    #[allow(unsafe_code)] // glow's string queries
    fn adapter(frame: &eframe::Frame) -> String {
        if let Some(rs) = frame.wgpu_render_state() {
            let info = rs.adapter.get_info();
            return format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type);
        }
        if let Some(gl) = frame.gl() {
            use eframe::glow::HasContext as _;
            // SAFETY: plain string queries on the current context.
            let (renderer, version) = unsafe {
                (
                    gl.get_parameter_string(eframe::glow::RENDERER),
                    gl.get_parameter_string(eframe::glow::VERSION),
                )
            };
            return format!("{renderer} (OpenGL {version})");
        }
        "unknown".into()
    }
}

impl eframe::App for Bench {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if self.adapter.is_none() {
            self.adapter = Some(Bench::adapter(frame));
        }
        self.app.repaint(ui);
        self.drawn += 1;
        let ctx = ui.ctx().clone();
        match self.phase {
            Phase::Warmup => {
                if self.drawn >= self.warmup {
                    self.phase = Phase::Loop;
                    self.mark = Some((Instant::now(), cpu(), self.drawn));
                }
                ctx.request_repaint();
            }
            Phase::Loop => {
                let Some((t0, c0, n0)) = self.mark else {
                    return;
                };
                let n = self.drawn - n0;
                if n >= self.frames {
                    let (wall, used) = (t0.elapsed(), cpu().saturating_sub(c0));
                    println!(
                        "{}: {} — {n} frames of {} tiles: {:.2} ms CPU per frame, {:.1} frames/s ({:.0} % of a core)",
                        self.renderer,
                        self.adapter.as_deref().unwrap_or("?"),
                        self.tiles,
                        used.as_secs_f64() * 1000.0 / n as f64,
                        n as f64 / wall.as_secs_f64(),
                        100.0 * used.as_secs_f64() / wall.as_secs_f64(),
                    );
                    self.phase = Phase::Idle;
                    self.mark = Some((Instant::now(), cpu(), self.drawn));
                    let (idle, ctx2, renderer) = (self.idle, ctx.clone(), self.renderer);
                    // Measure the idle window from another thread: a
                    // repaint to measure it would not be idle.
                    std::thread::spawn(move || {
                        let (t0, c0) = (Instant::now(), cpu());
                        std::thread::sleep(idle);
                        let used = cpu().saturating_sub(c0);
                        println!(
                            "{renderer}: idle for {:.0} s: {:.2} % of a core",
                            t0.elapsed().as_secs_f64(),
                            100.0 * used.as_secs_f64() / t0.elapsed().as_secs_f64()
                        );
                        ctx2.send_viewport_cmd(egui::ViewportCommand::Close);
                        ctx2.request_repaint();
                    });
                } else {
                    ctx.request_repaint();
                }
            }
            Phase::Idle => {
                if let Some((_, _, n0)) = self.mark
                    && self.drawn - n0 > 3
                {
                    // More than the frame that closes the window and a
                    // couple of settling passes.
                    println!(
                        "{}: {} frames drawn while idle",
                        self.renderer,
                        self.drawn - n0
                    );
                }
            }
        }
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> eframe::Result {
    let renderer = match arg("--renderer").as_deref() {
        Some("wgpu") => eframe::Renderer::Wgpu,
        _ => eframe::Renderer::Glow,
    };
    let tiles: u32 = arg("--tiles").and_then(|v| v.parse().ok()).unwrap_or(60);
    let frames: u64 = arg("--frames").and_then(|v| v.parse().ok()).unwrap_or(300);
    let idle = Duration::from_secs(arg("--idle-secs").and_then(|v| v.parse().ok()).unwrap_or(5));
    let options = eframe::NativeOptions {
        renderer,
        viewport: egui::ViewportBuilder::default()
            .with_title("render_cost")
            .with_inner_size([1360.0, 860.0]),
        ..Default::default()
    };
    let name = match renderer {
        eframe::Renderer::Wgpu => "wgpu",
        _ => "glow",
    };
    eframe::run_native(
        "render_cost",
        options,
        Box::new(move |cc| {
            let app = ConsoleApp::new(
                &cc.egui_ctx,
                Arc::new(wall_of(tiles)),
                Settings::default(),
                None,
                None,
            );
            Ok(Box::new(Bench {
                app,
                renderer: name,
                tiles,
                frames,
                warmup: 30,
                idle,
                phase: Phase::Warmup,
                drawn: 0,
                mark: None,
                adapter: None,
            }))
        }),
    )
}
