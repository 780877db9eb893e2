//! The human report of an inspection.

use crate::capture::health::{InspectReport, SignalStatus, Span, Verdict};
use crate::protocol::SourceKind;
use std::fmt::Write as _;

fn kind_word(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Desktop => "desktop",
        SourceKind::Monitor => "monitor",
        SourceKind::Window => "window",
        SourceKind::CaptureDevice => "device",
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Gone => "gone",
        Verdict::NoSignal => "no signal",
        Verdict::Stalled => "stalled",
        Verdict::Black => "black",
        Verdict::Static => "static",
        Verdict::Ok => "ok",
    }
}

/// `1.02–2.51 s (1.49 s)`, `3.53 s–end (2.47 s)`, … or `none`.
fn spans(list: &[Span], seconds: f64) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|s| match s.end {
            Some(end) => format!("{:.2}–{:.2} s ({:.2} s)", s.start, end, end - s.start),
            None => format!("{:.2} s–end ({:.2} s)", s.start, seconds - s.start),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ms(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:.1} ms"))
}

/// The report as a few aligned lines.
pub fn format_report(r: &InspectReport) -> String {
    let s = &r.source;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "source:   {} {:?} ({}, {}x{})",
        s.id,
        s.title,
        kind_word(s.kind),
        s.width,
        s.height
    );
    let _ = writeln!(
        out,
        "grabbed:  {} frames in {:.2} s ({:.1} fps), {} changed ({:.1} fps)",
        r.frames, r.seconds, r.capture_fps, r.changed, r.content_fps
    );
    let iv = &r.interval_ms;
    let _ = writeln!(
        out,
        "interval: p50 {}, p95 {}, max {}",
        ms(iv.p50),
        ms(iv.p95),
        ms(iv.max)
    );
    let _ = writeln!(out, "black:    {}", spans(&r.black, r.seconds));
    let _ = writeln!(out, "static:   {}", spans(&r.still, r.seconds));
    let _ = writeln!(out, "stalls:   {}", spans(&r.stalls, r.seconds));
    let sizes: Vec<String> = r
        .sizes
        .iter()
        .map(|z| format!("{}x{} from {:.2} s", z.width, z.height, z.at))
        .collect();
    let sizes = if sizes.is_empty() {
        "no frame".into()
    } else {
        sizes.join(", ")
    };
    let _ = writeln!(out, "sizes:    {sizes}");
    if let Some(signal) = r.signal {
        let word = match signal {
            SignalStatus::Ok => "ok",
            SignalStatus::NoSignal => "no signal",
            SignalStatus::NoPower => "no power",
        };
        let _ = writeln!(out, "signal:   {word}");
    }
    if let Some(timings) = &r.timings {
        let _ = writeln!(out, "timings:  {timings}");
    }
    if let Some(corrupt) = r.corrupt {
        let _ = writeln!(out, "corrupt:  {corrupt} frames (skipped)");
    }
    let verdict = match r.verdict {
        Verdict::Gone => format!("gone after {:.2} s", r.seconds),
        other => verdict_word(other).to_string(),
    };
    let _ = writeln!(out, "verdict:  {verdict}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::health::{InspectedSource, IntervalMs, SizeAt};

    #[test]
    fn a_report_in_words() {
        let r = InspectReport {
            source: InspectedSource {
                id: "window:42".into(),
                kind: SourceKind::Window,
                title: "Notes".into(),
                width: 640,
                height: 480,
            },
            seconds: 6.0,
            frames: 180,
            changed: 40,
            capture_fps: 30.0,
            content_fps: 6.67,
            interval_ms: IntervalMs {
                p50: Some(33.3),
                p95: Some(35.0),
                max: Some(41.2),
            },
            black: vec![Span {
                start: 1.0,
                end: Some(3.5),
            }],
            still: vec![Span {
                start: 4.5,
                end: None,
            }],
            stalls: vec![],
            sizes: vec![SizeAt {
                at: 0.0,
                width: 640,
                height: 480,
            }],
            signal: None,
            verdict: Verdict::Black,
            corrupt: None,
            timings: None,
        };
        let text = format_report(&r);
        assert_eq!(
            text,
            "source:   window:42 \"Notes\" (window, 640x480)\n\
             grabbed:  180 frames in 6.00 s (30.0 fps), 40 changed (6.7 fps)\n\
             interval: p50 33.3 ms, p95 35.0 ms, max 41.2 ms\n\
             black:    1.00–3.50 s (2.50 s)\n\
             static:   4.50 s–end (1.50 s)\n\
             stalls:   none\n\
             sizes:    640x480 from 0.00 s\n\
             verdict:  black\n"
        );
    }
}
