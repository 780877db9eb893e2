//! [`Inspection`]: an inspection under way, which gathers its
//! [`InspectReport`] (a `protocol` type: `roomshare inspect --json` prints
//! it, the remote `Inspect` answers with it and the console's inspector
//! shows it live) grab by grab.

use super::sample::{SampleError, measure};
use super::tracker::{HealthTracker, Stretch};
use super::{HealthOptions, LumaSample};
use crate::protocol::SourceInfo;
pub use crate::protocol::inspect::{
    InspectReport, InspectedSource, IntervalMs, SignalStatus, SizeAt, Span, Verdict,
};
use std::time::{Duration, Instant};

/// An inspection under way: the tracker, the intervals between frames.
pub struct Inspection {
    source: InspectedSource,
    tracker: HealthTracker,
    last_frame: Option<Instant>,
    /// Between successive frames, in milliseconds.
    intervals: Vec<f32>,
    signal: Option<SignalStatus>,
    corrupt: Option<u64>,
    timings: Option<String>,
}

impl Inspection {
    /// Inspect `source`, grabbed every `interval`, from `origin`.
    pub fn new(
        source: &SourceInfo,
        options: HealthOptions,
        interval: Duration,
        origin: Instant,
    ) -> Inspection {
        Inspection {
            source: InspectedSource {
                id: source.id.clone(),
                kind: source.kind,
                title: source.title.clone(),
                width: source.width,
                height: source.height,
            },
            tracker: HealthTracker::new(options, interval, origin),
            last_frame: None,
            intervals: Vec::new(),
            signal: None,
            corrupt: None,
            timings: None,
        }
    }

    pub fn tracker(&self) -> &HealthTracker {
        &self.tracker
    }

    /// A grabbed RGBA frame, taken at `at`.
    pub fn frame(
        &mut self,
        at: Instant,
        width: u32,
        height: u32,
        rgba: &[u8],
    ) -> Result<(), SampleError> {
        let sample = measure(width, height, rgba, self.tracker.options().black_pixel)?;
        self.sample(at, sample);
        Ok(())
    }

    /// A frame grabbed at `at` that its stream delivered at `delivered`
    /// (the portal's): the same frame again is not a new one but a still
    /// picture (see `HealthTracker::same_frame_again`).
    pub fn delivered_frame(
        &mut self,
        delivered: Instant,
        at: Instant,
        width: u32,
        height: u32,
        rgba: &[u8],
    ) -> Result<(), SampleError> {
        if self.tracker.gone_at().is_some() {
            return Ok(());
        }
        if !self.tracker.is_new(delivered) {
            self.tracker.same_frame_again(at);
            return Ok(());
        }
        let sample = measure(width, height, rgba, self.tracker.options().black_pixel)?;
        self.sample(delivered, sample);
        Ok(())
    }

    /// A frame already measured.
    pub fn sample(&mut self, at: Instant, sample: LumaSample) {
        if self.tracker.gone_at().is_some() {
            return;
        }
        if let Some(last) = self.last_frame {
            let ms = at.saturating_duration_since(last).as_secs_f64() * 1000.0;
            self.intervals.push(ms as f32);
        }
        self.last_frame = Some(at);
        self.tracker.frame(at, sample);
    }

    pub fn failed(&mut self, at: Instant) {
        self.tracker.failed(at);
    }

    pub fn gone(&mut self, at: Instant) {
        self.tracker.gone(at);
    }

    /// A V4L2 input's status as read now: the report keeps the worst
    /// read (no power, then no signal, then ok), so a signal lost for a
    /// moment is still told.
    pub fn signal(&mut self, status: SignalStatus) {
        let rank = |s: SignalStatus| match s {
            SignalStatus::Ok => 0,
            SignalStatus::NoSignal => 1,
            SignalStatus::NoPower => 2,
        };
        if self.signal.is_none_or(|was| rank(status) > rank(was)) {
            self.signal = Some(status);
        }
    }

    /// A capture device's figures: frames that did not decode, timings.
    pub fn device(&mut self, corrupt: u64, timings: Option<String>) {
        self.corrupt = Some(corrupt);
        if timings.is_some() {
            self.timings = timings;
        }
    }

    /// The report of the inspection ended at `end`.
    pub fn report(&self, end: Instant) -> InspectReport {
        let tr = &self.tracker;
        let origin = tr.origin();
        let end = tr.gone_at().map_or(end, |g| g.min(end).max(origin));
        let secs = |t: Instant| round(t.saturating_duration_since(origin).as_secs_f64(), 3);
        let spans = |list: &[Stretch]| {
            list.iter()
                .map(|s| Span {
                    start: secs(s.start),
                    end: s.end.map(secs),
                })
                .collect()
        };
        let stretches = tr.stretches(end);
        let seconds = secs(end);
        let per_second = |n: u64| {
            if seconds > 0.0 {
                round(n as f64 / seconds, 2)
            } else {
                0.0
            }
        };
        let mut report = InspectReport {
            source: self.source.clone(),
            seconds,
            frames: tr.frames(),
            changed: tr.changed(),
            capture_fps: per_second(tr.frames()),
            content_fps: per_second(tr.changed()),
            interval_ms: interval_ms(&self.intervals),
            black: spans(&stretches.black),
            still: spans(&stretches.still),
            stalls: spans(&stretches.stalls),
            sizes: sizes(tr, secs),
            signal: self.signal,
            verdict: Verdict::Ok,
            corrupt: self.corrupt,
            timings: self.timings.clone(),
        };
        report.judge(tr.gone_at().is_some());
        report
    }
}

/// The frame sizes, the first at 0 whenever the first frame came.
fn sizes(tr: &HealthTracker, secs: impl Fn(Instant) -> f64) -> Vec<SizeAt> {
    tr.sizes()
        .iter()
        .enumerate()
        .map(|(i, &(t, width, height))| SizeAt {
            at: if i == 0 { 0.0 } else { secs(t) },
            width,
            height,
        })
        .collect()
}

/// p50, p95 (nearest rank) and max of the intervals.
fn interval_ms(intervals: &[f32]) -> IntervalMs {
    let mut sorted = intervals.to_vec();
    sorted.sort_by(f32::total_cmp);
    let rank = |p: f64| -> Option<f64> {
        let n = sorted.len();
        let i = ((p * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
        sorted.get(i).map(|v| round(f64::from(*v), 1))
    };
    IntervalMs {
        p50: rank(0.50),
        p95: rank(0.95),
        max: sorted.last().map(|v| round(f64::from(*v), 1)),
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
