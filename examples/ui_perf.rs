//! UI performance figures (no asserts): frame CPU time with 60 tiles, and
//! click-to-is_sharing latency through the Link, embedded vs loopback remote.
//!
//!     cargo run --release --example ui_perf
//!
//! Frame time is the CPU side of one egui pass (layout + painting +
//! tessellation) of the whole console, without GPU submission. Idle CPU of
//! the real window is measured by `scripts/screenshots.sh --idle-cpu`.

use roomshare::client::{ConnState, Endpoint};
use roomshare::engine::{EngineHandle, RoomConfig};
use roomshare::link::{Extension, Link, RoomView, Target};
use roomshare::media::{Frame, PreviewSlot, Thumbnail, ThumbnailState};
use roomshare::protocol::answers::ShareSession;
use roomshare::protocol::{
    MeetingAction, MeetingInfo, ShareAction, ShareInfo, ShareTarget, SourceInfo, SourceKind,
    StartShare,
};
use roomshare::server::{Server, ServerConfig};
use roomshare::ui::{ConsoleApp, FixedRoomDesk, Settings};
use std::sync::{Arc, Condvar, Mutex};
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

fn sixty_sources() -> Vec<SourceInfo> {
    let mut v = vec![SourceInfo {
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
    for d in 0..3 {
        v.push(SourceInfo {
            id: format!("mon-{d}"),
            kind: SourceKind::CaptureDevice,
            select_index: None,
            device_id: Some(format!("mon-{d}")),
            title: format!("Monitor {d}"),
            app: "capture".into(),
            width: 1920,
            height: 1080,
            unavailable: None,
            health: None,
        });
    }
    for w in 1..=56u32 {
        v.push(SourceInfo {
            id: format!("win-{w}"),
            kind: SourceKind::Window,
            select_index: Some(w),
            device_id: None,
            title: format!("窗口 Window number {w} — a fairly long document title.txt"),
            app: format!("app{}", w % 7),
            width: 1280,
            height: 720,
            unavailable: None,
            health: None,
        });
    }
    v
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn frame_times(label: &str, size: egui::Vec2, changed_per_frame: usize) {
    let sources = sixty_sources();
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
        share_session: Some(ShareSession {
            source_id: "win-3".into(),
            fluency_first: Some(true),
            share_voice: Some(false),
            ..ShareSession::default()
        }),
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
    let ctx = egui::Context::default();
    let mut app = ConsoleApp::new(
        &ctx,
        Arc::new(fixture.clone()),
        Settings::default(),
        None,
        None,
    );
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
        ..Default::default()
    };
    let mut seq = 1;
    let mut times = Vec::new();
    for n in 0..600 {
        if changed_per_frame > 0 {
            seq += 1;
            for k in 0..changed_per_frame {
                let s = &sources[(n * changed_per_frame + k) % sources.len()];
                fixture.thumbnails.set(
                    &s.id,
                    ThumbnailState::Ready(Thumbnail {
                        frame: frame(320, 180, seq as u8),
                        seq,
                        captured_at: Instant::now(),
                    }),
                );
            }
        }
        let t0 = Instant::now();
        let out = ctx.run_ui(input(), |ui| app.repaint(ui));
        let _prims = ctx.tessellate(out.shapes, out.pixels_per_point);
        let dt = t0.elapsed().as_secs_f64() * 1000.0;
        if n >= 100 {
            times.push(dt);
        }
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "frame CPU, {label}: mean {mean:.2} ms, p50 {:.2} ms, p99 {:.2} ms (500 frames, {}x{} window, texture uploads {})",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        size.x,
        size.y,
        app.room.wall.textures.uploads
    );
}

/// Waits for `on_change` notifications without polling.
#[derive(Clone, Default)]
struct Changed(Arc<(Mutex<u64>, Condvar)>);

impl Changed {
    fn bump(&self) {
        let (m, c) = &*self.0;
        if let Ok(mut n) = m.lock() {
            *n += 1;
        }
        c.notify_all();
    }
    fn wait_until(&self, link: &Link, cond: impl Fn(&RoomView) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        let (m, c) = &*self.0;
        let mut guard = m.lock().expect("lock");
        loop {
            if cond(&link.view()) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = c
                .wait_timeout(guard, left.min(Duration::from_millis(50)))
                .expect("wait")
                .0;
        }
    }
}

fn latency(label: &str, rt: &tokio::runtime::Runtime, target: Target, changed: Changed) {
    let on_change: Arc<dyn Fn() + Send + Sync> = {
        let c = changed.clone();
        Arc::new(move || c.bump())
    };
    let link = Link::start(target, rt.handle(), on_change);
    assert!(changed.wait_until(&link, |v| v.conn == ConnState::Connected
        && !v.sources.is_empty()));
    link.meeting(MeetingAction::StartMeeting);
    assert!(changed.wait_until(&link, |v| {
        v.meeting.as_ref().is_some_and(|m| m.meeting_status == 1)
    }));
    let mut times = Vec::new();
    for i in 0..200 {
        let index = (i % 3 + 1) as u32;
        let generation = link.view().generation;
        let t0 = Instant::now();
        link.share(ShareAction::StartShare(StartShare {
            target: ShareTarget::Index(index),
            fluency_first: true,
            share_voice: false,
            generation,
        }));
        let ok = changed.wait_until(&link, |v| {
            v.share_info.as_ref().is_some_and(|s| s.is_sharing)
        });
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        assert!(ok, "no is_sharing");
        link.share(ShareAction::StopShare);
        let stopped = changed.wait_until(&link, |v| {
            !v.share_info.as_ref().is_some_and(|s| s.is_sharing)
        });
        assert!(
            stopped,
            "share {i}: not stopped; notices {:?}; view {:?}",
            link.take_notices(),
            link.view().share_info
        );
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "click → is_sharing, {label}: mean {mean:.2} ms, p50 {:.2} ms, p99 {:.2} ms (200 shares)",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
}

fn main() {
    frame_times("60 tiles, nothing changes", egui::vec2(1360.0, 860.0), 0);
    frame_times(
        "60 tiles, 4 thumbnails new per frame",
        egui::vec2(1360.0, 860.0),
        4,
    );
    frame_times(
        "60 tiles all on screen (2560x1600)",
        egui::vec2(2560.0, 1600.0),
        4,
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _g = rt.enter();
    let room = || RoomConfig {
        join_delay: Duration::from_millis(10),
        ..RoomConfig::default()
    };
    let engine = EngineHandle::spawn(room());
    let target = Target::embedded(
        Endpoint::Embedded {
            engine,
            thumbnails: None,
        },
        Default::default(),
        PreviewSlot::default(),
    );
    latency("embedded", &rt, target, Changed::default());

    let engine = EngineHandle::spawn(room());
    let server = rt
        .block_on(Server::start(
            ServerConfig {
                listen: "127.0.0.1:0".parse().expect("addr"),
                // This loop clicks far faster than a person: lift the flood limit.
                rate_per_sec: 1_000_000,
                rate_burst: 2_000_000,
                ..ServerConfig::default()
            },
            engine,
            None,
        ))
        .expect("server");
    let url = roomshare::protocol::normalise_url(&server.local_addr().to_string());
    latency(
        "loopback remote",
        &rt,
        Target::remote(&url, None),
        Changed::default(),
    );
    rt.block_on(server.shutdown());
}
