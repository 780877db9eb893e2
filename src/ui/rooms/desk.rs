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
    /// stored there first. Done off the UI thread (a keychain may wait for
    /// the user to unlock it); the ticket says how it went.
    fn save(
        &self,
        old_name: Option<&str>,
        entry: RoomEntry,
        keychain_password: Option<String>,
    ) -> EditTicket;
    /// Remove rooms from the file (off the UI thread, as `save`).
    fn remove(&self, names: &[String]) -> EditTicket;
    /// Where the rooms are kept.
    fn file_path(&self) -> Option<PathBuf>;
    /// Whether a system keychain answered; `None` while still asking.
    fn keychain_available(&self) -> Option<bool>;
}

/// An edit of the rooms file under way: `None` until it is done.
pub type EditTicket = Arc<Mutex<Option<Result<(), String>>>>;

/// A ticket already answered.
fn answered(result: Result<(), String>) -> EditTicket {
    Arc::new(Mutex::new(Some(result)))
}

/// The real desk: a fleet plus its rooms file. Edits go to the file first;
/// the fleet follows only what the file accepted.
pub struct FleetDesk {
    rooms: Arc<FleetFile>,
    path: PathBuf,
    /// Asked once, at start, off the UI thread (a keychain may block).
    keychain: Availability,
}

/// The fleet and the file it follows, shared with the edits under way.
struct FleetFile {
    fleet: Fleet,
    file: Mutex<RoomsFile>,
    /// The embedded engine, listed while the file has no rooms.
    embedded: Option<Target>,
}

impl FleetDesk {
    pub fn new(fleet: Fleet, file: RoomsFile, embedded: Option<Target>) -> FleetDesk {
        FleetDesk {
            path: file.path().to_path_buf(),
            rooms: Arc::new(FleetFile {
                fleet,
                file: Mutex::new(file),
                embedded,
            }),
            keychain: Availability::probe(|| {}),
        }
    }

    /// Run `edit` on the file on a thread of its own, then let the fleet
    /// follow the file (reading keychain passwords may block too).
    fn edit(
        &self,
        edit: impl FnOnce(&mut RoomsFile) -> Result<(), String> + Send + 'static,
    ) -> EditTicket {
        let ticket = EditTicket::default();
        let (answer, rooms) = (ticket.clone(), self.rooms.clone());
        let job = move || {
            let mut file = rooms.file.lock();
            let result = edit(&mut file).and_then(|()| rooms.follow_file(&file));
            *answer.lock() = Some(result);
        };
        if let Err(e) = std::thread::Builder::new()
            .name("rooms-edit".into())
            .spawn(job)
        {
            return answered(Err(format!("cannot save: {e}")));
        }
        ticket
    }
}

impl FleetFile {
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
        self.rooms.fleet.rooms()
    }
    fn call(&self, names: &[String], action: FleetAction) {
        // Outcomes are read from each room's `last_call`.
        drop(self.rooms.fleet.call(names, action));
    }
    fn reconnect(&self, names: &[String]) {
        self.rooms.fleet.reconnect(names)
    }
    fn target(&self, name: &str) -> Option<Target> {
        self.rooms.fleet.target(name)
    }
    fn entry(&self, name: &str) -> Option<RoomEntry> {
        // Never waits on an edit under way (it may wait on a keychain).
        self.rooms.file.try_lock()?.get(name).cloned()
    }
    fn save(
        &self,
        old_name: Option<&str>,
        entry: RoomEntry,
        keychain_password: Option<String>,
    ) -> EditTicket {
        let old_name = old_name.map(str::to_string);
        self.edit(move |file| {
            file.save_with_keychain(old_name.as_deref(), entry, keychain_password.as_deref())
                .map_err(|e| e.to_string())
        })
    }
    fn remove(&self, names: &[String]) -> EditTicket {
        let names = names.to_vec();
        self.edit(move |file| {
            let errors: Vec<String> = names
                .iter()
                .filter_map(|n| file.remove(n).err().map(|e| e.to_string()))
                .collect();
            match errors.is_empty() {
                true => Ok(()),
                false => Err(errors.join("; ")),
            }
        })
    }
    fn file_path(&self) -> Option<PathBuf> {
        Some(self.path.clone())
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
    fn save(&self, _: Option<&str>, _: RoomEntry, _: Option<String>) -> EditTicket {
        answered(Err("fixed rooms cannot be edited".into()))
    }
    fn remove(&self, _: &[String]) -> EditTicket {
        answered(Err("fixed rooms cannot be edited".into()))
    }
    fn file_path(&self) -> Option<PathBuf> {
        None
    }
    fn keychain_available(&self) -> Option<bool> {
        Some(self.keychain)
    }
}
