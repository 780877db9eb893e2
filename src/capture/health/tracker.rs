//! [`HealthTracker`]: the health rules applied to a source's frames as
//! they come. Pure: every call says when it happened, nothing reads a
//! clock, so tests build whole timelines without sleeping.

use super::sample::LumaSample;
use super::{Health, HealthOptions, HealthState};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// At most this many finished stretches of each kind are kept (the
/// oldest go first), so a source watched for days stays small.
const MAX_STRETCHES: usize = 1000;

/// A stretch of time; `end` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    pub start: Instant,
    pub end: Option<Instant>,
}

impl Stretch {
    fn closed(start: Instant, end: Instant) -> Stretch {
        Stretch {
            start,
            end: Some(end),
        }
    }

    fn length(&self, now: Instant) -> Duration {
        self.end
            .unwrap_or(now)
            .saturating_duration_since(self.start)
    }
}

/// The stretches that counted, up to some moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stretches {
    pub black: Vec<Stretch>,
    /// Unchanged stretches with the black ones taken out.
    pub still: Vec<Stretch>,
    pub stalls: Vec<Stretch>,
}

/// The health of one source, fed with what its grabs gave.
#[derive(Debug, Clone)]
pub struct HealthTracker {
    options: HealthOptions,
    stall_after: Duration,
    origin: Instant,
    frames: u64,
    changed: u64,
    failures: u64,
    last_frame: Option<Instant>,
    previous: Option<LumaSample>,
    /// The first frame of the current unchanged run, and when it came.
    reference: Option<(Instant, LumaSample)>,
    black_since: Option<Instant>,
    gone_at: Option<Instant>,
    sizes: Vec<(Instant, u32, u32)>,
    black: VecDeque<Stretch>,
    unchanged: VecDeque<Stretch>,
    stalls: VecDeque<Stretch>,
}

fn keep(list: &mut VecDeque<Stretch>, stretch: Stretch) {
    if list.len() == MAX_STRETCHES {
        list.pop_front();
    }
    list.push_back(stretch);
}

impl HealthTracker {
    /// A tracker from `origin` (when watching began) for a source that
    /// should deliver a frame every `interval`.
    pub fn new(options: HealthOptions, interval: Duration, origin: Instant) -> HealthTracker {
        HealthTracker {
            options,
            stall_after: options.stall_after(interval),
            origin,
            frames: 0,
            changed: 0,
            failures: 0,
            last_frame: None,
            previous: None,
            reference: None,
            black_since: None,
            gone_at: None,
            sizes: Vec::new(),
            black: VecDeque::new(),
            unchanged: VecDeque::new(),
            stalls: VecDeque::new(),
        }
    }

    pub fn options(&self) -> &HealthOptions {
        &self.options
    }

    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Frames delivered (grabbed, or known unchanged without a grab).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Frames that differed from the one before (more than
    /// `static_difference`, or in size); the first frame is not counted.
    pub fn changed(&self) -> u64 {
        self.changed
    }

    /// Grabs that failed.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// When the source was found gone, if it was.
    pub fn gone_at(&self) -> Option<Instant> {
        self.gone_at
    }

    /// Each size the frames had, from when (the first at the first frame).
    pub fn sizes(&self) -> &[(Instant, u32, u32)] {
        &self.sizes
    }

    /// A grabbed frame's measurement, taken at `at`.
    pub fn frame(&mut self, at: Instant, sample: LumaSample) {
        if self.gone_at.is_some() {
            return;
        }
        self.gap_until(at);
        if self
            .sizes
            .last()
            .is_none_or(|&(_, w, h)| (w, h) != (sample.width, sample.height))
        {
            self.sizes.push((at, sample.width, sample.height));
        }
        let threshold = self.options.static_difference;
        let differs =
            |a: &LumaSample, b: &LumaSample| a.difference(b).is_none_or(|d| d > threshold);
        if self.previous.as_ref().is_some_and(|p| differs(&sample, p)) {
            self.changed += 1;
        }
        match &self.reference {
            Some((_, reference)) if !differs(&sample, reference) => {}
            _ => {
                self.end_unchanged(at);
                self.reference = Some((at, sample.clone()));
            }
        }
        if sample.is_black(self.options.black_ratio) {
            self.black_since.get_or_insert(at);
        } else {
            self.end_black(at);
        }
        self.frames += 1;
        self.previous = Some(sample);
        self.last_frame = Some(at);
    }

    /// A frame a stream delivered at `delivered` (a stream that pushes
    /// frames, where a grab takes the newest: the portal's). The same frame
    /// again is not a new frame. False when it was not new.
    pub fn delivered_frame(&mut self, delivered: Instant, sample: LumaSample) -> bool {
        if !self.is_new(delivered) {
            return false;
        }
        self.frame(delivered, sample);
        true
    }

    /// A grab at `at` that returned the frame already seen (a portal
    /// stream that delivered nothing new). The compositors behind the
    /// portal (mutter, KWin, wlroots) send a frame only when the screen
    /// changed, so this is a still picture, not a stall: calling it a
    /// stall would put "Stalled" on every still Wayland screen. A stream
    /// that ended fails its grab instead, and that stalls.
    pub fn same_frame_again(&mut self, at: Instant) {
        self.unchanged_frame(at);
    }

    /// Whether a frame delivered at `delivered` is newer than the last one.
    pub fn is_new(&self, delivered: Instant) -> bool {
        self.last_frame.is_none_or(|last| delivered > last)
    }

    /// A frame known to be the same as the last one without grabbing it
    /// (an X11 window whose Damage stayed quiet). Ignored before the first.
    pub fn unchanged_frame(&mut self, at: Instant) {
        if self.gone_at.is_some() || self.previous.is_none() {
            return;
        }
        self.gap_until(at);
        if self.reference.is_none() {
            // A stall ended the runs: the picture starts a new one.
            self.reference = self.previous.clone().map(|p| (at, p));
            if self
                .previous
                .as_ref()
                .is_some_and(|p| p.is_black(self.options.black_ratio))
            {
                self.black_since = Some(at);
            }
        }
        self.frames += 1;
        self.last_frame = Some(at);
    }

    /// A grab that failed at `at` (the source may still be there). It
    /// delivers nothing: long enough, failures are a stall.
    pub fn failed(&mut self, _at: Instant) {
        self.failures += 1;
    }

    /// The source is gone (found at `at`): what was running ends there.
    pub fn gone(&mut self, at: Instant) {
        if self.gone_at.is_some() {
            return;
        }
        if let Some(stall) = self.open_stall(at) {
            keep(&mut self.stalls, Stretch::closed(stall.start, at));
        }
        self.end_black(at);
        self.end_unchanged(at);
        self.gone_at = Some(at);
    }

    /// A gap before a frame at `at` long enough to be a stall: record it,
    /// and end the black and unchanged runs at the last frame before it
    /// (what the source showed meanwhile is not known).
    fn gap_until(&mut self, at: Instant) {
        let Some(stall) = self.open_stall(at) else {
            return;
        };
        keep(&mut self.stalls, Stretch::closed(stall.start, at));
        self.end_black(stall.start);
        self.end_unchanged(stall.start);
    }

    /// The stall under way at `now`, if the gap since the last frame (or
    /// since watching began) is a stall's length.
    fn open_stall(&self, now: Instant) -> Option<Stretch> {
        let since = self.last_frame.unwrap_or(self.origin);
        (now.saturating_duration_since(since) >= self.stall_after).then_some(Stretch {
            start: since,
            end: None,
        })
    }

    fn end_black(&mut self, at: Instant) {
        if let Some(start) = self.black_since.take() {
            let s = Stretch::closed(start, at);
            if s.length(at) >= self.options.min_duration {
                keep(&mut self.black, s);
            }
        }
    }

    fn end_unchanged(&mut self, at: Instant) {
        if let Some((start, _)) = self.reference.take() {
            let s = Stretch::closed(start, at);
            if s.length(at) >= self.options.min_duration {
                keep(&mut self.unchanged, s);
            }
        }
    }

    /// The stretches that counted by `now`, those still running with no end.
    pub fn stretches(&self, now: Instant) -> Stretches {
        let min = self.options.min_duration;
        let stall = self.open_stall(now).filter(|_| self.gone_at.is_none());
        // Runs still going end where a stall under way began.
        let open = |start: Option<Instant>| {
            start
                .map(|start| Stretch {
                    start,
                    end: stall.map(|s| s.start),
                })
                .filter(|s| s.length(now) >= min)
        };
        let mut black: Vec<Stretch> = self.black.iter().copied().collect();
        black.extend(open(self.black_since));
        let mut unchanged: Vec<Stretch> = self.unchanged.iter().copied().collect();
        unchanged.extend(open(self.reference.as_ref().map(|(t, _)| *t)));
        let mut stalls: Vec<Stretch> = self.stalls.iter().copied().collect();
        stalls.extend(stall);
        let still = without(&unchanged, &black, now)
            .into_iter()
            .filter(|s| s.length(now) >= min)
            .collect();
        Stretches {
            black,
            still,
            stalls,
        }
    }

    /// The state at `now` and since when.
    pub fn health(&self, now: Instant) -> Health {
        let at = |state, since| Health {
            state,
            since: Some(since),
        };
        if let Some(gone) = self.gone_at {
            return at(HealthState::Gone, gone);
        }
        if let Some(stall) = self.open_stall(now) {
            return at(HealthState::Stalled, stall.start);
        }
        let s = self.stretches(now);
        let running = |list: &[Stretch]| list.last().filter(|s| s.end.is_none()).map(|s| s.start);
        if let Some(since) = running(&s.black) {
            return at(HealthState::Black, since);
        }
        if let Some(since) = running(&s.still) {
            return at(HealthState::Static, since);
        }
        // Live since the last stretch ended, or since the first frame.
        let ended = [&s.black, &s.still, &s.stalls]
            .into_iter()
            .filter_map(|l| l.last().and_then(|s| s.end))
            .max();
        let first = self.sizes.first().map(|&(t, _, _)| t);
        Health {
            state: HealthState::Live,
            since: ended.or(first),
        }
    }
}

/// `from` with every part covered by `cut` taken out (both sorted by start).
fn without(from: &[Stretch], cut: &[Stretch], now: Instant) -> Vec<Stretch> {
    let mut out = Vec::new();
    for s in from {
        let mut pieces = vec![*s];
        for c in cut {
            let (c_start, c_end) = (c.start, c.end.unwrap_or(now));
            pieces = pieces
                .into_iter()
                .flat_map(|p| {
                    let p_end = p.end.unwrap_or(now);
                    if c_end <= p.start || c_start >= p_end {
                        return vec![p];
                    }
                    let mut left = Vec::new();
                    if c_start > p.start {
                        left.push(Stretch::closed(p.start, c_start));
                    }
                    if c_end < p_end {
                        left.push(Stretch {
                            start: c_end,
                            end: p.end,
                        });
                    }
                    left
                })
                .collect();
        }
        out.extend(pieces);
    }
    out
}

#[cfg(test)]
#[path = "tracker_tests.rs"]
mod tests;
