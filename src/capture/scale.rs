//! Downscaling and change detection for thumbnails and the share preview.

use super::CaptureError;
use crate::media::Frame;
use fast_image_resize as fir;

/// The largest size that fits `max` keeping the aspect ratio of `w`×`h`,
/// never larger than the original and never zero.
pub fn fit_within(w: u32, h: u32, max: (u32, u32)) -> (u32, u32) {
    if w == 0 || h == 0 {
        return (1, 1);
    }
    let (mw, mh) = (max.0.max(1), max.1.max(1));
    if w <= mw && h <= mh {
        return (w, h);
    }
    // Scale by the tighter of the two bounds, in integers to avoid drift.
    let (nw, nh) = if u64::from(w) * u64::from(mh) >= u64::from(h) * u64::from(mw) {
        (mw, (u64::from(h) * u64::from(mw) / u64::from(w)) as u32)
    } else {
        ((u64::from(w) * u64::from(mh) / u64::from(h)) as u32, mh)
    };
    (nw.max(1), nh.max(1))
}

/// A reusable SIMD downscaler (keeps fast_image_resize's scratch buffers).
pub struct Downscaler {
    resizer: fir::Resizer,
    options: fir::ResizeOptions,
}

impl Default for Downscaler {
    fn default() -> Self {
        Downscaler {
            resizer: fir::Resizer::new(),
            // Bilinear convolution: the kernel widens with the scale factor,
            // so text and edges stay smooth without Lanczos' cost. Frames are
            // opaque, so alpha pre-multiplication is skipped.
            options: fir::ResizeOptions::new()
                .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Bilinear))
                .use_alpha(false),
        }
    }
}

impl Downscaler {
    pub fn new() -> Downscaler {
        Downscaler::default()
    }

    /// Downscale RGBA8 pixels into the box `max`, keeping the aspect ratio.
    /// A picture that already fits is copied unchanged.
    pub fn downscale(
        &mut self,
        width: u32,
        height: u32,
        rgba: &[u8],
        max: (u32, u32),
    ) -> Result<Frame, CaptureError> {
        let (dw, dh) = fit_within(width, height, max);
        if (dw, dh) == (width, height) {
            if rgba.len() != width as usize * height as usize * 4 {
                return Err(CaptureError::Failed("malformed frame".into()));
            }
            return Ok(Frame {
                width,
                height,
                rgba: rgba.to_vec(),
            });
        }
        let src = fir::images::ImageRef::new(width, height, rgba, fir::PixelType::U8x4)
            .map_err(|e| CaptureError::Failed(format!("bad frame: {e}")))?;
        let mut dst = fir::images::Image::new(dw, dh, fir::PixelType::U8x4);
        self.resizer
            .resize(&src, &mut dst, &self.options)
            .map_err(|e| CaptureError::Failed(format!("resize: {e}")))?;
        Ok(Frame {
            width: dw,
            height: dh,
            rgba: dst.into_vec(),
        })
    }
}

/// A fast 64-bit fingerprint of a picture, to skip re-scaling unchanged
/// frames: XXH3 seeded with the size (twox-hash picks AVX2 or NEON at run
/// time). Not cryptographic: a collision only delays one thumbnail update.
pub fn frame_hash(width: u32, height: u32, rgba: &[u8]) -> u64 {
    let seed = u64::from(width) << 32 | u64::from(height);
    twox_hash::XxHash3_64::oneshot_with_seed(seed, rgba)
}

/// Like [`frame_hash`], with the pixels inside `masks` (x, y, width,
/// height in pixels of the picture) left out: the console's own windows on
/// a desktop or monitor picture, so that the console redrawing itself does
/// not make its desktop thumbnail "change".
pub fn masked_frame_hash(width: u32, height: u32, rgba: &[u8], masks: &[[u32; 4]]) -> u64 {
    use std::hash::Hasher as _;
    let masks: Vec<[u32; 4]> = masks
        .iter()
        .filter(|m| m[2] > 0 && m[3] > 0 && m[0] < width && m[1] < height)
        .copied()
        .collect();
    if masks.is_empty() {
        return frame_hash(width, height, rgba);
    }
    let seed = u64::from(width) << 32 | u64::from(height);
    let mut hasher = twox_hash::XxHash3_64::with_seed(seed);
    let stride = width as usize * 4;
    let mut cut: Vec<(u32, u32)> = Vec::with_capacity(masks.len());
    for (y, row) in rgba.chunks_exact(stride).enumerate() {
        let y = y as u32;
        cut.clear();
        cut.extend(
            masks
                .iter()
                .filter(|m| y >= m[1] && y - m[1] < m[3])
                .map(|m| (m[0], m[0].saturating_add(m[2]).min(width))),
        );
        cut.sort_unstable();
        let mut x = 0u32;
        for &(x0, x1) in &cut {
            if x0 > x {
                hasher.write(&row[x as usize * 4..x0 as usize * 4]);
            }
            x = x.max(x1);
        }
        if x < width {
            hasher.write(&row[x as usize * 4..]);
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_hash_ignores_only_the_masked_pixels() {
        let (w, h) = (64u32, 48u32);
        let mut rgba = vec![7u8; (w * h * 4) as usize];
        let mask = [[10, 5, 20, 10]];
        let base = masked_frame_hash(w, h, &rgba, &mask);
        // Inside the mask (x 10..30, y 5..15): no change.
        for (x, y) in [(10, 5), (29, 14), (20, 10)] {
            rgba[((y * w + x) * 4) as usize] ^= 0xff;
        }
        assert_eq!(masked_frame_hash(w, h, &rgba, &mask), base);
        // Just outside it: a change.
        for (x, y) in [(30, 5), (9, 14), (20, 15)] {
            let mut other = rgba.clone();
            other[((y * w + x) * 4) as usize] ^= 0xff;
            assert_ne!(
                masked_frame_hash(w, h, &other, &mask),
                base,
                "pixel {x},{y}"
            );
        }
        // No mask: the plain hash.
        assert_eq!(masked_frame_hash(w, h, &rgba, &[]), frame_hash(w, h, &rgba));
    }

    #[test]
    fn fit_keeps_aspect() {
        assert_eq!(fit_within(1920, 1080, (320, 180)), (320, 180));
        assert_eq!(fit_within(1080, 1920, (320, 180)), (101, 180));
        assert_eq!(fit_within(4000, 100, (320, 180)), (320, 8));
        assert_eq!(fit_within(100, 50, (320, 180)), (100, 50));
        assert_eq!(fit_within(0, 50, (320, 180)), (1, 1));
    }

    #[test]
    fn downscale_solid_stays_solid() {
        let rgba: Vec<u8> = [10u8, 200, 30, 255].repeat(1920 * 1080);
        let f = Downscaler::new()
            .downscale(1920, 1080, &rgba, (320, 180))
            .unwrap();
        assert_eq!((f.width, f.height), (320, 180));
        assert!(f.rgba.chunks(4).all(|p| p == [10, 200, 30, 255]));
    }

    #[test]
    fn hash_sees_one_pixel() {
        let mut rgba = vec![0u8; 64 * 64 * 4];
        let a = frame_hash(64, 64, &rgba);
        rgba[4 * 2000 + 1] = 1;
        assert_ne!(a, frame_hash(64, 64, &rgba));
        assert_ne!(frame_hash(64, 64, &rgba), frame_hash(32, 128, &rgba));
    }
}
