//! The rooms file: which rooms the technician looks after, as TOML.
//!
//! ```toml
//! [[room]]
//! name = "12F Everest"
//! url = "ws://10.0.12.5:6295"
//! group = "12F"
//! password_env = "ROOMS_PW_EVEREST"   # or: password_file = "everest.pw", or: password = "…"
//!                                     # or: password_keyring = true
//! ```
//!
//! `password_keyring = true` takes the password from the system keychain
//! (the entry keyed by the room's name and url: see [`super::keychain`]);
//! `roomshare rooms set-password NAME` stores it there.
//!
//! Loading checks everything before anything starts: TOML syntax, unknown
//! keys, a missing `name` or `url`, duplicate names, and every password
//! (the variable is set, the file exists and is private, an inline
//! `password` sits in a private file). Each refusal names the line.
//!
//! Writing (add, update, remove) edits the file's own text with
//! `toml_edit`, so the technician's comments and layout survive, and
//! replaces it atomically (a temporary file in the same folder, then a
//! rename) so a crash never leaves half a file.

use super::keychain;
use super::secrets::{self, Privacy};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where a room's password comes from.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum PasswordSource {
    /// The room has no password (a loopback engine, a device without one).
    #[default]
    None,
    /// `password_env = "VAR"`: read from the environment when connecting.
    Env(String),
    /// `password_file = "room.pw"`: relative to the rooms file's folder;
    /// the file must be private (0600), like the rooms file itself.
    File(PathBuf),
    /// `password = "…"`: only in a rooms file that only its owner can read.
    Inline(String),
    /// `password_keyring = true`: in the system keychain, under the room's
    /// name and url ([`super::keychain::user`]).
    Keyring,
}

/// Never prints an inline password (the UI and logs may `{:?}` an entry).
impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::None => f.write_str("None"),
            PasswordSource::Env(var) => f.debug_tuple("Env").field(var).finish(),
            PasswordSource::File(path) => f.debug_tuple("File").field(path).finish(),
            PasswordSource::Inline(_) => f.write_str("Inline(<hidden>)"),
            PasswordSource::Keyring => f.write_str("Keyring"),
        }
    }
}

/// One `[[room]]` of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomEntry {
    /// Unique within the file; how the CLI (`--name`) and the UI pick it.
    pub name: String,
    /// `ws://host:6295` (a bare host or `host:port` works too).
    pub url: String,
    /// Free text; empty = no group.
    pub group: String,
    pub password: PasswordSource,
}

impl RoomEntry {
    pub fn new(name: &str, url: &str, group: &str, password: PasswordSource) -> RoomEntry {
        RoomEntry {
            name: name.to_string(),
            url: url.to_string(),
            group: group.to_string(),
            password,
        }
    }
}

/// Why a rooms file was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RoomsFileError {
    pub path: PathBuf,
    /// 1-based; `None` when the whole file is concerned (unreadable).
    pub line: Option<usize>,
    /// What is wrong and, where it helps, how to fix it.
    pub reason: String,
}

/// `rooms.toml:7: duplicate name "12F Everest" (first at line 2)`.
impl fmt::Display for RoomsFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.reason),
            None => write!(f, "{}: {}", self.path.display(), self.reason),
        }
    }
}

/// A loaded rooms file: its entries in file order, every one checked.
#[derive(Debug, Clone)]
pub struct RoomsFile {
    path: PathBuf,
    entries: Vec<RoomEntry>,
    /// Where each entry is: its `[[room]]` line and the line of its
    /// password key (for errors found after parsing).
    lines: Vec<Lines>,
    exists: bool,
}

/// The file as TOML says it; `deny_unknown_fields` turns a typo
/// (`pasword_env`) into a refusal instead of a silently missing password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    room: Vec<Spanned<RawRoom>>,
}

/// Lines of one entry in the file.
#[derive(Debug, Clone, Copy)]
struct Lines {
    room: usize,
    password: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoom {
    name: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    group: String,
    password: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    /// `false` is the same as leaving it out.
    password_keyring: Option<Spanned<bool>>,
}

impl RoomsFile {
    /// `$XDG_CONFIG_HOME/roomshare/rooms.toml` on Linux (`~/.config/…`),
    /// the platform's configuration folder elsewhere; `None` when the
    /// platform has no home folder.
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|dir| dir.join("roomshare").join("rooms.toml"))
    }

    /// Read and check the file. A missing file is an error here; see
    /// [`RoomsFile::load_or_new`] for the console's first start.
    pub fn load(path: &Path) -> Result<RoomsFile, RoomsFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| RoomsFileError {
            path: path.to_path_buf(),
            line: None,
            reason: format!("cannot read the rooms file: {e}"),
        })?;
        RoomsFile::parse(path, &text)
    }

    /// [`RoomsFile::load`], or an empty list when the file does not exist
    /// yet ([`RoomsFile::exists`] is then false, and the first
    /// [`RoomsFile::add`] creates it).
    pub fn load_or_new(path: &Path) -> Result<RoomsFile, RoomsFileError> {
        if !path.exists() {
            return Ok(RoomsFile {
                path: path.to_path_buf(),
                entries: Vec::new(),
                lines: Vec::new(),
                exists: false,
            });
        }
        RoomsFile::load(path)
    }

    /// Check `text` as the contents of `path` (whose permissions and
    /// folder matter for passwords).
    pub fn parse(path: &Path, text: &str) -> Result<RoomsFile, RoomsFileError> {
        let file = RoomsFile::parse_unresolved(path, text)?;
        file.resolve_passwords()?;
        Ok(file)
    }

    /// [`RoomsFile::load`] without reading any password: what
    /// `rooms set-password` starts from, since the room it is about may
    /// say `password_keyring = true` before its entry exists.
    pub fn load_unresolved(path: &Path) -> Result<RoomsFile, RoomsFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| RoomsFileError {
            path: path.to_path_buf(),
            line: None,
            reason: format!("cannot read the rooms file: {e}"),
        })?;
        RoomsFile::parse_unresolved(path, &text)
    }

    /// Every check but the passwords' own.
    fn parse_unresolved(path: &Path, text: &str) -> Result<RoomsFile, RoomsFileError> {
        let at = |offset: usize, reason: String| RoomsFileError {
            path: path.to_path_buf(),
            line: Some(line_of(text, offset)),
            reason,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| RoomsFileError {
            path: path.to_path_buf(),
            line: e.span().map(|s| line_of(text, s.start)),
            reason: e.message().trim().to_string(),
        })?;
        let mut file = RoomsFile {
            path: path.to_path_buf(),
            entries: Vec::new(),
            lines: Vec::new(),
            exists: true,
        };
        for room in raw.room {
            let room_line = line_of(text, room.span().start);
            let (entry, password_at) = checked_entry(room.into_inner(), &file, &at)?;
            let password = password_at.map_or(room_line, |offset| line_of(text, offset));
            file.entries.push(entry);
            file.lines.push(Lines {
                room: room_line,
                password,
            });
        }
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// False for a file that does not exist yet ([`RoomsFile::load_or_new`]).
    pub fn exists(&self) -> bool {
        self.exists
    }

    /// The rooms, in file order.
    pub fn entries(&self) -> &[RoomEntry] {
        &self.entries
    }

    pub fn get(&self, name: &str) -> Option<&RoomEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The groups, in order of first appearance (empty group left out).
    pub fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for e in &self.entries {
            if !e.group.is_empty() && !groups.contains(&e.group) {
                groups.push(e.group.clone());
            }
        }
        groups
    }

    /// The password to connect to `entry` with, read now (an environment
    /// variable or a password file may have changed since loading).
    pub fn resolve_password(&self, entry: &RoomEntry) -> Result<Option<String>, RoomsFileError> {
        self.resolve(entry).map_err(|reason| RoomsFileError {
            path: self.path.clone(),
            line: self
                .entries
                .iter()
                .position(|e| e.name == entry.name)
                .and_then(|i| self.lines.get(i))
                .map(|l| l.password),
            reason,
        })
    }

    /// Every entry's password, in file order, read now; the first refusal
    /// with its line. One after the other: keychain look-ups (a D-Bus
    /// session each on Linux, ~7 ms) made 8 at a time crashed
    /// gnome-keyring-daemon 42.1 after a few hundred (a GLib error in the
    /// daemon), and a sequential 60-room file loads in under a second.
    pub fn resolve_passwords(&self) -> Result<Vec<Option<String>>, RoomsFileError> {
        self.entries
            .iter()
            .zip(&self.lines)
            .map(|(entry, lines)| {
                self.resolve(entry).map_err(|reason| RoomsFileError {
                    path: self.path.clone(),
                    line: Some(lines.password),
                    reason,
                })
            })
            .collect()
    }

    /// The password, or why it cannot be had (without the line).
    fn resolve(&self, entry: &RoomEntry) -> Result<Option<String>, String> {
        match &entry.password {
            PasswordSource::None => Ok(None),
            PasswordSource::Env(var) => match std::env::var(var) {
                Ok(value) => Ok(Some(value)),
                Err(std::env::VarError::NotPresent) => Err(format!(
                    "password_env {var} is not set in the environment (export {var}=… before starting, or use password_file)"
                )),
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(format!("password_env {var} is not valid UTF-8"))
                }
            },
            PasswordSource::File(relative) => {
                secrets::read_password_file(&self.password_file_path(relative), &entry.name)
            }
            PasswordSource::Inline(secret) => {
                check_inline_allowed(&self.path, Some(&entry.name))?;
                Ok(Some(secret.clone()))
            }
            PasswordSource::Keyring => keychain::get(&entry.name, &entry.url)
                .map(Some)
                .map_err(|e| e.to_string()),
        }
    }

    /// A `password_file` as written, resolved against the rooms file's folder.
    pub fn password_file_path(&self, written: &Path) -> PathBuf {
        match self.path.parent() {
            Some(dir) if written.is_relative() => dir.join(written),
            _ => written.to_path_buf(),
        }
    }

    /// The line of `name`'s `[[room]]`, as loaded.
    pub fn line_of(&self, name: &str) -> Option<usize> {
        let i = self.entries.iter().position(|e| e.name == name)?;
        self.lines.get(i).map(|l| l.room)
    }

    pub(super) fn error(&self, reason: impl Into<String>) -> RoomsFileError {
        RoomsFileError {
            path: self.path.clone(),
            line: None,
            reason: reason.into(),
        }
    }

    pub(super) fn set_loaded(&mut self, loaded: RoomsFile) {
        *self = loaded;
    }
}

/// One raw `[[room]]` turned into an entry (and where its password key
/// is), with the checks that need no file system: those come once every
/// entry is read.
fn checked_entry(
    room: RawRoom,
    file: &RoomsFile,
    at: &impl Fn(usize, String) -> RoomsFileError,
) -> Result<(RoomEntry, Option<usize>), RoomsFileError> {
    let name_at = room.name.span().start;
    let name = room.name.into_inner().trim().to_string();
    if name.is_empty() {
        return Err(at(name_at, "`name` is empty".into()));
    }
    if let Some(first) = file.line_of(&name) {
        return Err(at(
            name_at,
            format!("duplicate name {name:?} (first at line {first}); names must be unique"),
        ));
    }
    let url_at = room.url.span().start;
    let url = room.url.into_inner().trim().to_string();
    if url.is_empty() {
        return Err(at(url_at, format!("room {name:?}: `url` is empty")));
    }
    let sources = [
        room.password
            .map(|p| (p.span().start, PasswordSource::Inline(p.into_inner()))),
        room.password_env
            .map(|p| (p.span().start, PasswordSource::Env(p.into_inner()))),
        room.password_file
            .map(|p| (p.span().start, PasswordSource::File(p.into_inner().into()))),
        room.password_keyring
            .filter(|p| *p.get_ref())
            .map(|p| (p.span().start, PasswordSource::Keyring)),
    ];
    // In file order, so a refusal names the later of two keys.
    let mut given: Vec<(usize, PasswordSource)> = sources.into_iter().flatten().collect();
    given.sort_by_key(|(offset, _)| *offset);
    let mut given = given.into_iter();
    let (password_at, password) = match (given.next(), given.next()) {
        (None, _) => (None, PasswordSource::None),
        (Some((offset, source)), None) => (Some(offset), source),
        (Some(_), Some((second, _))) => {
            return Err(at(
                second,
                format!(
                    "room {name:?}: give only one of `password`, `password_env`, `password_file` and `password_keyring = true`"
                ),
            ));
        }
    };
    let entry = RoomEntry {
        name,
        url,
        group: room.group.trim().to_string(),
        password,
    };
    Ok((entry, password_at))
}

/// An inline password is allowed only in a file its owner alone can read.
/// `room`: the room whose password it is, when known (for the hint).
pub(super) fn check_inline_allowed(path: &Path, room: Option<&str>) -> Result<(), String> {
    match secrets::privacy(path) {
        Ok(Privacy::Private) | Ok(Privacy::Unknown) => Ok(()),
        Ok(Privacy::Exposed { who, fix }) => Err(format!(
            "a `password` is written in {}, which others can read ({who}); make it private with `{fix}`, or {}",
            path.display(),
            secrets::keychain_hint(room)
        )),
        Err(e) => Err(format!("cannot check {}: {e}", path.display())),
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
