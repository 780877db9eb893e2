//! The console's entry point: builds the engine or remote link, the capture
//! workers and the eframe window. SKELETON: being written.

use crate::cli::ConsoleArgs;
use std::process::ExitCode;

/// Run the console until its window closes.
pub fn run(_args: ConsoleArgs, _runtime: tokio::runtime::Runtime) -> ExitCode {
    eprintln!("the console is not built yet; use `roomshare serve`");
    ExitCode::from(2)
}
