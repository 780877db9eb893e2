//! `roomshare inspect SOURCE`: grab a source at `--fps` for `--seconds`,
//! apply the health rules (`capture::health`) and print what happened:
//! black, static and stalled stretches, the measured rates and frame
//! intervals, the sizes, and a verdict. Exit 4 when something in
//! `--fail-on` happened. Here (`grab.rs`), or with `--url` by the remote
//! engine on its own source (`remote.rs`, `Call/RoomShare` `Inspect`).

mod grab;
mod remote;
mod text;

use super::out::{print_json, print_line};
use super::sources::LookArgs;
use crate::capture::health::{HealthOptions, InspectReport, Verdict};
use clap::{Args, ValueEnum};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The exit code when something in `--fail-on` happened.
pub const FAILED_ON: u8 = 4;

/// The highest `--fps`: a grab every 8 ms is already more than a share uses.
pub const MAX_FPS: f64 = crate::protocol::inspect::MAX_FPS;
/// The longest `--seconds` (an hour).
pub const MAX_SECONDS: f64 = 3600.0;

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// The source: its id (`desktop`, `window:1234`, `monitor:screen`), select_index or device_id.
    pub source: String,
    /// How long to inspect, in seconds (more than 0, at most 3600; with --url at most 60).
    #[arg(long, default_value_t = 10.0, value_parser = seconds, allow_negative_numbers = true)]
    pub seconds: f64,
    /// Grabs per second (1 to 120).
    #[arg(long, default_value_t = 30.0, value_parser = fps, allow_negative_numbers = true)]
    pub fps: f64,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Exit 4 when any of these happened (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "black,stalled,no_signal,gone"
    )]
    pub fail_on: Vec<FailOn>,
    /// A pixel is black at or under this luma, a fraction of the range (0 to 1).
    #[arg(long, default_value_t = 0.10, value_parser = fraction, allow_negative_numbers = true)]
    pub black_pixel: f64,
    /// A frame is black when at least this fraction of its pixels is (0 to 1).
    #[arg(long, default_value_t = 0.98, value_parser = fraction, allow_negative_numbers = true)]
    pub black_ratio: f64,
    /// A frame is unchanged within this mean luma difference, a fraction of the range (0 to 1).
    #[arg(long, default_value_t = 0.001, value_parser = fraction, allow_negative_numbers = true)]
    pub static_difference: f64,
    /// Seconds a black or unchanged stretch must last to count (0 to 3600).
    #[arg(long, default_value_t = 2.0, value_parser = min_duration, allow_negative_numbers = true)]
    pub min_duration: f64,
    /// Here (`--sources`, `--wait`), or the remote engine's own source (`--url`).
    #[command(flatten)]
    pub look: LookArgs,
}

/// What `--fail-on` can name.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Black,
    Stalled,
    #[value(name = "no_signal")]
    NoSignal,
    Static,
    Gone,
}

impl FailOn {
    fn verdict(self) -> Verdict {
        match self {
            FailOn::Black => Verdict::Black,
            FailOn::Stalled => Verdict::Stalled,
            FailOn::NoSignal => Verdict::NoSignal,
            FailOn::Static => Verdict::Static,
            FailOn::Gone => Verdict::Gone,
        }
    }
}

fn number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{text:?} is not a number"))
}

fn seconds(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if x > 0.0 && x <= MAX_SECONDS {
        Ok(x)
    } else {
        Err(format!(
            "must be more than 0 and at most {MAX_SECONDS} seconds"
        ))
    }
}

fn fps(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if (1.0..=MAX_FPS).contains(&x) {
        Ok(x)
    } else {
        Err(format!("must be from 1 to {MAX_FPS} frames per second"))
    }
}

fn fraction(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err("must be a fraction from 0 to 1 (0.10 is 10 %)".into())
    }
}

fn min_duration(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if (0.0..=MAX_SECONDS).contains(&x) {
        Ok(x)
    } else {
        Err(format!("must be from 0 to {MAX_SECONDS} seconds"))
    }
}

impl InspectArgs {
    fn options(&self) -> HealthOptions {
        HealthOptions {
            black_pixel: self.black_pixel,
            black_ratio: self.black_ratio,
            static_difference: self.static_difference,
            min_duration: Duration::from_secs_f64(self.min_duration),
            ..HealthOptions::default()
        }
    }
}

pub async fn run(args: InspectArgs) -> ExitCode {
    let report = if args.look.remote.url.is_some() {
        remote::inspect_remote(&args).await
    } else {
        inspect_here(&args).await
    };
    match report {
        Ok(report) => print_report(&args, &report),
        Err(code) => code,
    }
}

/// Print the report (text or JSON); exit 4 when something in `--fail-on`
/// happened.
fn print_report(args: &InspectArgs, report: &InspectReport) -> ExitCode {
    if args.json {
        print_json(report);
    } else {
        print_line(text::format_report(report).trim_end_matches('\n'));
    }
    if args.fail_on.iter().any(|f| report.happened(f.verdict())) {
        ExitCode::from(FAILED_ON)
    } else {
        ExitCode::SUCCESS
    }
}

/// Inspect a source of this machine; a failure is printed, its exit code.
async fn inspect_here(args: &InspectArgs) -> Result<InspectReport, ExitCode> {
    // Listening for Ctrl+C before anything is grabbed.
    let ctrl_c = super::interrupted();
    let stop = Arc::new(AtomicBool::new(false));
    let job = {
        let (args, stop) = (args.clone(), stop.clone());
        tokio::task::spawn_blocking(move || grab::inspect_local(&args, &stop))
    };
    tokio::pin!(job);
    // Ctrl+C ends the inspection early, with the figures so far.
    let done = tokio::select! {
        done = &mut job => done,
        () = ctrl_c => {
            stop.store(true, Ordering::Relaxed);
            job.await
        }
    };
    match done {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(e.report()),
        Err(e) => {
            eprintln!("inspection failed: {e}");
            Err(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_with_a_clear_reason() {
        assert_eq!(seconds("2.5"), Ok(2.5));
        assert!(seconds("0").unwrap_err().contains("more than 0"));
        assert!(seconds("3601").is_err());
        assert!(seconds("nan").unwrap_err().contains("not a number"));
        assert_eq!(fps("120"), Ok(120.0));
        assert_eq!(
            fps("1000").unwrap_err(),
            "must be from 1 to 120 frames per second"
        );
        assert!(fps("0.5").is_err());
        assert_eq!(fraction("0"), Ok(0.0));
        assert_eq!(fraction("1"), Ok(1.0));
        assert!(fraction("1.5").is_err() && fraction("-0.1").is_err());
        assert_eq!(min_duration("0"), Ok(0.0));
        assert!(min_duration("-1").is_err());
    }
}
