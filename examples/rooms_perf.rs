//! Rooms view figures (no asserts): the CPU side of one frame (layout,
//! painting, tessellation) of the console's Rooms view with 200 rooms, as
//! a ratio to the single-room console with 60 tiles measured in the same
//! run (the frame every user already draws).
//!
//!     cargo run --release --example rooms_perf
//!
//! The rooms are fixed ([`FixedRoomsDesk`]): this measures drawing, not the
//! network (`examples/fleet_bench.rs` measures the live fleet).

use roomshare::link::fleet::RoomStatus;
use roomshare::link::{ConnState, Extension, RoomView};
use roomshare::media::{Frame, Thumbnail, ThumbnailState};
use roomshare::protocol::{MeetingInfo, ShareInfo, ShareUserInfo, SourceInfo, SourceKind};
use roomshare::ui::rooms::{FixedRoomsDesk, RoomsView};
use roomshare::ui::{ConsoleApp, FixedRoomDesk, Page, Settings};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FRAMES: usize = 400;

/// `n` rooms in groups of 20, every fifth one sharing, every tenth down.
fn rooms(n: usize) -> Vec<RoomStatus> {
    let now = Instant::now();
    (0..n)
        .map(|i| {
            let name = format!("Room {i:03}");
            let group = format!("{}F", 1 + i / 20);
            let url = format!("ws://10.0.{}.{}:6295/", i / 250, i % 250);
            let mut r = RoomStatus::new(&name, &group, url, false);
            r.conn = if i % 10 == 9 {
                ConnState::AuthFailed {
                    code: 16,
                    message: "Rooms CSAPI Password Error".into(),
                }
            } else {
                ConnState::Connected
            };
            r.meeting = Some(MeetingInfo {
                meeting_status: i64::from(i % 3 == 0),
                meeting_title: format!("Meeting {i}"),
                ..MeetingInfo::default()
            });
            r.share_info = Some(ShareInfo {
                is_sharing: i % 5 == 0,
                share_user_info: (i % 5 == 0).then(|| ShareUserInfo {
                    nickname: format!("Presenter {i}"),
                    instance_id: 1,
                    ..ShareUserInfo::default()
                }),
                quick_casting_state: 0,
            });
            r.cast_code = Some(format!("{:06}", 100_000 + i));
            r.changed_at = Some(now - Duration::from_secs(i as u64 * 7));
            r
        })
        .collect()
}

fn sixty_tiles() -> FixedRoomDesk {
    let sources: Vec<SourceInfo> = (0..60)
        .map(|i| SourceInfo {
            id: format!("win-{i}"),
            kind: SourceKind::Window,
            select_index: Some(i + 1),
            title: format!("Window {i}"),
            app: "app".into(),
            device_id: None,
            width: 1280,
            height: 720,
            unavailable: None,
            health: None,
        })
        .collect();
    let view = RoomView {
        conn: ConnState::Connected,
        share_info: Some(ShareInfo::default()),
        extension: Extension::Present,
        sources: sources.clone(),
        generation: Some(1),
        ..RoomView::empty("embedded".into(), true)
    };
    let fixture = FixedRoomDesk::new(view);
    for (i, s) in sources.iter().enumerate() {
        let rgba = vec![i as u8; 320 * 180 * 4];
        let frame = Arc::new(Frame {
            width: 320,
            height: 180,
            rgba,
        });
        let thumb = Thumbnail {
            frame,
            seq: 1,
            captured_at: Instant::now(),
        };
        fixture.thumbnails.set(&s.id, ThumbnailState::Ready(thumb));
    }
    fixture
}

/// Median and p99 frame CPU in ms over [`FRAMES`] frames (after 50 warm-up).
fn frame_times(mut app: ConsoleApp, ctx: &egui::Context) -> (f64, f64) {
    let size = egui::vec2(1360.0, 860.0);
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
        ..Default::default()
    };
    let mut times = Vec::new();
    for n in 0..FRAMES + 50 {
        let t0 = Instant::now();
        let mut out = ctx.run_ui(input(), |ui| app.repaint(ui));
        let _ = ctx.tessellate(out.shapes, out.pixels_per_point);
        // No renderer here to take the texture uploads.
        out.textures_delta.clear();
        if n >= 50 {
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() * 99 / 100])
}

fn rooms_console(n: usize) -> (ConsoleApp, egui::Context) {
    let ctx = egui::Context::default();
    let start = Arc::new(FixedRoomDesk::new(RoomView::empty("none".into(), false)));
    let app = ConsoleApp::new(&ctx, start, Settings::default(), None, None);
    let desk = Arc::new(FixedRoomsDesk::new(rooms(n)));
    (app.with_rooms(RoomsView::new(desk), Page::Rooms), ctx)
}

fn main() {
    let ctx = egui::Context::default();
    let single = ConsoleApp::new(
        &ctx,
        Arc::new(sixty_tiles()),
        Settings::default(),
        None,
        None,
    );
    let (base50, base99) = frame_times(single, &ctx);
    println!("baseline: single-room console, 60 tiles: p50 {base50:.2} ms, p99 {base99:.2} ms");
    for n in [20, 200, 1000] {
        let (app, ctx) = rooms_console(n);
        let (p50, p99) = frame_times(app, &ctx);
        println!(
            "Rooms view, {n:4} rooms: p50 {p50:.2} ms, p99 {p99:.2} ms = {:.2}x the baseline's p50",
            p50 / base50
        );
    }
}
