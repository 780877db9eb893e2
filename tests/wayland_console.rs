//! The real binary in a real Wayland session: sway (headless, wlroots),
//! PipeWire, WirePlumber and the real xdg-desktop-portal with its wlr
//! backend, started by `scripts/wayland-session.sh`. There the portal's
//! ScreenCast always refuses (xdg-desktop-portal-wlr needs a DMA-BUF
//! capable renderer; upstream issue 289), which is exactly what this test
//! needs: a desktop where capture does not work.
//!
//! - `roomshare sources` exits 2 with the portal's refusal, not an empty
//!   table;
//! - the console (no arguments but `--listen`, so the test can read its
//!   engine) opens a native Wayland window (glow on Mesa's software EGL),
//!   shows no test patterns, and its wall states the refusal with "Ask
//!   again": the Sources answer says `refused` with the reason,
//!   `RetryCapture` asks the real portal again, and a `grim` screenshot of
//!   the session shows the console with the refusal panel.
//!
//! Tools (a missing one fails the test with the package to install): sway,
//! xdg-desktop-portal, xdg-desktop-portal-wlr, pipewire, wireplumber, grim,
//! dbus (`bash scripts/deps.sh` installs them all).
#![cfg(target_os = "linux")]

mod support;

use roomshare::protocol::CaptureState;
use roomshare::protocol::answers::SourcesAnswer;
use serde_json::json;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;
use support::wait::{wait_until, wait_until_async};

const DEADLINE: Duration = Duration::from_secs(45);

fn require(tools: &[(&str, &str)]) {
    for (tool, package) in tools {
        let found = Path::new(tool).is_absolute() && Path::new(tool).exists()
            || Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{tool} is missing: apt-get install {package} (or bash scripts/deps.sh)"
        );
    }
}

/// A folder the session's user (`wltest` when run as root) can use, with
/// a copy of the binary in it.
fn session_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("roomshare-wayland-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let open = std::fs::Permissions::from_mode(0o777);
    std::fs::set_permissions(dir.path(), open).expect("chmod");
    let bin = dir.path().join("roomshare");
    std::fs::copy(support::bin::BIN, &bin).expect("copy the binary");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// What runs inside the session: `sources`, then the console until the
/// test has its screenshot. The loops wait on files the test creates (at
/// most a minute each), so a failed test never leaves a session behind.
fn inner_script(dir: &Path, port: u16) -> PathBuf {
    let d = dir.display();
    let script = format!(
        r#"#!/bin/bash
D={d}
ROOMSHARE_LOG=warn "$D/roomshare" sources --wait 20 >"$D/sources.out" 2>"$D/sources.err"
echo $? >"$D/sources.rc"
"$D/roomshare" --listen 127.0.0.1:{port} >"$D/console.log" 2>&1 &
PID=$!
for _ in $(seq 600); do [ -e "$D/shoot" ] || ! kill -0 $PID 2>/dev/null && break; sleep 0.1; done
grim "$D/shot.png"; echo $? >"$D/shot.rc"
for _ in $(seq 600); do [ -e "$D/quit" ] || ! kill -0 $PID 2>/dev/null && break; sleep 0.1; done
kill $PID 2>/dev/null; wait $PID
exit 0
"#
    );
    let path = dir.join("inner.sh");
    std::fs::write(&path, script).expect("write the inner script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// The session, ended (by the quit file, then by its pid) when dropped.
struct Session {
    child: Child,
    dir: PathBuf,
}

impl Session {
    fn start(dir: &Path, port: u16) -> Session {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/wayland-session.sh");
        // The session's own chatter (dbus-daemon, the portals) goes to a
        // file beside sway's and PipeWire's logs.
        let chatter = std::fs::File::create(dir.join("session.log")).expect("session log");
        let child = Command::new("bash")
            .arg(script)
            .arg("bash")
            .arg(inner_script(dir, port))
            .env("WL_LOGS", dir)
            .stdout(chatter.try_clone().expect("session log"))
            .stderr(chatter)
            .spawn()
            .expect("start scripts/wayland-session.sh");
        Session {
            child,
            dir: dir.to_path_buf(),
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Wait for a file the inner script writes; its text.
    fn await_file(&self, name: &str) -> String {
        let path = self.file(name);
        wait_until(DEADLINE, format!("{name} from the session"), || {
            std::fs::read_to_string(&path)
                .ok()
                .filter(|t| !t.is_empty())
        })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.file("console.log")).unwrap_or_default()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::write(self.file("quit"), "");
        let ended =
            support::wait::try_wait_until(Duration::from_secs(10), "the session to end", || {
                matches!(self.child.try_wait(), Ok(Some(_)))
            });
        if ended.is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    socket.local_addr().expect("its address").port()
}

async fn sources(ws: &mut support::Ws) -> SourcesAnswer {
    let answer = support::call(ws, "q", "Query", json!({"path": ["RoomShare", "Sources"]})).await;
    serde_json::from_value(answer["result"]["data"].clone()).expect("a Sources answer")
}

/// Pixels of exactly `rgb`.
fn count(shot: &image::RgbaImage, rgb: [u8; 3]) -> usize {
    shot.pixels().filter(|p| p.0[..3] == rgb).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_on_wayland_states_the_portals_refusal_and_asks_again() {
    require(&[
        ("sway", "sway"),
        ("grim", "grim"),
        ("pipewire", "pipewire"),
        ("wireplumber", "wireplumber"),
        ("dbus-run-session", "dbus"),
        ("/usr/libexec/xdg-desktop-portal", "xdg-desktop-portal"),
        (
            "/usr/libexec/xdg-desktop-portal-wlr",
            "xdg-desktop-portal-wlr",
        ),
    ]);
    let dir = session_dir();
    let port = free_port();
    let session = Session::start(dir.path(), port);

    // `sources` on this desktop: exit 2 with the refusal, no table.
    let rc = session.await_file("sources.rc");
    let err = std::fs::read_to_string(session.file("sources.err")).unwrap_or_default();
    let out = std::fs::read_to_string(session.file("sources.out")).unwrap_or_default();
    assert_eq!(rc.trim(), "2", "stderr: {err}\nstdout: {out}");
    assert!(
        err.contains(
            "cannot capture on this machine: the screen sharing portal refused the request"
        ),
        "{err}"
    );
    assert!(out.is_empty(), "no table when capture does not work: {out}");

    // The console's engine: refused, with the reason; no test patterns.
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut ws = wait_until_async(DEADLINE, "the console's engine to listen", async || {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => Some(support::connect_raw(addr, None).await.0),
            Err(_) => None,
        }
    })
    .await;
    let refused = wait_until_async(DEADLINE, "capture to be refused", async || {
        let a = sources(&mut ws).await;
        if a.capture.state == CaptureState::Refused {
            Ok(a)
        } else {
            Err(format!("{a:?}"))
        }
    })
    .await;
    let reason = refused.capture.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("refused the request") && reason.contains("What to do"),
        "{reason}"
    );
    assert!(
        refused.sources.is_empty(),
        "no test patterns: {:?}",
        refused.sources
    );

    // Ask again: the real portal is asked once more, and refuses again.
    let retry = support::call(
        &mut ws,
        "r",
        "Call/RoomShare",
        json!({"action": "RetryCapture"}),
    )
    .await;
    assert_eq!(retry["result"]["error_code"], 0, "{retry}");
    wait_until(DEADLINE, "the portal to be asked again", || {
        session
            .log()
            .contains("asking the screen sharing portal again")
            .then_some(())
    });
    wait_until_async(DEADLINE, "refused again", async || {
        let a = sources(&mut ws).await;
        if a.capture.state == CaptureState::Refused {
            Ok(())
        } else {
            Err(format!("{a:?}"))
        }
    })
    .await;
    let refusals = session
        .log()
        .matches("screen sharing portal: the screen sharing portal refused")
        .count();
    assert!(
        refusals >= 2,
        "two requests, two refusals:\n{}",
        session.log()
    );

    // The window, as the session shows it.
    std::fs::write(session.file("shoot"), "").expect("ask for a screenshot");
    assert_eq!(session.await_file("shot.rc").trim(), "0", "grim failed");
    let shot = image::open(session.file("shot.png"))
        .expect("a PNG")
        .to_rgba8();
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wayland_console.png");
    let _ = shot.save(&kept);
    let all = (shot.width() * shot.height()) as usize;
    let red = count(&shot, [255, 0, 0]);
    assert!(
        red * 20 < all,
        "the console's window covers the red output ({red} of {all} red; see {})",
        kept.display()
    );
    let amber = count(&shot, [0xe3, 0xa0, 0x08]);
    assert!(
        amber > 300,
        "the refusal panel's amber frame is drawn ({amber} px; see {})",
        kept.display()
    );
}
