//! The console's one keyboard reader. Each page says which keys it uses
//! ([`KeyUse`]); only those are consumed, so a key a page ignores still
//! reaches egui's own widgets (Space on a focused button in the room page).

use egui::{Key, Modifiers};

/// Which page reads the keys, and so which keys are taken from egui.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// The single-room page: arrows move on the wall, Enter shares,
    /// Escape stops (or closes the inspector), I inspects the focused tile,
    /// Ctrl+L opens the connection dialog, Ctrl+R asks again for capture.
    RoomPage,
    /// The Rooms view: ↑↓ move, Space selects, Ctrl+A selects all shown,
    /// Enter opens, Escape clears.
    RoomsView,
}

/// The keys pressed this frame that a page acts on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    /// Presses of each arrow this frame (several may arrive in one frame:
    /// fast typing, xdotool).
    pub left: usize,
    pub right: usize,
    pub up: usize,
    pub down: usize,
    /// Home / End: the first / last item.
    pub home: bool,
    pub end: bool,
    pub enter: bool,
    pub escape: bool,
    pub space: bool,
    /// Ctrl+A (Cmd+A on macOS).
    pub select_all: bool,
    /// Ctrl+F: focus the page's filter (read even while typing).
    pub focus_filter: bool,
    /// Ctrl+L, as a browser's address bar (read even while typing).
    pub open_connect: bool,
    /// Ctrl+R: ask again for capture that was refused or failed.
    pub ask_again: bool,
    /// I: inspect the focused tile.
    pub inspect: bool,
}

impl Keys {
    /// This frame's keys for `page`. `busy` (a text field or a dialog has
    /// the keyboard) leaves everything but the Ctrl shortcuts to it.
    pub fn read(ctx: &egui::Context, busy: bool, page: KeyUse) -> Keys {
        let mut k = Keys::default();
        ctx.input_mut(|i| {
            k.focus_filter = i.consume_key(Modifiers::COMMAND, Key::F);
            if page == KeyUse::RoomPage {
                k.open_connect = i.consume_key(Modifiers::COMMAND, Key::L);
                k.ask_again = i.consume_key(Modifiers::COMMAND, Key::R);
            }
            if busy {
                return;
            }
            if page == KeyUse::RoomsView {
                k.select_all = i.consume_key(Modifiers::COMMAND, Key::A);
            }
            if page == KeyUse::RoomPage {
                k.inspect = i.consume_key(Modifiers::NONE, Key::I);
                k.left = i.count_and_consume_key(Modifiers::NONE, Key::ArrowLeft);
                k.right = i.count_and_consume_key(Modifiers::NONE, Key::ArrowRight);
            }
            k.up = i.count_and_consume_key(Modifiers::NONE, Key::ArrowUp);
            k.down = i.count_and_consume_key(Modifiers::NONE, Key::ArrowDown);
            k.home = i.consume_key(Modifiers::NONE, Key::Home);
            k.end = i.consume_key(Modifiers::NONE, Key::End);
            if page == KeyUse::RoomsView {
                k.space = i.consume_key(Modifiers::NONE, Key::Space);
            }
            k.enter = i.consume_key(Modifiers::NONE, Key::Enter);
            k.escape = i.consume_key(Modifiers::NONE, Key::Escape);
        });
        k
    }

    /// Presses that move a cursor or focus.
    pub fn moves(&self) -> usize {
        self.left
            + self.right
            + self.up
            + self.down
            + usize::from(self.home)
            + usize::from(self.end)
    }
}
