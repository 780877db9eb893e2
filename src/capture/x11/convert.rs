//! X pixels (32 bits per pixel, TrueColor, red in bits 16..24) to RGBA8.
//!
//! A 1080p frame is two million pixels, so the loops below are written for
//! the optimiser: fixed-size chunks (no bounds checks inside), plain integer
//! shuffles, no calls per pixel. rustc turns them into SIMD shuffles.

/// How the X server lays out one 32-bit pixel in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteOrder {
    /// `image-byte-order` LSBFirst (every PC X server): bytes B, G, R, X.
    LsbFirst,
    /// MSBFirst (big-endian servers): bytes X, R, G, B.
    MsbFirst,
}

/// Convert `src` (packed 32-bit pixels, no row padding) into `dst` (RGBA8,
/// alpha forced opaque: the top byte is padding on depth-24 drawables and
/// premultiplied alpha on depth-32 ones, neither of which a share shows).
/// Converts `min(src.len(), dst.len()) / 4` pixels.
pub(crate) fn to_rgba(order: ByteOrder, src: &[u8], dst: &mut [u8]) {
    match order {
        ByteOrder::LsbFirst => bgrx_to_rgba(src, dst),
        ByteOrder::MsbFirst => xrgb_to_rgba(src, dst),
    }
}

fn bgrx_to_rgba(src: &[u8], dst: &mut [u8]) {
    for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
        let p = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        // p = 0xXXRRGGBB; RGBA in memory is the little-endian 0xAABBGGRR.
        let rgba = 0xff00_0000 | (p & 0x0000_ff00) | ((p >> 16) & 0xff) | ((p & 0xff) << 16);
        d.copy_from_slice(&rgba.to_le_bytes());
    }
}

fn xrgb_to_rgba(src: &[u8], dst: &mut [u8]) {
    for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
        // Bytes X, R, G, B: a rotate left by one byte gives R, G, B, X.
        let p = u32::from_be_bytes([s[0], s[1], s[2], s[3]]).rotate_left(8);
        d.copy_from_slice(&(p | 0xff).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two pixels in `order` converted.
    fn two_pixels(order: ByteOrder, src: [u8; 8]) -> [u8; 8] {
        let mut dst = [0u8; 8];
        to_rgba(order, &src, &mut dst);
        dst
    }

    #[test]
    fn lsb_first_pixels_become_rgba() {
        let src = [0x30, 0x20, 0x10, 0x00, 0x03, 0x02, 0x01, 0x7f];
        let rgba = [0x10, 0x20, 0x30, 0xff, 0x01, 0x02, 0x03, 0xff];
        assert_eq!(two_pixels(ByteOrder::LsbFirst, src), rgba);
    }

    #[test]
    fn msb_first_pixels_become_rgba() {
        let src = [0x00, 0x10, 0x20, 0x30, 0x7f, 0x01, 0x02, 0x03];
        let rgba = [0x10, 0x20, 0x30, 0xff, 0x01, 0x02, 0x03, 0xff];
        assert_eq!(two_pixels(ByteOrder::MsbFirst, src), rgba);
    }

    #[test]
    fn short_buffers_convert_what_fits() {
        let src = [1, 2, 3, 4, 5, 6, 7, 8];
        let mut dst = [0u8; 4];
        to_rgba(ByteOrder::LsbFirst, &src, &mut dst);
        assert_eq!(dst, [3, 2, 1, 255]);
    }
}
