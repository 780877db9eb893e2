//! The real `roomshare` binary as the command-line tests run it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output};
use std::sync::mpsc;

pub const BIN: &str = env!("CARGO_BIN_EXE_roomshare");

/// The binary with a clean environment for the password, logging warnings.
pub fn roomshare() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("ROOMSHARE_PASSWORD")
        .env("ROOMSHARE_LOG", "warn");
    cmd
}

/// Lines of a child's stream, read on a thread so that waits can time out.
pub fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
