//! Pixel formats: fourcc codes, the sizes a device offers, and which one
//! roomshare asks for.

use super::DeviceError;
use std::fmt;

/// A V4L2 pixel-format code: four ASCII bytes, packed little-endian into a
/// `u32` by the kernel (`v4l2_fourcc`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCc(pub [u8; 4]);

/// How a format's frames are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// One JPEG picture per frame (often without Huffman tables).
    Mjpeg,
    /// Packed 4:2:2 Y'CbCr, `Y0 U Y1 V` for each pair of pixels.
    Yuyv,
}

impl FourCc {
    pub const MJPG: FourCc = FourCc(*b"MJPG");
    /// `V4L2_PIX_FMT_JPEG`: some capture cards label the same stream so.
    pub const JPEG: FourCc = FourCc(*b"JPEG");
    pub const YUYV: FourCc = FourCc(*b"YUYV");
    /// Windows' name for YUYV, seen on a few devices.
    pub const YUY2: FourCc = FourCc(*b"YUY2");

    /// From the kernel's packed form.
    pub const fn from_u32(code: u32) -> FourCc {
        FourCc(code.to_le_bytes())
    }

    /// The kernel's packed form.
    pub const fn to_u32(self) -> u32 {
        u32::from_le_bytes(self.0)
    }

    /// From text such as `"MJPG"`; shorter codes are padded with spaces as
    /// V4L2 does (`"Y16"` is `"Y16 "`). None unless 1–4 printable ASCII.
    pub fn parse(text: &str) -> Option<FourCc> {
        let bytes = text.as_bytes();
        if bytes.is_empty() || bytes.len() > 4 || !bytes.iter().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        let mut code = *b"    ";
        code[..bytes.len()].copy_from_slice(bytes);
        Some(FourCc(code))
    }

    /// How roomshare decodes this format, if it does.
    pub fn encoding(self) -> Option<Encoding> {
        match self {
            FourCc::MJPG | FourCc::JPEG => Some(Encoding::Mjpeg),
            FourCc::YUYV | FourCc::YUY2 => Some(Encoding::Yuyv),
            _ => None,
        }
    }
}

impl fmt::Display for FourCc {
    /// `MJPG`; trailing padding trimmed; a big-endian variant (bit 31 set,
    /// `v4l2_fourcc_be`) gets `-BE`; unprintable bytes show as `.`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let big_endian = self.0[3] & 0x80 != 0;
        let mut text = String::with_capacity(7);
        for (i, &b) in self.0.iter().enumerate() {
            let b = if i == 3 { b & 0x7f } else { b };
            text.push(if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            });
        }
        f.write_str(text.trim_end())?;
        if big_endian {
            f.write_str("-BE")?;
        }
        Ok(())
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc({self})")
    }
}

/// Frame sizes as a driver offers them for one format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameSizes {
    Discrete {
        width: u32,
        height: u32,
    },
    /// Every `min + k * step` up to `max` in each direction (a continuous
    /// range is a stepwise one with step 1).
    Stepwise {
        min_width: u32,
        max_width: u32,
        step_width: u32,
        min_height: u32,
        max_height: u32,
        step_height: u32,
    },
}

/// One pixel format a device offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatInfo {
    pub fourcc: FourCc,
    /// The driver's label ("Motion-JPEG").
    pub description: String,
    /// Empty when the driver cannot enumerate sizes.
    pub sizes: Vec<FrameSizes>,
}

/// The format a stream runs with, as the driver set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamFormat {
    pub fourcc: FourCc,
    pub width: u32,
    pub height: u32,
    /// Bytes per row of an uncompressed frame; 0 means tightly packed.
    pub stride: u32,
}

/// What to ask the driver for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatChoice {
    pub fourcc: FourCc,
    pub width: u32,
    pub height: u32,
}

/// The largest picture roomshare asks for: what Rooms shares at most, and
/// every tile and preview is smaller; more only costs decode time.
pub const MAX_SIZE: (u32, u32) = (1920, 1080);

/// Pick the format to stream with.
///
/// The rule, in order:
/// 1. a size that fits in 1920×1080 beats one that does not (a 4K-only
///    format is still used, at its smallest size, when nothing fits);
/// 2. MJPEG beats YUYV: over USB 2 a camera sends YUYV 1080p at ~5 fps but
///    MJPEG at 30, and grabbers offer their large sizes as MJPEG only;
/// 3. within that, the largest area that fits (or the smallest that does
///    not);
/// 4. on a tie, the format and size the device lists first.
///
/// A format the driver lists without sizes is asked for at 1920×1080 (the
/// driver answers with the nearest size it has). Nothing decodable →
/// [`DeviceError::NoSupportedFormat`] naming what the device offers.
pub fn choose_format(formats: &[FormatInfo]) -> Result<FormatChoice, DeviceError> {
    let mut best: Option<((bool, u8, i64), FormatChoice)> = None;
    for format in formats {
        let Some(encoding) = format.fourcc.encoding() else {
            continue;
        };
        let rank = u8::from(encoding == Encoding::Mjpeg);
        for (width, height) in candidate_sizes(&format.sizes) {
            let fits = width <= MAX_SIZE.0 && height <= MAX_SIZE.1;
            let area = i64::from(width) * i64::from(height);
            let score = (fits, rank, if fits { area } else { -area });
            // Strictly greater: the first listed wins a tie.
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                let fourcc = format.fourcc;
                best = Some((
                    score,
                    FormatChoice {
                        fourcc,
                        width,
                        height,
                    },
                ));
            }
        }
    }
    best.map(|(_, choice)| choice)
        .ok_or_else(|| DeviceError::NoSupportedFormat {
            offered: offered_names(formats),
        })
}

/// The fourccs a device offers, each once, in its order.
pub fn offered_names(formats: &[FormatInfo]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for f in formats {
        let name = f.fourcc.to_string();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The sizes worth scoring: every discrete size; for a range, the largest
/// that fits in [`MAX_SIZE`] and the smallest (used only when none fits).
fn candidate_sizes(sizes: &[FrameSizes]) -> Vec<(u32, u32)> {
    if sizes.is_empty() {
        return vec![MAX_SIZE];
    }
    let mut out = Vec::with_capacity(sizes.len() + 1);
    for size in sizes {
        match *size {
            FrameSizes::Discrete { width, height } => out.push((width, height)),
            FrameSizes::Stepwise {
                min_width,
                max_width,
                step_width,
                min_height,
                max_height,
                step_height,
            } => {
                let w = largest_step(min_width, max_width, step_width, MAX_SIZE.0);
                let h = largest_step(min_height, max_height, step_height, MAX_SIZE.1);
                if let (Some(w), Some(h)) = (w, h) {
                    out.push((w, h));
                }
                out.push((min_width, min_height));
            }
        }
    }
    // A zero size is a driver bug; it would only confuse the decoder.
    out.retain(|&(w, h)| w > 0 && h > 0);
    out
}

/// The largest `min + k * step` that is ≤ `max` and ≤ `limit`.
fn largest_step(min: u32, max: u32, step: u32, limit: u32) -> Option<u32> {
    let top = max.min(limit);
    if min > top {
        return None;
    }
    let step = step.max(1);
    Some(min + (top - min) / step * step)
}
