//! Pixels out of a drawable: MIT-SHM into one shared segment per backend, or
//! core `GetImage` when shared memory cannot be had.
//!
//! Why SHM: a core `GetImage` of a 1080p frame pushes 8 MB through the X
//! socket (copied by the server, the kernel and x11rb). With MIT-SHM the
//! server writes straight into memory we have mapped, and the only copy left
//! is our own conversion to RGBA.

use super::XFail;
use super::convert::{ByteOrder, to_rgba};
use image::RgbaImage;
use memmap2::Mmap;
use std::fs::File;
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, Drawable, ImageFormat};
use x11rb::rust_connection::RustConnection;

/// A rectangle of a drawable, in its own coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x: i16,
    pub y: i16,
    pub width: u16,
    pub height: u16,
}

impl Rect {
    /// `self` cut down to `0..width` × `0..height` (None when nothing is left).
    pub fn clip_to(self, width: u16, height: u16) -> Option<Rect> {
        let x0 = i32::from(self.x).max(0);
        let y0 = i32::from(self.y).max(0);
        let x1 = (i32::from(self.x) + i32::from(self.width)).min(i32::from(width));
        let y1 = (i32::from(self.y) + i32::from(self.height)).min(i32::from(height));
        if x1 <= x0 || y1 <= y0 {
            return None;
        }
        // All four values lie in 0..=u16::MAX and x0, y0 < 2^15 because they
        // started as i16, so the conversions cannot fail.
        Some(Rect {
            x: i16::try_from(x0).ok()?,
            y: i16::try_from(y0).ok()?,
            width: u16::try_from(x1 - x0).ok()?,
            height: u16::try_from(y1 - y0).ok()?,
        })
    }

    fn bytes(self) -> usize {
        usize::from(self.width) * usize::from(self.height) * 4
    }
}

/// The server's pixel layout, read once from the connection setup.
#[derive(Debug, Clone)]
pub(crate) struct PixmapLayout {
    pub order: ByteOrder,
    /// Depths stored as 32 bits per pixel without row padding (24 and 32 on
    /// every current server); other depths are refused with a clear error.
    pub depths_32bpp: Vec<u8>,
}

impl PixmapLayout {
    pub fn of(conn: &RustConnection) -> PixmapLayout {
        let setup = conn.setup();
        let order = if setup.image_byte_order == x11rb::protocol::xproto::ImageOrder::MSB_FIRST {
            ByteOrder::MsbFirst
        } else {
            ByteOrder::LsbFirst
        };
        let depths_32bpp = setup
            .pixmap_formats
            .iter()
            .filter(|f| f.bits_per_pixel == 32 && f.scanline_pad == 32)
            .map(|f| f.depth)
            .collect();
        PixmapLayout {
            order,
            depths_32bpp,
        }
    }

    /// RGBA out of the raw bytes of a `width`×`height` Z-pixmap image.
    fn convert(&self, depth: u8, rect: Rect, raw: &[u8]) -> Result<RgbaImage, XFail> {
        if !self.depths_32bpp.contains(&depth) {
            return Err(XFail::Failed(format!(
                "unsupported pixel format: depth {depth} is not stored as 32 bits per pixel"
            )));
        }
        let n = rect.bytes();
        if raw.len() < n {
            return Err(XFail::Failed(format!(
                "short image from the X server: {} bytes for {}x{}",
                raw.len(),
                rect.width,
                rect.height
            )));
        }
        let mut rgba = vec![0u8; n];
        to_rgba(self.order, &raw[..n], &mut rgba);
        RgbaImage::from_raw(u32::from(rect.width), u32::from(rect.height), rgba)
            .ok_or_else(|| XFail::Failed("internal error: RGBA buffer of the wrong size".into()))
    }
}

/// One MIT-SHM segment: created by the server (SHM 1.2 `CreateSegment`),
/// handed to us as a file descriptor and mapped read-only.
struct Segment {
    id: shm::Seg,
    map: Mmap,
}

impl Segment {
    #[allow(unsafe_code)] // mapping the segment the server hands over
    fn create(conn: &RustConnection, size: usize) -> Result<Segment, String> {
        let size32 = u32::try_from(size)
            .map_err(|_| format!("a {size}-byte frame does not fit one shared segment"))?;
        let id = conn.generate_id().map_err(|e| e.to_string())?;
        let reply = conn
            .shm_create_segment(id, size32, false)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        let file = File::from(reply.shm_fd);
        // SAFETY: the mapping is only read, and only after a ShmGetImage reply
        // has arrived, i.e. once the server has finished writing into it; the
        // server writes nowhere else, and nobody else has the descriptor.
        let mapped = unsafe { Mmap::map(&file) };
        let map = match mapped {
            Ok(map) if map.len() >= size => map,
            Ok(map) => {
                conn.shm_detach(id).map(|c| c.ignore_error()).ok();
                return Err(format!("segment mapped {} of {size} bytes", map.len()));
            }
            Err(e) => {
                conn.shm_detach(id).map(|c| c.ignore_error()).ok();
                return Err(format!("cannot map the segment: {e}"));
            }
        };
        Ok(Segment { id, map })
    }

    fn release(self, conn: &RustConnection) {
        // The server drops its side; our mapping goes with `self`.
        if let Ok(c) = conn.shm_detach(self.id) {
            c.ignore_error();
        }
    }
}

/// Which way pixels travel.
enum Path {
    /// Shared memory; the segment is made on first use and grown as needed.
    Shm(Option<Segment>),
    /// Core `GetImage`, with the reason SHM is not used.
    Core(String),
}

/// Grabs rectangles of drawables as RGBA.
pub(crate) struct Grabber {
    path: Path,
    format: PixmapLayout,
}

impl Grabber {
    /// SHM if `use_shm` and the server offers MIT-SHM 1.2 and a first segment
    /// of `initial_size` bytes can be made and mapped; core `GetImage` otherwise.
    pub fn new(conn: &RustConnection, use_shm: bool, initial_size: usize) -> Grabber {
        let format = PixmapLayout::of(conn);
        let path = if use_shm {
            match shm_usable(conn).and_then(|()| Segment::create(conn, initial_size)) {
                Ok(seg) => Path::Shm(Some(seg)),
                Err(why) => Path::Core(format!("MIT-SHM unavailable: {why}")),
            }
        } else {
            Path::Core("MIT-SHM disabled by the caller".into())
        };
        Grabber { path, format }
    }

    pub fn path_name(&self) -> &'static str {
        match self.path {
            Path::Shm(_) => "shm",
            Path::Core(_) => "core",
        }
    }

    /// Why core `GetImage` is in use (None on the SHM path).
    pub fn fallback_reason(&self) -> Option<&str> {
        match &self.path {
            Path::Shm(_) => None,
            Path::Core(why) => Some(why),
        }
    }

    /// `rect` of `drawable` (which must lie inside it) as RGBA.
    pub fn grab(
        &mut self,
        conn: &RustConnection,
        drawable: Drawable,
        rect: Rect,
    ) -> Result<RgbaImage, XFail> {
        if let Path::Shm(seg) = &mut self.path {
            match ensure_segment(conn, seg, rect.bytes()) {
                Ok(seg) => return grab_shm(conn, seg, &self.format, drawable, rect),
                Err(why) => {
                    tracing::warn!(target: "roomshare::capture", "x11: switching to core GetImage: {why}");
                    self.path = Path::Core(format!("MIT-SHM failed: {why}"));
                }
            }
        }
        grab_core(conn, &self.format, drawable, rect)
    }

    /// Give the segment back to the server (on drop of the backend).
    pub fn release(&mut self, conn: &RustConnection) {
        if let Path::Shm(seg) = &mut self.path
            && let Some(seg) = seg.take()
        {
            seg.release(conn);
        }
    }
}

/// MIT-SHM present in a version with `CreateSegment` (1.2), and the
/// connection local (a segment's descriptor cannot cross TCP).
fn shm_usable(conn: &RustConnection) -> Result<(), String> {
    let present = conn
        .extension_information(shm::X11_EXTENSION_NAME)
        .map_err(|e| e.to_string())?
        .is_some();
    if !present {
        return Err("the X server has no MIT-SHM extension".into());
    }
    let v = conn
        .shm_query_version()
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?;
    if (v.major_version, v.minor_version) < (1, 2) {
        return Err(format!(
            "MIT-SHM {}.{} is too old (1.2 needed to pass segments as descriptors)",
            v.major_version, v.minor_version
        ));
    }
    Ok(())
}

/// The segment, grown (replaced) when `need` bytes do not fit.
fn ensure_segment<'s>(
    conn: &RustConnection,
    slot: &'s mut Option<Segment>,
    need: usize,
) -> Result<&'s Segment, String> {
    if slot.as_ref().is_some_and(|s| s.map.len() < need)
        && let Some(old) = slot.take()
    {
        old.release(conn);
    }
    if slot.is_none() {
        // Round up to 1 MiB so a window growing by a few pixels does not
        // replace the segment on every frame.
        let size = need.max(1).div_ceil(1 << 20) << 20;
        *slot = Some(Segment::create(conn, size)?);
    }
    slot.as_ref()
        .ok_or_else(|| "internal error: no segment".to_string())
}

fn grab_shm(
    conn: &RustConnection,
    seg: &Segment,
    format: &PixmapLayout,
    drawable: Drawable,
    r: Rect,
) -> Result<RgbaImage, XFail> {
    let z = u8::from(ImageFormat::Z_PIXMAP);
    let reply = conn
        .shm_get_image(drawable, r.x, r.y, r.width, r.height, !0, z, seg.id, 0)?
        .reply()?;
    let size = usize::try_from(reply.size).unwrap_or(usize::MAX);
    let raw = seg.map.get(..size).ok_or_else(|| {
        XFail::Failed(format!("the X server wrote {size} bytes past the segment"))
    })?;
    format.convert(reply.depth, r, raw)
}

fn grab_core(
    conn: &RustConnection,
    format: &PixmapLayout,
    drawable: Drawable,
    r: Rect,
) -> Result<RgbaImage, XFail> {
    let reply = conn
        .get_image(
            ImageFormat::Z_PIXMAP,
            drawable,
            r.x,
            r.y,
            r.width,
            r.height,
            !0,
        )?
        .reply()?;
    format.convert(reply.depth, r, &reply.data)
}

/// A [`Rect`] in one call, for the tests here and in `damage`.
#[cfg(test)]
pub(super) fn rect(x: i16, y: i16, width: u16, height: u16) -> Rect {
    Rect {
        x,
        y,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::rect;

    #[test]
    fn clip_keeps_the_inside() {
        assert_eq!(
            rect(10, 20, 30, 40).clip_to(100, 100),
            Some(rect(10, 20, 30, 40))
        );
        assert_eq!(
            rect(-10, 90, 30, 40).clip_to(100, 100),
            Some(rect(0, 90, 20, 10))
        );
        assert_eq!(rect(100, 0, 30, 40).clip_to(100, 100), None);
        assert_eq!(
            rect(i16::MAX, 0, u16::MAX, 1).clip_to(u16::MAX, 1),
            Some(rect(i16::MAX, 0, u16::MAX - i16::MAX as u16, 1))
        );
    }
}
