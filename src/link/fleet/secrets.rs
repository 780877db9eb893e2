//! Files that hold passwords: who may read them, reading a password file,
//! and writing the rooms file atomically with the right permissions.
//!
//! The rule is `.pgpass`'s and ssh's: a file with a secret in it must not
//! be readable (or writable) by anyone but its owner. On Unix that is the
//! mode (no group or other bits); on Windows the access list (only the
//! owner, SYSTEM and Administrators: `acl.rs`); elsewhere the check is
//! skipped ([`Privacy::Unknown`]).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Who can read a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privacy {
    /// Only its owner (and, on Windows, the system).
    Private,
    /// Others can read or write it: who (`mode 0644`, `Users (S-1-5-32-545)`)
    /// and the command that makes it private.
    Exposed { who: String, fix: String },
    /// Neither Unix nor Windows: not checked.
    #[cfg_attr(any(unix, windows), allow(dead_code))]
    Unknown,
}

/// The privacy of the file at `path` (which must exist).
#[cfg(unix)]
pub fn privacy(path: &Path) -> std::io::Result<Privacy> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    Ok(if mode & 0o077 == 0 {
        Privacy::Private
    } else {
        Privacy::Exposed {
            who: format!("mode {mode:04o}"),
            fix: format!("chmod 600 {}", path.display()),
        }
    })
}

/// The privacy of the file at `path` (which must exist).
#[cfg(windows)]
pub fn privacy(path: &Path) -> std::io::Result<Privacy> {
    let (owner, dacl) = super::acl::read(path)?;
    let who = super::acl::exposed_to(&owner, dacl.as_deref());
    Ok(if who.is_empty() {
        Privacy::Private
    } else {
        Privacy::Exposed {
            who: who.join(", "),
            fix: format!(
                "icacls \"{}\" /inheritance:r /grant:r \"%USERNAME%:F\"",
                path.display()
            ),
        }
    })
}

/// The privacy of the file at `path` (which must exist).
#[cfg(not(any(unix, windows)))]
pub fn privacy(path: &Path) -> std::io::Result<Privacy> {
    std::fs::metadata(path).map(|_| Privacy::Unknown)
}

/// The other way out of a refused file: the keychain, with the command
/// that puts `room`'s password there.
pub fn keychain_hint(room: Option<&str>) -> String {
    let name = room.map_or("NAME".to_string(), |r| format!("{r:?}"));
    format!(
        "keep the password in the system keychain instead: `roomshare rooms set-password {name}` (or use password_env)"
    )
}

/// The password in `room`'s `password_file`: its first line, without the
/// line ending (editors add one). The file must be private and not empty.
pub fn read_password_file(path: &Path, room: &str) -> Result<Option<String>, String> {
    let shown = path.display();
    match privacy(path) {
        Err(e) => return Err(format!("password_file {shown}: {e}")),
        Ok(Privacy::Exposed { who, fix }) => {
            return Err(format!(
                "password_file {shown} can be read by others ({who}); make it private with `{fix}`, or {}",
                keychain_hint(Some(room))
            ));
        }
        Ok(Privacy::Private | Privacy::Unknown) => {}
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("password_file {shown}: {e}"))?;
    let password = text.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        return Err(format!("password_file {shown} is empty"));
    }
    Ok(Some(password))
}

/// Replace `path` with `text` atomically: write a temporary file beside
/// it, flush it to disk, rename it over the old one. `mode` is the new
/// file's permission bits (Unix); the folder is created when missing.
pub fn write_atomically(path: &Path, text: &str, mode: u32) -> std::io::Result<()> {
    let target = real_target(path);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rooms.toml".into());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = write_new(&temp, text, mode).and_then(|()| std::fs::rename(&temp, &target));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    // The rename is durable only once the folder's entry is on disk too.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A symlinked rooms file is updated where it points, not replaced by a
/// regular file.
fn real_target(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn write_new(path: &Path, text: &str, mode: u32) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Private from the first byte: never briefly readable by others.
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    set_mode(path, mode)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// The permission bits of an existing file (Unix), or `None`.
pub fn mode_of(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
