//! Thumbnail pipeline: a 1920×1080 frame to a 320×180 tile with
//! fast_image_resize (SIMD, what the thumbnailer uses) against
//! `image::imageops::thumbnail`, in the same run; and the health
//! measurement of the same frame (`capture::health`: luma on a grid, black
//! share, difference to the last frame) against the resize and against a
//! plain copy of the frame.
//!
//! `cargo bench --bench thumbnail -- --quick` (criterion prints both times;
//! the ratio is printed at the end from a direct measurement too).

use criterion::{Criterion, criterion_group};
use roomshare::capture::health::{HealthBoard, HealthMap, HealthOptions, HealthTracker, measure};
use roomshare::capture::scale::{Downscaler, frame_hash};
use roomshare::capture::synthetic::render;
use roomshare::engine::demo_sources;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn frame() -> image::RgbaImage {
    // A busy picture (bars, text) rather than a flat colour.
    let mut src = demo_sources()[2].clone();
    src.width = 1920;
    src.height = 1080;
    render(&src, 12_345)
}

fn bench(c: &mut Criterion) {
    let img = frame();
    let mut g = c.benchmark_group("thumbnail_1920x1080_to_320x180");
    let mut scaler = Downscaler::new();
    g.bench_function("fast_image_resize", |b| {
        b.iter(|| {
            scaler
                .downscale(1920, 1080, black_box(img.as_raw()), (320, 180))
                .unwrap()
        })
    });
    g.bench_function("image_imageops_thumbnail", |b| {
        b.iter(|| image::imageops::thumbnail(black_box(&img), 320, 180))
    });
    g.bench_function("frame_hash", |b| {
        b.iter(|| frame_hash(1920, 1080, black_box(img.as_raw())))
    });
    g.bench_function("frame_hash_before_xxh3", |b| {
        b.iter(|| hand_written_hash(1920, 1080, black_box(img.as_raw())))
    });
    g.finish();
    bench_health(c, &img);
}

/// Health of one 1080p frame: the measurement alone, and measurement plus
/// the tracker (what `inspect` does per grab), against a plain copy.
fn bench_health(c: &mut Criterion, img: &image::RgbaImage) {
    let mut g = c.benchmark_group("health_1920x1080");
    g.bench_function("measure", |b| {
        b.iter(|| measure(1920, 1080, black_box(img.as_raw()), 0.10).unwrap())
    });
    let mut tracker = tracker();
    let mut t = Instant::now();
    g.bench_function("measure_and_track", |b| {
        b.iter(|| {
            t += Duration::from_millis(33);
            let sample = measure(1920, 1080, black_box(img.as_raw()), 0.10).unwrap();
            tracker.frame(t, sample);
        })
    });
    g.bench_function("copy_frame_baseline", |b| {
        b.iter(|| black_box(img.as_raw()).to_vec())
    });
    g.finish();
}

fn tracker() -> HealthTracker {
    HealthTracker::new(
        HealthOptions::default(),
        Duration::from_millis(33),
        Instant::now(),
    )
}

/// The hand-written change detector roomshare used before XXH3 (one
/// dependent multiply per 8 bytes), kept here as the baseline.
fn hand_written_hash(width: u32, height: u32, rgba: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (u64::from(width) << 32 | u64::from(height)).wrapping_mul(K);
    for c in rgba.chunks_exact(8) {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

fn per_call(n: u32, mut f: impl FnMut()) -> std::time::Duration {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n
}

/// A direct, criterion-independent ratio so the report has one number.
fn ratio() {
    let img = frame();
    let mut scaler = Downscaler::new();
    let n = 50;
    let t = Instant::now();
    for _ in 0..n {
        black_box(
            scaler
                .downscale(1920, 1080, img.as_raw(), (320, 180))
                .unwrap(),
        );
    }
    let fir = t.elapsed() / n;
    let t = Instant::now();
    for _ in 0..n {
        black_box(image::imageops::thumbnail(&img, 320, 180));
    }
    let imageops = t.elapsed() / n;
    println!(
        "thumbnail 1920x1080 -> 320x180: fast_image_resize {fir:?}, image::imageops::thumbnail {imageops:?}, ratio {:.1}x",
        imageops.as_secs_f64() / fir.as_secs_f64()
    );
    let raw = img.as_raw();
    let xxh3 = per_call(200, || {
        black_box(frame_hash(1920, 1080, black_box(raw)));
    });
    let before = per_call(200, || {
        black_box(hand_written_hash(1920, 1080, black_box(raw)));
    });
    println!(
        "change detection of a 1920x1080 frame: xxh3 {xxh3:?}, hand-written hash {before:?} ({:.1}x faster), resize it skips {fir:?} ({:.1}x the hash)",
        before.as_secs_f64() / xxh3.as_secs_f64(),
        fir.as_secs_f64() / xxh3.as_secs_f64()
    );
}

/// Health against the resize and a copy, measured directly, interleaved.
fn health_ratio() {
    let img = frame();
    let raw = img.as_raw();
    let mut scaler = Downscaler::new();
    let mut tracker = tracker();
    let mut t = Instant::now();
    let (mut health, mut tracked, mut copy, mut resize) = (vec![], vec![], vec![], vec![]);
    for _ in 0..9 {
        health.push(per_call(100, || {
            black_box(measure(1920, 1080, black_box(raw), 0.10).unwrap());
        }));
        tracked.push(per_call(100, || {
            t += Duration::from_millis(33);
            tracker.frame(t, measure(1920, 1080, black_box(raw), 0.10).unwrap());
        }));
        copy.push(per_call(100, || {
            black_box(black_box(raw).to_vec());
        }));
        resize.push(per_call(20, || {
            black_box(scaler.downscale(1920, 1080, raw, (320, 180)).unwrap());
        }));
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (h, k, c, r) = (
        median(&mut health),
        median(&mut tracked),
        median(&mut copy),
        median(&mut resize),
    );
    println!(
        "health of a 1920x1080 frame: measure {h:?}, measure + track {k:?}; copy of the frame {c:?} ({:.2}x the measure), thumbnail resize {r:?} ({:.2}x)",
        c.as_secs_f64() / h.as_secs_f64(),
        r.as_secs_f64() / h.as_secs_f64()
    );
}

/// What the wall's health adds to the thumbnailer: one 1 Hz cycle over 20
/// windows of 1280×720 (each grab's resize to its tile and change hash,
/// as `capture/thumbnails.rs` does), without and with the health board
/// fed the same grabs; medians of nine interleaved rounds. At 1 Hz the
/// added time per cycle is the added share of a core.
fn twenty_windows_ratio() {
    let mut src = demo_sources()[2].clone();
    (src.width, src.height) = (1280, 720);
    let windows: Vec<image::RgbaImage> = (0..20).map(|i| render(&src, 1_000 * i)).collect();
    let ids: Vec<String> = (0..20).map(|i| format!("window:{i}")).collect();
    let mut scaler = Downscaler::new();
    let mut board = HealthBoard::new(
        HealthOptions::default(),
        Duration::from_secs(1),
        HealthMap::default(),
    );
    let thumbnails = |scaler: &mut Downscaler| {
        for img in &windows {
            black_box(
                scaler
                    .downscale(1280, 720, img.as_raw(), (320, 180))
                    .unwrap(),
            );
            black_box(frame_hash(1280, 720, img.as_raw()));
        }
    };
    let (mut without, mut with) = (vec![], vec![]);
    for _ in 0..9 {
        without.push(per_call(5, || thumbnails(&mut scaler)));
        with.push(per_call(5, || {
            thumbnails(&mut scaler);
            let now = Instant::now();
            for (id, img) in ids.iter().zip(&windows) {
                board.frame(id, now, img);
            }
        }));
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (a, b) = (median(&mut without), median(&mut with));
    let added = b.saturating_sub(a);
    println!(
        "1 Hz thumbnail cycle of 20 1280x720 windows: {a:?} without health, {b:?} with ({:.1} % more); the health adds {added:?} a second = {:.2} % of a core",
        (b.as_secs_f64() / a.as_secs_f64() - 1.0) * 100.0,
        added.as_secs_f64() * 100.0
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratio();
    health_ratio();
    twenty_windows_ratio();
}
