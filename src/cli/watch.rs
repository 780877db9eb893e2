//! `roomshare watch [Share] [Meeting/MeetingInfo]`: subscribe and print
//! every event as it arrives (the frame's text on stdout; the connection's
//! state in words on stderr).

use super::out::write_line;
use super::{RemoteArgs, interrupted, path_of};
use crate::client::{Client, ClientEvent, Direction};
use clap::Args;
use std::process::ExitCode;
use tokio::sync::broadcast::error::RecvError;

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Paths to subscribe to (none = all events); `Share/ShareInfo` or `Share ShareInfo` style per argument.
    pub paths: Vec<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

pub async fn run(args: WatchArgs) -> ExitCode {
    let subscriptions: Vec<Vec<String>> = if args.paths.is_empty() {
        vec![vec![]]
    } else {
        args.paths
            .iter()
            .map(|p| path_of(std::slice::from_ref(p)))
            .collect()
    };
    let mut options = args.remote.options();
    options.subscriptions = subscriptions;
    let client = Client::start(args.remote.endpoint(), options);
    let mut events = client.events();
    let mut state = client.state();
    let stop = interrupted();
    tokio::pin!(stop);
    eprintln!("watching {} (Ctrl+C to stop)", args.remote.url());
    loop {
        tokio::select! {
            _ = &mut stop => return ExitCode::SUCCESS,
            changed = state.changed() => {
                if changed.is_err() {
                    return ExitCode::SUCCESS;
                }
                eprintln!("connection: {}", *state.borrow_and_update());
            }
            event = events.recv() => match event {
                Ok(ClientEvent::Traffic(t)) if t.direction == Direction::In => {
                    if t.method.starts_with("Event/") {
                        // Nobody reads any more (`watch | head -1`): done.
                        if write_line(&t.text).is_err() {
                            return ExitCode::SUCCESS;
                        }
                    } else if t.error_code.is_some_and(|c| c != 0) {
                        eprintln!("refused: {}", t.text);
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => eprintln!("(missed {n} frames)"),
                Err(RecvError::Closed) => return ExitCode::SUCCESS,
            },
        }
    }
}
