//! The real binary: `serve` on a free port, `query`, `call`, `watch`, exit
//! statuses and refusals. Every child is killed by its own handle (pid).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_roomshare");
const PASSWORD: &str = "cli-pw";
const WAIT: Duration = Duration::from_secs(10);

/// The binary with a clean environment for the password.
fn roomshare() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("ROOMSHARE_PASSWORD")
        .env("ROOMSHARE_LOG", "warn");
    cmd
}

/// Lines of a child's stream, read on a thread so that waits can time out.
fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
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

    /// Run a client subcommand against this server.
    fn run(&self, args: &[&str]) -> Output {
        roomshare()
            .args(args)
            .args(["--url", &self.url, "--password", PASSWORD])
            .output()
            .expect("run the client")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
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
    let deadline = Instant::now() + WAIT;
    loop {
        let info = json_out(&serve.run(&["query", "Meeting", "MeetingInfo"]));
        if info["meeting_info"]["meeting_status"] == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "meeting never joined: {info}");
    }
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
    let mut watch = roomshare()
        .args([
            "watch",
            "Share/CastCode",
            "--url",
            &serve.url,
            "--password",
            PASSWORD,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let events = lines_of(watch.stdout.take().unwrap());
    let states = lines_of(watch.stderr.take().unwrap());
    // Wait until it is connected (and so subscribed) before changing anything.
    let deadline = Instant::now() + WAIT;
    loop {
        let line = states.recv_timeout(WAIT).expect("watch reports its state");
        // The state in words, not a Rust debug struct.
        if line == "connection: connected" {
            break;
        }
        assert!(Instant::now() < deadline);
    }
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
    let deadline = Instant::now() + WAIT;
    let exit = loop {
        if let Some(exit) = serve.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
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
