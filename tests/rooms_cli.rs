//! `roomshare rooms status|call|watch` against a real `roomshare serve
//! --rooms-demo` (several rooms on several ports in one process), with
//! rooms set into known states through the API, beside a wrong password,
//! a port with nothing listening and a server that never answers. Bad
//! rooms files are refused, each with its line and reason. Children are
//! killed by their own handles.

mod support;

use roomshare::client::{Client, ClientOptions, Endpoint};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::bin::{lines_of, roomshare, stderr, stdout};
use support::rooms::{Silent, closed_port};
use support::wait::wait_until;

const PASSWORD: &str = "demo-pw";
const WAIT: Duration = Duration::from_secs(10);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// `roomshare serve --rooms-demo N` with a password, killed on drop.
struct Demo {
    child: Child,
    urls: Vec<String>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Demo {
    fn start(count: usize) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo.toml");
        let mut child = roomshare()
            .args([
                "serve",
                "--rooms-demo",
                &count.to_string(),
                "--port-base",
                "0",
            ])
            .args(["--password", PASSWORD, "--rooms-out"])
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn serve");
        let lines = lines_of(child.stdout.take().unwrap());
        let line = lines.recv_timeout(WAIT).expect("serve says it is ready");
        assert!(line.starts_with("roomshare serving"), "{line}");
        let text = std::fs::read_to_string(&out).unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let urls = doc["room"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["url"].as_str().unwrap().to_string())
            .collect::<Vec<_>>();
        assert_eq!(urls.len(), count);
        Demo {
            child,
            urls,
            runtime: runtime(),
            _dir: dir,
        }
    }

    /// A request to room `i` through the API; it must succeed.
    fn act(&self, i: usize, method: &str, params: Value) {
        let result = self.runtime.block_on(async {
            let client = connect(&self.urls[i]).await;
            client
                .request(method, params.clone())
                .await
                .expect("answer")
        });
        assert_eq!(
            result.error_code, 0,
            "{method} {params}: {}",
            result.message
        );
    }

    fn set_cast_code(&self, i: usize, code: &str) {
        let params = json!({"action": "SetCastCode", "action_params": {"cast_code": code}});
        self.act(i, "Call/RoomShare", params);
    }

    fn start_meeting(&self, i: usize) {
        let params =
            json!({"action": "StartMeeting", "action_params": {"meeting_type": "instant"}});
        self.act(i, "Call/Meeting", params);
        self.wait(i, "in meeting", |share, meeting| {
            let _ = share;
            meeting["meeting_info"]["meeting_status"] == 1
        });
    }

    fn remote_share(&self, i: usize, nickname: &str) {
        let params =
            json!({"action": "SimulateRemoteShare", "action_params": {"nickname": nickname}});
        self.act(i, "Call/RoomShare", params);
        self.wait(i, "sharing", |share, _| is_sharing(share));
    }

    /// Poll room `i` until its `["Share"]` and `["Meeting","MeetingInfo"]`
    /// data satisfy `cond`; returns them.
    fn wait(&self, i: usize, what: &str, cond: impl Fn(&Value, &Value) -> bool) -> (Value, Value) {
        wait_until(WAIT, format!("room {i} {what}"), || {
            let (share, meeting) = self.read(i);
            match cond(&share, &meeting) {
                true => Ok((share, meeting)),
                false => Err(share),
            }
        })
    }

    fn read(&self, i: usize) -> (Value, Value) {
        self.runtime.block_on(async {
            let client = connect(&self.urls[i]).await;
            let share = client.query(&["Share"]).await.unwrap().data.unwrap();
            let meeting = client
                .query(&["Meeting", "MeetingInfo"])
                .await
                .unwrap()
                .data
                .unwrap();
            (share, meeting)
        })
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_sharing(share: &Value) -> bool {
    share["share"]["share_info"]["is_sharing"] == true
}

async fn connect(url: &str) -> Client {
    let endpoint = Endpoint::Remote {
        url: url.to_string(),
        password: Some(PASSWORD.to_string()),
    };
    let options = ClientOptions {
        subscriptions: vec![],
        reconnect: false,
        ..ClientOptions::default()
    };
    Client::connect(endpoint, options).await.expect("connect")
}

/// A rooms file from `(name, url, group, extra TOML line)`, private (0600)
/// so that inline passwords are allowed.
fn rooms_file(dir: &Path, rooms: &[(&str, &str, &str, &str)]) -> PathBuf {
    let mut text = String::from("# test rooms\n");
    for (name, url, group, extra) in rooms {
        text.push_str(&format!(
            "[[room]]\nname = {name:?}\nurl = {url:?}\ngroup = {group:?}\n{extra}\n\n"
        ));
    }
    let path = dir.join("rooms.toml");
    std::fs::write(&path, text).unwrap();
    set_mode(&path, 0o600);
    path
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

/// `roomshare rooms ARGS…` with the passwords' environment.
fn rooms(args: &[&str], file: &Path) -> Output {
    roomshare()
        .arg("rooms")
        .args(args)
        .arg("--rooms")
        .arg(file)
        .env("ROOMSHARE_PASSWORD", PASSWORD)
        .env("WRONG_PW", "not the password")
        .output()
        .expect("run rooms")
}

/// The JSON lines, in printed order, and by name.
fn json_lines(o: &Output) -> (Vec<Value>, BTreeMap<String, Value>) {
    let lines: Vec<Value> = stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let by_name = lines
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v.clone()))
        .collect();
    (lines, by_name)
}

/// Three demo rooms: Alice sharing in a meeting, a meeting without
/// sharing, idle; each with its own cast code.
fn three_states() -> Demo {
    let demo = Demo::start(3);
    for i in 0..3 {
        demo.set_cast_code(i, &format!("30000{i}"));
    }
    demo.start_meeting(0);
    demo.remote_share(0, "Alice 爱丽丝");
    demo.start_meeting(1);
    demo
}

#[test]
fn status_tells_the_truth_per_room_in_json_and_text() {
    let demo = three_states();
    let rt = runtime();
    let silent = rt.block_on(Silent::start());
    let (closed, silent_url) = (format!("ws://{}/", closed_port()), silent.url());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("meeting.pw"), format!("{PASSWORD}\n")).unwrap();
    set_mode(&dir.path().join("meeting.pw"), 0o600);
    let inline = format!("password = {PASSWORD:?}");
    let file = rooms_file(
        dir.path(),
        &[
            (
                "Sharing",
                &demo.urls[0],
                "Floor 1",
                "password_env = \"ROOMSHARE_PASSWORD\"",
            ),
            (
                "Meeting",
                &demo.urls[1],
                "Floor 1",
                "password_file = \"meeting.pw\"",
            ),
            ("Idle", &demo.urls[2], "Floor 1", &inline),
            ("Silent", &silent_url, "Trouble", ""),
            (
                "Wrong password",
                &demo.urls[0],
                "Trouble",
                "password_env = \"WRONG_PW\"",
            ),
            ("Closed", &closed, "Trouble", ""),
        ],
    );

    let started = Instant::now();
    let out = rooms(&["status", "--json", "--timeout", "1"], &file);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let (lines, by_name) = json_lines(&out);
    assert_eq!(lines.len(), 6, "{}", stdout(&out));
    let room = |name: &str, url: &str, status: i64, sharer: Option<&str>, code: &str| {
        json!({"name": name, "group": "Floor 1", "url": url, "state": "connected",
               "meeting_status": status, "is_sharing": sharer.is_some(), "sharer": sharer,
               "cast_code": code, "error": null})
    };
    assert_eq!(
        by_name["Sharing"],
        room("Sharing", &demo.urls[0], 1, Some("Alice 爱丽丝"), "300000")
    );
    assert_eq!(
        by_name["Meeting"],
        room("Meeting", &demo.urls[1], 1, None, "300001")
    );
    assert_eq!(
        by_name["Idle"],
        room("Idle", &demo.urls[2], 0, None, "300002")
    );
    for (name, state, url) in [
        ("Wrong password", "auth_failed", demo.urls[0].as_str()),
        ("Closed", "unreachable", closed.as_str()),
        ("Silent", "timeout", silent_url.as_str()),
    ] {
        let line = &by_name[name];
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "name",
                "group",
                "url",
                "state",
                "meeting_status",
                "is_sharing",
                "sharer",
                "cast_code",
                "error"
            ]
        );
        let unanswered = json!({"name": name, "group": "Trouble", "url": url, "state": state,
            "meeting_status": null, "is_sharing": null, "sharer": null, "cast_code": null,
            "error": line["error"]});
        assert_eq!(line, &unanswered);
        assert!(
            line["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{line}"
        );
    }
    // The silent room cost its own timeout and held up no other line.
    assert_eq!(lines.last().unwrap()["name"], "Silent");
    assert!(took < Duration::from_secs(5), "took {took:?}");

    let out = rooms(&["status", "--timeout", "1"], &file);
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    let line_of = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no line for {name} in {text}"))
            .to_string()
    };
    let sharing = line_of("Sharing");
    for part in [
        "Floor 1",
        "connected",
        "meeting 1",
        "sharing: Alice 爱丽丝",
        "cast 300000",
    ] {
        assert!(sharing.contains(part), "{part:?} not in {sharing:?}");
    }
    assert!(line_of("Idle").contains("meeting 0") && line_of("Idle").contains("not sharing"));
    assert!(line_of("Wrong password").contains("auth_failed"));
    assert!(line_of("Closed").contains("unreachable") && line_of("Closed").contains("error: "));
    assert!(line_of("Silent").contains("timeout"));

    let out = rooms(&["status", "--group", "Floor 1", "--json"], &file);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (_, by_name) = json_lines(&out);
    assert_eq!(
        by_name.keys().collect::<Vec<_>>(),
        ["Idle", "Meeting", "Sharing"]
    );
}

#[test]
fn call_reaches_exactly_the_selected_rooms() {
    let demo = Demo::start(3);
    for i in 0..3 {
        demo.start_meeting(i);
    }
    let dir = tempfile::tempdir().unwrap();
    let env = "password_env = \"ROOMSHARE_PASSWORD\"";
    let closed = format!("ws://{}/", closed_port());
    let file = rooms_file(
        dir.path(),
        &[
            ("A", &demo.urls[0], "Floor 1", env),
            ("B", &demo.urls[1], "Floor 1", env),
            ("C", &demo.urls[2], "Floor 1", env),
            ("Closed", &closed, "Trouble", ""),
        ],
    );
    let share = ["call", "--json", "--name", "A", "--name", "C"];
    let out = rooms(
        &[
            &share[..],
            &["RoomShare", "SimulateRemoteShare", "nickname=Bob"],
        ]
        .concat(),
        &file,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (lines, by_name) = json_lines(&out);
    assert_eq!(lines.len(), 2);
    for (name, url) in [("A", &demo.urls[0]), ("C", &demo.urls[2])] {
        let expected = json!({"name": name, "group": "Floor 1", "url": url, "state": "connected",
                              "error_code": 0, "error": null});
        assert_eq!(by_name[name], expected);
    }
    let sharing: Vec<bool> = (0..3).map(|i| is_sharing(&demo.read(i).0)).collect();
    assert_eq!(sharing, [true, false, true]);
    let (share, _) = demo.read(2);
    assert_eq!(
        share["share"]["share_info"]["share_user_info"]["nickname"],
        "Bob"
    );

    // A group: only the closed room, which does not answer → 3.
    let out = rooms(
        &["call", "--json", "--group", "Trouble", "Share", "StopShare"],
        &file,
    );
    assert_eq!(out.status.code(), Some(3));
    let (lines, _) = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["name"], "Closed");
    assert_eq!(lines[0]["state"], "unreachable");
    assert_eq!(lines[0]["error_code"], Value::Null);

    // A refusal: its code and meaning, exit 1.
    let out = rooms(&["call", "--name", "B", "Share", "StopShare"], &file);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let line = stdout(&out);
    assert!(
        line.starts_with("B  error ") && line.lines().count() == 1,
        "{line}"
    );

    let out = rooms(&["call", "--name", "Nowhere", "Share", "StopShare"], &file);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no room named \"Nowhere\""));
    assert!(stdout(&out).is_empty());
}

#[test]
fn watch_prints_one_line_per_change() {
    let demo = Demo::start(3);
    let dir = tempfile::tempdir().unwrap();
    let env = "password_env = \"ROOMSHARE_PASSWORD\"";
    let file = rooms_file(
        dir.path(),
        &[
            ("A", &demo.urls[0], "", env),
            ("B", &demo.urls[1], "", env),
            ("C", &demo.urls[2], "", env),
        ],
    );
    let mut child = roomshare()
        .args(["rooms", "watch", "--json", "--rooms"])
        .arg(&file)
        .env("ROOMSHARE_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn watch");
    let lines = lines_of(child.stdout.take().unwrap());
    let next = || -> Value {
        let line = lines.recv_timeout(WAIT).expect("a line in time");
        serde_json::from_str(&line).unwrap()
    };
    let mut known = BTreeMap::new();
    while known.len() < 3 {
        let line = next();
        if line["state"] == "connected" && !line["meeting_status"].is_null() {
            known.insert(line["name"].as_str().unwrap().to_string(), line);
        }
    }
    assert_eq!(known["B"]["is_sharing"], false);

    demo.set_cast_code(1, "654321");
    let line = next();
    assert_eq!(
        (&line["name"], &line["cast_code"]),
        (&json!("B"), &json!("654321"))
    );
    demo.start_meeting(2);
    demo.remote_share(2, "Dora");
    let sharing = loop {
        let line = next();
        assert_eq!(line["name"], "C", "only C changed: {line}");
        if line["is_sharing"] == true {
            break line;
        }
    };
    assert_eq!(
        (&sharing["sharer"], &sharing["meeting_status"]),
        (&json!("Dora"), &json!(1))
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn bad_rooms_files_are_refused_with_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("open.pw");
    std::fs::write(&pw, "secret\n").unwrap();
    set_mode(&pw, 0o644);
    let ok = "[[room]]\nname = \"A\"\nurl = \"ws://127.0.0.1:9/\"\n";
    let cases: &[(&str, u32, &str)] = &[
        (
            "[[room]]\nname = \"A\"\nurl = ws://x\n",
            0o644,
            ":3: string values must be quoted",
        ),
        (
            &format!("{ok}\n[[room]]\nname = \"B\"\ngroup = \"x\"\n"),
            0o644,
            ":5: missing field `url`",
        ),
        (
            &format!("{ok}\n[[room]]\nname = \"A\"\nurl = \"ws://b\"\n"),
            0o644,
            ":6: duplicate name \"A\" (first at line 1)",
        ),
        (
            &format!("{ok}pasword_env = \"X\"\n"),
            0o644,
            ":4: unknown field `pasword_env`",
        ),
        (
            &format!("{ok}password = \"X\"\n"),
            0o644,
            "(mode 0644); make it private with `chmod 600",
        ),
        (
            &format!("{ok}password = \"X\"\n"),
            0o644,
            "or keep the password in the system keychain instead: `roomshare rooms set-password \"A\"`",
        ),
        (
            &format!("{ok}password_file = \"open.pw\"\n"),
            0o600,
            "open.pw can be read by others (mode 0644); make it private with `chmod 600",
        ),
        (
            &format!("{ok}password_file = \"open.pw\"\n"),
            0o600,
            "`, or keep the password in the system keychain instead: `roomshare rooms set-password \"A\"`",
        ),
        (
            &format!("{ok}password = \"X\"\npassword_env = \"Y\"\n"),
            0o600,
            ":5: room \"A\": give only one of",
        ),
        (
            &format!("{ok}password_keyring = true\npassword_file = \"x.pw\"\n"),
            0o644,
            ":5: room \"A\": give only one of `password`, `password_env`, `password_file` and `password_keyring = true`",
        ),
        (
            &format!("{ok}password_env = \"Y\"\npassword_keyring = true\n"),
            0o644,
            ":5: room \"A\": give only one of",
        ),
        (
            &format!("{ok}password_keyring = \"yes\"\n"),
            0o644,
            ":4: invalid type: string \"yes\", expected a boolean",
        ),
        (
            &format!("{ok}password_env = \"ROOMSHARE_TEST_UNSET\"\n"),
            0o644,
            ":4: password_env ROOMSHARE_TEST_UNSET is not set",
        ),
    ];
    for (text, mode, expected) in cases {
        let path = dir.path().join("rooms.toml");
        std::fs::write(&path, text).unwrap();
        set_mode(&path, *mode);
        let out = rooms(&["status"], &path);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {err}");
        assert!(stdout(&out).is_empty(), "nothing starts for {text:?}");
        assert!(
            err.starts_with(&path.display().to_string()) && err.contains(expected),
            "{text:?}: expected {expected:?} in {err:?}"
        );
    }
    let missing = dir.path().join("none.toml");
    let out = rooms(&["status"], &missing);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read the rooms file"));
}

/// A port that accepts connections and closes them at once (a room whose
/// device drops every connection), counting the attempts, until stopped;
/// then the port is free again.
struct Refusing {
    port: u16,
    attempts: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Refusing {
    fn start() -> Refusing {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let attempts = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (attempts.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        drop(stream);
                        a.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Refusing {
            port,
            attempts,
            stop,
            thread: Some(thread),
        }
    }

    fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }

    /// Stop accepting and free the port.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Refusing {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A room that goes down is said once (a warning), however often it is
/// retried (those lines are debug), and its return once (info): a site
/// with rooms down is no log flood.
#[test]
fn a_room_down_is_said_once_and_its_return_once() {
    let mut device = Refusing::start();
    let url = format!("ws://127.0.0.1:{}/", device.port);
    let dir = tempfile::tempdir().unwrap();
    let file = rooms_file(dir.path(), &[("Flaky", &url, "", "")]);
    let mut watch = roomshare()
        .args(["rooms", "watch", "--rooms"])
        .arg(&file)
        .env("ROOMSHARE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let log = lines_of(watch.stderr.take().unwrap());
    // Three attempts, each dropped: down once, then retried.
    wait_until(WAIT, "three connection attempts", || device.attempts() >= 3);
    device.stop();
    let mut serve = roomshare()
        .args(["serve", "--no-capture", "--listen"])
        .arg(format!("127.0.0.1:{}", device.port))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut lines = Vec::new();
    wait_until(WAIT, "the room's return in the log", || {
        lines.extend(log.try_iter());
        lines.iter().any(|l| l.contains("connected again"))
    });
    let _ = watch.kill();
    let _ = watch.wait();
    let _ = serve.kill();
    let _ = serve.wait();
    let address = format!("127.0.0.1:{}", device.port);
    let about_it: Vec<&String> = lines.iter().filter(|l| l.contains(&address)).collect();
    let down = about_it
        .iter()
        .filter(|l| l.contains("WARN") && l.contains("down:"));
    assert_eq!(
        down.count(),
        1,
        "one warning when it went down:\n{lines:#?}"
    );
    let again = about_it
        .iter()
        .filter(|l| l.contains("INFO") && l.contains("connected again"));
    assert_eq!(again.count(), 1, "one line when it came back:\n{lines:#?}");
    assert_eq!(
        about_it.len(),
        2,
        "nothing else about it at info:\n{lines:#?}"
    );
}
