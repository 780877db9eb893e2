//! What the console remembers between runs ([`Settings`]) and the two
//! counters other threads share with it ([`ChangeCounter`], [`RepaintCounter`]).

use crate::ui::i18n::Lang;
use crate::ui::share_card::ShareOptions;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the console remembers between runs (eframe persistence). No
/// runtime handles and never a password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub lang: Lang,
    pub share: ShareOptions,
    /// Room addresses, most recent first (no passwords).
    pub recent_rooms: Vec<String>,
    pub show_traffic: bool,
    pub show_background_traffic: bool,
    pub show_simulator: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lang: Lang::En,
            share: ShareOptions::default(),
            recent_rooms: Vec::new(),
            show_traffic: true,
            show_background_traffic: false,
            show_simulator: true,
        }
    }
}

impl Settings {
    pub const KEY: &'static str = "roomshare.settings";

    pub fn remember_room(&mut self, url: &str) {
        self.recent_rooms.retain(|r| r != url);
        self.recent_rooms.insert(0, url.to_string());
        self.recent_rooms.truncate(8);
    }

    /// Settings from eframe storage, if any.
    pub fn load(storage: Option<&dyn eframe::Storage>) -> Settings {
        storage
            .and_then(|s| eframe::get_value::<Settings>(s, Settings::KEY))
            .unwrap_or_default()
    }
}

/// Counts changes reported by the link and capture (their `on_change`), so
/// the room page refreshes its copy of the traffic log only when something
/// moved.
#[derive(Clone, Default)]
pub struct ChangeCounter(Arc<AtomicU64>);

impl ChangeCounter {
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Repaints (frames drawn) since the console started, readable from any
/// thread (the `--stats` line is logged by a timer thread, never by a
/// repaint).
#[derive(Clone, Default)]
pub struct RepaintCounter(Arc<AtomicU64>);

impl RepaintCounter {
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
