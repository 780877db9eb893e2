//! The colour-bars check: does a capture device's picture show 75 % colour
//! bars as they were sent? A grabber that swaps two channels, stretches or
//! crushes levels, or lifts black is told apart by measuring each bar.
//!
//! The reference is the eight bars of EBU 75 % bars (75/0/75/0: white,
//! yellow, cyan, green, magenta, red, blue, black, left to right), which
//! is also the order of the upper two thirds of SMPTE bars (whose last bar
//! is blue, not black). Each bar is measured in the middle of its width
//! and in the upper half of the picture, away from SMPTE's lower rows.

use super::Frame;

/// The 75 % level of an 8-bit full-range signal (0.75 × 255).
pub const LEVEL_75: u8 = 191;

/// The bars, left to right, at 75 %.
pub const BARS_75: [(&str, [u8; 3]); 8] = [
    ("white", [LEVEL_75, LEVEL_75, LEVEL_75]),
    ("yellow", [LEVEL_75, LEVEL_75, 0]),
    ("cyan", [0, LEVEL_75, LEVEL_75]),
    ("green", [0, LEVEL_75, 0]),
    ("magenta", [LEVEL_75, 0, LEVEL_75]),
    ("red", [LEVEL_75, 0, 0]),
    ("blue", [0, 0, LEVEL_75]),
    ("black", [0, 0, 0]),
];

/// A bar's error this large (in 8-bit steps, any channel) is a fault.
pub const TOLERANCE: i16 = 12;

/// One bar as measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BarReading {
    pub name: &'static str,
    pub expected: [u8; 3],
    pub measured: [u8; 3],
    /// `measured - expected`, per channel.
    pub error: [i16; 3],
}

impl BarReading {
    /// The largest error of its three channels.
    pub fn worst(&self) -> i16 {
        self.error.iter().map(|e| e.abs()).max().unwrap_or(0)
    }
}

/// What the bars show about the capture path.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Every bar within [`TOLERANCE`].
    Ok,
    /// The picture is not colour bars (or not these).
    NotBars,
    /// Two channels arrive swapped ("red and blue").
    Swapped(&'static str, &'static str),
    /// White arrives at this percentage of full range instead of 75 %
    /// (100 %: the device sends 100 % bars, or levels are stretched).
    WhiteLevel(u8),
    /// Black arrives this high (limited-range video shown as full range
    /// lifts it to 16).
    BlackLifted(u8),
    /// Some bars are off by more than the tolerance without a simpler cause.
    BarsOff,
}

/// The check of one picture.
#[derive(Debug, Clone, PartialEq)]
pub struct BarsCheck {
    pub bars: Vec<BarReading>,
    /// The causes found, most telling first; `[Ok]` when none.
    pub findings: Vec<Finding>,
}

const CHANNELS: [&str; 3] = ["red", "green", "blue"];

/// Measure `frame` against [`BARS_75`]; `None` for a picture too small to
/// hold eight bars (under 16 pixels wide or 2 high).
pub fn check(frame: &Frame) -> Option<BarsCheck> {
    if frame.width < 16 || frame.height < 2 || frame.rgba.len() < frame_len(frame) {
        return None;
    }
    let bars: Vec<BarReading> = BARS_75
        .iter()
        .enumerate()
        .map(|(i, &(name, expected))| {
            let measured = mean_of_bar(frame, i);
            let error = [0, 1, 2].map(|c| i16::from(measured[c]) - i16::from(expected[c]));
            BarReading {
                name,
                expected,
                measured,
                error,
            }
        })
        .collect();
    let findings = diagnose(&bars);
    Some(BarsCheck { bars, findings })
}

fn frame_len(frame: &Frame) -> usize {
    frame.width as usize * frame.height as usize * 4
}

/// The mean colour of the middle half of bar `i`'s width, over the upper
/// half of the picture (every 4th pixel: a mean needs no more).
fn mean_of_bar(frame: &Frame, i: usize) -> [u8; 3] {
    let w = frame.width as usize;
    let bar = w / 8;
    let (x0, x1) = (i * bar + bar / 4, i * bar + bar * 3 / 4);
    let (y0, y1) = (frame.height as usize / 8, frame.height as usize / 2);
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for y in (y0..y1.max(y0 + 1)).step_by(4) {
        for x in (x0..x1.max(x0 + 1)).step_by(4) {
            let p = (y * w + x) * 4;
            for (total, &v) in sum.iter_mut().zip(&frame.rgba[p..p + 3]) {
                *total += u64::from(v);
            }
            n += 1;
        }
    }
    sum.map(|s| (s / n.max(1)) as u8)
}

/// From the readings to causes a technician can act on.
fn diagnose(bars: &[BarReading]) -> Vec<Finding> {
    if bars.iter().all(|b| b.worst() <= TOLERANCE) {
        return vec![Finding::Ok];
    }
    if !looks_like_bars(bars) {
        return vec![Finding::NotBars];
    }
    let mut findings = Vec::new();
    if let Some((a, b)) = swapped_channels(bars) {
        findings.push(Finding::Swapped(CHANNELS[a], CHANNELS[b]));
    }
    let white = bars[0].measured.iter().map(|&v| u32::from(v)).sum::<u32>() / 3;
    if white.abs_diff(u32::from(LEVEL_75)) > TOLERANCE as u32 {
        findings.push(Finding::WhiteLevel((white * 100 / 255) as u8));
    }
    let black = *bars[7].measured.iter().max().unwrap_or(&0);
    if i16::from(black) > TOLERANCE {
        findings.push(Finding::BlackLifted(black));
    }
    if findings.is_empty() {
        findings.push(Finding::BarsOff);
    }
    findings
}

/// Bars at any level and in any channel order: each channel is either
/// "on" or "off" in each bar, with white on in all three and black in none.
fn looks_like_bars(bars: &[BarReading]) -> bool {
    let white = &bars[0].measured;
    let black = &bars[7].measured;
    (0..3).all(|c| white[c] > black[c].saturating_add(60))
        && bars.iter().all(|b| {
            (0..3).all(|c| {
                let mid = (u16::from(white[c]) + u16::from(black[c])) / 2;
                let on = u16::from(b.measured[c]) > mid;
                // Within a third of the white-black span of its level.
                let target = if on { white[c] } else { black[c] };
                b.measured[c].abs_diff(target) < white[c].saturating_sub(black[c]) / 3
            })
        })
}

/// Two channels whose on/off pattern across the bars is the other's:
/// the pair, when swapping them explains the bars.
fn swapped_channels(bars: &[BarReading]) -> Option<(usize, usize)> {
    let white = bars[0].measured;
    let on = |b: &BarReading, c: usize| b.measured[c] > white[c] / 2;
    let wanted = |b: &BarReading, c: usize| b.expected[c] > 0;
    let pattern_is = |got: usize, want: usize| bars.iter().all(|b| on(b, got) == wanted(b, want));
    if (0..3).all(|c| pattern_is(c, c)) {
        return None;
    }
    [(0, 1), (0, 2), (1, 2)].into_iter().find(|&(a, b)| {
        let other = 3 - a - b;
        pattern_is(a, b) && pattern_is(b, a) && pattern_is(other, other)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight vertical bars of `colours`, `w`×`h`.
    fn bars_frame(w: u32, h: u32, colours: [[u8; 3]; 8]) -> Frame {
        let mut rgba = Vec::with_capacity((w * h * 4) as usize);
        for _ in 0..h {
            for x in 0..w {
                let [r, g, b] = colours[(x * 8 / w) as usize];
                rgba.extend_from_slice(&[r, g, b, 255]);
            }
        }
        Frame {
            width: w,
            height: h,
            rgba,
        }
    }

    fn reference() -> [[u8; 3]; 8] {
        BARS_75.map(|(_, c)| c)
    }

    #[test]
    fn exact_bars_pass() {
        let check = check(&bars_frame(640, 360, reference())).unwrap();
        assert_eq!(check.findings, vec![Finding::Ok]);
        assert!(check.bars.iter().all(|b| b.worst() == 0));
        assert_eq!(check.bars[5].name, "red");
    }

    #[test]
    fn swapped_red_and_blue_is_named() {
        let swapped = reference().map(|[r, g, b]| [b, g, r]);
        let check = check(&bars_frame(640, 360, swapped)).unwrap();
        assert_eq!(check.findings, vec![Finding::Swapped("red", "blue")]);
        let yellow = &check.bars[1];
        assert_eq!(yellow.measured, [0, 191, 191]);
        assert_eq!(yellow.error, [-191, 0, 191]);
    }

    #[test]
    fn full_level_bars_and_lifted_black() {
        let full = reference().map(|c| c.map(|v| if v > 0 { 255 } else { 0 }));
        assert_eq!(
            check(&bars_frame(320, 180, full)).unwrap().findings,
            vec![Finding::WhiteLevel(100)]
        );
        let lifted = reference().map(|c| c.map(|v| v.max(16)));
        assert_eq!(
            check(&bars_frame(320, 180, lifted)).unwrap().findings,
            vec![Finding::BlackLifted(16)]
        );
    }

    #[test]
    fn other_pictures_are_not_bars() {
        let grey = [[128, 128, 128]; 8];
        assert_eq!(
            check(&bars_frame(320, 180, grey)).unwrap().findings,
            vec![Finding::NotBars]
        );
        let tiny = Frame {
            width: 8,
            height: 8,
            rgba: vec![0; 256],
        };
        assert!(check(&tiny).is_none());
    }
}
