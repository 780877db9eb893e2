//! Capture-device decoding at 1920×1080: YUYV → RGBA (our BT.601 integer
//! conversion) and an MJPEG frame → RGBA (the `image` crate's JPEG decoder
//! after inserting the standard Huffman tables, as for a UVC frame).
//!
//! The 1080p inputs are synthesised here (a busy synthetic-source picture,
//! encoded as a camera would send it); no device is involved.
//!
//! `cargo bench --bench capture_devices` (criterion's figures, then one
//! direct per-frame figure each at the end).

use criterion::{Criterion, criterion_group};
use image::codecs::jpeg::JpegEncoder;
use roomshare::capture::devices::decode::{decode_mjpeg, yuyv_to_rgba};
use roomshare::capture::synthetic::render;
use roomshare::engine::demo_sources;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn picture() -> image::RgbImage {
    let mut src = demo_sources()[2].clone();
    src.width = 1920;
    src.height = 1080;
    image::DynamicImage::ImageRgba8(render(&src, 12_345)).to_rgb8()
}

/// Packed YUYV of `img` (BT.601 limited range, pairs share chroma).
fn yuyv(img: &image::RgbImage) -> Vec<u8> {
    let ycc = |p: &image::Rgb<u8>| {
        let [r, g, b] = p.0.map(f32::from);
        let y = 16.0 + (65.738 * r + 129.057 * g + 25.064 * b) / 256.0;
        let u = 128.0 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256.0;
        let v = 128.0 + (112.439 * r - 94.154 * g - 18.285 * b) / 256.0;
        [y as u8, u as u8, v as u8]
    };
    let mut out = Vec::with_capacity(img.len() / 3 * 2);
    for pair in img.pixels().collect::<Vec<_>>().chunks_exact(2) {
        let (a, b) = (ycc(pair[0]), ycc(pair[1]));
        out.extend_from_slice(&[a[0], a[1], b[0], a[2]]);
    }
    out
}

/// A 1080p MJPEG frame without DHT, as UVC cameras send it.
fn mjpeg(img: &image::RgbImage) -> Vec<u8> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(img)
        .unwrap();
    strip_dht(&jpeg)
}

fn strip_dht(jpeg: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let mut at = 2;
    while jpeg[at + 1] != 0xDA {
        let len = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
        if jpeg[at + 1] != 0xC4 {
            out.extend_from_slice(&jpeg[at..at + 2 + len]);
        }
        at += 2 + len;
    }
    out.extend_from_slice(&jpeg[at..]);
    out
}

fn bench(c: &mut Criterion) {
    let img = picture();
    let (yuyv, mjpeg) = (yuyv(&img), mjpeg(&img));
    let mut g = c.benchmark_group("capture_device_1920x1080");
    g.bench_function("yuyv_to_rgba", |b| {
        b.iter(|| yuyv_to_rgba(1920, 1080, 0, black_box(&yuyv)).unwrap())
    });
    g.bench_function("mjpeg_no_dht_to_rgba", |b| {
        b.iter(|| decode_mjpeg(black_box(&mjpeg)).unwrap())
    });
    g.finish();
}

fn per_frame(n: u32, mut f: impl FnMut()) -> Duration {
    f();
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n
}

/// One plain figure per conversion, independent of criterion.
fn summary() {
    let img = picture();
    let (yuyv, mjpeg) = (yuyv(&img), mjpeg(&img));
    let y = per_frame(50, || {
        black_box(yuyv_to_rgba(1920, 1080, 0, &yuyv).unwrap());
    });
    let m = per_frame(20, || {
        black_box(decode_mjpeg(&mjpeg).unwrap());
    });
    println!(
        "capture device 1920x1080 -> RGBA: YUYV {y:?}/frame, MJPEG ({} KiB, no DHT) {m:?}/frame",
        mjpeg.len() / 1024
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
