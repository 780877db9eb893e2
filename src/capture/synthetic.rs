//! Synthetic sources: animated test patterns for machines without a display,
//! demos and tests. A picture is a pure function of the source and a time in
//! milliseconds ([`render`]), so tests can compare pixels exactly.

use super::{Backend, CaptureError};
use crate::protocol::{SourceInfo, TEST_PATTERN_APP};
use image::RgbaImage;
use parking_lot::{Mutex, MutexGuard};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The synthetic source list, shared by every backend made from it; tests and
/// the demo add, remove and rename sources through it.
#[derive(Clone)]
pub struct SyntheticSources(Arc<Mutex<Vec<SourceInfo>>>);

impl Default for SyntheticSources {
    /// The engine's demo sources (same ids), so a console without a display
    /// shows the same wall as the engine's initial list.
    fn default() -> Self {
        SyntheticSources::new(crate::engine::demo_sources())
    }
}

impl SyntheticSources {
    pub fn new(list: Vec<SourceInfo>) -> SyntheticSources {
        SyntheticSources(Arc::new(Mutex::new(list)))
    }

    fn lock(&self) -> MutexGuard<'_, Vec<SourceInfo>> {
        self.0.lock()
    }

    pub fn list(&self) -> Vec<SourceInfo> {
        self.lock().clone()
    }

    pub fn set(&self, list: Vec<SourceInfo>) {
        *self.lock() = list;
    }

    pub fn push(&self, source: SourceInfo) {
        self.lock().push(source);
    }

    /// Remove a source; true if it was there.
    pub fn remove(&self, id: &str) -> bool {
        let mut list = self.lock();
        let before = list.len();
        list.retain(|s| s.id != id);
        list.len() != before
    }

    /// Rename a source; true if it was there.
    pub fn rename(&self, id: &str, title: &str) -> bool {
        let mut list = self.lock();
        match list.iter_mut().find(|s| s.id == id) {
            Some(s) => {
                s.title = title.to_string();
                true
            }
            None => false,
        }
    }
}

/// The time the patterns show: the wall clock since a start, or a manual
/// counter that only moves when told (deterministic tests).
#[derive(Clone)]
pub enum SyntheticClock {
    Real(Instant),
    Manual(Arc<AtomicU64>),
}

impl SyntheticClock {
    pub fn real() -> SyntheticClock {
        SyntheticClock::Real(Instant::now())
    }

    pub fn manual(start_ms: u64) -> SyntheticClock {
        SyntheticClock::Manual(Arc::new(AtomicU64::new(start_ms)))
    }

    pub fn now_ms(&self) -> u64 {
        match self {
            SyntheticClock::Real(t0) => t0.elapsed().as_millis() as u64,
            SyntheticClock::Manual(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// Move a manual clock on (no effect on a real one). Only the tests
    /// use it (tests/capture_synthetic.rs drives time by hand).
    pub fn advance(&self, ms: u64) {
        if let SyntheticClock::Manual(t) = self {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }
}

/// Backend over a [`SyntheticSources`] list and a [`SyntheticClock`].
pub struct SyntheticBackend {
    sources: SyntheticSources,
    clock: SyntheticClock,
}

impl SyntheticBackend {
    pub fn new(sources: SyntheticSources, clock: SyntheticClock) -> SyntheticBackend {
        SyntheticBackend { sources, clock }
    }
}

impl Backend for SyntheticBackend {
    fn name(&self) -> &'static str {
        "synthetic"
    }

    /// Every source says it is a test pattern (`app`), whatever it was
    /// added as, so no console or tool takes it for a real one.
    fn list(&mut self) -> Result<Vec<SourceInfo>, CaptureError> {
        let mut list = self.sources.list();
        for s in &mut list {
            s.app = TEST_PATTERN_APP.into();
        }
        Ok(list)
    }

    fn capture(&mut self, source_id: &str) -> Result<RgbaImage, CaptureError> {
        let list = self.sources.lock();
        let source = list
            .iter()
            .find(|s| s.id == source_id)
            .ok_or_else(|| CaptureError::Gone(source_id.to_string()))?;
        Ok(render(source, self.clock.now_ms()))
    }
}

/// Largest synthetic picture side (guards against absurd sizes in a list).
const MAX_SIDE: u32 = 4096;

/// The picture of `source` at time `t_ms`: a background colour derived from
/// the id, colour bars sliding right (one lap every 4 s), the title and a
/// running clock (`HH:MM:SS.t`) in block letters.
pub fn render(source: &SourceInfo, t_ms: u64) -> RgbaImage {
    let (w, h) = match (source.width, source.height) {
        (0, _) | (_, 0) => (1280, 720),
        (w, h) => (w.min(MAX_SIDE), h.min(MAX_SIDE)),
    };
    let (wu, hu) = (w as usize, h as usize);
    let mut px = vec![0u8; wu * hu * 4];
    let bg = id_colour(&source.id);

    // Rows are built once and copied: fast even in unoptimised test builds.
    let bars_h = hu * 3 / 5;
    const BARS: [[u8; 3]; 8] = [
        [235, 235, 235],
        [235, 235, 16],
        [16, 235, 235],
        [16, 235, 16],
        [235, 16, 235],
        [235, 16, 16],
        [16, 16, 235],
        [16, 16, 16],
    ];
    let shift = ((t_ms as u128 * wu as u128 / 4000) % wu.max(1) as u128) as usize;
    let mut bar_row = vec![0u8; wu * 4];
    for x in 0..wu {
        let xs = (x + wu - shift) % wu;
        let c = BARS[(xs * 8 / wu).min(7)];
        bar_row[x * 4..x * 4 + 4].copy_from_slice(&[c[0], c[1], c[2], 255]);
    }
    let mut bg_row = vec![0u8; wu * 4];
    for p in bg_row.chunks_exact_mut(4) {
        p.copy_from_slice(&[bg[0], bg[1], bg[2], 255]);
    }
    for (y, row) in px.chunks_exact_mut(wu * 4).enumerate() {
        row.copy_from_slice(if y < bars_h { &bar_row } else { &bg_row });
    }

    // Text: title and clock in the lower part, white on the background.
    let lower = hu - bars_h;
    let scale = (lower / 24).max(1);
    let margin = scale * 2;
    let secs = t_ms / 1000;
    let clock = format!(
        "{:02}:{:02}:{:02}.{}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        t_ms % 1000 / 100
    );
    let mut canvas = Canvas {
        px: &mut px,
        w: wu,
        h: hu,
    };
    canvas.text(
        margin,
        bars_h + margin,
        scale,
        &source.title,
        [255, 255, 255],
    );
    canvas.text(
        margin,
        bars_h + margin + 9 * scale,
        scale,
        &clock,
        [255, 255, 255],
    );
    RgbaImage::from_raw(w, h, px).unwrap_or_else(|| RgbaImage::new(w, h))
}

/// A colour per id, dark enough for white text, different for different ids.
fn id_colour(id: &str) -> [u8; 3] {
    // FNV-1a: stable across runs and platforms (unlike std's RandomState).
    let mut h: u32 = 0x811c_9dc5;
    for b in id.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    [
        40 + (h & 0x7f) as u8,
        40 + (h >> 8 & 0x7f) as u8,
        40 + (h >> 16 & 0x7f) as u8,
    ]
}

struct Canvas<'a> {
    px: &'a mut [u8],
    w: usize,
    h: usize,
}

impl Canvas<'_> {
    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, c: [u8; 3]) {
        let x1 = (x + w).min(self.w);
        let y1 = (y + h).min(self.h);
        if x >= x1 || y >= y1 {
            return;
        }
        for yy in y..y1 {
            let row = &mut self.px[(yy * self.w + x) * 4..(yy * self.w + x1) * 4];
            for p in row.chunks_exact_mut(4) {
                p.copy_from_slice(&[c[0], c[1], c[2], 255]);
            }
        }
    }

    /// Block letters, 5×7 dots of `scale` pixels, 6 dots apart; text that
    /// does not fit is cut.
    fn text(&mut self, x: usize, y: usize, scale: usize, text: &str, c: [u8; 3]) {
        let mut cx = x;
        for ch in text.chars() {
            if cx + 5 * scale > self.w {
                break;
            }
            let g = glyph(ch);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits >> (4 - col) & 1 == 1 {
                        self.fill(cx + col * scale, y + row * scale, scale, scale, c);
                    }
                }
            }
            cx += 6 * scale;
        }
    }
}

/// A 5×7 glyph, one byte per row, bit 4 = leftmost dot. Letters are shown in
/// upper case; characters without a glyph (CJK, symbols) show as a box.
fn glyph(ch: char) -> [u8; 7] {
    match ch.to_ascii_uppercase() {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '-' | '—' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        ' ' => [0; 7],
        _ => [0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F],
    }
}
