//! Writes the capture-device test fixtures (`tests/fixtures/v4l2/`).
//!
//! The fixtures are SYNTHESISED here from a known test pattern (eight
//! colour bars), not recorded from a device: this machine has no
//! `/dev/video*`. They are built to look like what UVC devices send:
//! - `bars_320x240.mjpg`: a baseline JPEG with its tables (as some
//!   grabbers send);
//! - `bars_320x240_nodht.mjpg`: the same frame with its Huffman tables
//!   (DHT) and JFIF header removed, as most UVC cameras send MJPEG;
//! - `bars_160x120.yuyv`: packed YUYV, BT.601 limited range, computed in
//!   floating point from the bar colours (independent of the decoder's
//!   integer code); 160×120 because 320×240 YUYV would be 150 KiB;
//! - `truncated_320x240.mjpg`: the first 60 % of the good frame (a frame
//!   cut short on the bus: no end-of-image marker);
//! - `badtable_320x240.mjpg`: the DHT-less frame whose scan asks for
//!   Huffman table 3, which no JPEG defines (a frame the decoder rejects).
//!
//! `cargo run --example make_v4l2_fixtures` (deterministic: re-running it
//! rewrites identical files).

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use std::path::Path;

/// The bars, left to right: white, yellow, cyan, green, magenta, red,
/// blue, black (100 % bars). The tests hold the same list.
const BARS: [[u8; 3]; 8] = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
    [0, 0, 0],
];

fn bars(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| Rgb(BARS[(x * 8 / width) as usize]))
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    if let Err(e) = JpegEncoder::new_with_quality(&mut out, 90).encode_image(img) {
        panic!("encoding the test pattern failed: {e}");
    }
    out
}

/// The frame without its DHT and APP0 (JFIF) segments: SOI, DQT, SOF0,
/// SOS + scan, EOI — the shape of a typical UVC MJPEG frame.
fn strip_tables(jpeg: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        if marker == 0xDA {
            out.extend_from_slice(&jpeg[at..]);
            return out;
        }
        let len = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
        if marker != 0xC4 && marker != 0xE0 {
            out.extend_from_slice(&jpeg[at..at + 2 + len]);
        }
        at += 2 + len;
    }
    panic!("no SOS in the encoded frame");
}

/// Point every component of the scan at Huffman tables 3/3.
fn bad_table(nodht: &[u8]) -> Vec<u8> {
    let mut out = nodht.to_vec();
    let sos = (2..out.len() - 1)
        .find(|&i| out[i] == 0xFF && out[i + 1] == 0xDA)
        .unwrap_or_else(|| panic!("no SOS"));
    let components = out[sos + 4] as usize;
    for c in 0..components {
        out[sos + 5 + 2 * c + 1] = 0x33;
    }
    out
}

/// YUYV with BT.601 limited-range values computed in f64.
fn yuyv(img: &RgbImage) -> Vec<u8> {
    let ycc = |p: &Rgb<u8>| {
        let [r, g, b] = p.0.map(|c| f64::from(c) / 255.0);
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        let cb = (b - y) / 1.772;
        let cr = (r - y) / 1.402;
        (16.0 + 219.0 * y, 128.0 + 224.0 * cb, 128.0 + 224.0 * cr)
    };
    let mut out = Vec::with_capacity(img.len() / 3 * 2);
    for row in img.rows() {
        let px: Vec<_> = row.map(ycc).collect();
        for pair in px.chunks_exact(2) {
            let ((y0, u0, v0), (y1, u1, v1)) = (pair[0], pair[1]);
            let q = |v: f64| v.round().clamp(0.0, 255.0) as u8;
            out.extend_from_slice(&[q(y0), q((u0 + u1) / 2.0), q(y1), q((v0 + v1) / 2.0)]);
        }
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, bytes) {
        panic!("cannot write {}: {e}", path.display());
    }
    println!("{} ({} bytes)", path.display(), bytes.len());
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v4l2");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    let good = jpeg(&bars(320, 240));
    let nodht = strip_tables(&good);
    write(&dir, "bars_320x240.mjpg", &good);
    write(&dir, "bars_320x240_nodht.mjpg", &nodht);
    write(&dir, "bars_160x120.yuyv", &yuyv(&bars(160, 120)));
    write(&dir, "truncated_320x240.mjpg", &good[..good.len() * 6 / 10]);
    write(&dir, "badtable_320x240.mjpg", &bad_table(&nodht));
}
