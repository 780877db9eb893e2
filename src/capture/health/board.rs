//! The health of every listed source, from the grabs the thumbnailer makes
//! anyway (and the X11 backend's Damage "nothing drawn"), kept as the wire
//! carries it: the catalog attaches it to the sources it publishes, so a
//! change reaches every console in the next `SourcesChanged` (at most once
//! per catalog cycle, a second).

use super::{Health, HealthOptions, HealthState, HealthTracker, SignalStatus, measure};
use crate::protocol::{SourceHealth, unix_now};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The published health of each source, by id (read by the catalog).
pub type HealthMap = Arc<Mutex<HashMap<String, SourceHealth>>>;

/// One source's tracker and what was last published for it.
struct Followed {
    tracker: HealthTracker,
    /// The state and start last turned into a wire value: the Unix `since`
    /// is computed once per state, so it does not jitter between cycles.
    shown: Option<(HealthState, Option<Instant>)>,
    /// A capture input reporting no signal or no power, since when: it
    /// says more than what its frames do.
    input_down: Option<(HealthState, Instant)>,
}

/// Per-source health trackers fed by the thumbnailer.
pub struct HealthBoard {
    options: HealthOptions,
    /// How often each source is grabbed (the thumbnail interval).
    interval: Duration,
    sources: HashMap<String, Followed>,
    published: HealthMap,
}

impl HealthBoard {
    pub fn new(options: HealthOptions, interval: Duration, published: HealthMap) -> HealthBoard {
        HealthBoard {
            options,
            interval,
            sources: HashMap::new(),
            published,
        }
    }

    fn followed(&mut self, id: &str, at: Instant) -> &mut Followed {
        let (options, interval) = (self.options, self.interval);
        self.sources
            .entry(id.to_string())
            .or_insert_with(|| Followed {
                tracker: HealthTracker::new(options, interval, at),
                shown: None,
                input_down: None,
            })
    }

    /// A fresh grab of `id`.
    pub fn frame(&mut self, id: &str, at: Instant, picture: &image::RgbaImage) {
        let black_pixel = self.options.black_pixel;
        let (w, h) = picture.dimensions();
        let followed = self.followed(id, at);
        match measure(w, h, picture.as_raw(), black_pixel) {
            Ok(sample) => followed.tracker.frame(at, sample),
            Err(_) => followed.tracker.failed(at),
        }
        self.publish(id, at);
    }

    /// A grab of `id` that gave the frame its stream delivered at
    /// `delivered` (the portal's): a new frame is measured; the same frame
    /// again is a still picture (see `HealthTracker::same_frame_again`).
    pub fn delivered(&mut self, id: &str, delivered: Instant, picture: &image::RgbaImage) {
        let black_pixel = self.options.black_pixel;
        let now = Instant::now();
        let followed = self.followed(id, delivered.min(now));
        if followed.tracker.is_new(delivered) {
            let (w, h) = picture.dimensions();
            match measure(w, h, picture.as_raw(), black_pixel) {
                Ok(sample) => {
                    followed.tracker.delivered_frame(delivered, sample);
                }
                Err(_) => followed.tracker.failed(now),
            }
        } else {
            followed.tracker.same_frame_again(now);
        }
        self.publish(id, now);
    }

    /// Nothing was drawn into `id` since its last grab: the same picture
    /// again, without grabbing it.
    pub fn unchanged(&mut self, id: &str, at: Instant) {
        self.followed(id, at).tracker.unchanged_frame(at);
        self.publish(id, at);
    }

    /// A grab of `id` failed (it delivers nothing: a stall once long enough).
    pub fn failed(&mut self, id: &str, at: Instant) {
        self.followed(id, at).tracker.failed(at);
        self.publish(id, at);
    }

    /// What `id`'s capture input reports (`VIDIOC_ENUMINPUT`), read at `at`.
    pub fn signal(&mut self, id: &str, signal: Option<SignalStatus>, at: Instant) {
        let down = match signal {
            Some(SignalStatus::NoSignal) => Some(HealthState::NoSignal),
            Some(SignalStatus::NoPower) => Some(HealthState::NoPower),
            Some(SignalStatus::Ok) | None => None,
        };
        let followed = self.followed(id, at);
        followed.input_down = match (down, followed.input_down) {
            (Some(state), Some((was, since))) if state == was => Some((was, since)),
            (Some(state), _) => Some((state, at)),
            (None, _) => None,
        };
        self.publish(id, at);
    }

    /// `id` no longer exists.
    pub fn gone(&mut self, id: &str, at: Instant) {
        self.followed(id, at).tracker.gone(at);
        self.publish(id, at);
    }

    /// Forget sources that are no longer listed.
    pub fn retain(&mut self, ids: &[&str]) {
        self.sources.retain(|id, _| ids.contains(&id.as_str()));
        self.published
            .lock()
            .retain(|id, _| ids.contains(&id.as_str()));
    }

    /// Turn `id`'s state into its wire value when it changed.
    fn publish(&mut self, id: &str, now: Instant) {
        let Some(followed) = self.sources.get_mut(id) else {
            return;
        };
        let health = match followed.input_down {
            Some((state, since)) => Health {
                state,
                since: Some(since),
            },
            None => followed.tracker.health(now),
        };
        let shown = Some((health.state, health.since));
        if followed.shown == shown {
            return;
        }
        followed.shown = shown;
        let wire = SourceHealth {
            state: health.state,
            since: health.since.map(|since| unix_seconds_at(since, now)),
        };
        self.published.lock().insert(id.to_string(), wire);
    }
}

/// The Unix time (seconds) of `at`, an instant before `now`.
fn unix_seconds_at(at: Instant, now: Instant) -> i64 {
    unix_now() - now.saturating_duration_since(at).as_secs() as i64
}
