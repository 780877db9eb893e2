//! `Call/RoomShare` `Inspect` (roomshare's own extension): what an
//! inspection of one source found, [`InspectReport`] — the object `roomshare
//! inspect --json` prints and the `data` the remote action answers with —
//! and the action's inputs, [`InspectParams`].
//!
//! The report is a Call result's `data` holding nested objects, unlike the
//! vendor's Calls (protocol.md §2): only roomshare consoles call `Inspect`,
//! never a regex-matching controller.

#![allow(missing_docs)]

use super::model::SourceKind;
use serde::{Deserialize, Serialize};

/// The longest remote inspection, in seconds: an engine's capture is not
/// held for longer by one request.
pub const MAX_REMOTE_SECONDS: f64 = 60.0;
/// The highest grab rate, per second (also `roomshare inspect --fps`).
pub const MAX_FPS: f64 = 120.0;

/// The inputs of `Inspect`: which source, for how long, how often; the
/// thresholds (fractions of the range, seconds) default to ffmpeg's.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectParams {
    /// The source's `id` (`window:1234`, `desktop`, a device's id).
    pub source_id: String,
    /// More than 0, at most [`MAX_REMOTE_SECONDS`].
    pub seconds: f64,
    /// 1 to [`MAX_FPS`].
    pub fps: f64,
    pub black_pixel: Option<f64>,
    pub black_ratio: Option<f64>,
    pub static_difference: Option<f64>,
    pub min_duration: Option<f64>,
}

/// The inspected source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectedSource {
    pub id: String,
    pub kind: SourceKind,
    pub title: String,
    /// The size the source was listed with (the frames' sizes are in `sizes`).
    pub width: u32,
    pub height: u32,
}

/// Between two grabbed frames, in milliseconds; null with fewer than two.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalMs {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub max: Option<f64>,
}

/// A stretch in seconds from the start; `end` null if it lasted to the end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub start: f64,
    pub end: Option<f64>,
}

/// A frame size, from `at` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeAt {
    pub at: f64,
    pub width: u32,
    pub height: u32,
}

/// A V4L2 input's status (`VIDIOC_ENUMINPUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalStatus {
    Ok,
    NoSignal,
    NoPower,
}

/// The worst that happened, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Gone,
    NoSignal,
    Stalled,
    Black,
    Static,
    Ok,
}

/// One inspection's figures (`roomshare inspect --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectReport {
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
    pub interval_ms: IntervalMs,
    pub black: Vec<Span>,
    /// Unchanged stretches, black ones left out.
    #[serde(rename = "static")]
    pub still: Vec<Span>,
    pub stalls: Vec<Span>,
    pub sizes: Vec<SizeAt>,
    pub signal: Option<SignalStatus>,
    pub verdict: Verdict,
    /// Capture devices only (absent otherwise): frames that did not
    /// decode during the inspection (skipped; the stream went on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<u64>,
    /// Capture devices only, where the driver detects them
    /// (`VIDIOC_QUERY_DV_TIMINGS`): the input's timings, `1920×1080p60`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<String>,
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

    /// Set the verdict: the worst that happened (gone, no signal, stalled,
    /// black, static), else ok; `gone` when the source went mid-inspection.
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
