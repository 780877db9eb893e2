//! End to end: the real `roomshare` binary under Xvfb + openbox, serving
//! its embedded engine on loopback (`--listen`), driven with real key
//! presses from xdotool; the share state is read back through the API.
//! Two runs through the same harness: synthetic sources, and real capture
//! of X windows this test creates. Every process is started here and killed
//! by its pid.
//!
//! Needs Xvfb, openbox and xdotool (scripts/deps.sh installs them); a
//! missing tool fails the test.
// Needs Xvfb, openbox and xdotool.
#![cfg(all(target_os = "linux", not(target_env = "ohos")))]

#[path = "support/wait.rs"]
mod wait;
#[path = "support/capture_x11.rs"]
mod x11;

use roomshare::client::{Client, ClientOptions, Endpoint};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wait::{Met, try_wait_until, wait_until};
use x11::{WindowSpec, XClient, XServer, free_port, xdotool};

/// The two runs share the machine's two cores and must not share a display:
/// one at a time.
static ONE_DISPLAY_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A missing tool is a failure, never a silent pass.
fn require_tools() {
    for tool in ["Xvfb", "openbox", "xdotool"] {
        assert!(
            x11::have_tool(tool),
            "{tool} is not installed: run scripts/deps.sh (apt-get install xvfb openbox xdotool)"
        );
    }
}

/// The console: the real binary, killed (by its own pid) when dropped, with
/// its log (stderr) collected line by line on a reader thread.
struct Console {
    child: Child,
    display: String,
    /// The `--sources` mode (names the failure screenshot).
    sources: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Console {
    fn start(display: &str, sources: &str, port: u16, home: &std::path::Path) -> Console {
        let mut child = Command::new(env!("CARGO_BIN_EXE_roomshare"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--sources", sources, "--cast-code", "135790"])
            .env("DISPLAY", display)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XDG_SESSION_TYPE")
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_RUNTIME_DIR", home)
            .env("ROOMSHARE_LOG", "roomshare=info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start roomshare: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        Console {
            child,
            display: display.to_string(),
            sources: sources.to_string(),
            log,
        }
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The last `ready: N tiles, window focused: B` line the console logged
    /// (src/ui/console.rs, `ConsoleApp::repaint`).
    fn ready(&self) -> Option<(usize, bool)> {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().rev().find_map(|line| {
            let rest = &line[line.find("ready: ")? + "ready: ".len()..];
            let (n, rest) = rest.split_once(" tiles, window focused: ")?;
            Some((n.parse().ok()?, rest.trim() == "true"))
        })
    }

    fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log[log.len().saturating_sub(30)..].join("\n")
    }

    /// Fail with a screenshot of the display and the end of the log.
    fn fail(&self, what: &str) -> ! {
        let shot = std::env::temp_dir().join(format!(
            "roomshare-e2e-{}-{}.png",
            self.sources,
            std::process::id()
        ));
        let _ = Command::new("import")
            .args(["-window", "root"])
            .arg(&shot)
            .env("DISPLAY", &self.display)
            .status();
        panic!(
            "{what}\nscreen: {}\nconsole log (end):\n{}",
            shot.display(),
            self.log_tail()
        );
    }

    /// Wait for `cond` until `timeout`, then fail (with a screenshot and
    /// the log) saying what was awaited.
    fn wait_until<M: Met>(
        &self,
        timeout: Duration,
        what: impl std::fmt::Display,
        cond: impl FnMut() -> M,
    ) -> M::Value {
        try_wait_until(timeout, what, cond).unwrap_or_else(|e| self.fail(&e.to_string()))
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped roomshare (pid {})", self.child.id());
    }
}

struct Api {
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl Api {
    fn connect(url: &str) -> Api {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let endpoint = Endpoint::Remote {
            url: url.to_string(),
            password: None,
        };
        let client = wait_until(Duration::from_secs(60), "the console to serve", || {
            let options = ClientOptions {
                reconnect: false,
                subscriptions: vec![],
                ..ClientOptions::default()
            };
            let connected = rt.block_on(Client::connect(endpoint.clone(), options));
            if connected.is_err() {
                // Not up yet: try again a little later.
                std::thread::sleep(Duration::from_millis(200));
            }
            connected
        });
        Api { rt, client }
    }

    fn query(&self, path: &[&str]) -> Value {
        let r = self
            .rt
            .block_on(self.client.query(path))
            .expect("query answered");
        assert_eq!(r.error_code, 0, "Query {path:?}: {}", r.message);
        r.data.unwrap_or(Value::Null)
    }

    fn call(&self, module: &str, action: &str, params: Value) -> i64 {
        let mut p = json!({"action": action});
        if !params.is_null() {
            p["action_params"] = params;
        }
        self.rt
            .block_on(self.client.request(&format!("Call/{module}"), p))
            .expect("call answered")
            .error_code
    }

    fn sources(&self) -> Vec<Value> {
        self.query(&["RoomShare", "Sources"])["sources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn is_sharing(&self) -> bool {
        self.query(&["Share", "ShareInfo"])["share_info"]["is_sharing"] == json!(true)
    }

    fn shared_source(&self) -> String {
        self.query(&["RoomShare", "ShareSession"])["share_session"]["source_id"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

fn id_of(source: &Value) -> String {
    source["id"].as_str().unwrap_or_default().to_string()
}

/// Which tile the keyboard shares.
enum Target<'a> {
    /// The first window tile on the wall.
    FirstWindow,
    /// The window source with this id.
    Window(&'a str),
}

/// The harness both runs share: start the console on `display` with
/// `--sources <sources>`, check that every `(id, title)` of `windows` is
/// listed through the API, wait until the console is ready for keys (window
/// focused, wall built), then one key sequence shares `target`, Left and
/// Enter share the tile before it, Escape stops.
fn keyboard_share_and_stop(
    display: &str,
    sources: &str,
    windows: &[(String, String)],
    target: Target,
) {
    let home = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut console = Console::start(display, sources, port, home.path());
    let api = Api::connect(&format!("ws://127.0.0.1:{port}/"));
    assert!(
        console.alive(),
        "the console exited:\n{}",
        console.log_tail()
    );

    // The console's window is mapped.
    let window = console.wait_until(Duration::from_secs(60), "the console window", || {
        xdotool(
            display,
            &["search", "--onlyvisible", "--name", "^roomshare$"],
        )
        .filter(|w| !w.is_empty())
        .map(|w| w.lines().next().unwrap_or_default().to_string())
    });

    // The sources this run expects are listed (real capture lists the
    // windows as the catalog finds them), never the console's own window.
    console.wait_until(
        Duration::from_secs(30),
        "the expected sources in the API",
        || {
            let listed = api.sources();
            windows.iter().all(|(id, title)| {
                listed
                    .iter()
                    .any(|s| id_of(s) == *id && s["title"] == json!(title) && s["kind"] == "window")
            })
        },
    );
    let own = format!("window:{window}");
    assert!(
        !api.sources().iter().any(|s| id_of(s) == own),
        "the console lists its own window {own}"
    );

    // In a meeting, so that StartShare is allowed.
    assert_eq!(
        api.call(
            "Meeting",
            "StartMeeting",
            json!({"meeting_type": "instant"})
        ),
        0
    );
    console.wait_until(Duration::from_secs(10), "in meeting", || {
        api.query(&["Meeting", "MeetingInfo"])["meeting_info"]["meeting_status"] == json!(1)
    });

    // Ready for keys: the window manager gives the console the keyboard
    // (asked once, and the answer checked), X reports the focus on it, and
    // the console itself says it is focused with a wall of every source.
    let focused = |query: &str| {
        xdotool(display, &[query]).is_some_and(|w| w.lines().next() == Some(window.as_str()))
    };
    if !focused("getwindowfocus") {
        assert!(
            xdotool(display, &["windowactivate", "--sync", &window]).is_some(),
            "xdotool windowactivate {window} failed"
        );
    }
    let mut order: Vec<Value> = Vec::new();
    console.wait_until(
        Duration::from_secs(30),
        "the console focused, with a tile per source",
        || {
            let listed = api.sources();
            let ready = console.ready();
            let x_focus = focused("getwindowfocus") && focused("getactivewindow");
            // Display order on the wall: desktop and capture devices, then windows.
            order = listed
                .iter()
                .filter(|s| s["kind"] != "window")
                .cloned()
                .collect();
            order.extend(listed.iter().filter(|s| s["kind"] == "window").cloned());
            x_focus && ready.is_some_and(|(n, f)| f && n >= listed.len() && !listed.is_empty())
        },
    );
    let position = match target {
        Target::FirstWindow => order.iter().position(|s| s["kind"] == "window"),
        Target::Window(id) => order.iter().position(|s| id_of(s) == id),
    }
    .unwrap_or_else(|| console.fail(&format!("no target tile in {order:?}")));
    assert!(position >= 1, "a tile to the left of the target: {order:?}");
    let expected = id_of(&order[position]);

    // One key sequence: Home focuses the first tile, Right moves to the
    // target, Enter shares it. Sent once; the share must follow.
    let mut keys = vec!["key", "--delay", "60", "Home"];
    keys.extend(std::iter::repeat_n("Right", position));
    keys.push("Return");
    assert!(xdotool(display, &keys).is_some(), "xdotool {keys:?} failed");
    console.wait_until(
        Duration::from_secs(15),
        format!("Enter to share {expected}"),
        || api.shared_source() == expected && api.is_sharing(),
    );

    // Left moves back one tile; Enter switches the share to it.
    let previous = id_of(&order[position - 1]);
    assert!(xdotool(display, &["key", "--delay", "60", "Left", "Return"]).is_some());
    console.wait_until(
        Duration::from_secs(15),
        format!("Left, Enter to share {previous}"),
        || api.shared_source() == previous,
    );

    // Escape stops.
    assert!(xdotool(display, &["key", "Escape"]).is_some());
    console.wait_until(Duration::from_secs(15), "Escape to stop the share", || {
        !api.is_sharing() && api.shared_source().is_empty()
    });
    assert!(
        console.alive(),
        "the console exited:\n{}",
        console.log_tail()
    );
}

fn x_server() -> XServer {
    require_tools();
    XServer::start(1600, 1000).unwrap_or_else(|e| panic!("{e} (scripts/deps.sh installs it)"))
}

#[test]
fn keyboard_shares_and_stops_synthetic_sources() {
    let _one = ONE_DISPLAY_AT_A_TIME
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let x = x_server();
    keyboard_share_and_stop(&x.display, "synthetic", &[], Target::FirstWindow);
}

#[test]
fn keyboard_shares_real_x_windows() {
    let _one = ONE_DISPLAY_AT_A_TIME
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let x = x_server();
    let client = XClient::connect(&x.display);
    let spec = |title, rgb, x| WindowSpec {
        title,
        rgb,
        x,
        y: 80,
        width: 320,
        height: 240,
        pid: None,
        iconic: false,
    };
    let made = [
        ("E2E Red", [220, 30, 30], 40),
        ("E2E Green", [30, 200, 40], 400),
        ("E2E Blue", [40, 60, 220], 760),
    ]
    .map(|(title, rgb, at)| (client.window(&spec(title, rgb, at)), title));
    let ids: Vec<u32> = made.iter().map(|(w, _)| *w).collect();
    client.wait_managed(&ids, Duration::from_secs(10));
    let windows: Vec<(String, String)> = made
        .iter()
        .map(|(w, title)| (format!("window:{w}"), title.to_string()))
        .collect();
    // The green window, in the middle: a tile on either side of it.
    let green = windows[1].0.clone();
    keyboard_share_and_stop(&x.display, "real", &windows, Target::Window(&green));
    drop(client);
}
