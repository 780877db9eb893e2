//! The health of a source, measured from the frames it delivers: live,
//! static (unchanged), black, stalled (no frame for too long) or gone.
//!
//! The rules are ffmpeg's: `blackdetect` (a frame is black when at least
//! `black_ratio` of its pixels have luma at most `black_pixel` of the
//! range; a black stretch counts from `min_duration`) and `freezedetect`
//! (frames within `static_difference` mean absolute difference of the
//! first frame of the stretch; from `min_duration`). A black stretch is
//! black, not also static. A stall is a gap between delivered frames of at
//! least `stall_intervals` expected frame intervals and at least
//! `min_stall` (a failing grab delivers nothing, so it is a gap too).
//!
//! - `sample.rs`: one frame's luma on a grid, its black share, the
//!   difference of two samples (no copy of the frame);
//! - `tracker.rs`: [`HealthTracker`], fed timestamped frames, failures and
//!   the end of a source; pure (times are given, never read);
//! - `board.rs`: [`HealthBoard`], every listed source's tracker fed by the
//!   thumbnailer, published as the wire's `health` of each source;
//! - `report.rs`: what `roomshare inspect` prints, [`InspectReport`], and
//!   [`Inspection`], which gathers it.

mod board;
mod report;
mod sample;
mod tracker;

pub use crate::protocol::inspect::{
    InspectReport, InspectedSource, IntervalMs, SignalStatus, SizeAt, Span, Verdict,
};
pub use board::{HealthBoard, HealthMap};
pub use report::Inspection;
pub use sample::{LumaSample, MAX_SAMPLES, SampleError, black_level, grid_step, luma, measure};
pub use tracker::{HealthTracker, Stretch, Stretches};

use std::time::{Duration, Instant};

/// The thresholds of the health rules (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthOptions {
    /// A pixel is black when its luma is at most this fraction of the range.
    pub black_pixel: f64,
    /// A frame is black when at least this fraction of its pixels is black.
    pub black_ratio: f64,
    /// A frame is unchanged when its mean absolute luma difference is at
    /// most this fraction of the range.
    pub static_difference: f64,
    /// How long a black or unchanged stretch must last to count.
    pub min_duration: Duration,
    /// A gap of this many expected frame intervals is a stall…
    pub stall_intervals: u32,
    /// …if it is also at least this long.
    pub min_stall: Duration,
}

impl Default for HealthOptions {
    fn default() -> Self {
        HealthOptions {
            black_pixel: 0.10,
            black_ratio: 0.98,
            static_difference: 0.001,
            min_duration: Duration::from_secs(2),
            stall_intervals: 3,
            min_stall: Duration::from_secs(1),
        }
    }
}

impl HealthOptions {
    /// The shortest gap between frames that is a stall, for a source
    /// expected to deliver a frame every `interval`.
    pub fn stall_after(&self, interval: Duration) -> Duration {
        interval
            .saturating_mul(self.stall_intervals)
            .max(self.min_stall)
    }
}

/// What a source is doing now: the wire's states, so the tracker's answer
/// is published as it is. The tracker gives live, static, black, stalled
/// and gone; no signal and no power come from a capture input's status.
pub use crate::protocol::SourceHealthState as HealthState;

/// A state and since when it holds (`None`: not known, e.g. nothing seen yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    pub state: HealthState,
    pub since: Option<Instant>,
}
