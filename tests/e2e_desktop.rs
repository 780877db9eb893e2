//! End to end: the real `roomshare` binary under Xvfb + openbox, serving
//! its embedded engine on loopback (`--listen`), driven with real key
//! presses from xdotool; the share state is read back through the API.
//! Every process is started here and killed by its pid.
//!
//! Needs Xvfb, openbox and xdotool (scripts/deps.sh installs them); skips
//! with a message when they are absent.

use roomshare::client::{Client, ClientOptions, Endpoint};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (by its own pid) when dropped.
struct Proc {
    name: &'static str,
    child: Child,
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command) -> Proc {
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc { name, child }
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped {} (pid {})", self.name, self.child.id());
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_display() -> u32 {
    (120..400)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free X display number")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn xdotool(display: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
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
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            let options = ClientOptions {
                reconnect: false,
                subscriptions: vec![],
                ..ClientOptions::default()
            };
            match rt.block_on(Client::connect(endpoint.clone(), options)) {
                Ok(c) => break c,
                Err(e) => {
                    assert!(Instant::now() < deadline, "the console never served: {e}");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        };
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

#[test]
fn keyboard_shares_and_stops_under_xvfb() {
    for tool in ["Xvfb", "openbox", "xdotool"] {
        if !have(tool) {
            eprintln!("SKIPPED: {tool} is not installed (scripts/deps.sh installs it)");
            return;
        }
    }
    let n = free_display();
    let display = format!(":{n}");
    let home = tempfile::tempdir().expect("tempdir");
    let _xvfb = Proc::spawn(
        "Xvfb",
        Command::new("Xvfb")
            .arg(&display)
            .args(["-screen", "0", "1600x1000x24", "-nolisten", "tcp"])
            .stderr(Stdio::null()),
    );
    wait_for("Xvfb", Duration::from_secs(20), || {
        Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
    });
    let _wm = Proc::spawn(
        "openbox",
        Command::new("openbox")
            .env("DISPLAY", &display)
            .env("HOME", home.path())
            .stderr(Stdio::null()),
    );
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}/");
    let mut app = Proc::spawn(
        "roomshare",
        Command::new(env!("CARGO_BIN_EXE_roomshare"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--sources", "synthetic", "--cast-code", "135790"])
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XDG_SESSION_TYPE")
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_RUNTIME_DIR", home.path())
            .env("ROOMSHARE_LOG", "roomshare=info"),
    );
    let api = Api::connect(&url);
    assert!(app.alive(), "the console exited");

    // The window exists and has the keyboard.
    let mut window = String::new();
    wait_for(
        "the console window",
        Duration::from_secs(60),
        || match xdotool(&display, &["search", "--name", "^roomshare$"]) {
            Some(w) if !w.is_empty() => {
                window = w.lines().next().unwrap_or_default().to_string();
                true
            }
            _ => false,
        },
    );
    let _ = xdotool(&display, &["windowactivate", "--sync", &window]);
    let _ = xdotool(&display, &["windowfocus", "--sync", &window]);

    // In a meeting, so that StartShare is allowed.
    assert_eq!(
        api.call(
            "Meeting",
            "StartMeeting",
            json!({"meeting_type": "instant"})
        ),
        0
    );
    wait_for("in meeting", Duration::from_secs(10), || {
        api.query(&["Meeting", "MeetingInfo"])["meeting_info"]["meeting_status"] == json!(1)
    });

    // Display order on the wall: desktop and capture devices, then windows.
    let sources = api.query(&["RoomShare", "Sources"])["sources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut order: Vec<&Value> = sources.iter().filter(|s| s["kind"] != "window").collect();
    order.extend(sources.iter().filter(|s| s["kind"] == "window"));
    assert!(order.len() >= 2, "synthetic sources: {sources:?}");
    let first_window = order
        .iter()
        .position(|s| s["kind"] == "window")
        .expect("a window source");
    let key = |k: &str| {
        xdotool(&display, &["key", "--delay", "60", k]).expect("xdotool key");
    };

    // Home focuses the first tile, Right moves to the first window, Enter
    // shares it. The window may still be starting when the first keys
    // arrive, so the sequence is repeated until the room answers.
    let expected = order[first_window]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let _ = xdotool(&display, &["windowactivate", "--sync", &window]);
        key("Home");
        for _ in 0..first_window {
            key("Right");
        }
        key("Return");
        let attempt = Instant::now() + Duration::from_secs(3);
        while Instant::now() < attempt && api.shared_source() != expected {
            std::thread::sleep(Duration::from_millis(50));
        }
        if api.is_sharing() && api.shared_source() == expected {
            break;
        }
        if Instant::now() > deadline {
            let shot = std::env::temp_dir().join("roomshare-e2e-failure.png");
            let _ = Command::new("import")
                .args(["-window", "root"])
                .arg(&shot)
                .env("DISPLAY", &display)
                .status();
            panic!(
                "Enter did not share {expected}; shared: {:?}; screen: {}",
                api.shared_source(),
                shot.display()
            );
        }
    }

    // Left moves back one tile; Enter switches the share to it.
    key("Left");
    key("Return");
    let previous = order[first_window - 1]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    wait_for(
        "Enter shares the tile to the left",
        Duration::from_secs(15),
        || api.shared_source() == previous,
    );

    // Escape stops.
    key("Escape");
    wait_for("Escape stops the share", Duration::from_secs(15), || {
        !api.is_sharing()
    });
    assert!(app.alive(), "the console is still running");
}
