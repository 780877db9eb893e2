//! Adding, editing and removing rooms: the console writes the rooms file
//! back. Edits apply to the file as it is on disk now (not to the copy
//! loaded at start), through `toml_edit`, so a hand edit made meanwhile,
//! comments and layout all survive.

use super::file::{PasswordSource, RoomEntry, RoomsFile, RoomsFileError, check_inline_allowed};
use super::{keychain, secrets};
use std::path::Path;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

/// Mode of a new rooms file: private when it holds a password, otherwise
/// the usual readable configuration file.
const PRIVATE: u32 = 0o600;
const PUBLIC: u32 = 0o644;

impl RoomsFile {
    /// Append a room. Refused when the name is taken, a field is empty,
    /// its password cannot be read, or it is an inline password and the
    /// file can be read by others.
    pub fn add(&mut self, entry: RoomEntry) -> Result<(), RoomsFileError> {
        self.edit(&entry, None, |rooms| {
            let mut table = Table::new();
            fill(&mut table, &entry);
            rooms.push(table);
            Ok(())
        })
    }

    /// Replace the room named `old_name` (its name may change too).
    pub fn update(&mut self, old_name: &str, entry: RoomEntry) -> Result<(), RoomsFileError> {
        let path = self.path().to_path_buf();
        self.edit(&entry, Some(old_name), |rooms| {
            let i = position(rooms, old_name).ok_or_else(|| no_room(&path, old_name))?;
            if let Some(table) = rooms.get_mut(i) {
                fill(table, &entry);
            }
            Ok(())
        })
    }

    /// [`RoomsFile::add`] (`old_name` = `None`) or [`RoomsFile::update`],
    /// for the console's dialog: a room whose password is kept in the
    /// keychain (`PasswordSource::Keyring`) gets `typed` stored there
    /// first. Without a typed password an edited room keeps its entry
    /// (moved to the new key when its name or url changed). Nothing is
    /// stored when the entry would be refused for its name or url.
    pub fn save_with_keychain(
        &mut self,
        old_name: Option<&str>,
        entry: RoomEntry,
        typed: Option<&str>,
    ) -> Result<(), RoomsFileError> {
        let mut moved_from = None;
        if entry.password == PasswordSource::Keyring {
            let bare = RoomEntry {
                password: PasswordSource::None,
                ..entry.clone()
            };
            let mut doc = self.document()?;
            self.check_entry(&bare, rooms_of(&mut doc, self)?, old_name)?;
            match typed.filter(|p| !p.is_empty()) {
                Some(password) => keychain::set(&entry.name, &entry.url, password)
                    .map_err(|e| self.error(e.to_string()))?,
                None => moved_from = self.move_keychain_entry(old_name, &entry)?,
            }
        }
        match old_name {
            Some(old) => self.update(old, entry)?,
            None => self.add(entry)?,
        }
        if let Some(old) = moved_from {
            // The room lives under its new key now; a stale entry is harmless.
            let _ = keychain::delete(&old.name, &old.url);
        }
        Ok(())
    }

    /// When an edit changes the name or url of a room kept in the
    /// keychain, copy its password to the new key; the old entry, to
    /// remove once the file is written.
    fn move_keychain_entry(
        &self,
        old_name: Option<&str>,
        entry: &RoomEntry,
    ) -> Result<Option<RoomEntry>, RoomsFileError> {
        let Some(old) = old_name.and_then(|n| self.get(n)).cloned() else {
            return Ok(None);
        };
        let same = keychain::user(&old.name, &old.url) == keychain::user(&entry.name, &entry.url);
        if old.password != PasswordSource::Keyring || same {
            return Ok(None);
        }
        let moved = keychain::get(&old.name, &old.url)
            .and_then(|pw| keychain::set(&entry.name, &entry.url, &pw));
        moved.map_err(|e| self.error(e.to_string()))?;
        Ok(Some(old))
    }

    /// `roomshare rooms set-password`: store `password` in the keychain as
    /// the password of the room `name`, then make the file say
    /// `password_keyring = true` for it (its other password keys removed,
    /// comments kept). The file is not touched when the room is unknown,
    /// the password empty or the keychain fails. Works on a file loaded
    /// with [`RoomsFile::load_unresolved`].
    pub fn set_keychain_password(
        &mut self,
        name: &str,
        password: &str,
    ) -> Result<(), RoomsFileError> {
        let Some(entry) = self.get(name).cloned() else {
            return Err(no_room(self.path(), name));
        };
        if password.is_empty() {
            return Err(self.error("the password is empty; nothing was stored"));
        }
        let mut doc = self.document()?;
        let rooms = rooms_of(&mut doc, self)?;
        let i = position(rooms, name).ok_or_else(|| no_room(self.path(), name))?;
        keychain::set(&entry.name, &entry.url, password).map_err(|e| self.error(e.to_string()))?;
        if let Some(table) = rooms.get_mut(i) {
            fill(
                table,
                &RoomEntry {
                    password: PasswordSource::Keyring,
                    ..entry
                },
            );
        }
        let inline = rooms.iter().any(|t| t.contains_key("password"));
        self.write(&doc.to_string(), inline)
    }

    /// Remove the room named `name`.
    pub fn remove(&mut self, name: &str) -> Result<(), RoomsFileError> {
        let mut doc = self.document()?;
        let rooms = rooms_of(&mut doc, self)?;
        let i = position(rooms, name).ok_or_else(|| no_room(self.path(), name))?;
        rooms.remove(i);
        self.write(&doc.to_string(), false)
    }

    /// Check `entry`, apply `change` to the file's `[[room]]` list, write.
    fn edit(
        &mut self,
        entry: &RoomEntry,
        replacing: Option<&str>,
        change: impl FnOnce(&mut ArrayOfTables) -> Result<(), RoomsFileError>,
    ) -> Result<(), RoomsFileError> {
        let mut doc = self.document()?;
        let rooms = rooms_of(&mut doc, self)?;
        self.check_entry(entry, rooms, replacing)?;
        change(rooms)?;
        let inline = matches!(entry.password, PasswordSource::Inline(_))
            || rooms.iter().any(|t| t.contains_key("password"));
        self.write(&doc.to_string(), inline)
    }

    /// What a new or edited entry must satisfy before it is written.
    fn check_entry(
        &self,
        entry: &RoomEntry,
        rooms: &ArrayOfTables,
        replacing: Option<&str>,
    ) -> Result<(), RoomsFileError> {
        if entry.name.trim().is_empty() {
            return Err(self.error("the room needs a name"));
        }
        if entry.url.trim().is_empty() {
            return Err(self.error(format!("room {:?} needs a url", entry.name)));
        }
        let taken = position(rooms, entry.name.trim()).is_some()
            && replacing.is_none_or(|old| old.trim() != entry.name.trim());
        if taken {
            return Err(self.error(format!(
                "a room named {:?} already exists; names must be unique",
                entry.name.trim()
            )));
        }
        match &entry.password {
            // Checked against the file's mode when writing.
            PasswordSource::Inline(secret) if secret.is_empty() => {
                Err(self.error("the password is empty"))
            }
            PasswordSource::Inline(_) | PasswordSource::None => Ok(()),
            _ => self.resolve_password(entry).map(drop),
        }
    }

    /// The file's current text as an editable document (empty when it does
    /// not exist yet).
    fn document(&self) -> Result<DocumentMut, RoomsFileError> {
        let text = match std::fs::read_to_string(self.path()) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(self.error(format!("cannot read the rooms file: {e}"))),
        };
        text.parse::<DocumentMut>().map_err(|e| {
            self.error(format!(
                "the rooms file on disk is no longer valid TOML, fix it by hand first: {}",
                e.message()
            ))
        })
    }

    /// Write `text` with the right mode, then load it back (which checks it
    /// all again and refreshes the entries and their lines).
    fn write(&mut self, text: &str, holds_inline: bool) -> Result<(), RoomsFileError> {
        let mode = match secrets::mode_of(self.path()) {
            Some(mode) => {
                if holds_inline {
                    check_inline_allowed(self.path(), None).map_err(|r| self.error(r))?;
                }
                mode
            }
            None if holds_inline => PRIVATE,
            None => PUBLIC,
        };
        secrets::write_atomically(self.path(), text, mode)
            .map_err(|e| self.error(format!("cannot write the rooms file: {e}")))?;
        let loaded = RoomsFile::load(self.path())?;
        self.set_loaded(loaded);
        Ok(())
    }
}

/// The `[[room]]` list, created in an empty document.
fn rooms_of<'a>(
    doc: &'a mut DocumentMut,
    file: &RoomsFile,
) -> Result<&'a mut ArrayOfTables, RoomsFileError> {
    if !doc.contains_key("room") {
        doc.insert("room", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    doc.get_mut("room")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| {
            file.error(
                "the rooms are not written as [[room]] tables; the console can only edit that form",
            )
        })
}

fn position(rooms: &ArrayOfTables, name: &str) -> Option<usize> {
    rooms.iter().position(|t| {
        t.get("name")
            .and_then(Item::as_str)
            .is_some_and(|n| n.trim() == name.trim())
    })
}

fn no_room(path: &Path, name: &str) -> RoomsFileError {
    RoomsFileError {
        path: path.to_path_buf(),
        line: None,
        reason: format!("no room named {name:?}"),
    }
}

/// Write `entry` into `table`, leaving values that did not change alone
/// (with their comments).
fn fill(table: &mut Table, entry: &RoomEntry) {
    set(table, "name", Some(entry.name.trim()));
    set(table, "url", Some(entry.url.trim()));
    let group = entry.group.trim();
    set(table, "group", (!group.is_empty()).then_some(group));
    let file_text;
    let (inline, env, file) = match &entry.password {
        PasswordSource::None | PasswordSource::Keyring => (None, None, None),
        PasswordSource::Inline(s) => (Some(s.as_str()), None, None),
        PasswordSource::Env(v) => (None, Some(v.as_str()), None),
        PasswordSource::File(p) => {
            file_text = p.to_string_lossy().into_owned();
            (None, None, Some(file_text.as_str()))
        }
    };
    set(table, "password", inline);
    set(table, "password_env", env);
    set(table, "password_file", file);
    if entry.password == PasswordSource::Keyring {
        if table.get("password_keyring").and_then(Item::as_bool) != Some(true) {
            table.insert("password_keyring", value(true));
        }
    } else {
        table.remove("password_keyring");
    }
}

/// Set or remove one string key; an unchanged value is not touched.
fn set(table: &mut Table, key: &str, new: Option<&str>) {
    match new {
        None => {
            table.remove(key);
        }
        Some(v) if table.get(key).and_then(Item::as_str) == Some(v) => {}
        Some(v) => {
            table.insert(key, value(v));
        }
    }
}
