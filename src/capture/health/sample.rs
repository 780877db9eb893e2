//! One frame's measurement: its luma sampled on a grid, read in place from
//! the RGBA buffer (no copy of the frame), the share of black pixels, and
//! the difference between two samples.
//!
//! Luma is BT.601 full range (`Y = 0.299 R + 0.587 G + 0.114 B`, 0..=255),
//! as ffmpeg's filters see an RGB input converted to full-range YUV. The
//! grid takes every `step`-th pixel of every `step`-th row (from the
//! top-left one), `step` chosen so that at most [`MAX_SAMPLES`] pixels are
//! read: a 1920×1080 frame is sampled every 6 pixels (320×180 = 57,600
//! samples), a thumbnail whole.

/// At most this many pixels are read per frame (a 256×256 grid's worth).
pub const MAX_SAMPLES: u64 = 65_536;

/// Why a buffer cannot be measured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error("a {width}x{height} RGBA frame needs {needed} bytes, got {got}")]
    Short {
        width: u32,
        height: u32,
        needed: usize,
        got: usize,
    },
}

/// A frame's luma on a grid, and how much of it is black.
#[derive(Debug, Clone, PartialEq)]
pub struct LumaSample {
    /// The frame's size (a sample only compares with one of the same size).
    pub width: u32,
    pub height: u32,
    /// Distance between two samples, in pixels, both ways.
    pub step: u32,
    /// Luma of each sampled pixel, row by row.
    pub luma: Vec<u8>,
    /// Share of the sampled pixels whose luma is at most the black level.
    pub black_fraction: f32,
}

/// The grid step for a `width`×`height` frame: the smallest whole step
/// that keeps the samples within [`MAX_SAMPLES`].
pub fn grid_step(width: u32, height: u32) -> u32 {
    let pixels = u64::from(width) * u64::from(height);
    let mut step = ((pixels as f64 / MAX_SAMPLES as f64).sqrt().ceil() as u32).max(1);
    while samples_along(width, step) * samples_along(height, step) > MAX_SAMPLES {
        step += 1;
    }
    step
}

/// Samples along one side: the pixels 0, `step`, `2 step`, … below `len`.
fn samples_along(len: u32, step: u32) -> u64 {
    u64::from(len.div_ceil(step))
}

pub use crate::media::luma;

/// The highest luma that counts as black for `black_pixel` (a fraction of
/// the range, as ffmpeg's `pixel_black_th`: 0.10 → 25).
pub fn black_level(black_pixel: f64) -> u8 {
    (black_pixel.clamp(0.0, 1.0) * 255.0).floor() as u8
}

/// Measure a packed RGBA frame (4 bytes a pixel, rows back to back).
pub fn measure(
    width: u32,
    height: u32,
    rgba: &[u8],
    black_pixel: f64,
) -> Result<LumaSample, SampleError> {
    let needed = width as usize * height as usize * 4;
    if rgba.len() < needed {
        return Err(SampleError::Short {
            width,
            height,
            needed,
            got: rgba.len(),
        });
    }
    let step = grid_step(width, height);
    let level = black_level(black_pixel);
    let (w, s) = (width as usize, step as usize);
    let expected = samples_along(width, step) * samples_along(height, step);
    let mut samples = Vec::with_capacity(expected as usize);
    let mut black = 0usize;
    for y in (0..height as usize).step_by(s) {
        let row = &rgba[y * w * 4..(y + 1) * w * 4];
        for p in row.chunks_exact(4).step_by(s) {
            let l = luma(p[0], p[1], p[2]);
            black += usize::from(l <= level);
            samples.push(l);
        }
    }
    let black_fraction = if samples.is_empty() {
        0.0
    } else {
        black as f32 / samples.len() as f32
    };
    Ok(LumaSample {
        width,
        height,
        step,
        luma: samples,
        black_fraction,
    })
}

impl LumaSample {
    /// Mean absolute difference to `other` as a fraction of the range
    /// (0.0 the same, 1.0 white against black); `None` when the two are
    /// not the same size (a resize is a change, not a difference).
    pub fn difference(&self, other: &LumaSample) -> Option<f64> {
        if (self.width, self.height, self.luma.len())
            != (other.width, other.height, other.luma.len())
        {
            return None;
        }
        if self.luma.is_empty() {
            return Some(0.0);
        }
        // In blocks whose sum fits a u32 (which the compiler vectorises).
        let sum: u64 = self
            .luma
            .chunks(1 << 16)
            .zip(other.luma.chunks(1 << 16))
            .map(|(a, b)| {
                let block: u32 = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| u32::from(x.abs_diff(*y)))
                    .sum();
                u64::from(block)
            })
            .sum();
        Some(sum as f64 / (self.luma.len() as f64 * 255.0))
    }

    /// Black by the `black_ratio` rule (ffmpeg's `picture_black_ratio_th`).
    pub fn is_black(&self, black_ratio: f64) -> bool {
        !self.luma.is_empty() && f64::from(self.black_fraction) >= black_ratio
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
        [rgb[0], rgb[1], rgb[2], 255].repeat((width * height) as usize)
    }

    #[test]
    fn bt601_luma_of_primaries_and_extremes() {
        assert_eq!(luma(0, 0, 0), 0);
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(255, 0, 0), 77); // 0.299 · 255 = 76.2
        assert_eq!(luma(0, 255, 0), 149); // 0.587 · 255 = 149.7
        assert_eq!(luma(0, 0, 255), 29); // 0.114 · 255 = 29.1
        assert_eq!(black_level(0.10), 25);
        assert_eq!(black_level(0.0), 0);
        assert_eq!(black_level(1.0), 255);
    }

    #[test]
    fn a_1080p_frame_is_sampled_every_6_pixels_within_the_budget() {
        assert_eq!(grid_step(1920, 1080), 6);
        let s = measure(1920, 1080, &solid(1920, 1080, [9, 9, 9]), 0.10).unwrap();
        assert_eq!(s.luma.len(), 320 * 180);
        assert_eq!(s.black_fraction, 1.0);
        // Small frames are read whole; no size gives more than the budget.
        assert_eq!(grid_step(320, 180), 1);
        for (w, h) in [
            (1, 1),
            (7, 3),
            (3840, 2160),
            (7680, 4320),
            (65_535, 1),
            (1, 65_537),
        ] {
            let step = grid_step(w, h);
            let n = samples_along(w, step) * samples_along(h, step);
            assert!(
                (1..=MAX_SAMPLES).contains(&n),
                "{w}x{h}: step {step}, {n} samples"
            );
        }
    }

    #[test]
    fn black_fraction_counts_pixels_at_or_under_the_level() {
        // Left half black (luma 25, the level itself), right half grey.
        let (w, h) = (100, 10);
        let mut rgba = solid(w, h, [120, 120, 120]);
        for px in rgba
            .chunks_exact_mut(4)
            .enumerate()
            .filter(|(i, _)| i % 100 < 50)
        {
            px.1[..3].copy_from_slice(&[25, 25, 25]);
        }
        let s = measure(w, h, &rgba, 0.10).unwrap();
        assert!(
            (s.black_fraction - 0.5).abs() < 1e-6,
            "{}",
            s.black_fraction
        );
        assert!(!s.is_black(0.98));
        let s = measure(w, h, &rgba, 0.09).unwrap();
        assert_eq!(s.black_fraction, 0.0, "luma 25 is above 9 % of the range");
        let dark = measure(w, h, &solid(w, h, [20, 26, 10]), 0.10).unwrap();
        assert!(dark.is_black(0.98));
    }

    #[test]
    fn difference_is_the_mean_absolute_difference_over_the_range() {
        let (w, h) = (64, 64);
        let a = measure(w, h, &solid(w, h, [0, 0, 0]), 0.1).unwrap();
        let b = measure(w, h, &solid(w, h, [255, 255, 255]), 0.1).unwrap();
        assert_eq!(a.difference(&b), Some(1.0));
        assert_eq!(a.difference(&a), Some(0.0));
        // One pixel in 4096 changes by 255: 1/4096 of the range.
        let mut one = solid(w, h, [0, 0, 0]);
        one[..3].copy_from_slice(&[255, 255, 255]);
        let c = measure(w, h, &one, 0.1).unwrap();
        let d = a.difference(&c).unwrap();
        assert!((d - 1.0 / 4096.0).abs() < 1e-9, "{d}");
        let other_size = measure(32, 64, &solid(32, 64, [0, 0, 0]), 0.1).unwrap();
        assert_eq!(a.difference(&other_size), None);
    }

    #[test]
    fn a_short_buffer_is_an_error_not_a_panic() {
        let e = measure(10, 10, &[0; 399], 0.1).unwrap_err();
        assert_eq!(e.to_string(), "a 10x10 RGBA frame needs 400 bytes, got 399");
        let empty = measure(0, 0, &[], 0.1).unwrap();
        assert!(empty.luma.is_empty() && !empty.is_black(0.98));
    }
}
