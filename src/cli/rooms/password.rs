//! `roomshare rooms set-password NAME`: a room's password into the system
//! keychain, and `password_keyring = true` on that room in the rooms file.

use super::{rooms_path, usage};
use crate::link::fleet::RoomsFile;
use crate::link::fleet::keychain::{self, KEYCHAIN, SERVICE};
use clap::Args;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SetPasswordArgs {
    /// The rooms file (default: $XDG_CONFIG_HOME/roomshare/rooms.toml, the platform's config folder elsewhere).
    #[arg(long, value_name = "FILE")]
    pub rooms: Option<PathBuf>,
    /// The room, by its name in the file.
    pub name: String,
}

/// Exit code when the keychain failed (bad input is 2, as elsewhere).
const KEYCHAIN_FAILED: u8 = 1;

pub fn run(args: SetPasswordArgs) -> ExitCode {
    let path = match rooms_path(args.rooms.as_ref()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // Not `load`: this room may already say password_keyring = true
    // without an entry, which is what this command is for.
    let mut file = match RoomsFile::load_unresolved(&path) {
        Ok(f) => f,
        Err(e) => return usage(&e.to_string()),
    };
    let Some(entry) = file.get(&args.name).cloned() else {
        return usage(&format!(
            "no room named {:?} in {}; nothing was stored",
            args.name,
            path.display()
        ));
    };
    let password = match read_password(&args.name) {
        Ok(p) if p.is_empty() => return usage("the password is empty; nothing was stored"),
        Ok(p) => p,
        Err(e) => return usage(&e),
    };
    if let Err(e) = file.set_keychain_password(&entry.name, &password) {
        eprintln!("{e}");
        return ExitCode::from(KEYCHAIN_FAILED);
    }
    println!(
        "stored the password of {:?} in {KEYCHAIN} (service {SERVICE:?}, user {:?})",
        entry.name,
        keychain::user(&entry.name, &entry.url)
    );
    println!(
        "{}: room {:?} now says password_keyring = true",
        path.display(),
        entry.name
    );
    ExitCode::SUCCESS
}

/// From the terminal without echo (asked twice), or the first line of
/// standard input when that is not a terminal (scripts, tests).
fn read_password(name: &str) -> Result<String, String> {
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the password: {e}"))
    };
    let first = ask(&format!("Password for {name}: "))?;
    if first.is_empty() {
        return Ok(first);
    }
    if ask("Again: ")? != first {
        return Err("the two passwords differ; nothing was stored".into());
    }
    Ok(first)
}
