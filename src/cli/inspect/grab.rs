//! The inspection loop: grab the source at the asked rate until the time
//! is up, the source is gone or Ctrl+C, feeding each frame to the health
//! measurement.

use super::InspectArgs;
use crate::capture::health::{InspectReport, Inspection};
use crate::capture::{Backend, CaptureError};
use crate::cli::sources::{LookError, local_list, resolve};
use crate::protocol::SourceInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Inspect here (blocking: run off the async workers). `Err`: capture does
/// not work here, or the source could not be found or listed, in words.
pub(super) fn inspect_local(
    args: &InspectArgs,
    stop: &AtomicBool,
) -> Result<InspectReport, LookError> {
    let mut backend = (args.sources.factory())();
    let list = local_list(backend.as_mut(), args.wait)?;
    let source = resolve(&list, &args.source)
        .ok_or_else(|| {
            LookError::Other(format!(
                "no source {:?}; see `roomshare sources`",
                args.source
            ))
        })?
        .clone();
    if let Some(why) = &source.unavailable {
        eprintln!("note: {} cannot be captured now: {why}", source.id);
    }
    // A capture device keeps its stream open between grabs.
    if let Err(e) = backend.hold(&source.id) {
        eprintln!("note: {}: {e}", source.id);
    }
    eprintln!(
        "inspecting {} {:?} ({}x{}) for {} s at {} fps",
        source.id, source.title, source.width, source.height, args.seconds, args.fps
    );
    let report = grab_for(backend.as_mut(), &source, args, stop);
    backend.release(&source.id);
    Ok(report)
}

/// Grab `source` every `1 / fps` for `seconds`; the report from the first
/// grab's start. A grab that falls behind is not made up for with a burst.
fn grab_for(
    backend: &mut dyn Backend,
    source: &SourceInfo,
    args: &InspectArgs,
    stop: &AtomicBool,
) -> InspectReport {
    let interval = Duration::from_secs_f64(1.0 / args.fps);
    let origin = Instant::now();
    let deadline = origin + Duration::from_secs_f64(args.seconds);
    let mut inspection = Inspection::new(source, args.options(), interval, origin);
    let mut next = origin;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        match backend.capture(&source.id) {
            Ok(img) => {
                let at = Instant::now();
                let (w, h) = img.dimensions();
                if inspection.frame(at, w, h, img.as_raw()).is_err() {
                    inspection.failed(at);
                }
            }
            Err(CaptureError::Gone(_)) => {
                inspection.gone(Instant::now());
                break;
            }
            Err(e) => {
                tracing::debug!(target: "roomshare::inspect", "grab of {} failed: {e}", source.id);
                inspection.failed(Instant::now());
            }
        }
        let now = Instant::now();
        next = (next + interval).max(now);
        std::thread::sleep(next.min(deadline).saturating_duration_since(now));
    }
    inspection.report(Instant::now())
}
