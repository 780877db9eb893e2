//! The real binary: `serve` on a free port, `query`, `call`, `watch`, exit
//! statuses and refusals. Every child is killed by its own handle (pid).

mod support;

use serde_json::Value;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::bin::{lines_of, roomshare, stderr, stdout};
use support::wait::{try_wait_until, wait_until};

const PASSWORD: &str = "cli-pw";
const WAIT: Duration = Duration::from_secs(10);

/// A running `roomshare serve`, killed on drop.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start() -> Serve {
        let mut child = roomshare()
            .args(["serve", "--listen", "127.0.0.1:0", "--no-capture"])
            .args(["--password", PASSWORD, "--cast-code", "424242"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn serve");
        let lines = lines_of(child.stdout.take().unwrap());
        let line = lines.recv_timeout(WAIT).expect("serve prints its address");
        // "roomshare serving on ws://127.0.0.1:PORT/ (Ctrl+C to stop)"
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("ws://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Serve { child, url }
    }

    /// A client subcommand against this server, not run yet.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = roomshare();
        cmd.args(args)
            .args(["--url", &self.url, "--password", PASSWORD]);
        cmd
    }

    /// Run a client subcommand against this server.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run the client")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Until `watch` says (on stderr) it is connected, and so subscribed.
fn connected(states: &mpsc::Receiver<String>) {
    wait_until(WAIT, "watch to be connected", || {
        let line = states.recv_timeout(WAIT).expect("watch reports its state");
        line == "connection: connected"
    });
}

fn json_out(o: &Output) -> Value {
    assert!(o.status.success(), "{:?}: {}", o.status, stderr(o));
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn query_call_and_error_exit_status() {
    let serve = Serve::start();

    let out = serve.run(&["query", "Share", "CastCode"]);
    assert_eq!(json_out(&out), serde_json::json!({"cast_code": "424242"}));
    // Pretty JSON for people.
    assert!(
        stdout(&out).contains("{\n  \"cast_code\": \"424242\"\n}"),
        "{}",
        stdout(&out)
    );
    let share = json_out(&serve.run(&["query", "Share"]));
    assert_eq!(share["share"]["share_info"]["is_sharing"], false);

    // StartShare outside a meeting: non-zero, the code and its meaning.
    let out = serve.run(&[
        "call",
        "Share",
        "StartShare",
        "share_type=0",
        "fluency_first=true",
        "select_index=1",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("10000") && err.contains("Rooms Not In Meeting"),
        "{err}"
    );

    // A parameter error names the parameter.
    let out = serve.run(&[
        "call",
        "Share",
        "StartShare",
        "share_type=0",
        "fluency_first=yes",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("8 (Parameter Error)") && stderr(&out).contains("fluency_first"),
        "{}",
        stderr(&out)
    );

    // Join a meeting, wait (polling the API) until it is joined, then share.
    let out = serve.run(&["call", "Meeting", "StartMeeting", "meeting_type=instant"]);
    assert!(out.status.success(), "{}", stderr(&out));
    wait_until(WAIT, "the meeting joined", || {
        let info = json_out(&serve.run(&["query", "Meeting", "MeetingInfo"]));
        match info["meeting_info"]["meeting_status"] == 1 {
            true => Ok(()),
            false => Err(info),
        }
    });
    let out = serve.run(&[
        "call",
        "Share",
        "StartShare",
        "share_type=0",
        "fluency_first=true",
        "select_index=1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "StartShare: OK");
    let info = json_out(&serve.run(&["query", "Share/ShareInfo"]));
    assert_eq!(info["share_info"]["is_sharing"], true);

    // --json inputs, and an unknown path.
    let out = serve.run(&["call", "Share", "StopShare", "--json", "{}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = serve.run(&["call", "Share", "StopShare"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("17 (Repeat Operation)"),
        "{}",
        stderr(&out)
    );
    let out = serve.run(&["query", "Nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("6 (Query Path Error)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn wrong_password_fails_with_the_device_code() {
    let serve = Serve::start();
    let out = roomshare()
        .args(["query", "Share", "--url", &serve.url, "--password", "wrong"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("16") && err.contains("Password Failed"),
        "{err}"
    );
    // The password may also come from the environment.
    let out = roomshare()
        .env("ROOMSHARE_PASSWORD", PASSWORD)
        .args(["query", "Share", "CastCode", "--url", &serve.url])
        .output()
        .unwrap();
    assert_eq!(json_out(&out)["cast_code"], "424242");
}

#[test]
fn watch_prints_events() {
    let serve = Serve::start();
    let mut watch = serve
        .command(&["watch", "Share/CastCode"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let events = lines_of(watch.stdout.take().unwrap());
    let states = lines_of(watch.stderr.take().unwrap());
    // Wait until it is connected (and so subscribed) before changing anything.
    // The state in words, not a Rust debug struct.
    connected(&states);
    let out = serve.run(&["call", "RoomShare", "SetCastCode", "cast_code=\"000123\""]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = events.recv_timeout(WAIT).expect("an event line");
    assert_eq!(
        line,
        r#"{"jsonrpc": "2.0", "method": "Event/Share", "params": {"sub_event": "CastCodeChanged", "error_code": 0, "message": "", "data": {"cast_code": "000123"}}}"#
    );
    let _ = watch.kill();
    let _ = watch.wait();
}

#[test]
fn serve_refuses_the_network_without_a_password() {
    let out = roomshare()
        .args(["serve", "--listen", "0.0.0.0:0", "--no-capture"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("without a password"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn serve_stops_gracefully_on_ctrl_c() {
    let mut serve = Serve::start();
    // SIGINT to this child only, by its pid.
    let status = Command::new("kill")
        .args(["-INT", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_until(WAIT, "serve to stop", || serve.child.try_wait().unwrap());
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn the_password_never_appears_in_logs() {
    use base64::Engine as _;
    let secret = "Log-Secret+/=9";
    let mut serve = roomshare()
        .env("ROOMSHARE_LOG", "trace")
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-capture",
            "--password",
            secret,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines_of(serve.stdout.take().unwrap());
    let logs = lines_of(serve.stderr.take().unwrap());
    let line = out.recv_timeout(WAIT).expect("serve prints its address");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap()
        .to_string();
    for (password, ok) in [(secret, true), ("Wrong-Secret+/=9", false)] {
        let client = roomshare()
            .env("ROOMSHARE_LOG", "trace")
            .args([
                "query",
                "Share",
                "CastCode",
                "--url",
                &url,
                "--password",
                password,
            ])
            .output()
            .unwrap();
        assert_eq!(client.status.success(), ok, "{}", stderr(&client));
        let client_logs = stderr(&client);
        for needle in [
            password.to_string(),
            base64::engine::general_purpose::STANDARD.encode(password),
        ] {
            assert!(
                !client_logs.contains(&needle),
                "the client logged {needle:?}"
            );
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    let logs: Vec<String> = logs.iter().collect();
    assert!(!logs.is_empty(), "trace logging produced nothing");
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let encoded = roomshare::protocol::auth::auth_protocol(secret);
    for line in &logs {
        for needle in [secret, &b64, &encoded[5..], "Wrong-Secret"] {
            assert!(
                !line.contains(needle),
                "the server logged {needle:?}: {line}"
            );
        }
    }
}

// ------------------------------------------------- a closed output pipe

/// A command's output once it ends by itself (killed after [`WAIT`]).
fn ended(mut child: Child, what: &str) -> Output {
    let exited = try_wait_until(WAIT, format!("{what} to end"), || {
        child.try_wait().ok().flatten().is_some()
    });
    if let Err(e) = exited {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{e}");
    }
    child.wait_with_output().expect("the command's output")
}

/// Ended quietly, as when its reader is gone (`roomshare query Share |
/// head -0`): exit 0 and not a word of a panic or a broken pipe.
fn assert_quiet(out: &Output, what: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(0), "{what}: {err}");
    assert!(
        !err.contains("panicked") && !err.to_lowercase().contains("broken pipe"),
        "{what}: {err}"
    );
}

/// Run `args` with its stdout closed before it writes a line.
fn run_into_closed_pipe(mut cmd: Command, what: &str) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn roomshare");
    drop(child.stdout.take());
    ended(child, what)
}

#[test]
fn query_ends_quietly_when_the_pipe_closes() {
    let serve = Serve::start();
    let out = run_into_closed_pipe(serve.command(&["query", "Share"]), "query");
    assert_quiet(&out, "query");
}

#[test]
fn call_ends_quietly_when_the_pipe_closes() {
    let serve = Serve::start();
    let call = ["call", "RoomShare", "SetCastCode", "cast_code=\"000321\""];
    let out = run_into_closed_pipe(serve.command(&call), "call");
    assert_quiet(&out, "call");
    // The call was made all the same.
    let code = json_out(&serve.run(&["query", "Share", "CastCode"]));
    assert_eq!(code["cast_code"], "000321");
}

#[test]
fn sources_ends_quietly_when_the_pipe_closes() {
    let mut cmd = roomshare();
    cmd.args(["sources", "--sources", "synthetic"]);
    let out = run_into_closed_pipe(cmd, "sources");
    assert_quiet(&out, "sources");
}

/// `snap` writes its file, then one line saying so.
#[test]
fn snap_ends_quietly_when_the_pipe_closes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let png = dir.path().join("desktop.png");
    let mut cmd = roomshare();
    cmd.args(["snap", "desktop", "--sources", "synthetic", "-o"])
        .arg(&png);
    let out = run_into_closed_pipe(cmd, "snap");
    assert_quiet(&out, "snap");
    assert!(png.exists(), "snap wrote no {}", png.display());
}

#[test]
fn watch_ends_quietly_when_the_pipe_closes() {
    let serve = Serve::start();
    let mut watch = serve
        .command(&["watch", "Share/CastCode"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let states = lines_of(watch.stderr.take().expect("piped stderr"));
    connected(&states);
    // Nobody reads any more (`watch | head -0`); the next event ends it.
    drop(watch.stdout.take());
    let out = serve.run(&["call", "RoomShare", "SetCastCode", "cast_code=\"000456\""]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = ended(watch, "watch");
    // The rest of its stderr (the reader ends with the process).
    let rest: Vec<String> = states.iter().collect();
    let out = Output {
        stderr: rest.join("\n").into_bytes(),
        ..out
    };
    assert_quiet(&out, "watch");
}

// ----- test patterns only when asked or without a display --------------------

/// Every row of a `sources` table says "test pattern" in its APP column.
fn assert_all_test_patterns(table: &str) {
    let mut lines = table.lines();
    let header = lines.next().expect("a header");
    let app_at = header.find("APP").expect("an APP column"); // ASCII: bytes = chars
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty(), "{table}");
    for row in rows {
        let app: String = row.chars().skip(app_at).take(12).collect();
        assert_eq!(app, "test pattern", "{table}");
    }
}

#[test]
fn synthetic_sources_say_they_are_test_patterns() {
    let out = roomshare()
        .args(["sources", "--sources", "synthetic"])
        .output()
        .expect("run sources");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_all_test_patterns(&stdout(&out));
}

#[test]
fn without_any_display_auto_is_test_patterns_and_says_so() {
    let out = roomshare()
        .args(["sources"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run sources");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_all_test_patterns(&stdout(&out));
}

#[test]
fn a_wait_that_is_not_a_number_of_seconds_is_refused() {
    for bad in ["-1", "soon", "100000"] {
        let out = roomshare()
            .args([
                "sources",
                "--sources",
                "synthetic",
                &format!("--wait={bad}"),
            ])
            .output()
            .expect("run sources");
        assert_eq!(out.status.code(), Some(2), "--wait {bad}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--wait"),
            "--wait {bad}: {}",
            stderr(&out)
        );
    }
}
