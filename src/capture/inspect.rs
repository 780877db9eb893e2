//! Inspections: grab one source at a rate for a while and measure its
//! health (`health::Inspection`). [`grab_for`] is the loop `roomshare
//! inspect` runs here; [`run`] is the worker that runs the engine's
//! `Inspect` requests, each on a thread of its own with its own backend,
//! so the engine (and every connection) goes on meanwhile.

use super::health::{HealthOptions, InspectReport, Inspection};
use super::workers::{Ctx, LOG};
use super::{Backend, CaptureError};
use crate::engine::InspectRequest;
use crate::protocol::codes::REQUEST_TOO_FREQUENTLY;
use crate::protocol::{InspectParams, RpcError, RpcResult, SourceInfo};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Most inspections running at once on one engine: each grabs at up to
/// 120 fps on a thread of its own.
pub const MAX_RUNNING: usize = 4;

/// What to inspect for how long: the rate, the time, the thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub fps: f64,
    pub seconds: f64,
    pub options: HealthOptions,
}

impl Plan {
    /// The plan an `Inspect` request asks for (thresholds left out are
    /// the defaults).
    pub fn of(params: &InspectParams) -> Plan {
        let d = HealthOptions::default();
        Plan {
            fps: params.fps,
            seconds: params.seconds,
            options: HealthOptions {
                black_pixel: params.black_pixel.unwrap_or(d.black_pixel),
                black_ratio: params.black_ratio.unwrap_or(d.black_ratio),
                static_difference: params.static_difference.unwrap_or(d.static_difference),
                min_duration: params
                    .min_duration
                    .map_or(d.min_duration, Duration::from_secs_f64),
                ..d
            },
        }
    }
}

/// Grab `source` every `1 / fps` for `seconds`, or until `stop()` or the
/// source is gone; the report from the first grab's start. A grab that
/// falls behind is not made up for with a burst.
pub fn grab_for(
    backend: &mut dyn Backend,
    source: &SourceInfo,
    plan: &Plan,
    stop: &dyn Fn() -> bool,
) -> InspectReport {
    let interval = Duration::from_secs_f64(1.0 / plan.fps);
    let origin = Instant::now();
    let deadline = origin + Duration::from_secs_f64(plan.seconds);
    let mut inspection = Inspection::new(source, plan.options, interval, origin);
    let mut next = origin;
    let mut device = DeviceWatch::start(backend, &source.id);
    while !stop() && Instant::now() < deadline {
        if let Grab::Gone = grab_once(backend, source, &mut inspection, &mut device) {
            break;
        }
        let now = Instant::now();
        next = (next + interval).max(now);
        std::thread::sleep(next.min(deadline).saturating_duration_since(now));
    }
    device.finish(backend, &source.id, &mut inspection);
    inspection.report(Instant::now())
}

/// What one grab of an inspection gave.
pub(super) enum Grab {
    /// A picture (measured already).
    Picture(image::RgbaImage),
    /// The grab failed (a stall once it lasts).
    Failed,
    /// The source is gone: the inspection ends.
    Gone,
}

/// Grab `source` once and measure it into `inspection`: a capture
/// device's input status first (at most once a second), a portal's frame
/// by when its stream delivered it.
pub(super) fn grab_once(
    backend: &mut dyn Backend,
    source: &SourceInfo,
    inspection: &mut Inspection,
    device: &mut DeviceWatch,
) -> Grab {
    device.poll(backend, &source.id, inspection);
    match backend.capture(&source.id) {
        Ok(img) => {
            let at = Instant::now();
            let (w, h) = img.dimensions();
            let measured = match backend.frame_age(&source.id) {
                Some(age) => {
                    let delivered = at.checked_sub(age).unwrap_or(at);
                    inspection.delivered_frame(delivered, at, w, h, img.as_raw())
                }
                None => inspection.frame(at, w, h, img.as_raw()),
            };
            if measured.is_err() {
                inspection.failed(at);
            }
            Grab::Picture(img)
        }
        Err(CaptureError::Gone(_)) => {
            inspection.gone(Instant::now());
            Grab::Gone
        }
        Err(e) => {
            tracing::debug!(target: LOG, "inspect: grab of {} failed: {e}", source.id);
            inspection.failed(Instant::now());
            Grab::Failed
        }
    }
}

/// A capture device's input during an inspection: its signal once a
/// second, its corrupt frames counted from the start.
pub(super) struct DeviceWatch {
    /// The device's corrupt frames before the inspection; None: not a device.
    corrupt_before: Option<u64>,
    last_poll: Option<Instant>,
    timings: Option<String>,
}

impl DeviceWatch {
    pub(super) fn start(backend: &mut dyn Backend, id: &str) -> DeviceWatch {
        DeviceWatch {
            corrupt_before: backend.device_input(id).map(|i| i.corrupt_frames),
            last_poll: None,
            timings: None,
        }
    }

    fn poll(&mut self, backend: &mut dyn Backend, id: &str, inspection: &mut Inspection) {
        if self.corrupt_before.is_none() || self.last_poll.is_some_and(|t| t.elapsed() < INPUT_POLL)
        {
            return;
        }
        self.last_poll = Some(Instant::now());
        if let Some(input) = backend.device_input(id) {
            if let Some(signal) = input.signal {
                inspection.signal(signal);
            }
            if let Some(t) = input.timings {
                self.timings = Some(t.to_string());
            }
        }
    }

    /// Put the device's corrupt frames and timings so far in the report.
    pub(super) fn finish(&self, backend: &mut dyn Backend, id: &str, inspection: &mut Inspection) {
        let (Some(before), Some(input)) = (self.corrupt_before, backend.device_input(id)) else {
            return;
        };
        let corrupt = input.corrupt_frames.saturating_sub(before);
        inspection.device(corrupt, self.timings.clone());
    }
}

/// How often an inspection reads a device's input status.
const INPUT_POLL: Duration = Duration::from_secs(1);

/// The worker: take the engine's inspections until capture stops; each
/// runs on its own thread, at most [`MAX_RUNNING`] at once (beyond, the
/// request is answered with error 10 at once).
pub(super) fn run(ctx: Ctx, mut queue: mpsc::Receiver<InspectRequest>) {
    let running = Arc::new(AtomicUsize::new(0));
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    let mut stopped = ctx.stopper.signal();
    loop {
        let next = ctx.rt.block_on(async {
            tokio::select! {
                request = queue.recv() => request,
                _ = stopped.wait_for(|stopped| *stopped) => None,
            }
        });
        let Some(Some(request)) = next else { break };
        threads.retain(|t| !t.is_finished());
        if running.load(Ordering::Acquire) >= MAX_RUNNING {
            let busy = RpcError::new(
                REQUEST_TOO_FREQUENTLY,
                format!(
                    "{MAX_RUNNING} inspections are running already; try again when one has ended"
                ),
            );
            let _ = request.reply.send(RpcResult::err(Some("Inspect"), busy));
            continue;
        }
        running.fetch_add(1, Ordering::AcqRel);
        let (ctx, running) = (ctx.clone(), running.clone());
        let spawned = std::thread::Builder::new()
            .name("capture-inspect".into())
            .spawn(move || {
                inspect(&ctx, request);
                running.fetch_sub(1, Ordering::AcqRel);
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => tracing::error!(target: LOG, "cannot start an inspection: {e}"),
        }
    }
    // Each inspection sees the stop at its next grab.
    for t in threads {
        let _ = t.join();
    }
}

/// Run one inspection and answer its request with the report. It stops
/// early when capture stops or nobody waits for the answer any more.
fn inspect(ctx: &Ctx, request: InspectRequest) {
    let InspectRequest { job, reply } = request;
    let mut backend = (ctx.factory)();
    // A backend knows the sources it has listed.
    if let Err(e) = backend.list() {
        tracing::debug!(target: LOG, "inspect: cannot list sources: {e}");
    }
    // A capture device keeps its stream open between grabs.
    if let Err(e) = backend.hold(&job.source.id) {
        tracing::debug!(target: LOG, "inspect: {}: {e}", job.source.id);
    }
    tracing::info!(
        target: LOG,
        "inspecting {} {:?} for {} s at {} fps",
        job.source.id, job.source.title, job.params.seconds, job.params.fps
    );
    let plan = Plan::of(&job.params);
    let stop = || ctx.stopper.is_stopped() || reply.is_closed();
    let report = grab_for(backend.as_mut(), &job.source, &plan, &stop);
    backend.release(&job.source.id);
    let _ = reply.send(RpcResult::ok(
        Some("Inspect"),
        serde_json::to_value(&report).ok(),
    ));
}
