use clap::Parser;
use roomshare::cli::{Cli, run_command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("ROOMSHARE_LOG")
        .unwrap_or_else(|_| "roomshare=info".into());
    if cli.command.is_none() && cli.console.stats {
        // `--stats`: the console's frames per second, whatever ROOMSHARE_LOG says.
        if let Ok(frames) = "roomshare::frames=debug".parse() {
            filter = filter.add_directive(frames);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    // One runtime for everything: the console passes its handle to the
    // engine, capture and link tasks.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("roomshare")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(command) => runtime.block_on(run_command(command)),
        None => roomshare::app::run(cli.console, runtime),
    }
}
