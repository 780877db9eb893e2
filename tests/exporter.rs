//! `roomshare rooms exporter` proven against the real servers: the real
//! binary following a real `serve --rooms-demo 20` (two rooms sharing),
//! a wrong password, a closed port and an engine of its own that is
//! stopped and started again; its `/metrics` read per room and checked by
//! `promtool`; the shipped rules checked and unit-tested by `promtool`;
//! a real Prometheus scraping it every second and a real Alertmanager
//! delivering the room-down alert (and its resolved notice) to a webhook
//! in this test. Everything on loopback, in temporary directories.
//!
//! The servers come from Debian's `prometheus` and
//! `prometheus-alertmanager` packages (scripts/deps.sh installs them): a
//! missing tool fails the test, it never skips. Every process started
//! here is killed by its own handle when the test ends, panics included.

use roomshare::client::{Client, ClientOptions, Endpoint};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "support/wait.rs"]
mod wait;
use wait::wait_until;

const BIN: &str = env!("CARGO_BIN_EXE_roomshare");
const PASSWORD: &str = "demo-pw";
const WRONG: &str = "not-the-password";
const SHARER: &str = "Alice 爱丽丝";
const DEMO: usize = 20;
/// Long enough for a loaded 2-core machine, short enough to fail fast.
const WAIT: Duration = Duration::from_secs(40);
const RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/deploy/prometheus/roomshare-rules.yml"
);
const RULE_TESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/prometheus/tests");
const DASHBOARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana/roomshare.json");

/// A child process, killed and reaped when dropped (also on a panic).
struct Proc {
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `cmd`, its stdout lines coming through the channel; a missing
/// tool fails here.
fn spawn(mut cmd: Command, what: &str) -> (Proc, mpsc::Receiver<String>) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what} (scripts/deps.sh installs it): {e}"));
    let mut proc = Proc { child };
    let out = proc.child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Drained to the end even when nobody listens, so the child never
        // blocks on a full pipe.
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (proc, rx)
}

fn roomshare() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("ROOMSHARE_PASSWORD")
        .env("ROOMSHARE_LOG", "warn");
    cmd
}

/// The first stdout line starting with `prefix`.
fn line_starting(lines: &mpsc::Receiver<String>, prefix: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no line starting with {prefix:?}"));
        if line.starts_with(prefix) {
            return line;
        }
    }
}

/// A loopback port free a moment ago (for the servers that need a port
/// number in their flags).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A loopback server that accepts connections and never says a word
/// (its thread holds them until the test process ends).
fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().map_while(Result::ok).collect();
        drop(held);
    });
    addr
}

/// `GET` over HTTP/1.0 (the server closes after its answer): status and body.
fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// A request to a demo room through the API: the device's `error_code`.
fn act(runtime: &tokio::runtime::Runtime, url: &str, method: &str, params: &Value) -> i64 {
    runtime.block_on(async {
        let endpoint = Endpoint::Remote {
            url: url.to_string(),
            password: Some(PASSWORD.to_string()),
        };
        let options = ClientOptions {
            subscriptions: vec![],
            reconnect: false,
            ..ClientOptions::default()
        };
        let client = Client::connect(endpoint, options).await.expect("connect");
        let answer = client
            .request(method, params.clone())
            .await
            .expect("answer");
        answer.error_code
    })
}

/// Start a meeting in the room, then (once it has joined: 10000 until
/// then) have Alice share in it.
fn meeting_with_share(runtime: &tokio::runtime::Runtime, url: &str) {
    let meeting = json!({"action": "StartMeeting", "action_params": {"meeting_type": "instant"}});
    assert_eq!(
        act(runtime, url, "Call/Meeting", &meeting),
        0,
        "{url}: {meeting}"
    );
    let share = json!({"action": "SimulateRemoteShare", "action_params": {"nickname": SHARER}});
    wait_until(WAIT, "a remote share in the meeting", || {
        (act(runtime, url, "Call/RoomShare", &share) == 0).then_some(())
    });
}

/// The rooms the exporter follows, and their servers.
struct Rooms {
    _demo: Proc,
    /// "Spare", an engine of its own, to stop and start again.
    spare: Option<Proc>,
    spare_addr: String,
    file: PathBuf,
    dir: tempfile::TempDir,
}

impl Rooms {
    /// `serve --rooms-demo 20` with rooms 1 and 2 in a meeting where Alice
    /// shares; "Wrong password" (demo room 1 with another password);
    /// "Closed" (nothing listens, no group); "Silent" (accepts, never
    /// answers); "Spare" (its own engine).
    fn start() -> Rooms {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("rooms.toml");
        let mut cmd = roomshare();
        cmd.args([
            "serve",
            "--rooms-demo",
            &DEMO.to_string(),
            "--port-base",
            "0",
        ])
        .args(["--password", PASSWORD, "--rooms-out"])
        .arg(&out);
        let (demo, lines) = spawn(cmd, "roomshare serve");
        line_starting(&lines, "roomshare serving");
        let urls = demo_urls(&out);
        let runtime = runtime();
        for url in &urls[..2] {
            meeting_with_share(&runtime, url);
        }
        let (spare, spare_addr) = start_spare("127.0.0.1:0");
        let closed = free_port();
        let silent = silent_server();
        let mut text = std::fs::read_to_string(&out).expect("rooms file");
        text.push_str(&format!(
            "[[room]]\nname = \"Wrong password\"\nurl = {:?}\ngroup = \"Trouble\"\npassword_env = \"WRONG_PW\"\n\n\
             [[room]]\nname = \"Closed\"\nurl = \"ws://127.0.0.1:{closed}/\"\n\n\
             [[room]]\nname = \"Silent\"\nurl = \"ws://{silent}/\"\ngroup = \"Trouble\"\n\n\
             [[room]]\nname = \"Spare\"\nurl = \"ws://{spare_addr}/\"\ngroup = \"Spare\"\npassword_env = \"ROOMSHARE_PASSWORD\"\n",
            urls[0]
        ));
        std::fs::write(&out, text).expect("write rooms file");
        Rooms {
            _demo: demo,
            spare: Some(spare),
            spare_addr,
            file: out,
            dir,
        }
    }

    /// The exporter on a free loopback port: it and its address.
    fn exporter(&self, groups: &[&str]) -> (Proc, String) {
        let mut cmd = roomshare();
        cmd.args([
            "rooms",
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--timeout",
            "2",
        ])
        .arg("--rooms")
        .arg(&self.file)
        .args(groups.iter().flat_map(|g| ["--group", g]))
        .env("ROOMSHARE_PASSWORD", PASSWORD)
        .env("WRONG_PW", WRONG);
        let (proc, lines) = spawn(cmd, "roomshare rooms exporter");
        let line = line_starting(&lines, "roomshare exporter");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .expect("the exporter says where it listens")
            .to_string();
        (proc, addr)
    }

    fn stop_spare(&mut self) {
        self.spare = None;
    }

    fn restart_spare(&mut self) {
        let (spare, _) = start_spare(&self.spare_addr);
        self.spare = Some(spare);
    }
}

fn start_spare(listen: &str) -> (Proc, String) {
    let mut cmd = roomshare();
    cmd.args([
        "serve",
        "--no-capture",
        "--listen",
        listen,
        "--password",
        PASSWORD,
    ]);
    let (proc, lines) = spawn(cmd, "roomshare serve");
    let line = line_starting(&lines, "roomshare serving on ws://");
    let addr = line["roomshare serving on ws://".len()..]
        .split('/')
        .next()
        .expect("address")
        .to_string();
    (proc, addr)
}

fn demo_urls(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("rooms file");
    let doc: toml::Table = toml::from_str(&text).expect("toml");
    let rooms = doc["room"].as_array().expect("rooms");
    assert_eq!(rooms.len(), DEMO);
    rooms
        .iter()
        .map(|r| r["url"].as_str().expect("url").to_string())
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `/metrics` as `series → value` (`name{labels}` exactly as written).
fn scrape(addr: &str) -> Option<(String, BTreeMap<String, f64>)> {
    let (status, body) = http_get(addr, "/metrics")?;
    assert_eq!(status, 200, "{body}");
    let series = body
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().expect("a number")))
        .collect();
    Some((body, series))
}

fn room_series(name: &str, room: &str, group: &str) -> String {
    format!("{name}{{room=\"{room}\",group=\"{group}\"}}")
}

fn demo_name(i: usize) -> (String, String) {
    (
        format!("Demo {:03}", i + 1),
        format!("Floor {}", i / 10 + 1),
    )
}

/// Every room known, the sharing rooms read, the exporter ready.
fn settled(addr: &str) -> (String, BTreeMap<String, f64>) {
    let total = (DEMO + 4) as f64;
    wait_until(WAIT, "every room known and the shares read", || {
        let (body, series) = scrape(addr)?;
        let sharing = room_series("roomshare_room_sharing", "Demo 002", "Floor 1");
        let ok = series.get("roomshare_fleet_rooms_known") == Some(&total)
            && series.get(&sharing) == Some(&1.0);
        ok.then_some((body, series))
    })
}

#[test]
fn metrics_tell_the_truth_per_room_and_promtool_accepts_them() {
    let rooms = Rooms::start();
    let (_exporter, addr) = rooms.exporter(&[]);
    assert_eq!(http_get(&addr, "/-/healthy").map(|r| r.0), Some(200));
    let (body, series) = settled(&addr);
    wait_until(WAIT, "/-/ready", || {
        (http_get(&addr, "/-/ready")?.0 == 200).then_some(())
    });
    let at =
        |name: &str, room: &str, group: &str| series.get(&room_series(name, room, group)).copied();
    let state = |room: &str, group: &str, state: &str| {
        series
            .get(&format!(
                "roomshare_room_link_state{{room=\"{room}\",group=\"{group}\",state=\"{state}\"}}"
            ))
            .copied()
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    for i in 0..DEMO {
        let (room, group) = demo_name(i);
        let sharing = f64::from(u8::from(i < 2));
        assert_eq!(at("roomshare_room_up", &room, &group), Some(1.0), "{room}");
        assert_eq!(state(&room, &group, "connected"), Some(1.0), "{room}");
        for other in ["auth_failed", "unreachable", "timeout", "connecting"] {
            assert_eq!(state(&room, &group, other), Some(0.0), "{room} {other}");
        }
        assert_eq!(
            at("roomshare_room_in_meeting", &room, &group),
            Some(sharing),
            "{room}"
        );
        assert_eq!(
            at("roomshare_room_sharing", &room, &group),
            Some(sharing),
            "{room}"
        );
        assert_eq!(
            at("roomshare_room_quick_cast_state", &room, &group),
            Some(0.0)
        );
        assert_eq!(
            at("roomshare_room_share_guide_open", &room, &group),
            Some(0.0)
        );
        assert_eq!(
            at("roomshare_room_reconnects_total", &room, &group),
            Some(0.0)
        );
        // The connection's full read at least (share, meeting, guide), all
        // answered.
        let requests = |result: &str| {
            let key = format!(
                "roomshare_room_requests_total{{room=\"{room}\",group=\"{group}\",result=\"{result}\"}}"
            );
            series.get(&key).copied()
        };
        assert!(
            requests("ok").is_some_and(|n| n >= 3.0),
            "{room}: {:?}",
            requests("ok")
        );
        for result in ["refused", "timeout", "failed"] {
            assert_eq!(requests(result), Some(0.0), "{room} {result}");
        }
        let changed = at(
            "roomshare_room_state_changed_timestamp_seconds",
            &room,
            &group,
        );
        assert!(
            changed.is_some_and(|t| t > now - 120.0 && t <= now + 1.0),
            "{room}: {changed:?}"
        );
        let since = at(
            "roomshare_room_sharing_since_timestamp_seconds",
            &room,
            &group,
        );
        assert_eq!(since.is_some(), i < 2, "{room}: sharing since {since:?}");
    }
    for (room, group, link) in [
        ("Wrong password", "Trouble", "auth_failed"),
        ("Closed", "", "unreachable"),
        ("Silent", "Trouble", "timeout"),
    ] {
        assert_eq!(state(room, group, link), Some(1.0), "{room}\n{body}");
        assert_eq!(state(room, group, "connected"), Some(0.0), "{room}");
        assert_eq!(at("roomshare_room_up", room, group), Some(0.0), "{room}");
        // Not connected: nothing about the room is known now.
        assert_eq!(at("roomshare_room_sharing", room, group), None, "{room}");
        assert_eq!(at("roomshare_room_in_meeting", room, group), None, "{room}");
    }
    let info = format!(
        "roomshare_room_info{{room=\"Spare\",group=\"Spare\",url=\"ws://{}/\"}}",
        rooms.spare_addr
    );
    assert_eq!(series.get(&info), Some(&1.0), "{body}");
    assert_eq!(
        series.get("roomshare_fleet_rooms"),
        Some(&((DEMO + 4) as f64))
    );
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        assert!(
            series
                .get(name)
                .is_some_and(|v| *v > 0.0 || name.starts_with("process_cpu")),
            "{name}"
        );
    }
    for secret in [PASSWORD, WRONG, "Alice", "爱丽丝"] {
        assert!(!body.contains(secret), "{secret:?} in /metrics");
    }
    assert!(body.ends_with("# EOF\n"));
    check_metrics(&body);
}

/// `promtool check metrics` (2.42) reads the 0.0.4 text format, where a
/// counter's HELP and TYPE name its samples: for OpenMetrics' counters,
/// named without `_total` (`# TYPE roomshare_room_reconnects counter`,
/// samples `roomshare_room_reconnects_total`), it reports the samples as
/// having "no help text". That, for exactly our three counters, is all it
/// may find.
fn check_metrics(body: &str) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (scripts/deps.sh installs prometheus)");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write to promtool");
    let out = promtool.wait_with_output().expect("promtool ran");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut problems: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    problems.sort_unstable();
    assert_eq!(
        problems,
        [
            "process_cpu_seconds_total no help text",
            "roomshare_room_reconnects_total no help text",
            "roomshare_room_requests_total no help text"
        ],
        "promtool check metrics:\n{text}"
    );
}

#[test]
fn shipped_rules_and_config_pass_promtool() {
    let run = |args: &[&str]| {
        let out = Command::new("promtool")
            .args(args)
            .output()
            .expect("promtool (scripts/deps.sh installs prometheus)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "promtool {args:?}:\n{text}");
        text
    };
    let checked = run(&["check", "rules", RULES]);
    assert!(checked.contains("SUCCESS: 5 rules found"), "{checked}");
    let mut tests: Vec<PathBuf> = std::fs::read_dir(RULE_TESTS)
        .expect("rule tests")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    tests.sort();
    assert!(!tests.is_empty());
    for test in &tests {
        let tested = run(&["test", "rules", test.to_str().expect("utf-8 path")]);
        assert!(tested.contains("SUCCESS"), "{tested}");
    }
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/prometheus/prometheus.yml"
    );
    run(&["check", "config", config]);
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(DASHBOARD).expect("dashboard"))
            .expect("JSON");
    assert!(dashboard["panels"].as_array().is_some_and(|p| p.len() >= 5));
}

/// A webhook receiver for Alertmanager: every notification's JSON.
struct Webhook {
    _runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    received: mpsc::Receiver<Value>,
}

impl Webhook {
    fn start() -> Webhook {
        use axum::extract::State;
        let runtime = runtime();
        let (tx, received) = mpsc::channel::<Value>();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hook = |State(tx): State<mpsc::Sender<Value>>, body: String| async move {
            let _ = tx.send(serde_json::from_str(&body).unwrap_or(Value::String(body)));
        };
        let app = axum::Router::new()
            .route("/", axum::routing::post(hook))
            .with_state(tx);
        runtime.spawn(async move { axum::serve(listener, app).await });
        Webhook {
            _runtime: runtime,
            addr,
            received,
        }
    }

    /// Wait for a notification with `status` of `alert` for `room`.
    fn wait_for(&self, status: &str, alert: &str, room: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .received
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {status} {alert} for {room} delivered"));
            let alerts = message["alerts"].as_array().cloned().unwrap_or_default();
            if let Some(found) = alerts.into_iter().find(|a| {
                a["status"] == status
                    && a["labels"]["alertname"] == alert
                    && a["labels"]["room"] == room
            }) {
                return found;
            }
        }
    }
}

fn start_alertmanager(dir: &Path, hook: SocketAddr) -> (Proc, String) {
    let config = format!(
        "route:\n  receiver: test\n  group_by: [alertname, room]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n  - name: test\n    webhook_configs:\n      - url: http://{hook}/\n        send_resolved: true\n"
    );
    let path = dir.join("alertmanager.yml");
    std::fs::write(&path, config).expect("write alertmanager.yml");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new("prometheus-alertmanager");
    cmd.arg(format!("--config.file={}", path.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address={addr}"))
        // No cluster: it would listen on every interface.
        .arg("--cluster.listen-address=");
    let (proc, _) = spawn(cmd, "prometheus-alertmanager");
    wait_until(WAIT, "Alertmanager ready", || {
        (http_get(&addr, "/-/ready")?.0 == 200).then_some(())
    });
    (proc, addr)
}

/// Prometheus scraping `exporter` every second, with a copy of the
/// shipped rules where a room is down after 2 s instead of 5 min.
fn start_prometheus(dir: &Path, exporter: &str, alertmanager: &str) -> (Proc, String) {
    let shipped = std::fs::read_to_string(RULES).expect("rules");
    let rules = shipped.replacen("for: 5m", "for: 2s", 1);
    assert_ne!(
        rules, shipped,
        "the room-down rule's `for: 5m` is where the test expects it"
    );
    std::fs::write(dir.join("rules.yml"), rules).expect("write rules");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files: [rules.yml]\n\
         alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"{alertmanager}\"]\n\
         scrape_configs:\n  - job_name: roomshare\n    static_configs:\n      - targets: [\"{exporter}\"]\n        labels:\n          shard: test\n"
    );
    let path = dir.join("prometheus.yml");
    std::fs::write(&path, config).expect("write prometheus.yml");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!("--config.file={}", path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={addr}"));
    let (proc, _) = spawn(cmd, "prometheus");
    wait_until(WAIT, "Prometheus ready", || {
        (http_get(&addr, "/-/ready")?.0 == 200).then_some(())
    });
    (proc, addr)
}

/// A PromQL query through Prometheus' HTTP API: its `data.result`.
fn query(prometheus: &str, promql: &str) -> Option<Vec<Value>> {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let q = utf8_percent_encode(promql, NON_ALPHANUMERIC);
    let (status, body) = http_get(prometheus, &format!("/api/v1/query?query={q}"))?;
    assert_eq!(status, 200, "{promql}: {body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    answer["data"]["result"].as_array().cloned()
}

/// The one value of an instant query with one series.
fn scalar(prometheus: &str, promql: &str) -> Option<f64> {
    let result = query(prometheus, promql)?;
    let [series] = result.as_slice() else {
        return None;
    };
    series["value"][1].as_str()?.parse().ok()
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

#[test]
fn prometheus_and_alertmanager_see_every_room() {
    let mut rooms = Rooms::start();
    let (_exporter, exporter) = rooms.exporter(&[]);
    let webhook = Webhook::start();
    let dir = rooms.dir.path().to_path_buf();
    let (_alertmanager, alertmanager) = start_alertmanager(&dir, webhook.addr);
    let (_prometheus, prometheus) = start_prometheus(&dir, &exporter, &alertmanager);

    // The truth per room, through PromQL.
    wait_until(
        WAIT,
        "sum(roomshare_room_sharing) = 2 in Prometheus",
        || (scalar(&prometheus, "sum(roomshare_room_sharing)")? == 2.0).then_some(()),
    );
    let sharing = query(&prometheus, "roomshare_room_sharing == 1").expect("query");
    let mut where_: Vec<&str> = sharing
        .iter()
        .filter_map(|s| s["metric"]["room"].as_str())
        .collect();
    where_.sort_unstable();
    assert_eq!(where_, ["Demo 001", "Demo 002"]);
    let refused = wait_until(WAIT, "the wrong password in Prometheus", || {
        let result = query(
            &prometheus,
            r#"roomshare_room_link_state{state="auth_failed"} == 1"#,
        )?;
        (!result.is_empty()).then_some(result)
    });
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["metric"]["room"], "Wrong password");
    assert_eq!(refused[0]["metric"]["group"], "Trouble");
    wait_until(WAIT, "Spare up in Prometheus", || {
        (scalar(&prometheus, r#"roomshare_room_up{room="Spare"}"#)? == 1.0).then_some(())
    });
    dashboard_queries_run(&prometheus);

    // An engine stopped: `up` is 0 within two scrapes.
    let stopped_at = unix_now();
    rooms.stop_spare();
    let samples = wait_until(WAIT, "two scrapes after the stop", || {
        let result = query(&prometheus, r#"roomshare_room_up{room="Spare"}[30s]"#)?;
        let values = result.first()?["values"].as_array()?.clone();
        let after: Vec<(f64, f64)> = values
            .iter()
            .filter_map(|v| Some((v[0].as_f64()?, v[1].as_str()?.parse().ok()?)))
            .filter(|(at, _)| *at > stopped_at)
            .collect();
        (after.len() >= 2).then_some(after)
    });
    assert_eq!(
        samples[1].1, 0.0,
        "scrapes after the stop (time, up): {samples:?}"
    );

    // Alertmanager tells the webhook, naming the room; then the resolved notice.
    let fired = webhook.wait_for("firing", "RoomshareRoomDown", "Spare");
    assert_eq!(fired["labels"]["group"], "Spare");
    let summary = fired["annotations"]["summary"].as_str().unwrap_or_default();
    assert_eq!(summary, "Room Spare (Spare) is down");
    rooms.restart_spare();
    let resolved = webhook.wait_for("resolved", "RoomshareRoomDown", "Spare");
    assert_eq!(resolved["labels"]["instance"], exporter.as_str());
    assert_eq!(
        scalar(&prometheus, r#"roomshare_room_up{room="Spare"}"#),
        Some(1.0)
    );
}

/// Every query of the Grafana dashboard is PromQL that Prometheus runs
/// (with Grafana's variables replaced as Grafana would).
fn dashboard_queries_run(prometheus: &str) {
    let text = std::fs::read_to_string(DASHBOARD).expect("dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ran = 0;
    for target in panels
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
    {
        let expr = target["expr"].as_str().expect("expr");
        let promql = expr.replace("$group", ".*").replace("$__range", "5m");
        assert!(query(prometheus, &promql).is_some(), "{expr}");
        ran += 1;
    }
    assert!(ran >= 8, "{ran} queries");
}

#[test]
fn groups_shard_the_rooms() {
    let rooms = Rooms::start();
    let (_exporter, addr) = rooms.exporter(&["Floor 2", "Trouble"]);
    let series = wait_until(WAIT, "the shard's rooms known", || {
        let (_, series) = scrape(&addr)?;
        (series.get("roomshare_fleet_rooms_known") == Some(&12.0)).then_some(series)
    });
    assert_eq!(series.get("roomshare_fleet_rooms"), Some(&12.0));
    let rooms_of = |group: &str| {
        let label = format!("group=\"{group}\"");
        series
            .keys()
            .filter(|k| k.starts_with("roomshare_room_up{") && k.contains(&label))
            .count()
    };
    assert_eq!(
        (
            rooms_of("Floor 1"),
            rooms_of("Floor 2"),
            rooms_of("Trouble")
        ),
        (0, 10, 2)
    );

    let refused = roomshare()
        .args([
            "rooms",
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--group",
            "Nowhere",
        ])
        .arg("--rooms")
        .arg(&rooms.file)
        .env("ROOMSHARE_PASSWORD", PASSWORD)
        .env("WRONG_PW", WRONG)
        .output()
        .expect("run the exporter");
    assert_eq!(refused.status.code(), Some(2));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("Nowhere"), "{why}");
}
