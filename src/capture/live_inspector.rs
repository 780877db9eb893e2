//! The console's live inspector: while it is open, one source is grabbed at
//! full size [`INSPECTOR_FPS`] times a second, every grab measured by the
//! health rules ([`Inspection`]), and the picture and the figures so far
//! are published for the UI. One inspection at a time, on its own thread
//! with its own backend, so the wall's thumbnails and a share go on.

use super::health::{HealthOptions, Inspection};
use super::inspect::{DeviceWatch, Grab, grab_once};
use super::{Backend, BackendFactory};
use crate::media::Frame;
use crate::protocol::SourceInfo;
use crate::protocol::inspect::LiveInspection;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Grabs per second while the inspector is open (as `roomshare inspect`).
pub const INSPECTOR_FPS: f64 = 30.0;
/// How far back the interval plot reaches.
const PLOT_WINDOW: Duration = Duration::from_secs(10);
/// How often at most the figures are recomputed (the picture goes out on
/// every grab): percentiles over a long inspection are not free.
const FIGURES_EVERY: Duration = Duration::from_millis(250);

/// What the inspector shows: the latest full-size picture (none before
/// the first grab) and the figures so far.
#[derive(Debug, Clone)]
pub struct InspectorFeed {
    pub picture: Option<Arc<Frame>>,
    /// Moves with every new picture.
    pub seq: u64,
    pub live: LiveInspection,
}

/// Opens and closes the live inspection; cheap to clone.
#[derive(Clone)]
pub struct Inspectors {
    factory: BackendFactory,
    catalog: Arc<Mutex<Vec<SourceInfo>>>,
    on_change: Arc<dyn Fn() + Send + Sync>,
    current: Arc<Mutex<Option<Running>>>,
}

/// The inspection under way.
struct Running {
    source_id: String,
    stop: Arc<AtomicBool>,
    feed: Arc<Mutex<Option<InspectorFeed>>>,
}

impl Inspectors {
    pub(crate) fn new(
        factory: BackendFactory,
        catalog: Arc<Mutex<Vec<SourceInfo>>>,
        on_change: Arc<dyn Fn() + Send + Sync>,
    ) -> Inspectors {
        Inspectors {
            factory,
            catalog,
            on_change,
            current: Arc::new(Mutex::new(None)),
        }
    }

    /// Inspect `source_id` (ending any other inspection); `Err` says why
    /// not, in words.
    pub fn open(&self, source_id: &str) -> Result<(), String> {
        let mut current = self.current.lock();
        if current.as_ref().is_some_and(|r| r.source_id == source_id) {
            return Ok(());
        }
        if let Some(old) = current.take() {
            old.stop.store(true, Ordering::Relaxed);
        }
        let source = self
            .catalog
            .lock()
            .iter()
            .find(|s| s.id == source_id)
            .cloned()
            .ok_or_else(|| format!("no source {source_id:?} is listed now"))?;
        let running = Running {
            source_id: source_id.to_string(),
            stop: Arc::new(AtomicBool::new(false)),
            feed: Arc::new(Mutex::new(None)),
        };
        let job = Job {
            factory: self.factory.clone(),
            source,
            stop: running.stop.clone(),
            feed: running.feed.clone(),
            on_change: self.on_change.clone(),
        };
        std::thread::Builder::new()
            .name("capture-inspect".into())
            .spawn(move || job.run())
            .map_err(|e| format!("cannot start the inspection: {e}"))?;
        tracing::info!(target: "roomshare::inspect", "inspecting {source_id} at {INSPECTOR_FPS} fps");
        *current = Some(running);
        Ok(())
    }

    /// End the inspection, if any (its thread ends after its current grab).
    pub fn close(&self) {
        if let Some(old) = self.current.lock().take() {
            old.stop.store(true, Ordering::Relaxed);
            tracing::info!(target: "roomshare::inspect", "inspection of {} closed", old.source_id);
        }
    }

    /// The inspected source and what it shows so far.
    pub fn latest(&self) -> Option<(String, Option<InspectorFeed>)> {
        let current = self.current.lock();
        let running = current.as_ref()?;
        Some((running.source_id.clone(), running.feed.lock().clone()))
    }
}

/// One inspection's thread.
struct Job {
    factory: BackendFactory,
    source: SourceInfo,
    stop: Arc<AtomicBool>,
    feed: Arc<Mutex<Option<InspectorFeed>>>,
    on_change: Arc<dyn Fn() + Send + Sync>,
}

impl Job {
    fn run(self) {
        let mut backend = (self.factory)();
        let id = self.source.id.clone();
        if let Err(e) = backend.hold(&id) {
            tracing::debug!(target: "roomshare::inspect", "{id}: {e}");
        }
        self.grab_until_stopped(backend.as_mut());
        backend.release(&id);
    }

    fn grab_until_stopped(&self, backend: &mut dyn Backend) {
        let interval = Duration::from_secs_f64(1.0 / INSPECTOR_FPS);
        let origin = Instant::now();
        let mut inspection =
            Inspection::new(&self.source, HealthOptions::default(), interval, origin);
        let mut recent = RecentIntervals::default();
        let mut publisher = Publisher::new(self);
        let mut next = origin;
        let mut device = DeviceWatch::start(backend, &self.source.id);
        while !self.stop.load(Ordering::Relaxed) {
            let picture = match grab_once(backend, &self.source, &mut inspection, &mut device) {
                Grab::Picture(img) => {
                    recent.frame_at(Instant::now(), origin);
                    Some(Arc::new(Frame::from_image(img)))
                }
                Grab::Failed => {
                    publisher.failures += 1;
                    None
                }
                Grab::Gone => {
                    publisher.publish(None, &inspection, &recent, true);
                    return;
                }
            };
            // A capture device's timings, corrupt frames and pixel format:
            // read only for the figures about to be published, not per grab.
            if publisher.figures_due(Instant::now()) {
                device.finish(backend, &self.source.id, &mut inspection);
                publisher.pixel_format = backend
                    .device_input(&self.source.id)
                    .and_then(|input| input.pixel_format)
                    .map(|f| f.to_string());
            }
            publisher.publish(picture, &inspection, &recent, false);
            let now = Instant::now();
            next = (next + interval).max(now);
            std::thread::sleep(next.saturating_duration_since(now));
        }
    }
}

/// The intervals between the last [`PLOT_WINDOW`] of grabs:
/// `[seconds from the start, milliseconds]`.
#[derive(Default)]
struct RecentIntervals {
    last: Option<Instant>,
    points: VecDeque<[f64; 2]>,
}

impl RecentIntervals {
    fn frame_at(&mut self, at: Instant, origin: Instant) {
        let t = at.saturating_duration_since(origin).as_secs_f64();
        if let Some(last) = self.last {
            let ms = at.saturating_duration_since(last).as_secs_f64() * 1000.0;
            self.points.push_back([t, ms]);
        }
        self.last = Some(at);
        let oldest = t - PLOT_WINDOW.as_secs_f64();
        while self.points.front().is_some_and(|p| p[0] < oldest) {
            self.points.pop_front();
        }
    }
}

/// Puts each picture, and the figures at most every [`FIGURES_EVERY`], in
/// the feed, and wakes the UI.
struct Publisher<'a> {
    job: &'a Job,
    seq: u64,
    failures: u64,
    pixel_format: Option<String>,
    figures_at: Option<Instant>,
}

impl<'a> Publisher<'a> {
    fn new(job: &'a Job) -> Publisher<'a> {
        Publisher {
            job,
            seq: 0,
            failures: 0,
            pixel_format: None,
            figures_at: None,
        }
    }

    /// Whether the next publish recomputes the figures.
    fn figures_due(&self, now: Instant) -> bool {
        self.figures_at.is_none_or(|t| now - t >= FIGURES_EVERY)
    }

    fn publish(
        &mut self,
        picture: Option<Arc<Frame>>,
        inspection: &Inspection,
        recent: &RecentIntervals,
        last: bool,
    ) {
        let now = Instant::now();
        let figures_due = last || self.figures_due(now);
        if picture.is_none() && !figures_due {
            return;
        }
        let mut feed = self.job.feed.lock();
        if let Some(p) = picture {
            self.seq += 1;
            let live = feed.as_ref().map(|f| f.live.clone());
            *feed = Some(InspectorFeed {
                picture: Some(p),
                seq: self.seq,
                live: live.unwrap_or_else(|| self.figures(inspection, recent, now)),
            });
        }
        if figures_due {
            self.figures_at = Some(now);
            let live = self.figures(inspection, recent, now);
            match feed.as_mut() {
                Some(f) => f.live = live,
                None => {
                    *feed = Some(InspectorFeed {
                        picture: None,
                        seq: self.seq,
                        live,
                    })
                }
            }
        }
        drop(feed);
        (self.job.on_change)();
    }

    fn figures(
        &self,
        inspection: &Inspection,
        recent: &RecentIntervals,
        now: Instant,
    ) -> LiveInspection {
        let health = inspection.tracker().health(now);
        let origin = inspection.tracker().origin();
        LiveInspection {
            report: inspection.report(now),
            recent_intervals: recent.points.iter().copied().collect(),
            health: health.state,
            health_since: health
                .since
                .map(|t| t.saturating_duration_since(origin).as_secs_f64()),
            failures: self.failures,
            pixel_format: self.pixel_format.clone(),
        }
    }
}
