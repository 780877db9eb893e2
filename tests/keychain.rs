//! `roomshare rooms set-password` and `password_keyring = true` through the
//! real binary against a real Secret Service (gnome-keyring-daemon on a
//! private D-Bus session bus, in a temporary HOME: `support/keychain_rig.rs`)
//! and a real `roomshare serve` that wants the password: the rooms answer
//! only if the password really came out of the keychain. Then a wrong
//! password, a missing entry, and no keychain at all, each a clear error
//! with the file left as it was.
// The Secret Service is Linux's keychain (Windows and macOS have their
// own, which the keyring crate speaks; they are linted, not run, here).
#![cfg(target_os = "linux")]

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;
use support::bin::{lines_of, roomshare, stderr, stdout};
use support::keychain_rig::Keychain;

const PASSWORD: &str = "s3cret+/=密码 with spaces";
const WAIT: Duration = Duration::from_secs(20);

/// `roomshare serve --rooms-demo 1` wanting [`PASSWORD`], killed on drop.
struct Served {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start() -> Served {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo.toml");
        let mut child = roomshare()
            .args(["serve", "--rooms-demo", "1", "--port-base", "0"])
            .args(["--password", PASSWORD, "--rooms-out"])
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn serve");
        let lines = lines_of(child.stdout.take().unwrap());
        let line = lines.recv_timeout(WAIT).expect("serve says it is ready");
        assert!(line.starts_with("roomshare serving"), "{line}");
        let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let url = doc["room"][0]["url"].as_str().unwrap().to_string();
        Served {
            child,
            url,
            _dir: dir,
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The rooms file `text` in a folder of its own (mode 0644: no secret in it).
fn rooms_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// `roomshare ARGS` on `keychain`'s bus, `input` on its stdin.
fn run(keychain: &Keychain, args: &[&str], rooms: &Path, input: &str) -> Output {
    let mut cmd = roomshare();
    cmd.args(args).arg("--rooms").arg(rooms);
    keychain.env(&mut cmd);
    run_with_input(&mut cmd, input)
}

fn run_with_input(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn roomshare");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().expect("roomshare ends")
}

fn set_password(keychain: &Keychain, rooms: &Path, name: &str, input: &str) -> Output {
    run(keychain, &["rooms", "set-password", name], rooms, input)
}

/// `rooms status --json`: the one room's JSON line and the output.
fn status(keychain: &Keychain, rooms: &Path) -> (serde_json::Value, Output) {
    let out = run(
        keychain,
        &["rooms", "status", "--json", "--timeout", "5"],
        rooms,
        "",
    );
    let line = stdout(&out).lines().next().unwrap_or("null").to_string();
    (serde_json::from_str(&line).unwrap(), out)
}

#[test]
fn set_password_stores_it_and_the_room_answers_with_it_until_locked() {
    let keychain = Keychain::start();
    let served = Served::start();
    let url = &served.url;
    // Comments and layout must survive; the old password key must go.
    let (_dir, rooms) = rooms_file(&format!(
        "# Floor 12, east wing\n[[room]]\nname = \"12F Everest\"\nurl = \"{url}\"  # the room PC\ngroup = \"12F\"\npassword_env = \"NOT_SET_ANYWHERE\"\n"
    ));

    let out = set_password(&keychain, &rooms, "12F Everest", &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let user = format!("12F Everest <{url}>");
    let said = stdout(&out);
    assert!(
        said.contains("the Secret Service")
            && said.contains("service \"roomshare\"")
            && said.contains(&format!("user {user:?}"))
            && said.contains("now says password_keyring = true"),
        "{said}"
    );
    let text = std::fs::read_to_string(&rooms).unwrap();
    assert!(text.contains("password_keyring = true"), "{text}");
    assert!(
        !text.contains("password_env") && !text.contains(PASSWORD),
        "{text}"
    );
    assert!(
        text.contains("# Floor 12, east wing") && text.contains("# the room PC"),
        "{text}"
    );
    // Under exactly the documented service and user, as libsecret reads it.
    assert_eq!(keychain.lookup(&user).as_deref(), Some(PASSWORD));

    // The served room wants PASSWORD: it answers only with the keychain's.
    let (line, out) = status(&keychain, &rooms);
    assert!(out.status.success(), "{line} {}", stderr(&out));
    assert_eq!(line["state"], "connected", "{line}");

    // A wrong password in the keychain: the room refuses it, and says so.
    let out = set_password(&keychain, &rooms, "12F Everest", "not the password\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let (line, out) = status(&keychain, &rooms);
    assert_eq!(line["state"], "auth_failed", "{line}");
    assert_eq!(out.status.code(), Some(3));

    // A room that says password_keyring = true without an entry: refused
    // with its line and the command that fixes it; nothing is visited.
    let mut text = std::fs::read_to_string(&rooms).unwrap();
    text.push_str(&format!(
        "\n[[room]]\nname = \"12F K2\"\nurl = \"{url}\"\npassword_keyring = true\n"
    ));
    std::fs::write(&rooms, &text).unwrap();
    let at = text.lines().count(); // the last line: K2's password_keyring
    let (_, out) = status(&keychain, &rooms);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("rooms.toml:{at}: no password for room \"12F K2\""))
            && err.contains("roomshare rooms set-password \"12F K2\""),
        "{err}"
    );
    assert_eq!(stdout(&out), "");
    // ... which set-password then fixes, on the file as it is.
    let out = set_password(&keychain, &rooms, "12F K2", &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&keychain, &["rooms", "status"], &rooms, "");
    assert_eq!(
        out.status.code(),
        Some(3),
        "Everest still has the wrong one"
    );
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.contains("12F K2") && l.contains("connected"))
    );

    // A locked keychain: said so, with what to do; nothing is visited.
    keychain.lock();
    let (_, out) = status(&keychain, &rooms);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the system keychain is locked") && err.contains("unlock it"),
        "{err}"
    );
}

#[test]
fn no_keychain_unknown_room_and_empty_password_leave_the_file_untouched() {
    // A bus where nobody offers org.freedesktop.secrets.
    let keychain = Keychain::absent();
    let text = "[[room]]\nname = \"Lhotse\"\nurl = \"ws://127.0.0.1:9/\"\n";
    let (_dir, rooms) = rooms_file(text);
    let untouched = |out: &Output| {
        assert!(!out.status.success(), "{}", stdout(out));
        assert_eq!(std::fs::read_to_string(&rooms).unwrap(), text);
    };

    let out = set_password(&keychain, &rooms, "Lhotse", "pw\n");
    untouched(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no system keychain is available") && err.contains("Secret Service"),
        "{err}"
    );

    let out = set_password(&keychain, &rooms, "Nuptse", "pw\n");
    untouched(&out);
    assert!(
        stderr(&out).contains("no room named \"Nuptse\""),
        "{}",
        stderr(&out)
    );

    let out = set_password(&keychain, &rooms, "Lhotse", "\n");
    untouched(&out);
    assert!(
        stderr(&out).contains("the password is empty"),
        "{}",
        stderr(&out)
    );

    // No session bus at all (none set, none at $XDG_RUNTIME_DIR/bus).
    let mut cmd = roomshare();
    keychain
        .env(&mut cmd)
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    cmd.args(["rooms", "set-password", "--rooms"])
        .arg(&rooms)
        .arg("Lhotse");
    let out = run_with_input(&mut cmd, "pw\n");
    untouched(&out);
    assert!(
        stderr(&out).contains("no system keychain is available"),
        "{}",
        stderr(&out)
    );

    // A room that needs the keychain cannot start without one.
    let keyring_room =
        "[[room]]\nname = \"Lhotse\"\nurl = \"ws://127.0.0.1:9/\"\npassword_keyring = true\n";
    std::fs::write(&rooms, keyring_room).unwrap();
    let out = run(&keychain, &["rooms", "status"], &rooms, "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("rooms.toml:4: no system keychain is available"),
        "{}",
        stderr(&out)
    );
}
