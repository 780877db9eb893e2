//! Frames as PipeWire delivers them, and their conversion to RGBA.
//!
//! Pure functions on purpose: the PipeWire thread only copies the valid part
//! of a buffer ([`copy_frame`]) and the conversion ([`to_rgba`]) runs on the
//! thread that asked for the picture, so the stream thread is never held up
//! converting frames nobody looks at. Both are tested without PipeWire.

use image::RgbaImage;

/// The packed RGB layouts this backend accepts (offered in the stream's
/// format list; screen-cast producers send these as SHM buffers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackedRgb {
    Bgrx,
    Bgra,
    Rgbx,
    Rgba,
    Xrgb,
    Argb,
    Xbgr,
    Abgr,
    Rgb,
    Bgr,
}

impl PackedRgb {
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PackedRgb::Rgb | PackedRgb::Bgr => 3,
            _ => 4,
        }
    }

    /// Byte offsets of red, green and blue within a pixel, and of alpha
    /// (`None`: the padding byte or no byte, the pixel is opaque).
    fn layout(self) -> ([usize; 3], Option<usize>) {
        match self {
            PackedRgb::Bgrx => ([2, 1, 0], None),
            PackedRgb::Bgra => ([2, 1, 0], Some(3)),
            PackedRgb::Rgbx => ([0, 1, 2], None),
            PackedRgb::Rgba => ([0, 1, 2], Some(3)),
            PackedRgb::Xrgb => ([1, 2, 3], None),
            PackedRgb::Argb => ([1, 2, 3], Some(0)),
            PackedRgb::Xbgr => ([3, 2, 1], None),
            PackedRgb::Abgr => ([3, 2, 1], Some(0)),
            PackedRgb::Rgb => ([0, 1, 2], None),
            PackedRgb::Bgr => ([2, 1, 0], None),
        }
    }
}

/// One picture, rows packed (no padding between rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipewireFrame {
    pub format: PackedRgb,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl PipewireFrame {
    pub fn empty(format: PackedRgb) -> PipewireFrame {
        PipewireFrame {
            format,
            width: 0,
            height: 0,
            data: Vec::new(),
        }
    }
}

/// Where the picture is in a buffer's memory: the `spa_chunk` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub offset: u32,
    pub size: u32,
    /// Bytes per row; 0 means tightly packed (some producers leave it so).
    pub stride: i32,
}

/// A region of the picture (the `VideoCrop` metadata, e.g. a window inside
/// a larger buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Why a buffer was not used (the previous picture is kept).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the buffer holds no picture")]
    Empty,
    #[error("rows of {stride} bytes cannot hold {width} pixels of {bpp} bytes")]
    Stride { stride: i64, width: u32, bpp: usize },
    #[error("the picture needs {need} bytes but the buffer has {have}")]
    Short { need: usize, have: usize },
}

/// Copy the picture of one buffer (`mem`: its mapped memory) into `into`,
/// packed, cut to `crop` when that lies inside the picture. `into.data` is
/// reused, so a steady stream copies without allocating.
pub fn copy_frame(
    mem: &[u8],
    chunk: Chunk,
    format: PackedRgb,
    size: (u32, u32),
    crop: Option<Crop>,
    into: &mut PipewireFrame,
) -> Result<(), FrameError> {
    let (width, height) = size;
    let bpp = format.bytes_per_pixel();
    if width == 0 || height == 0 || chunk.size == 0 {
        return Err(FrameError::Empty);
    }
    let stride = row_stride(chunk.stride, width, bpp)?;
    let start = chunk.offset as usize;
    let end = start.saturating_add(chunk.size as usize).min(mem.len());
    let valid = mem.get(start..end).unwrap_or_default();
    let whole = Crop {
        x: 0,
        y: 0,
        width,
        height,
    };
    let area = crop.filter(|c| inside(c, size)).unwrap_or(whole);
    copy_rows(valid, stride, area, format, into)
}

/// Copy `area`'s rows out of `valid` (rows of `stride` bytes), packed.
fn copy_rows(
    valid: &[u8],
    stride: usize,
    area: Crop,
    format: PackedRgb,
    into: &mut PipewireFrame,
) -> Result<(), FrameError> {
    let bpp = format.bytes_per_pixel();
    let row_len = area.width as usize * bpp;
    let first = area.y as usize * stride + area.x as usize * bpp;
    // The end of the last row: the furthest byte read.
    let need = first + (area.height as usize - 1) * stride + row_len;
    if need > valid.len() {
        return Err(FrameError::Short {
            need,
            have: valid.len(),
        });
    }
    into.data.clear();
    for row in 0..area.height as usize {
        let from = first + row * stride;
        into.data.extend_from_slice(&valid[from..from + row_len]);
    }
    into.format = format;
    into.width = area.width;
    into.height = area.height;
    Ok(())
}

/// Bytes per row from the chunk's stride (0: packed). A negative stride
/// (bottom-up rows) is not something screen-cast producers send.
fn row_stride(stride: i32, width: u32, bpp: usize) -> Result<usize, FrameError> {
    let packed = width as usize * bpp;
    let stride = if stride == 0 {
        packed as i64
    } else {
        stride as i64
    };
    if stride < packed as i64 {
        return Err(FrameError::Stride { stride, width, bpp });
    }
    Ok(stride as usize)
}

fn inside(c: &Crop, (width, height): (u32, u32)) -> bool {
    c.width > 0
        && c.height > 0
        && c.x.checked_add(c.width).is_some_and(|r| r <= width)
        && c.y.checked_add(c.height).is_some_and(|b| b <= height)
}

/// The picture as RGBA (padding bytes become opaque alpha).
pub fn to_rgba(frame: &PipewireFrame) -> Result<RgbaImage, FrameError> {
    let bpp = frame.format.bytes_per_pixel();
    let pixels = frame.width as usize * frame.height as usize;
    if pixels == 0 {
        return Err(FrameError::Empty);
    }
    if frame.data.len() < pixels * bpp {
        return Err(FrameError::Short {
            need: pixels * bpp,
            have: frame.data.len(),
        });
    }
    let ([r, g, b], a) = frame.format.layout();
    let mut out = vec![0u8; pixels * 4];
    for (src, dst) in frame.data.chunks_exact(bpp).zip(out.chunks_exact_mut(4)) {
        dst[0] = src[r];
        dst[1] = src[g];
        dst[2] = src[b];
        dst[3] = a.map_or(255, |a| src[a]);
    }
    RgbaImage::from_raw(frame.width, frame.height, out).ok_or(FrameError::Short {
        need: pixels * 4,
        have: 0,
    })
}
