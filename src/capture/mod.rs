//! Capture: the source catalog (xcap or synthetic), thumbnails off the UI
//! thread, and the share session that captures the shared source
//! continuously. Platform-specific code lives here, behind `cfg`.
//!
//! Threads (all plain std threads, because capture calls block):
//! - the **catalog** (`catalog.rs`) re-reads the source list every
//!   `catalog_interval`, diffs it by stable id and publishes it to the
//!   engine;
//! - the **thumbnailer** (`thumbnails.rs`) captures each listed source about
//!   once per `thumbnail_interval`, one capture at a time, and downscales it;
//! - the **share capture** (`share.rs`) captures the engine's own shared
//!   source continuously and publishes a [`SharePreview`];
//! - the **inspector** (`inspect.rs`) runs the engine's `Inspect` requests,
//!   each on a thread of its own while it lasts;
//! - while the console's inspector panel is open, a **live inspection**
//!   (`live_inspector.rs`) grabs one source at full size and measures it.
//!
//! Each thread owns its own [`Backend`] (made by a [`BackendFactory`]), so a
//! slow full-resolution share capture never holds up the catalog. What they
//! produce are the picture types of [`crate::media`].

mod catalog;
pub mod devices;
pub mod health;
pub mod inspect;
mod live_inspector;
#[cfg(target_os = "linux")]
pub mod portal;
pub mod real;
pub mod scale;
mod share;
pub mod synthetic;
mod thumbnails;
mod workers;
#[cfg(all(target_os = "linux", not(target_env = "ohos")))]
pub mod x11;
pub mod xcap_backend;

use crate::engine::EngineHandle;
use crate::media::{PreviewSlot, SharePreview, ThumbnailSource, ThumbnailStore};
use crate::protocol::{CaptureState, CaptureStatus, SourceInfo};
use health::HealthMap;
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use catalog::{SourceDiff, diff_sources};
pub use live_inspector::{INSPECTOR_FPS, InspectorFeed, Inspectors};
pub use synthetic::{SyntheticBackend, SyntheticClock, SyntheticSources};
pub use xcap_backend::XcapBackend;

/// Why a capture failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CaptureError {
    #[error("source {0:?} is gone")]
    Gone(String),
    #[error("capture failed: {0}")]
    Failed(String),
}

/// Where sources and pictures come from.
pub trait Backend: Send + 'static {
    /// A short name for logs and the UI ("x11", "synthetic").
    fn name(&self) -> &'static str;
    /// The desktop, the monitors, the windows (front to back) and the
    /// capture devices. What cannot be captured now says why in
    /// `unavailable`.
    fn list(&mut self) -> Result<Vec<SourceInfo>, CaptureError>;
    /// A full-resolution picture of one source.
    fn capture(&mut self, source_id: &str) -> Result<image::RgbaImage, CaptureError>;
    /// True only when the source surely shows what this backend's last
    /// [`Backend::capture`] of it showed, so the thumbnailer need not
    /// capture it again (the X11 backend knows this from the Damage
    /// extension; for the desktop and monitors, drawing inside the
    /// console's own windows does not count). False when unsure: the
    /// default.
    fn unchanged(&mut self, _source_id: &str) -> bool {
        false
    }
    /// Where the console's own windows lie in `picture` (a capture of
    /// `source_id` of that size): x, y, width, height in its pixels. Left
    /// out when the thumbnailer compares pictures, so the console redrawing
    /// itself does not count as a change of the desktop or a monitor.
    fn own_regions(&mut self, _source_id: &str, _picture: (u32, u32)) -> Vec<[u32; 4]> {
        Vec::new()
    }
    /// The source is being shared: keep what makes repeated captures cheap
    /// (a capture device's stream) until [`Backend::release`].
    fn hold(&mut self, _source_id: &str) -> Result<(), CaptureError> {
        Ok(())
    }
    /// The share of `source_id` ended.
    fn release(&mut self, _source_id: &str) {}
    /// How long ago the stream of `source_id` delivered the frame
    /// [`Backend::capture`] returns, for sources that push frames (the
    /// ScreenCast portal's PipeWire streams: a grab takes the newest, which
    /// is old when the stream stopped). `None` where every capture is a
    /// fresh grab.
    fn frame_age(&mut self, _source_id: &str) -> Option<Duration> {
        None
    }
    /// What a capture device says about its input (signal, timings) and
    /// how many of its frames did not decode; `None` for other sources.
    /// Asks the device at most once a second.
    fn device_input(&mut self, _source_id: &str) -> Option<devices::DeviceInput> {
        None
    }
    /// Whether capture works, and if not why and what to do: waiting for
    /// the user's permission, refused, unavailable. Read after
    /// [`Backend::list`]; backends that always can capture say `ok`.
    fn status(&mut self) -> CaptureStatus {
        CaptureStatus::ok()
    }
    /// Ask again for what was refused or failed (the ScreenCast portal: a
    /// new request, which may open its dialog). Nothing where nothing is
    /// asked.
    fn retry(&mut self) {}
}

/// One listing and where capture stands after it: a listing that failed
/// is `unavailable` with its error, unless the backend says more.
pub fn list_with_status(
    backend: &mut dyn Backend,
) -> (Result<Vec<SourceInfo>, CaptureError>, CaptureStatus) {
    let listed = backend.list();
    let mut status = backend.status();
    if let (Err(e), true) = (&listed, status.is_ok()) {
        status = CaptureStatus::not_ok(
            CaptureState::Unavailable,
            format!("cannot list sources: {e}"),
        );
    }
    (listed, status)
}

/// Makes one backend per worker thread.
pub type BackendFactory = Arc<dyn Fn() -> Box<dyn Backend> + Send + Sync>;

/// Tuning of the capture workers.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// How often the catalog is re-read.
    pub catalog_interval: Duration,
    /// How often each source's thumbnail is refreshed.
    pub thumbnail_interval: Duration,
    /// Thumbnail bounding box (aspect ratio kept).
    pub thumbnail_size: (u32, u32),
    /// Share session with `fluency_first`: target frame rate and widest frame.
    pub fluent_fps: f32,
    pub fluent_max_width: u32,
    /// Share session without `fluency_first`: target rate at full resolution.
    pub sharp_fps: f32,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            catalog_interval: Duration::from_secs(1),
            thumbnail_interval: Duration::from_secs(1),
            thumbnail_size: (320, 180),
            fluent_fps: 30.0,
            fluent_max_width: 1280,
            sharp_fps: 5.0,
        }
    }
}

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourcesMode {
    /// Real capture where there is a display (X11, or the portal on
    /// Wayland); test patterns only where there is no display at all.
    Auto,
    /// Real capture only: the X11 backend, the ScreenCast portal on Wayland, xcap elsewhere.
    Real,
    /// Animated test patterns.
    Synthetic,
}

impl SourcesMode {
    /// `Auto` made concrete: `Real` wherever there is a display, else
    /// `Synthetic`. A display whose capture fails stays `Real`: the wall
    /// then says why, rather than showing test patterns as if they were
    /// this machine's screens.
    pub fn resolve(self) -> SourcesMode {
        match self {
            SourcesMode::Auto if real::display_exists() => SourcesMode::Real,
            SourcesMode::Auto => SourcesMode::Synthetic,
            other => other,
        }
    }

    /// A factory for this mode (after [`SourcesMode::resolve`]).
    pub fn factory(self) -> BackendFactory {
        match self.resolve() {
            SourcesMode::Real => {
                // One device set for every worker: a device's stream has one
                // owner, and every worker must see it held.
                let devices = devices::CaptureDevices::platform();
                let screens = real::screens_factory();
                Arc::new(move || {
                    Box::new(real::RealBackend::new(screens(), devices.clone())) as Box<dyn Backend>
                })
            }
            _ => {
                // One source set and one clock for every worker's backend,
                // so they all see the same sources and the same picture.
                let sources = SyntheticSources::default();
                let clock = SyntheticClock::real();
                Arc::new(move || {
                    Box::new(SyntheticBackend::new(sources.clone(), clock.clone()))
                        as Box<dyn Backend>
                })
            }
        }
    }
}

/// Lets the workers sleep and be woken at once when `Capture` is dropped
/// (a worker waiting on async work watches [`Stopper::signal`]).
pub(crate) struct Stopper {
    stopped: Mutex<bool>,
    cv: Condvar,
    signal: tokio::sync::watch::Sender<bool>,
}

impl Default for Stopper {
    fn default() -> Self {
        Stopper {
            stopped: Mutex::new(false),
            cv: Condvar::new(),
            signal: tokio::sync::watch::Sender::new(false),
        }
    }
}

impl Stopper {
    fn stop(&self) {
        *self.stopped.lock() = true;
        self.cv.notify_all();
        self.signal.send_replace(true);
    }

    /// Turns true when stopped.
    pub(crate) fn signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.signal.subscribe()
    }

    pub(crate) fn is_stopped(&self) -> bool {
        *self.stopped.lock()
    }

    /// Sleep up to `d`; true when stopped (the caller should return).
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        let mut stopped = self.stopped.lock();
        if !*stopped {
            self.cv.wait_while_for(&mut stopped, |stopped| !*stopped, d);
        }
        *stopped
    }
}

/// How the worker threads reach the async engine.
pub(crate) enum Rt {
    Handle(tokio::runtime::Handle),
    /// `start` was called outside a runtime: a small one of our own.
    Own(tokio::runtime::Runtime),
    /// Not even that could be built: the engine is unreachable.
    Missing,
}

impl Rt {
    /// Run `f` to completion from a worker thread (None: no runtime).
    pub(crate) fn block_on<F: std::future::Future>(&self, f: F) -> Option<F::Output> {
        match self {
            Rt::Handle(h) => Some(h.block_on(f)),
            Rt::Own(rt) => Some(rt.handle().block_on(f)),
            Rt::Missing => None,
        }
    }
}

/// Running capture workers. Dropping it stops them.
pub struct Capture {
    pub thumbnails: ThumbnailStore,
    pub preview: PreviewSlot,
    pub backend_name: &'static str,
    /// The console's live inspector of one source.
    pub inspectors: Inspectors,
    catalog: Arc<Mutex<Vec<SourceInfo>>>,
    stopper: Arc<Stopper>,
    threads: Vec<JoinHandle<()>>,
    rt: Option<Arc<Rt>>,
}

impl Capture {
    /// Start the catalog, thumbnailer and share-session workers for `engine`.
    /// `on_change` is called (from a worker thread) whenever something the UI
    /// shows changed, so it can request a repaint.
    pub fn start(
        mode: SourcesMode,
        engine: EngineHandle,
        options: CaptureOptions,
        on_change: Arc<dyn Fn() + Send + Sync>,
    ) -> Capture {
        let mode = mode.resolve();
        tracing::info!(target: "roomshare::capture", "sources: {mode:?}");
        Capture::start_with(mode.factory(), engine, options, on_change)
    }

    /// Like [`Capture::start`] with an explicit backend factory (tests,
    /// benchmarks, a synthetic source set shared with the caller).
    pub fn start_with(
        factory: BackendFactory,
        engine: EngineHandle,
        options: CaptureOptions,
        on_change: Arc<dyn Fn() + Send + Sync>,
    ) -> Capture {
        let rt = match tokio::runtime::Handle::try_current() {
            Ok(h) => Rt::Handle(h),
            Err(_) => match tokio::runtime::Builder::new_current_thread().build() {
                Ok(rt) => Rt::Own(rt),
                Err(e) => {
                    tracing::error!(target: "roomshare::capture", "no async runtime, sources are not published: {e}");
                    Rt::Missing
                }
            },
        };
        let rt = Arc::new(rt);
        let backend_name = factory().name();
        let ctx = workers::Ctx {
            factory,
            engine,
            options,
            on_change,
            stopper: Arc::new(Stopper::default()),
            rt: rt.clone(),
            thumbnails: ThumbnailStore::default(),
            preview: PreviewSlot::default(),
            catalog: Arc::new(Mutex::new(Vec::new())),
            health: HealthMap::default(),
        };
        let inspections = ctx.engine.inspections();
        let threads = workers::spawn_all(&ctx, inspections);
        let inspectors = Inspectors::new(
            ctx.factory.clone(),
            ctx.catalog.clone(),
            ctx.on_change.clone(),
        );
        Capture {
            inspectors,
            thumbnails: ctx.thumbnails.clone(),
            preview: ctx.preview.clone(),
            backend_name,
            catalog: ctx.catalog.clone(),
            stopper: ctx.stopper.clone(),
            threads,
            rt: Some(rt),
        }
    }

    /// The thumbnails, as the engine's sessions serve them.
    pub fn thumbnail_source(&self) -> Arc<dyn ThumbnailSource> {
        Arc::new(self.thumbnails.clone())
    }

    /// The catalog's latest list (before the engine numbers it).
    pub fn sources(&self) -> Vec<SourceInfo> {
        self.catalog.lock().clone()
    }

    /// The latest share preview, if sharing.
    pub fn preview(&self) -> Option<SharePreview> {
        self.preview.get()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stopper.stop();
        self.inspectors.close();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // A runtime of our own must not be dropped inside an async context.
        if let Some(rt) = self.rt.take()
            && let Ok(Rt::Own(rt)) = Arc::try_unwrap(rt)
        {
            rt.shutdown_background();
        }
    }
}
