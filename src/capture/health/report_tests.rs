//! The report of constructed inspections: its JSON keys, spans, rates,
//! intervals and verdicts.

use super::*;
use crate::protocol::{SourceInfo, SourceKind};

fn source() -> SourceInfo {
    SourceInfo {
        id: "window:42".into(),
        kind: SourceKind::Window,
        select_index: Some(3),
        device_id: None,
        title: "Notes".into(),
        app: "notes".into(),
        width: 64,
        height: 36,
        unavailable: None,
        health: None,
    }
}

fn rgba(rgb: [u8; 3]) -> Vec<u8> {
    [rgb[0], rgb[1], rgb[2], 255].repeat(64 * 36)
}

const GREY: [u8; 3] = [128, 128, 128];

/// 30 fps from 0 s: `f(i)` gives the i-th frame's colour, up to `to` seconds.
fn inspect(to: f64, f: impl Fn(u32) -> [u8; 3]) -> (Instant, Inspection) {
    let origin = Instant::now();
    let mut ins = Inspection::new(
        &source(),
        HealthOptions::default(),
        Duration::from_secs(1) / 30,
        origin,
    );
    for i in 0.. {
        let s = f64::from(i) / 30.0;
        if s >= to - 1e-9 {
            break;
        }
        ins.frame(origin + Duration::from_secs_f64(s), 64, 36, &rgba(f(i)))
            .unwrap();
    }
    (origin, ins)
}

#[test]
fn the_json_has_exactly_the_documented_keys_and_reads_back() {
    let (origin, ins) = inspect(3.0, |_| GREY);
    let report = ins.report(origin + Duration::from_secs(3));
    let v = serde_json::to_value(&report).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = [
        "source",
        "seconds",
        "frames",
        "changed",
        "capture_fps",
        "content_fps",
        "interval_ms",
        "black",
        "static",
        "stalls",
        "sizes",
        "signal",
        "verdict",
    ];
    let mut got = keys.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(
        v["source"],
        serde_json::json!({"id": "window:42", "kind": "window", "title": "Notes", "width": 64, "height": 36})
    );
    assert_eq!(v["interval_ms"].as_object().unwrap().len(), 3);
    assert_eq!(v["signal"], serde_json::Value::Null);
    assert_eq!(v["verdict"], "static");
    assert_eq!(
        v["static"],
        serde_json::json!([{"start": 0.0, "end": null}])
    );
    assert_eq!(
        v["sizes"],
        serde_json::json!([{"at": 0.0, "width": 64, "height": 36}])
    );
    let back: InspectReport = serde_json::from_value(v).unwrap();
    assert_eq!(back, report);
}

#[test]
fn rates_and_intervals() {
    // A new colour every 0.1 s (every third frame).
    let (origin, ins) = inspect(2.0, |i| {
        if (i / 3) % 2 == 0 {
            GREY
        } else {
            [200, 40, 40]
        }
    });
    let r = ins.report(origin + Duration::from_secs(2));
    assert_eq!((r.seconds, r.frames, r.changed), (2.0, 60, 19));
    assert_eq!((r.capture_fps, r.content_fps), (30.0, 9.5));
    assert_eq!(r.interval_ms.p50, Some(33.3));
    assert_eq!(r.interval_ms.max, Some(33.3));
    assert_eq!(r.verdict, Verdict::Ok);
    assert!(r.happened(Verdict::Ok) && !r.happened(Verdict::Static));
}

#[test]
fn percentiles_are_nearest_rank() {
    let mut v: Vec<f32> = (1..=100).map(|i| i as f32).collect();
    v.reverse();
    let iv = interval_ms(&v);
    assert_eq!(
        (iv.p50, iv.p95, iv.max),
        (Some(50.0), Some(95.0), Some(100.0))
    );
    let none = interval_ms(&[]);
    assert_eq!((none.p50, none.p95, none.max), (None, None, None));
}

#[test]
fn black_then_gone_is_gone_with_the_figures_so_far() {
    let origin = Instant::now();
    let at = |s: f64| origin + Duration::from_secs_f64(s);
    let mut ins = Inspection::new(
        &source(),
        HealthOptions::default(),
        Duration::from_secs(1) / 30,
        origin,
    );
    ins.frame(at(0.0), 64, 36, &rgba(GREY)).unwrap();
    for i in 3..75 {
        ins.frame(at(f64::from(i) / 30.0), 64, 36, &rgba([0, 0, 0]))
            .unwrap();
    }
    ins.gone(at(2.6));
    let r = ins.report(at(10.0));
    assert_eq!(r.seconds, 2.6, "the inspection ended when the source went");
    assert_eq!(r.frames, 73);
    assert_eq!(
        r.black,
        [Span {
            start: 0.1,
            end: Some(2.6)
        }]
    );
    assert_eq!(r.verdict, Verdict::Gone);
    assert!(
        r.happened(Verdict::Gone) && r.happened(Verdict::Black) && !r.happened(Verdict::Stalled)
    );
    let e = ins.frame(at(2.7), 64, 36, &[0; 10]).unwrap_err();
    assert!(e.to_string().contains("needs 9216 bytes"), "{e}");
}

#[test]
fn verdict_order_stall_over_black_over_static_and_no_signal_over_stall() {
    let origin = Instant::now();
    let at = |s: f64| origin + Duration::from_secs_f64(s);
    let mut ins = Inspection::new(
        &source(),
        HealthOptions::default(),
        Duration::from_secs(1) / 30,
        origin,
    );
    ins.frame(at(0.0), 64, 36, &rgba([0, 0, 0])).unwrap();
    ins.frame(at(0.5), 64, 36, &rgba([0, 0, 0])).unwrap();
    let r = ins.report(at(3.0));
    assert_eq!(
        r.stalls,
        [Span {
            start: 0.5,
            end: None
        }]
    );
    assert!(r.black.is_empty(), "0.5 s of black before the stall: {r:?}");
    assert_eq!(r.verdict, Verdict::Stalled);
    ins.signal(SignalStatus::NoPower);
    let r = ins.report(at(3.0));
    assert_eq!(r.verdict, Verdict::NoSignal);
    assert_eq!(serde_json::to_value(r.signal).unwrap(), "no_power");
}
