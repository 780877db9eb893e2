//! Running `roomshare inspect` from a test (`tests/inspect.rs`): the real
//! binary against a test display, its stderr read as it comes (so the
//! test knows when the first grab is made), its one JSON object decoded.
#![allow(dead_code)]

use roomshare::capture::health::InspectReport;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

// The includer provides `wait` (`support/wait.rs`).
use super::wait::{try_wait_until, wait_until};

pub const BIN: &str = env!("CARGO_BIN_EXE_roomshare");
/// Long enough for a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The binary against the test's display.
pub fn command(display: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("XDG_SESSION_TYPE")
        .env_remove("ROOMSHARE_PASSWORD")
        .env("ROOMSHARE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// An inspection under way: the child, and its stderr lines so far.
pub struct Running {
    pub child: Child,
    stderr: mpsc::Receiver<String>,
    said: Vec<String>,
}

fn lines_of(stream: ChildStderr) -> mpsc::Receiver<String> {
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

/// Start `roomshare inspect ARGS` and wait for the line it writes just
/// before its first grab; the moment the test read it is the timeline's 0.
pub fn start_inspect(display: &str, args: &[&str]) -> (Running, Instant) {
    let mut all = vec!["inspect"];
    all.extend_from_slice(args);
    let mut child = command(display, &all).spawn().expect("spawn roomshare");
    let stderr = lines_of(child.stderr.take().expect("stderr"));
    let mut said = Vec::new();
    wait_until(
        DEADLINE,
        "the inspection to start (its stderr line)",
        || {
            while let Ok(line) = stderr.try_recv() {
                let started = line.starts_with("inspecting ");
                said.push(line);
                if started {
                    return Ok(());
                }
            }
            match child.try_wait() {
                Ok(Some(status)) => panic!("inspect ended before starting ({status}): {said:?}"),
                _ => Err(format!("{said:?}")),
            }
        },
    );
    let zero = Instant::now();
    (
        Running {
            child,
            stderr,
            said,
        },
        zero,
    )
}

impl Running {
    /// Wait for the command to end (within `deadline`); its output.
    pub fn finish(mut self, deadline: Duration) -> (Output, Vec<String>) {
        let ended = try_wait_until(deadline, "inspect to end", || {
            !matches!(self.child.try_wait(), Ok(None))
        });
        if let Err(e) = ended {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!("{e}");
        }
        let mut stdout = Vec::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_end(&mut stdout);
        }
        let status = self.child.wait().expect("the exit status");
        // The reader thread ends at EOF; collect what it has left.
        wait_until(DEADLINE, "the end of stderr", || {
            match self.stderr.recv_timeout(Duration::from_millis(10)) {
                Ok(line) => {
                    self.said.push(line);
                    None
                }
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => Some(()),
            }
        });
        let output = Output {
            status,
            stdout,
            stderr: self.said.join("\n").into_bytes(),
        };
        (output, self.said)
    }
}

/// The one JSON object on stdout, with exactly the documented keys, decoded.
pub fn report_of(out: &Output) -> InspectReport {
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON object on one line: {text:?}");
    let value: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "black",
            "capture_fps",
            "changed",
            "content_fps",
            "frames",
            "interval_ms",
            "seconds",
            "signal",
            "sizes",
            "source",
            "stalls",
            "static",
            "verdict"
        ]
    );
    serde_json::from_value(value).expect("the report decodes")
}

/// `roomshare serve --sources real` on a free loopback port and `display`,
/// with `password`; killed (this child only) when dropped.
pub struct Serve {
    pub child: Child,
    pub addr: std::net::SocketAddr,
}

impl Serve {
    pub fn start(display: &str, password: &str) -> Serve {
        let args = [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sources",
            "real",
            "--password",
            password,
        ];
        let mut cmd = command(display, &args);
        cmd.stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn roomshare serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(DEADLINE).expect("serve prints its address");
        // "roomshare serving on ws://127.0.0.1:PORT/ (Ctrl+C to stop)"
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("ws://"))
            .and_then(|a| a.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Serve { child, addr }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
