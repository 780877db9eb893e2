//! What an inspection of one source found ([`InspectReport`]): the object
//! `roomshare inspect --json` prints, field for field as issue 15 lists
//! them, and what the console's inspector shows while it measures.
//! Capture gathers it (`capture::health::Inspection`); times are seconds
//! from the inspection's start.

use super::{SourceHealthState, SourceKind};
use serde::{Deserialize, Serialize};

/// The inspected source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectedSource {
    /// Its id (`desktop`, `window:1234`, a device id).
    pub id: String,
    /// Desktop, monitor, window or capture device.
    pub kind: SourceKind,
    /// Its title as listed.
    pub title: String,
    /// The size the source was listed with (the frames' sizes are in `sizes`).
    pub width: u32,
    /// The listed height (see `width`).
    pub height: u32,
}

/// Between two grabbed frames, in milliseconds; null with fewer than two.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalMs {
    /// The median.
    pub p50: Option<f64>,
    /// The 95th percentile.
    pub p95: Option<f64>,
    /// The longest.
    pub max: Option<f64>,
}

/// A stretch in seconds from the start; `end` null if it lasted to the end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    /// When it began.
    pub start: f64,
    /// When it ended; null if it lasted to the end.
    pub end: Option<f64>,
}

/// A frame size, from `at` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeAt {
    /// From this many seconds (the first at 0).
    pub at: f64,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
}

/// A V4L2 input's status (`VIDIOC_ENUMINPUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalStatus {
    /// A signal is there.
    Ok,
    /// Nothing is plugged in, or the source sends nothing.
    NoSignal,
    /// The source is switched off.
    NoPower,
}

/// The worst that happened, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The source went away.
    Gone,
    /// The input reported no signal or no power.
    NoSignal,
    /// Frames stopped coming for a while.
    Stalled,
    /// The picture was black for a while.
    Black,
    /// The picture did not change for a while.
    Static,
    /// None of these.
    Ok,
}

/// One inspection's figures (`roomshare inspect --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectReport {
    /// What was inspected.
    pub source: InspectedSource,
    /// The time inspected.
    pub seconds: f64,
    /// Frames grabbed.
    pub frames: u64,
    /// Frames that differed from the one before.
    pub changed: u64,
    /// `frames / seconds`.
    pub capture_fps: f64,
    /// `changed / seconds`.
    pub content_fps: f64,
    /// Between grabbed frames.
    pub interval_ms: IntervalMs,
    /// Black stretches.
    pub black: Vec<Span>,
    /// Unchanged stretches, black ones left out.
    #[serde(rename = "static")]
    pub still: Vec<Span>,
    /// Stretches with no frame.
    pub stalls: Vec<Span>,
    /// The frame sizes, and when each began.
    pub sizes: Vec<SizeAt>,
    /// A V4L2 input's status; null for other sources.
    pub signal: Option<SignalStatus>,
    /// The worst that happened.
    pub verdict: Verdict,
}

impl InspectReport {
    /// Whether `what` happened during the inspection (`Ok`: nothing did).
    pub fn happened(&self, what: Verdict) -> bool {
        match what {
            Verdict::Gone => self.verdict == Verdict::Gone,
            Verdict::NoSignal => matches!(
                self.signal,
                Some(SignalStatus::NoSignal | SignalStatus::NoPower)
            ),
            Verdict::Stalled => !self.stalls.is_empty(),
            Verdict::Black => !self.black.is_empty(),
            Verdict::Static => !self.still.is_empty(),
            Verdict::Ok => self.verdict == Verdict::Ok,
        }
    }

    /// The worst that happened (gone, no signal, stalled, black, static), else ok.
    pub fn judge(&mut self, gone: bool) {
        self.verdict = Verdict::Ok;
        let worst = [
            Verdict::Gone,
            Verdict::NoSignal,
            Verdict::Stalled,
            Verdict::Black,
            Verdict::Static,
        ]
        .into_iter()
        .find(|v| match v {
            Verdict::Gone => gone,
            other => self.happened(*other),
        });
        self.verdict = worst.unwrap_or(Verdict::Ok);
    }
}

/// What the console's inspector shows while it measures one source: the
/// report so far, the frame intervals of the last seconds for its plot,
/// and the source's health now. (Not on the wire: the console's own
/// capture fills it in; the inspector's "Save snapshot" writes it as the
/// picture's JSON sidecar.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveInspection {
    /// The inspection so far, as `roomshare inspect --json` would end it now.
    pub report: InspectReport,
    /// `[seconds from the start, milliseconds since the grab before]` for
    /// the grabs of the last 10 s.
    pub recent_intervals: Vec<[f64; 2]>,
    /// The source's health now…
    pub health: SourceHealthState,
    /// …since this many seconds from the start (None: not known).
    pub health_since: Option<f64>,
    /// Grabs that failed.
    pub failures: u64,
}
