//! A real Secret Service for the keychain tests (`tests/keychain.rs`,
//! `tests/keychain_console.rs`): gnome-keyring-daemon on a private session
//! bus, its login keyring created and unlocked with a known password in a
//! temporary HOME, so the user's own keyring is never touched. Killed by
//! pid when dropped.
//!
//! Tools (a missing one fails the test with the package to install):
//! gnome-keyring-daemon (`gnome-keyring`), dbus-daemon and dbus-send
//! (`dbus`), secret-tool (`libsecret-tools`).
// Each test file uses its own part of the rig.
#![allow(dead_code)]

use super::portal_rig::{Bus, DEADLINE, spawn};
use super::wait::wait_until;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The login keyring's own password (what a desktop login would unlock it with).
const LOGIN_PASSWORD: &str = "login-keyring-pw";

/// A private bus and a temporary HOME, with or without a Secret Service.
pub struct Keychain {
    pub bus: Bus,
    home: tempfile::TempDir,
    daemon: Option<Child>,
}

impl Keychain {
    /// A bus with a Secret Service on it, unlocked.
    pub fn start() -> Keychain {
        let mut keychain = Keychain::absent();
        let log = std::fs::File::create(keychain.log()).expect("log file");
        let mut cmd = Command::new("gnome-keyring-daemon");
        // --unlock: the login keyring's password on stdin; it is created
        // with it, unlocked, since this HOME has none.
        cmd.args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log);
        let mut daemon = spawn(keychain.env(&mut cmd), "gnome-keyring");
        let mut stdin = daemon.stdin.take().expect("piped stdin");
        stdin
            .write_all(LOGIN_PASSWORD.as_bytes())
            .expect("the password to gnome-keyring-daemon");
        drop(stdin);
        keychain.daemon = Some(daemon);
        keychain.wait_for_service();
        keychain
    }

    /// A bus where nobody offers a Secret Service.
    pub fn absent() -> Keychain {
        let home = tempfile::tempdir().expect("temp dir");
        for dir in ["data", "config", "run"] {
            std::fs::create_dir(home.path().join(dir)).expect("dir");
        }
        let run = home.path().join("run");
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        Keychain {
            bus: Bus::start(),
            home,
            daemon: None,
        }
    }

    /// Run `cmd` on this bus, in this HOME.
    pub fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        let home = self.home.path();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_RUNTIME_DIR", home.join("run"))
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    fn log(&self) -> PathBuf {
        self.home.path().join("gnome-keyring-daemon.log")
    }

    /// Until the daemon owns org.freedesktop.secrets on the bus (failing
    /// at once, with its log, if it exits).
    fn wait_for_service(&mut self) {
        wait_until(DEADLINE, "gnome-keyring-daemon on the bus", || {
            if let Some(Ok(Some(status))) = self.daemon.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(self.log()).unwrap_or_default();
                panic!("gnome-keyring-daemon exited ({status}): {log}");
            }
            let mut cmd = Command::new("dbus-send");
            cmd.args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ]);
            let out = self.env(&mut cmd).output().unwrap_or_else(|e| {
                panic!("cannot run dbus-send: {e} (install it: apt-get install dbus)")
            });
            String::from_utf8_lossy(&out.stdout)
                .contains("boolean true")
                .then_some(())
        });
    }

    /// Lock the login keyring, as a screen lock or a timeout would.
    pub fn lock(&self) {
        let mut cmd = Command::new("dbus-send");
        cmd.args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ]);
        let out = self.env(&mut cmd).output().expect("dbus-send");
        assert!(
            out.status.success(),
            "Lock: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What the Secret Service holds for service `roomshare` and `user`,
    /// read with libsecret's own tool (not through roomshare).
    pub fn lookup(&self, user: &str) -> Option<String> {
        let mut cmd = Command::new("secret-tool");
        cmd.args(["lookup", "service", "roomshare", "username", user]);
        let out = self.env(&mut cmd).output().unwrap_or_else(|e| {
            panic!("cannot run secret-tool: {e} (install it: apt-get install libsecret-tools)")
        });
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Keychain {
    fn drop(&mut self) {
        if let Some(daemon) = &mut self.daemon {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}
