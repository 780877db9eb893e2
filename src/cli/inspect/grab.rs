//! The local inspection: find the source here, hold it, and run the grab
//! loop (`capture::inspect::grab_for`) until the time is up, the source is
//! gone or Ctrl+C.

use super::InspectArgs;
use crate::capture::health::InspectReport;
use crate::capture::inspect::{Plan, grab_for};
use crate::cli::sources::{LookError, local_list, resolve};
use std::sync::atomic::{AtomicBool, Ordering};

/// Inspect here (blocking: run off the async workers). `Err`: capture does
/// not work here, or the source could not be found or listed, in words.
pub(super) fn inspect_local(
    args: &InspectArgs,
    stop: &AtomicBool,
) -> Result<InspectReport, LookError> {
    let mut backend = (args.look.sources.factory())();
    let list = local_list(backend.as_mut(), args.look.wait)?;
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
    let plan = Plan {
        fps: args.fps,
        seconds: args.seconds,
        options: args.options(),
    };
    let report = grab_for(backend.as_mut(), &source, &plan, &|| {
        stop.load(Ordering::Relaxed)
    });
    backend.release(&source.id);
    Ok(report)
}
