//! Thumbnail pipeline: a 1920×1080 frame to a 320×180 tile with
//! fast_image_resize (SIMD, what the thumbnailer uses) against
//! `image::imageops::thumbnail`, in the same run.
//!
//! `cargo bench --bench thumbnail -- --quick` (criterion prints both times;
//! the ratio is printed at the end from a direct measurement too).

use criterion::{Criterion, criterion_group};
use roomshare::capture::scale::{Downscaler, frame_hash};
use roomshare::capture::synthetic::render;
use roomshare::engine::demo_sources;
use std::hint::black_box;
use std::time::Instant;

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
    g.finish();
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
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratio();
}
