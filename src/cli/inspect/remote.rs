//! `roomshare inspect --url … SOURCE`: the remote engine inspects its own
//! source (`Call/RoomShare` `Inspect`) and answers with the report when
//! the inspection ends; printed here as a local one would be.

use super::InspectArgs;
use crate::capture::health::InspectReport;
use crate::cli::refused;
use crate::cli::sources::{remote_error, remote_sources, resolve};
use crate::protocol::inspect::MAX_REMOTE_SECONDS;
use crate::protocol::{InspectParams, RoomShareAction};
use std::process::ExitCode;
use std::time::Duration;

/// Ask the engine at `--url`; a failure is printed, its exit code (2: bad
/// input or no connection; 1: the engine refused or answered nonsense).
pub(super) async fn inspect_remote(args: &InspectArgs) -> Result<InspectReport, ExitCode> {
    if args.seconds > MAX_REMOTE_SECONDS {
        eprintln!(
            "--seconds {}: a remote engine inspects for at most {MAX_REMOTE_SECONDS} s",
            args.seconds
        );
        return Err(ExitCode::from(2));
    }
    let remote = &args.look.remote;
    let url = remote.url();
    let client = remote
        .connect_for(Duration::from_secs_f64(args.seconds))
        .await?;
    let list = remote_sources(&client).await.map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(1)
    })?;
    // An index or device_id names a listed source; anything else goes as
    // it is, and the engine says whether it knows it.
    let source_id = resolve(&list, &args.source).map_or(args.source.clone(), |s| s.id.clone());
    eprintln!(
        "inspecting {source_id} on {url} for {} s at {} fps",
        args.seconds, args.fps
    );
    let action = RoomShareAction::Inspect(params(args, source_id));
    let result = client
        .request("Call/RoomShare", action.to_params())
        .await
        .map_err(|e| {
            eprintln!("{}", remote_error("Inspect", &e));
            ExitCode::from(1)
        })?;
    if !result.is_ok() {
        return Err(refused("Inspect", &result));
    }
    let data = result.data.unwrap_or_default();
    serde_json::from_value(data).map_err(|e| {
        eprintln!("Inspect: the answer is not an inspection report: {e}");
        ExitCode::from(1)
    })
}

/// The request's inputs: the thresholds are sent only when not the
/// defaults, so an older engine's defaults apply the same way.
fn params(args: &InspectArgs, source_id: String) -> InspectParams {
    let given = |x: f64, default: f64| (x != default).then_some(x);
    InspectParams {
        source_id,
        seconds: args.seconds,
        fps: args.fps,
        black_pixel: given(args.black_pixel, 0.10),
        black_ratio: given(args.black_ratio, 0.98),
        static_difference: given(args.static_difference, 0.001),
        min_duration: given(args.min_duration, 2.0),
    }
}
