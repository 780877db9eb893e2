//! The private D-Bus session bus and PipeWire daemon the portal tests run
//! against (`tests/wayland_portal.rs`, `tests/portal_frontend.rs`), with
//! GStreamer `videotestsrc ! pipewiresink` producers of one solid colour.
//! Every process it starts is killed by pid when its owner drops.
//!
//! Tools (a missing one fails the test with the package to install):
//! dbus-daemon (Debian `dbus-daemon`), pipewire + pw-dump (`pipewire`,
//! `pipewire-bin`), wireplumber, gst-launch-1.0 with videotestsrc and
//! pipewiresink (`gstreamer1.0-tools`, `gstreamer1.0-plugins-base`,
//! `gstreamer1.0-pipewire`).
// Each test file uses its own part of the rig.
#![allow(dead_code)]

use super::wait::wait_until;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long anything the rig waits for may take on a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub fn spawn(cmd: &mut Command, package: &str) -> Child {
    let name = cmd.get_program().to_string_lossy().into_owned();
    cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot run {name}: {e} (install it: apt-get install {package})")
    })
}

// ---------------------------------------------------------------- D-Bus ---

/// A private session bus; the daemon is killed by pid when dropped.
///
/// Hermetic: its only service directory is an empty one of its own, so a
/// name nobody owns is `ServiceUnknown` here whatever the machine has
/// installed (Debian's session config would activate the system's
/// `xdg-desktop-portal`, on every desktop).
pub struct Bus {
    child: Child,
    pub address: String,
    _dir: tempfile::TempDir,
}

impl Bus {
    pub fn start() -> Bus {
        let dir = tempfile::tempdir().expect("temp dir");
        let listen = format!("unix:path={}", dir.path().join("bus").display());
        let services = dir.path().join("services");
        std::fs::create_dir(&services).expect("service dir");
        let config = dir.path().join("session.conf");
        std::fs::write(&config, bus_config(&listen, &services)).expect("bus config");
        let mut child = spawn(
            Command::new("dbus-daemon")
                .arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                // Its only output here: a warning that it cannot raise its fd limit.
                .stderr(Stdio::null()),
            "dbus-daemon",
        );
        // The daemon prints its address once it listens (or exits: EOF).
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("dbus-daemon output");
        let address = line.trim().to_string();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        Bus {
            child,
            address,
            _dir: dir,
        }
    }
}

/// A session bus listening on `listen`, as Debian's `session.conf` sets
/// one up but with `services` as its only service directory.
pub fn bus_config(listen: &str, services: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>{listen}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        services.display()
    )
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------- PipeWire ---

/// A private PipeWire daemon with WirePlumber, and GStreamer sources.
pub struct PipeWire {
    dir: tempfile::TempDir,
    bus: String,
    /// Each helper with the Debian package that has it.
    children: Vec<(String, Child, String)>,
}

impl PipeWire {
    pub const HINT: &str = "pipewire pipewire-bin wireplumber gstreamer1.0-pipewire gstreamer1.0-tools gstreamer1.0-plugins-base";

    pub fn start(bus: &Bus) -> PipeWire {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        let mut pw = PipeWire {
            dir,
            bus: bus.address.clone(),
            children: Vec::new(),
        };
        pw.spawn("pipewire", Command::new("pipewire"));
        let socket = pw.socket();
        pw.wait_for("the PipeWire socket", |_| socket.exists().then_some(()));
        pw.spawn("wireplumber", Command::new("wireplumber"));
        // WirePlumber links streams to their targets: wait until it is a
        // client of the daemon, so nothing is created before it can link.
        pw.wait_for("WirePlumber to connect", |pw| {
            let client = |o: &serde_json::Value| {
                o["type"] == "PipeWire:Interface:Client"
                    && o["info"]["props"]["application.name"] == "WirePlumber"
            };
            pw.objects().iter().any(client).then_some(())
        });
        pw
    }

    /// The daemon's `XDG_RUNTIME_DIR` (its socket and the helpers' logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("pipewire-0")
    }

    /// Run `cmd` with this daemon's environment (and nothing of the user's).
    pub fn command(&self, mut cmd: Command) -> Command {
        let home = self.dir.path().join("home");
        cmd.env("XDG_RUNTIME_DIR", self.dir.path())
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("HOME", &home)
            .env("XDG_STATE_HOME", home.join("state"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("PIPEWIRE_REMOTE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    pub fn log(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.log"))
    }

    /// Start a helper; its output goes to `<name>.log` for the failure text.
    pub fn spawn(&mut self, name: &str, cmd: Command) {
        self.spawn_from(name, cmd, Self::HINT);
    }

    /// [`PipeWire::spawn`] for a tool of another Debian `package`.
    pub fn spawn_from(&mut self, name: &str, cmd: Command, package: &str) {
        let log = std::fs::File::create(self.log(name)).expect("log file");
        let mut cmd = self.command(cmd);
        let child = spawn(cmd.stderr(log), package);
        self.children
            .push((name.to_string(), child, package.to_string()));
    }

    /// Like [`wait_until`], failing at once (with its log) when a helper
    /// exits: a missing plugin or a daemon that cannot start.
    pub fn wait_for<T>(&mut self, what: &str, mut f: impl FnMut(&Self) -> Option<T>) -> T {
        wait_until(DEADLINE, what, || {
            for (name, child, package) in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = std::fs::read_to_string(self.dir.path().join(format!("{name}.log")));
                    panic!(
                        "{name} exited ({status}) while waiting for {what}: {}\n(apt-get install {package})",
                        log.unwrap_or_default(),
                    );
                }
            }
            f(self)
        })
    }

    pub fn objects(&self) -> Vec<serde_json::Value> {
        let mut cmd = self.command(Command::new("pw-dump"));
        let out = cmd
            .stdout(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("cannot run pw-dump: {e} (apt-get install pipewire-bin)"));
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    }

    /// A `videotestsrc` of one colour as a Video/Source node; its node id.
    pub fn source(&mut self, name: &str, format: &str, argb: u32, (w, h): (u32, u32)) -> u32 {
        let caps = format!("video/x-raw,format={format},width={w},height={h},framerate=30/1");
        let props = format!("stream-properties=props,media.class=Video/Source,node.name={name}");
        let mut cmd = Command::new("gst-launch-1.0");
        cmd.args(["-q", "videotestsrc", "is-live=true", "pattern=solid-color"])
            .arg(format!("foreground-color={argb:#010x}"))
            .args(["!", &caps, "!", "pipewiresink", "mode=provide", &props]);
        self.spawn(name, cmd);
        self.node(name)
    }

    /// The id of the node called `name`, once it is there.
    pub fn node(&mut self, name: &str) -> u32 {
        self.wait_for(&format!("node {name}"), |pw| {
            let node = |o: &&serde_json::Value| {
                o["type"] == "PipeWire:Interface:Node" && o["info"]["props"]["node.name"] == name
            };
            let id = pw
                .objects()
                .iter()
                .find(node)
                .and_then(|o| o["id"].as_u64());
            id.map(|id| id as u32)
        })
    }

    /// Stop (SIGSTOP) or continue (SIGCONT) a helper by its pid: a
    /// producer that stops delivering frames without going away.
    // kill(2) is a libc call; the pid is our own child's.
    #[allow(unsafe_code)]
    pub fn pause(&self, name: &str, paused: bool) {
        let signal = if paused { libc::SIGSTOP } else { libc::SIGCONT };
        let (_, child, _) = self
            .children
            .iter()
            .find(|(n, ..)| n == name)
            .unwrap_or_else(|| panic!("no helper {name}"));
        let pid = libc::pid_t::try_from(child.id()).expect("a pid");
        // SAFETY: a signal to our own child, by its pid.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(
            sent,
            0,
            "cannot signal {name}: {}",
            std::io::Error::last_os_error()
        );
    }

    /// End a helper by its pid, the way a closed window's producer ends.
    pub fn kill(&mut self, name: &str) {
        if let Some(i) = self.children.iter().position(|(n, ..)| n == name) {
            let (_, mut child, _) = self.children.remove(i);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PipeWire {
    fn drop(&mut self) {
        for (_, child, _) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
