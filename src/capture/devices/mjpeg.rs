//! MJPEG frames without Huffman tables.
//!
//! Most UVC cameras and HDMI grabbers send each frame as a JPEG with no DHT
//! segment: the "AVI1" MJPEG convention fixes the tables to the standard
//! ones of ITU-T T.81 Annex K.3, so devices save ~420 bytes per frame.
//! A plain JPEG decoder then fails ("no Huffman table"). ffmpeg's decoder
//! loads these tables when a frame has none (and its `mjpeg2jpeg` filter
//! inserts them); mjpg-streamer and libv4lconvert splice them into the
//! frame before handing it to libjpeg. We do the latter: insert one DHT
//! segment with the four standard tables right before the first SOS, so any
//! JPEG decoder reads the frame.

use std::borrow::Cow;

/// Annex K.3 table K.3: luminance DC code lengths (count per length 1..16).
const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
/// Table K.4: chrominance DC.
const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
/// DC symbols are the magnitude categories 0..=11, for both components.
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/// Table K.5: luminance AC.
const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
#[rustfmt::skip]
const AC_LUMA_VALUES: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// Table K.6: chrominance AC.
const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
#[rustfmt::skip]
const AC_CHROMA_VALUES: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// Marker, length, then per table: class/id byte, 16 counts, symbols.
const DHT_LEN: usize = 4 + 4 * 17 + 2 * DC_VALUES.len() + 2 * AC_LUMA_VALUES.len();

/// The DHT segment with the four standard tables, built at compile time.
static DHT_SEGMENT: [u8; DHT_LEN] = build_dht();

const fn build_dht() -> [u8; DHT_LEN] {
    let mut out = [0u8; DHT_LEN];
    let len = (DHT_LEN - 2) as u16;
    out[0] = 0xFF;
    out[1] = 0xC4;
    out[2] = (len >> 8) as u8;
    out[3] = len as u8;
    let mut at = 4;
    // Class 0 = DC, 1 = AC; id 0 = luminance, 1 = chrominance.
    at = put_table(&mut out, at, 0x00, &DC_LUMA_BITS, &DC_VALUES);
    at = put_table(&mut out, at, 0x10, &AC_LUMA_BITS, &AC_LUMA_VALUES);
    at = put_table(&mut out, at, 0x01, &DC_CHROMA_BITS, &DC_VALUES);
    put_table(&mut out, at, 0x11, &AC_CHROMA_BITS, &AC_CHROMA_VALUES);
    out
}

const fn put_table(
    out: &mut [u8; DHT_LEN],
    mut at: usize,
    class_id: u8,
    bits: &[u8; 16],
    values: &[u8],
) -> usize {
    out[at] = class_id;
    at += 1;
    let mut i = 0;
    while i < bits.len() {
        out[at + i] = bits[i];
        i += 1;
    }
    at += bits.len();
    let mut i = 0;
    while i < values.len() {
        out[at + i] = values[i];
        i += 1;
    }
    at + values.len()
}

/// `jpeg` unchanged when it has a DHT segment before its first SOS (or its
/// header does not parse: the decoder then reports the real problem);
/// otherwise a copy with the standard tables inserted before the SOS.
pub fn with_default_huffman_tables(jpeg: &[u8]) -> Cow<'_, [u8]> {
    match sos_without_dht(jpeg) {
        Some(sos) => {
            let mut out = Vec::with_capacity(jpeg.len() + DHT_LEN);
            out.extend_from_slice(&jpeg[..sos]);
            out.extend_from_slice(&DHT_SEGMENT);
            out.extend_from_slice(&jpeg[sos..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(jpeg),
    }
}

/// Walk the header segments: the offset of the first SOS marker if no DHT
/// came before it. A byte scan for `FF C4` could hit table data, so the
/// walk follows the segment lengths.
fn sos_without_dht(jpeg: &[u8]) -> Option<usize> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    loop {
        // Any number of 0xFF fill bytes may precede a marker.
        while jpeg.get(at) == Some(&0xFF) && jpeg.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if *jpeg.get(at)? != 0xFF {
            return None;
        }
        match *jpeg.get(at + 1)? {
            0xC4 | 0xD9 => return None,
            0xDA => return Some(at),
            // Stand-alone markers: no length field.
            0x01 | 0xD0..=0xD8 => at += 2,
            _ => {
                let len = u16::from_be_bytes([*jpeg.get(at + 2)?, *jpeg.get(at + 3)?]);
                if len < 2 {
                    return None;
                }
                at += 2 + usize::from(len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dht_segment_is_well_formed() {
        assert_eq!(DHT_LEN, 420);
        assert_eq!(&DHT_SEGMENT[..4], &[0xFF, 0xC4, 0x01, 0xA2]);
        // Each table's symbol count equals the sum of its length counts.
        for bits in [DC_LUMA_BITS, DC_CHROMA_BITS] {
            assert_eq!(bits.iter().map(|&b| usize::from(b)).sum::<usize>(), 12);
        }
        for bits in [AC_LUMA_BITS, AC_CHROMA_BITS] {
            assert_eq!(bits.iter().map(|&b| usize::from(b)).sum::<usize>(), 162);
        }
    }

    #[test]
    fn walk_stops_at_dht_or_sos() {
        let sos = [0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x02, 0xFF, 0xDA, 0x00, 0x02];
        assert_eq!(sos_without_dht(&sos), Some(6));
        let dht = [0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x02, 0xFF, 0xDA, 0x00, 0x02];
        assert_eq!(sos_without_dht(&dht), None);
        assert_eq!(sos_without_dht(&[0xFF, 0xD8, 0xFF]), None);
        assert_eq!(sos_without_dht(b"not a jpeg"), None);
    }
}
