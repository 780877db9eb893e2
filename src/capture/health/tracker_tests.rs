//! The tracker on constructed pictures and times (no clock, no sleep).

use super::*;
use crate::capture::health::sample::measure;

const W: u32 = 50;
const H: u32 = 40;

/// A picture of `W`×`H` with `white` white pixels on `base` grey.
fn picture(base: u8, white: usize) -> LumaSample {
    let mut rgba = [base, base, base, 255].repeat((W * H) as usize);
    for px in rgba.chunks_exact_mut(4).take(white) {
        px[..3].copy_from_slice(&[255, 255, 255]);
    }
    measure(W, H, &rgba, 0.10).unwrap()
}

fn black() -> LumaSample {
    picture(0, 0)
}

/// The `n`-th frame of an animation: every frame differs from the last.
fn animated(n: usize) -> LumaSample {
    picture(60 + (n % 5) as u8 * 30, 0)
}

struct Clock(Instant);

impl Clock {
    fn t(&self, s: f64) -> Instant {
        self.0 + Duration::from_secs_f64(s)
    }
    fn secs(&self, i: Instant) -> f64 {
        (i.duration_since(self.0).as_secs_f64() * 1000.0).round() / 1000.0
    }
    fn spans(&self, list: &[Stretch]) -> Vec<(f64, Option<f64>)> {
        list.iter()
            .map(|s| (self.secs(s.start), s.end.map(|e| self.secs(e))))
            .collect()
    }
}

/// A tracker for a 30 fps grab, starting at 0 s.
fn tracker() -> (Clock, HealthTracker) {
    let clock = Clock(Instant::now());
    let tr = HealthTracker::new(
        HealthOptions::default(),
        Duration::from_secs(1) / 30,
        clock.0,
    );
    (clock, tr)
}

/// A tracker for a source that delivers a frame a second (stalls from 3 s).
fn slow_tracker() -> (Clock, HealthTracker) {
    let clock = Clock(Instant::now());
    let tr = HealthTracker::new(HealthOptions::default(), Duration::from_secs(1), clock.0);
    (clock, tr)
}

/// Feed frames every 1/30 s over `[from, to)`, picture `f(i)` for the i-th.
fn feed(
    clock: &Clock,
    tr: &mut HealthTracker,
    from: f64,
    to: f64,
    f: impl Fn(usize) -> LumaSample,
) {
    let mut i = 0;
    loop {
        let s = from + i as f64 / 30.0;
        if s >= to - 1e-9 {
            return;
        }
        tr.frame(clock.t(s), f(i));
        i += 1;
    }
}

#[test]
fn animate_black_animate_still_gives_one_black_and_one_still_stretch() {
    let (c, mut tr) = tracker();
    // Redrawn at 10 Hz, grabbed at 30 fps: a new picture every third frame.
    feed(&c, &mut tr, 0.0, 1.0, |i| animated(i / 3));
    assert_eq!(tr.health(c.t(0.99)).state, HealthState::Live);
    feed(&c, &mut tr, 1.0, 3.5, |_| black());
    // Black for 1.5 s: not yet black, and not static either (too short).
    let h = tr.health(c.t(2.5));
    assert_eq!(h.state, HealthState::Live, "{h:?}");
    let h = tr.health(c.t(3.4));
    assert_eq!(
        (h.state, h.since.map(|s| c.secs(s))),
        (HealthState::Black, Some(1.0))
    );
    feed(&c, &mut tr, 3.5, 4.5, |i| animated(i / 3 + 1));
    let h = tr.health(c.t(4.4));
    assert_eq!(
        (h.state, h.since.map(|s| c.secs(s))),
        (HealthState::Live, Some(3.5))
    );
    feed(&c, &mut tr, 4.5, 7.0, |_| animated(2));
    let now = c.t(7.0);
    let s = tr.stretches(now);
    assert_eq!(c.spans(&s.black), [(1.0, Some(3.5))]);
    // The still stretch starts with the last redraw (4.5 s), never overlaps
    // the black one, and runs to the end.
    assert_eq!(c.spans(&s.still), [(4.5, None)]);
    assert!(s.stalls.is_empty());
    let h = tr.health(now);
    assert_eq!(
        (h.state, h.since.map(|s| c.secs(s))),
        (HealthState::Static, Some(4.5))
    );
    // 10 pictures in the first second (9 changes), to black, 10 pictures
    // (the first a change from black), then one more change to the still one.
    assert_eq!(tr.changed(), 9 + 1 + 10 + 1);
    assert_eq!(tr.frames(), 210);
}

#[test]
fn min_duration_counts_from_exactly_two_seconds() {
    let (c, mut tr) = slow_tracker();
    tr.frame(c.t(0.0), animated(0));
    tr.frame(c.t(1.0), black());
    tr.frame(c.t(2.9), black());
    tr.frame(c.t(3.0), animated(1));
    tr.frame(c.t(5.0), black());
    tr.frame(c.t(6.0), black());
    tr.frame(c.t(6.999), animated(2));
    let s = tr.stretches(c.t(7.0));
    assert_eq!(
        c.spans(&s.black),
        [(1.0, Some(3.0))],
        "2.0 s counts, 1.999 s does not"
    );
}

#[test]
fn a_black_stretch_is_not_also_still_even_when_it_creeps_in() {
    // 41 of 2000 pixels white: 97.95 % black pixels, not a black frame;
    // then 40: 98 %, black. One pixel of 2000 changed: a difference of
    // 0.0005, so the picture is "unchanged" across the switch.
    let (c, mut tr) = tracker();
    feed(&c, &mut tr, 0.0, 3.0, |_| picture(0, 41));
    feed(&c, &mut tr, 3.0, 6.0, |_| picture(0, 40));
    let s = tr.stretches(c.t(6.0));
    assert_eq!(c.spans(&s.black), [(3.0, None)]);
    assert_eq!(c.spans(&s.still), [(0.0, Some(3.0))]);
    assert_eq!(tr.changed(), 0);
}

#[test]
fn a_gap_of_a_second_is_a_stall_and_ends_the_runs() {
    let (c, mut tr) = tracker();
    feed(&c, &mut tr, 0.0, 2.5, |_| animated(0));
    // Grabs fail (or nothing comes) from 2.5 s to 4 s.
    for k in 0..45 {
        tr.failed(c.t(2.5 + f64::from(k) / 30.0));
    }
    let h = tr.health(c.t(3.4));
    assert_eq!(
        h.state,
        HealthState::Static,
        "0.9 s without a frame is not a stall"
    );
    let h = tr.health(c.t(3.7));
    assert_eq!(
        (h.state, h.since.map(|s| c.secs(s))),
        (HealthState::Stalled, Some(2.467))
    );
    feed(&c, &mut tr, 4.0, 6.5, |_| animated(0));
    let s = tr.stretches(c.t(6.5));
    assert_eq!(c.spans(&s.stalls), [(2.467, Some(4.0))]);
    // The still picture before the stall is one stretch, the one after another.
    assert_eq!(c.spans(&s.still), [(0.0, Some(2.467)), (4.0, None)]);
    assert_eq!(tr.failures(), 45);
    let h = tr.health(c.t(6.5));
    assert_eq!(
        (h.state, h.since.map(|s| c.secs(s))),
        (HealthState::Static, Some(4.0))
    );
}

#[test]
fn a_stall_at_the_end_is_open_and_nothing_at_all_is_a_stall_from_the_start() {
    let (c, mut tr) = tracker();
    let h = tr.health(c.t(0.5));
    assert_eq!((h.state, h.since), (HealthState::Live, None));
    let h = tr.health(c.t(1.0));
    assert_eq!(
        (h.state, h.since.map(|s| c.secs(s))),
        (HealthState::Stalled, Some(0.0))
    );
    assert_eq!(c.spans(&tr.stretches(c.t(1.5)).stalls), [(0.0, None)]);
    feed(&c, &mut tr, 1.5, 2.0, animated);
    let s = tr.stretches(c.t(4.0));
    assert_eq!(c.spans(&s.stalls), [(0.0, Some(1.5)), (1.967, None)]);
}

#[test]
fn a_slow_source_stalls_after_three_of_its_intervals() {
    let (c, mut tr) = slow_tracker();
    tr.frame(c.t(0.0), animated(0));
    tr.frame(c.t(2.9), animated(1));
    assert!(tr.stretches(c.t(2.9)).stalls.is_empty());
    assert_eq!(tr.health(c.t(5.8)).state, HealthState::Static);
    assert_eq!(tr.health(c.t(5.9)).state, HealthState::Stalled);
}

#[test]
fn gone_ends_everything_and_later_frames_are_ignored() {
    let (c, mut tr) = tracker();
    tr.frame(c.t(0.0), animated(0));
    feed(&c, &mut tr, 0.2, 2.4, |_| black());
    tr.failed(c.t(2.4));
    tr.gone(c.t(2.5));
    tr.frame(c.t(2.6), animated(1));
    let s = tr.stretches(c.t(9.0));
    assert_eq!(c.spans(&s.black), [(0.2, Some(2.5))]);
    assert!(s.still.is_empty() && s.stalls.is_empty(), "{s:?}");
    let h = tr.health(c.t(9.0));
    assert_eq!(
        (h.state, h.since.map(|s| c.secs(s))),
        (HealthState::Gone, Some(2.5))
    );
    assert_eq!(tr.gone_at().map(|g| c.secs(g)), Some(2.5));
}

#[test]
fn a_resize_is_a_change_and_a_new_size() {
    let (c, mut tr) = tracker();
    tr.frame(c.t(0.0), animated(0));
    let grey = [90u8, 90, 90, 255].repeat(20 * 10);
    tr.frame(c.t(0.5), measure(20, 10, &grey, 0.1).unwrap());
    tr.frame(c.t(0.6), measure(20, 10, &grey, 0.1).unwrap());
    let sizes: Vec<(f64, u32, u32)> = tr
        .sizes()
        .iter()
        .map(|&(t, w, h)| (c.secs(t), w, h))
        .collect();
    assert_eq!(sizes, [(0.0, W, H), (0.5, 20, 10)]);
    assert_eq!(tr.changed(), 1);
}

#[test]
fn frames_known_unchanged_keep_a_still_or_black_stretch_going() {
    let (c, mut tr) = slow_tracker();
    tr.unchanged_frame(c.t(0.0)); // nothing before it: ignored
    assert_eq!(tr.frames(), 0);
    tr.frame(c.t(0.0), black());
    for k in 1..=5 {
        tr.unchanged_frame(c.t(f64::from(k)));
    }
    let s = tr.stretches(c.t(5.0));
    assert_eq!(c.spans(&s.black), [(0.0, None)]);
    assert!(s.still.is_empty(), "black, not also static");
    assert_eq!(tr.frames(), 6);
    assert_eq!(tr.changed(), 0);
}

/// A portal (PipeWire) stream pushes frames and a grab takes the newest:
/// grabs keep returning the last frame when the stream sends none. The
/// compositors behind the portal send a frame only when the screen
/// changed, so that is a still picture (from the last frame, once it has
/// lasted `min_duration`), never a stall; the next frame ends it.
#[test]
fn a_stream_that_sends_no_new_frame_is_still_not_stalled() {
    let (c, mut tr) = tracker();
    for i in 0..30 {
        let delivered = c.t(f64::from(i) / 30.0);
        assert!(tr.delivered_frame(delivered, animated(i as usize)));
    }
    let last = c.t(29.0 / 30.0);
    let changed = tr.changed();
    // Grabs at 30 fps until 3.2 s: each returns the frame delivered last.
    for k in 30..96 {
        let grab = c.t(f64::from(k) / 30.0);
        assert!(!tr.delivered_frame(last, animated(29)));
        tr.same_frame_again(grab);
    }
    assert_eq!(tr.changed(), changed, "the same frame again is no change");
    assert_eq!(
        tr.health(c.t(2.5)).state,
        HealthState::Live,
        "still, but not for 2 s yet"
    );
    let h = tr.health(c.t(3.2));
    assert_eq!(
        (h.state, h.since.map(|s| c.secs(s))),
        (HealthState::Static, Some(0.967)),
        "still since the last frame came, not stalled"
    );
    // The stream delivers again: live, no stall at any time.
    feed_delivered(&c, &mut tr, 3.2, 3.6);
    assert_eq!(tr.health(c.t(3.6)).state, HealthState::Live);
    let s = tr.stretches(c.t(3.6));
    assert!(s.stalls.is_empty());
    assert_eq!(c.spans(&s.still), [(0.967, Some(3.2))]);
}

/// Frames delivered every 1/30 s over `[from, to)`, each different.
fn feed_delivered(clock: &Clock, tr: &mut HealthTracker, from: f64, to: f64) {
    let mut i = 0;
    while from + i as f64 / 30.0 < to - 1e-9 {
        tr.delivered_frame(clock.t(from + i as f64 / 30.0), animated(i));
        i += 1;
    }
}
