//! The ScreenCast restore token on disk.
//!
//! The portal hands out a restore token when the user allows a persistent
//! grant (`persist_mode` 2). Passing it back on the next start restores the
//! same sources without a dialog. Tokens are single-use: every successful
//! start returns a fresh one, which replaces the stored one.
//!
//! The token is as good as a "yes" in the dialog, so the file is private
//! (0600, in a 0700 folder) and replaced atomically (write a temporary file
//! beside it, fsync, rename), so a crash never leaves half a token that
//! would make the next start fail in a confusing way.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The file name inside `$XDG_STATE_HOME/roomshare/`.
pub const TOKEN_FILE: &str = "portal-token";

/// Longer than any token a portal gives (they are UUIDs); a bigger file is
/// not ours.
const MAX_TOKEN_LEN: usize = 1024;

/// `$XDG_STATE_HOME/roomshare/portal-token`, else
/// `~/.local/state/roomshare/portal-token`; `None` when neither variable
/// gives an absolute path (the token is then not kept).
pub fn default_token_path() -> Option<PathBuf> {
    token_path_from(std::env::var_os("XDG_STATE_HOME"), std::env::var_os("HOME"))
}

/// [`default_token_path`] from given variable values (testable without
/// touching the process environment).
pub fn token_path_from(state_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    // The XDG base directory spec: relative values are invalid and ignored.
    let absolute = |v: OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    let base = state_home
        .and_then(absolute)
        .or_else(|| home.and_then(absolute).map(|h| h.join(".local/state")))?;
    Some(base.join("roomshare").join(TOKEN_FILE))
}

/// Whether `token` can be stored as one line and passed back to the portal.
fn valid(token: &str) -> bool {
    !token.is_empty() && token.len() <= MAX_TOKEN_LEN && token.chars().all(|c| c.is_ascii_graphic())
}

/// The restore token file.
#[derive(Debug, Clone)]
pub struct TokenStore {
    path: PathBuf,
}

impl TokenStore {
    pub fn new(path: impl Into<PathBuf>) -> TokenStore {
        TokenStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored token. A missing file is the normal first start; an
    /// unreadable or garbled one is logged and treated the same (the portal
    /// then asks once and a good token replaces it).
    pub fn load(&self) -> Option<String> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(target: super::LOG, "cannot read the screen sharing token {}: {e}", self.path.display());
                return None;
            }
        };
        let token = text.trim_end_matches('\n');
        if valid(token) {
            Some(token.to_string())
        } else {
            tracing::warn!(target: super::LOG, "ignoring a malformed screen sharing token in {}", self.path.display());
            None
        }
    }

    /// Replace the stored token atomically; the file is 0600.
    pub fn store(&self, token: &str) -> io::Result<()> {
        if !valid(token) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the portal gave a restore token that is not one line of printable text",
            ));
        }
        let dir = self.path.parent().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the token path has no folder")
        })?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let tmp = temp_path(&self.path);
        let written = write_private(&tmp, token).and_then(|()| fs::rename(&tmp, &self.path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        // The rename is only durable once the folder itself is synced.
        File::open(dir)?.sync_all()
    }

    /// Forget the token (a spent or refused one); a missing file is fine.
    pub fn clear(&self) -> io::Result<()> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// A temporary name beside `path`, unique per process and call, so two
/// writers never share one.
fn temp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = format!(".{TOKEN_FILE}.{}.{n}.tmp", std::process::id());
    path.with_file_name(name)
}

/// A new 0600 file holding `token` and a newline, synced to disk.
fn write_private(tmp: &Path, token: &str) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    // The mode above is filtered by the umask, which can only take bits
    // away; set it exactly anyway.
    f.set_permissions(Permissions::from_mode(0o600))?;
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}
