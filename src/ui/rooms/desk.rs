//! What the Rooms view drives: the live [`Fleet`] and the rooms file it was
//! started from, behind a small trait so snapshot tests can show fixed
//! rooms. Every method returns at once; results arrive in the snapshot.

use crate::link::Target;
use crate::link::fleet::keychain::Availability;
use crate::link::fleet::{self, Fleet, FleetAction, RoomEntry, RoomStatus, RoomsFile};
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;

/// The Rooms view's side of the fleet.
pub trait RoomsDesk: Send + Sync {
    /// Every room's status, in list order.
    fn rooms(&self) -> Arc<Vec<RoomStatus>>;
    /// Send `action` to exactly the rooms in `names`.
    fn call(&self, names: &[String], action: FleetAction);
    /// Retry now in these rooms.
    fn reconnect(&self, names: &[String]);
    /// How to reach one room (to open it in the single-room view).
    fn target(&self, name: &str) -> Option<Target>;
    /// The file's entry for `name` (for the editor); `None` for a room that
    /// is not in the file (the embedded engine).
    fn entry(&self, name: &str) -> Option<RoomEntry>;
    /// Add (`old_name` = `None`) or replace a room; written to the file.
    /// `keychain_password`: typed for a room kept in the system keychain,
    /// stored there first.
    fn save(
        &self,
        old_name: Option<&str>,
        entry: RoomEntry,
        keychain_password: Option<String>,
    ) -> Result<(), String>;
    /// Remove a room from the file.
    fn remove(&self, name: &str) -> Result<(), String>;
    /// Where the rooms are kept.
    fn file_path(&self) -> Option<PathBuf>;
    /// Whether a system keychain answered; `None` while still asking.
    fn keychain_available(&self) -> Option<bool>;
}

/// The real desk: a fleet plus its rooms file. Edits go to the file first;
/// the fleet follows only what the file accepted.
pub struct FleetDesk {
    fleet: Fleet,
    file: Mutex<RoomsFile>,
    /// The embedded engine, listed while the file has no rooms.
    embedded: Option<Target>,
    /// Asked once, at start, off the UI thread (a keychain may block).
    keychain: Availability,
}

impl FleetDesk {
    pub fn new(fleet: Fleet, file: RoomsFile, embedded: Option<Target>) -> FleetDesk {
        FleetDesk {
            fleet,
            file: Mutex::new(file),
            embedded,
            keychain: Availability::probe(|| {}),
        }
    }

    /// Let the fleet follow the file as it is now.
    fn follow_file(&self, file: &RoomsFile) -> Result<(), String> {
        let rooms = if file.entries().is_empty() {
            fleet::starting_rooms(file, self.embedded.clone())
        } else {
            file.fleet_rooms()
        };
        let rooms = rooms.map_err(|e| e.to_string())?;
        self.fleet.set_rooms(rooms);
        Ok(())
    }
}

impl RoomsDesk for FleetDesk {
    fn rooms(&self) -> Arc<Vec<RoomStatus>> {
        self.fleet.rooms()
    }
    fn call(&self, names: &[String], action: FleetAction) {
        // Outcomes are read from each room's `last_call`.
        drop(self.fleet.call(names, action));
    }
    fn reconnect(&self, names: &[String]) {
        self.fleet.reconnect(names)
    }
    fn target(&self, name: &str) -> Option<Target> {
        self.fleet.target(name)
    }
    fn entry(&self, name: &str) -> Option<RoomEntry> {
        self.file.lock().get(name).cloned()
    }
    fn save(
        &self,
        old_name: Option<&str>,
        entry: RoomEntry,
        keychain_password: Option<String>,
    ) -> Result<(), String> {
        let mut file = self.file.lock();
        file.save_with_keychain(old_name, entry, keychain_password.as_deref())
            .map_err(|e| e.to_string())?;
        self.follow_file(&file)
    }
    fn remove(&self, name: &str) -> Result<(), String> {
        let mut file = self.file.lock();
        file.remove(name).map_err(|e| e.to_string())?;
        self.follow_file(&file)
    }
    fn file_path(&self) -> Option<PathBuf> {
        Some(self.file.lock().path().to_path_buf())
    }
    fn keychain_available(&self) -> Option<bool> {
        self.keychain.get()
    }
}

/// Fixed rooms that never change, recording what they were asked: for
/// snapshot tests of specific states and for frame-time benchmarks.
#[derive(Default)]
pub struct FixedRoomsDesk {
    pub rooms: Arc<Vec<RoomStatus>>,
    pub calls: Mutex<Vec<(Vec<String>, FleetAction)>>,
    /// What the keychain probe "found" (none by default).
    pub keychain: bool,
}

impl FixedRoomsDesk {
    pub fn new(rooms: Vec<RoomStatus>) -> FixedRoomsDesk {
        FixedRoomsDesk {
            rooms: Arc::new(rooms),
            calls: Mutex::default(),
            keychain: false,
        }
    }
}

impl RoomsDesk for FixedRoomsDesk {
    fn rooms(&self) -> Arc<Vec<RoomStatus>> {
        self.rooms.clone()
    }
    fn call(&self, names: &[String], action: FleetAction) {
        self.calls.lock().push((names.to_vec(), action));
    }
    fn reconnect(&self, _: &[String]) {}
    fn target(&self, name: &str) -> Option<Target> {
        let room = self.rooms.iter().find(|r| r.name == name)?;
        Some(Target::remote(&room.label, None))
    }
    fn entry(&self, _: &str) -> Option<RoomEntry> {
        None
    }
    fn save(&self, _: Option<&str>, _: RoomEntry, _: Option<String>) -> Result<(), String> {
        Err("fixed rooms cannot be edited".into())
    }
    fn remove(&self, _: &str) -> Result<(), String> {
        Err("fixed rooms cannot be edited".into())
    }
    fn file_path(&self) -> Option<PathBuf> {
        None
    }
    fn keychain_available(&self) -> Option<bool> {
        Some(self.keychain)
    }
}
