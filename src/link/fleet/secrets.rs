//! Files that hold passwords: who may read them, reading a password file,
//! and writing the rooms file atomically with the right permissions.
//!
//! The rule is `.pgpass`'s and ssh's: a file with a secret in it must not
//! be readable (or writable) by the group or the world. Unix permissions
//! only; on other platforms the check is skipped ([`Privacy::Unknown`]),
//! since their ACLs do not map onto a mode.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Who can read a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    /// Only its owner (no group or other bits).
    Private,
    /// Others can read or write it; the mode, for the message.
    Exposed(u32),
    /// Not a Unix platform: not checked.
    #[cfg_attr(unix, allow(dead_code))]
    Unknown,
}

/// The privacy of the file at `path` (which must exist).
pub fn privacy(path: &Path) -> std::io::Result<Privacy> {
    let meta = std::fs::metadata(path)?;
    Ok(privacy_of(&meta))
}

#[cfg(unix)]
fn privacy_of(meta: &std::fs::Metadata) -> Privacy {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        Privacy::Private
    } else {
        Privacy::Exposed(mode)
    }
}

#[cfg(not(unix))]
fn privacy_of(_meta: &std::fs::Metadata) -> Privacy {
    Privacy::Unknown
}

/// The password in a `password_file`: its first line, without the line
/// ending (editors add one). The file must be private and not empty.
pub fn read_password_file(path: &Path) -> Result<Option<String>, String> {
    let shown = path.display();
    match privacy(path) {
        Err(e) => return Err(format!("password_file {shown}: {e}")),
        Ok(Privacy::Exposed(mode)) => {
            return Err(format!(
                "password_file {shown} can be read by others (mode {mode:04o}); make it private with `chmod 600 {shown}`"
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
