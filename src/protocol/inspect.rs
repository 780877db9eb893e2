//! `Call/RoomShare` `Inspect` (roomshare's own extension): what an
//! inspection of one source found, [`InspectReport`] — the object `roomshare
//! inspect --json` prints and the `data` the remote action answers with —
//! and the action's inputs, [`InspectParams`].
//!
//! The report is a Call result's `data` holding nested objects, unlike the
//! vendor's Calls (protocol.md §2): only roomshare consoles call `Inspect`,
//! never a regex-matching controller.

use super::model::{SourceHealthState, SourceKind};
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
    /// A pixel is black at or under this luma (fraction of the range).
    pub black_pixel: Option<f64>,
    /// A frame is black when at least this fraction of its pixels is.
    pub black_ratio: Option<f64>,
    /// Unchanged within this mean luma difference (fraction of the range).
    pub static_difference: Option<f64>,
    /// Seconds a black or unchanged stretch must last to count.
    pub min_duration: Option<f64>,
}

/// The inspected source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectedSource {
    /// The source's id.
    pub id: String,
    /// Desktop, monitor, window or capture device.
    pub kind: SourceKind,
    /// Its title as listed.
    pub title: String,
    /// The size the source was listed with (the frames' sizes are in `sizes`).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Between two grabbed frames, in milliseconds; null with fewer than two.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalMs {
    /// The median.
    pub p50: Option<f64>,
    /// The 95th percentile (nearest rank).
    pub p95: Option<f64>,
    /// The longest.
    pub max: Option<f64>,
}

/// A stretch in seconds from the start; `end` null if it lasted to the end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    /// Seconds from the start of the inspection.
    pub start: f64,
    /// Seconds from the start; null when it lasted to the end.
    pub end: Option<f64>,
}

/// A frame size, from `at` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeAt {
    /// Seconds from the start (the first size at 0).
    pub at: f64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// A V4L2 input's status (`VIDIOC_ENUMINPUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalStatus {
    /// The input has a signal.
    Ok,
    /// No signal on the input (`V4L2_IN_ST_NO_SIGNAL`).
    NoSignal,
    /// No power on the input (`V4L2_IN_ST_NO_POWER`).
    NoPower,
}

/// The worst that happened, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The source went away mid-inspection.
    Gone,
    /// The input reported no signal or no power.
    NoSignal,
    /// No frame for too long.
    Stalled,
    /// A black stretch.
    Black,
    /// An unchanged stretch (information, not a fault).
    Static,
    /// Nothing of the above.
    Ok,
}

/// One inspection's figures (`roomshare inspect --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectReport {
    /// The inspected source.
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
    /// The black stretches.
    pub black: Vec<Span>,
    /// Unchanged stretches, black ones left out.
    #[serde(rename = "static")]
    pub still: Vec<Span>,
    /// The stretches without a frame.
    pub stalls: Vec<Span>,
    /// Each frame size, from when.
    pub sizes: Vec<SizeAt>,
    /// A capture input's status word (the worst read); null otherwise.
    pub signal: Option<SignalStatus>,
    /// The worst that happened.
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
    /// A capture device's pixel format (`MJPG`, `YUYV`); None for others.
    pub pixel_format: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::actions::Params;
    use crate::protocol::{RoomShareAction, codes};
    use serde_json::{Map, Value, json};

    fn read(action_params: Value) -> Result<InspectParams, crate::protocol::RpcError> {
        let params: Map<String, Value> =
            serde_json::from_value(json!({"action": "Inspect", "action_params": action_params}))
                .unwrap();
        InspectParams::read(&Params::new(&params))
    }

    #[test]
    fn inputs_are_checked_with_their_range_in_the_message() {
        let ok = read(json!({"source_id": "desktop", "seconds": 60, "fps": 1})).unwrap();
        assert_eq!((ok.seconds, ok.fps, ok.black_pixel), (60.0, 1.0, None));
        let refused = |p: Value, says: &str| {
            let e = read(p.clone()).unwrap_err();
            assert_eq!(e.code, codes::PARAMETER_ERROR, "{p}");
            assert!(e.message.contains(says), "{p}: {}", e.message);
        };
        refused(json!({"seconds": 1, "fps": 1}), "`source_id`");
        refused(
            json!({"source_id": 7, "seconds": 1, "fps": 1}),
            "`source_id`",
        );
        refused(
            json!({"source_id": "d", "seconds": 60.5, "fps": 1}),
            "at most 60",
        );
        refused(
            json!({"source_id": "d", "seconds": -1, "fps": 1}),
            "more than 0",
        );
        refused(
            json!({"source_id": "d", "seconds": "5", "fps": 1}),
            "`seconds`",
        );
        refused(json!({"source_id": "d", "seconds": 1}), "`fps`");
        refused(
            json!({"source_id": "d", "seconds": 1, "fps": 121}),
            "from 1 to 120",
        );
        let bad_fraction = json!({"source_id": "d", "seconds": 1, "fps": 1, "black_ratio": 1.5});
        refused(bad_fraction, "fraction from 0 to 1");
    }

    #[test]
    fn the_action_round_trips_through_its_params() {
        let given = read(json!({"source_id": "window:9", "seconds": 2.5, "fps": 30,
            "min_duration": 1}))
        .unwrap();
        let action = RoomShareAction::Inspect(given.clone());
        let params: Map<String, Value> = serde_json::from_value(action.to_params()).unwrap();
        let p = Params::new(&params);
        assert_eq!(
            RoomShareAction::parse(p.action().unwrap(), &p).unwrap(),
            action
        );
        assert_eq!(given.min_duration, Some(1.0));
    }
}
