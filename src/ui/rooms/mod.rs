//! The Rooms view: every room the technician looks after, live, grouped,
//! sortable and filterable, with actions on the selected rooms (each
//! confirmed by name, each room's result in its row) and the rooms file
//! edited in place. Enter or a double click opens a room in the
//! single-room view; Escape there comes back.
//!
//! Keys (no text field focused): ↑↓ Home End move, Space selects,
//! Ctrl+A selects every shown room, Enter opens, Escape clears the
//! selection, Ctrl+F filters.

pub mod actions;
pub mod desk;
pub mod editor;
pub mod filter;
pub mod table;
pub mod text;

pub use desk::{FixedRoomsDesk, FleetDesk, RoomsDesk};

use crate::link::fleet::{FleetAction, RoomStatus};
use crate::ui::i18n::Lang;
use crate::ui::keys::Keys;
use crate::ui::style;
use actions::{Batch, Decision, Pending};
use editor::RoomEditor;
use egui::RichText;
use filter::{Line, Query, Show, SortBy};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The Rooms view's state between frames.
pub struct RoomsView {
    desk: Arc<dyn RoomsDesk>,
    pub query: Query,
    /// Selected rooms by name (survives re-sorting and live updates).
    pub selected: BTreeSet<String>,
    /// The keyboard cursor, by name.
    cursor: Option<String>,
    /// The room a Shift+click range starts from.
    anchor: Option<String>,
    pending: Option<Pending>,
    editor: Option<RoomEditor>,
    last_batch: Option<Batch>,
    /// A line about the last edit (saved, removed, or why not).
    message: Option<(String, egui::Color32)>,
    /// Rooms being removed from the file, until the desk answers.
    removing: Option<(desk::EditTicket, Vec<String>)>,
    focus_filter: bool,
    /// True while the view is on screen: the fleet's changes wake the
    /// console only then (the single-room view does not show them).
    shown: Arc<AtomicBool>,
    clock: text::AgoClock,
    /// (rooms, rooms known) last logged (end-to-end tests wait for it).
    logged: Option<(usize, usize)>,
}

/// What the view asks of the console.
#[derive(Debug, Default, PartialEq)]
pub struct RoomsOutput {
    /// Open this room in the single-room view.
    pub open: Option<String>,
    /// When the view's text changes by itself next (countdowns, "ago").
    pub wake_in: Option<Duration>,
}

impl RoomsView {
    pub fn new(desk: Arc<dyn RoomsDesk>) -> RoomsView {
        RoomsView {
            desk,
            query: Query::default(),
            selected: BTreeSet::new(),
            cursor: None,
            anchor: None,
            pending: None,
            editor: None,
            last_batch: None,
            message: None,
            removing: None,
            focus_filter: false,
            shown: Arc::new(AtomicBool::new(false)),
            clock: text::AgoClock::default(),
            logged: None,
        }
    }

    /// Share `shown` with the fleet's change callback (see the field).
    pub fn with_shown_flag(mut self, shown: Arc<AtomicBool>) -> RoomsView {
        self.shown = shown;
        self
    }

    /// Called by the console every frame with whether the view is drawn.
    pub fn set_shown(&self, shown: bool) {
        self.shown.store(shown, Ordering::Relaxed);
    }

    pub fn desk(&self) -> &Arc<dyn RoomsDesk> {
        &self.desk
    }

    /// A dialog is open (the console then leaves keys to it).
    pub fn dialog_open(&self) -> bool {
        self.pending.is_some() || self.editor.is_some()
    }

    /// Draw the view into the central area.
    pub fn ui(&mut self, ui: &mut egui::Ui, keys: Keys, lang: Lang) -> RoomsOutput {
        let now = Instant::now();
        let rooms = self.desk.rooms();
        self.log_known(&rooms);
        self.selected.retain(|n| rooms.iter().any(|r| &r.name == n));
        let lines = filter::lines(&rooms, &self.query);
        let shown: Vec<usize> = room_indices(&lines);
        let mut out = RoomsOutput::default();
        let reveal = self.keys(keys, &rooms, &shown, &mut out);
        self.toolbar(ui, &rooms, &shown, lang);
        self.action_bar(ui, &rooms, &shown, lang);
        let visible: Vec<&RoomStatus> = shown.iter().map(|&i| &rooms[i]).collect();
        let (ago_tick, next_tick) = self.clock.tick(&visible, now);
        let data = table::TableData {
            rooms: &rooms,
            lines: &lines,
            selected: &self.selected,
            cursor: self.cursor_index(&rooms),
            reveal_cursor: reveal,
            sort: self.query.sort,
            now,
            ago_tick,
        };
        let input = table::ui(ui, &data, lang);
        self.table_input(input, &rooms, &shown, &mut out);
        self.dialogs(ui.ctx(), lang);
        let removal = self.settle_removal(lang);
        out.wake_in = [next_tick, text::next_countdown(&visible, now), removal]
            .into_iter()
            .flatten()
            .min();
        out
    }

    /// Say how many rooms have answered or failed for good: `rooms view:
    /// 20 rooms, 20 known` (end-to-end tests wait for this line).
    fn log_known(&mut self, rooms: &[RoomStatus]) {
        let known = rooms
            .iter()
            .filter(|r| r.meeting.is_some() || filter::has_problem(r))
            .count();
        if self.logged != Some((rooms.len(), known)) {
            self.logged = Some((rooms.len(), known));
            tracing::info!(target: "roomshare::ui", "rooms view: {} rooms, {known} known", rooms.len());
        }
    }

    fn cursor_index(&self, rooms: &[RoomStatus]) -> Option<usize> {
        let name = self.cursor.as_ref()?;
        rooms.iter().position(|r| &r.name == name)
    }

    /// The rooms an action applies to: the selection, or else the room
    /// under the cursor.
    fn targets(&self, rooms: &[RoomStatus]) -> Vec<String> {
        if !self.selected.is_empty() {
            return rooms
                .iter()
                .filter(|r| self.selected.contains(&r.name))
                .map(|r| r.name.clone())
                .collect();
        }
        self.cursor_index(rooms)
            .map(|i| vec![rooms[i].name.clone()])
            .unwrap_or_default()
    }

    /// Keyboard: returns true when the cursor moved (scroll to it).
    fn keys(
        &mut self,
        keys: Keys,
        rooms: &[RoomStatus],
        shown: &[usize],
        out: &mut RoomsOutput,
    ) -> bool {
        self.focus_filter |= keys.focus_filter;
        if self.dialog_open() || shown.is_empty() {
            return false;
        }
        let at = self
            .cursor_index(rooms)
            .and_then(|c| shown.iter().position(|&i| i == c));
        let last = shown.len() - 1;
        let moved_to = match (at, keys) {
            (_, k) if k.home => Some(0),
            (_, k) if k.end => Some(last),
            (None, k) if k.up + k.down > 0 => Some(0),
            (Some(p), k) if k.up + k.down > 0 => Some((p + k.down).saturating_sub(k.up).min(last)),
            _ => None,
        };
        if let Some(p) = moved_to {
            self.cursor = Some(rooms[shown[p]].name.clone());
        }
        let cursor = self
            .cursor
            .clone()
            .filter(|_| at.is_some() || moved_to.is_some());
        if let (true, Some(name)) = (keys.space, &cursor) {
            toggle(&mut self.selected, name);
        }
        if keys.select_all {
            self.selected = shown.iter().map(|&i| rooms[i].name.clone()).collect();
        }
        if keys.escape {
            self.selected.clear();
        }
        if keys.enter {
            out.open = cursor;
        }
        moved_to.is_some()
    }

    /// Filter field, the show chips, the sort, and the rooms file.
    fn toolbar(&mut self, ui: &mut egui::Ui, rooms: &[RoomStatus], shown: &[usize], lang: Lang) {
        // Wraps: the keys hint goes to its own line in a narrow window.
        ui.horizontal_wrapped(|ui| {
            ui.heading(lang.tr("rooms"));
            ui.label(
                RichText::new(format!("{} / {}", shown.len(), rooms.len())).color(style::MUTED),
            );
            ui.add_space(12.0);
            let label = ui.label(lang.tr("filter"));
            let edit = egui::TextEdit::singleline(&mut self.query.text)
                .hint_text(lang.tr("rooms_filter_hint"))
                .desired_width(220.0);
            let field = ui.add(edit).labelled_by(label.id);
            if std::mem::take(&mut self.focus_filter) {
                field.request_focus();
            }
            ui.separator();
            ui.label(lang.tr("show"));
            for (value, key) in [
                (Show::All, "all_rooms"),
                (Show::Sharing, "sharing_now"),
                (Show::Problems, "problems"),
            ] {
                ui.selectable_value(&mut self.query.show, value, lang.tr(key));
            }
            ui.separator();
            let sort = ui.label(lang.tr("sort"));
            egui::ComboBox::from_id_salt("rooms-sort")
                .selected_text(lang.tr(sort_key(self.query.sort)))
                .show_ui(ui, |ui| {
                    for by in [SortBy::Name, SortBy::State, SortBy::Changed] {
                        ui.selectable_value(&mut self.query.sort, by, lang.tr(sort_key(by)));
                    }
                })
                .response
                .labelled_by(sort.id);
            ui.separator();
            let help = RichText::new(lang.tr("rooms_keys_help")).small();
            // Whole, on the next line when it does not fit (never broken).
            ui.add(egui::Label::new(help.color(style::MUTED)).extend());
        });
    }

    /// The actions on the selection, the rooms file's buttons, and the
    /// last batch's summary.
    fn action_bar(&mut self, ui: &mut egui::Ui, rooms: &[RoomStatus], shown: &[usize], lang: Lang) {
        let targets = self.targets(rooms);
        ui.horizontal_wrapped(|ui| {
            let count = match lang {
                Lang::En => format!("{} selected", self.selected.len()),
                Lang::Zh => format!("已选 {} 间", self.selected.len()),
            };
            ui.label(RichText::new(count).strong());
            for (action, key) in actions::share_actions() {
                let button = ui.add_enabled(!targets.is_empty(), egui::Button::new(lang.tr(key)));
                if button.clicked() {
                    self.pending = Some(Pending::Call {
                        action: FleetAction::Share(action),
                        label: key,
                        names: targets.clone(),
                    });
                }
            }
            let retry =
                ui.add_enabled(!targets.is_empty(), egui::Button::new(lang.tr("retry_now")));
            if retry.clicked() {
                self.desk.reconnect(&targets);
            }
            ui.separator();
            self.file_buttons(ui, rooms, shown, &targets, lang);
        });
        if let Some(batch) = &self.last_batch {
            let (text, color) = batch.summary(rooms, lang);
            ui.label(RichText::new(text).color(color));
        }
        if let Some((text, color)) = &self.message {
            ui.label(RichText::new(text).color(*color));
        }
    }

    fn file_buttons(
        &mut self,
        ui: &mut egui::Ui,
        rooms: &[RoomStatus],
        shown: &[usize],
        targets: &[String],
        lang: Lang,
    ) {
        if ui.button(lang.tr("add_room")).clicked() {
            let group = self
                .cursor_index(rooms)
                .or(shown.first().copied())
                .map_or("", |i| rooms[i].group.as_str());
            self.editor = Some(RoomEditor::add(group));
        }
        // Only rooms of the file can be edited or removed.
        let entry = match targets {
            [one] => self.desk.entry(one),
            _ => None,
        };
        let edit = ui.add_enabled(entry.is_some(), egui::Button::new(lang.tr("edit_room")));
        if let (true, Some(entry)) = (edit.clicked(), &entry) {
            self.editor = Some(RoomEditor::edit(entry));
        }
        let removable: Vec<String> = targets
            .iter()
            .filter(|n| self.desk.entry(n).is_some())
            .cloned()
            .collect();
        let remove = ui.add_enabled(
            !removable.is_empty(),
            egui::Button::new(lang.tr("remove_room")),
        );
        if remove.clicked() {
            self.pending = Some(Pending::Remove { names: removable });
        }
    }

    fn table_input(
        &mut self,
        input: table::TableInput,
        rooms: &[RoomStatus],
        shown: &[usize],
        out: &mut RoomsOutput,
    ) {
        if let Some(sort) = input.sort {
            self.query.sort = sort;
        }
        if let Some(i) = input.toggled {
            toggle(&mut self.selected, &rooms[i].name);
            self.cursor = Some(rooms[i].name.clone());
        }
        if let Some((i, modifiers)) = input.clicked {
            self.click(i, modifiers, rooms, shown);
        }
        if let Some(i) = input.opened {
            out.open = Some(rooms[i].name.clone());
        }
    }

    /// A click selects that room alone; Ctrl adds or removes it; Shift
    /// selects the range from the last clicked room.
    fn click(
        &mut self,
        i: usize,
        modifiers: egui::Modifiers,
        rooms: &[RoomStatus],
        shown: &[usize],
    ) {
        let name = rooms[i].name.clone();
        if modifiers.shift
            && let Some(anchor) = &self.anchor
            && let Some(a) = shown.iter().position(|&j| &rooms[j].name == anchor)
            && let Some(b) = shown.iter().position(|&j| j == i)
        {
            let (from, to) = (a.min(b), a.max(b));
            self.selected
                .extend(shown[from..=to].iter().map(|&j| rooms[j].name.clone()));
        } else if modifiers.command {
            toggle(&mut self.selected, &name);
            self.anchor = Some(name.clone());
        } else {
            self.selected = BTreeSet::from([name.clone()]);
            self.anchor = Some(name.clone());
        }
        self.cursor = Some(name);
    }

    fn dialogs(&mut self, ctx: &egui::Context, lang: Lang) {
        if let Some(pending) = &self.pending {
            match actions::confirm(ctx, pending, lang) {
                Decision::Waiting => {}
                Decision::No => self.pending = None,
                Decision::Yes => {
                    let pending = self.pending.take();
                    self.carry_out(pending, lang);
                }
            }
        }
        if let Some(editor) = &mut self.editor {
            let mut saved = None;
            if editor.ui(ctx, self.desk.as_ref(), lang, &mut saved) {
                self.editor = None;
            }
            if let Some(name) = saved {
                let text = format!("{} {name}", lang.tr("saved_room"));
                self.message = Some((text, style::OK));
                self.cursor = Some(name);
            }
        }
    }

    /// Say how a removal went once the desk answers; until then, when to
    /// look again.
    fn settle_removal(&mut self, lang: Lang) -> Option<Duration> {
        let (ticket, names) = self.removing.as_ref()?;
        let answer = ticket.lock().take();
        let Some(result) = answer else {
            return Some(Duration::from_millis(50));
        };
        self.message = Some(match result {
            Ok(()) => (
                format!("{} {}", lang.tr("removed_rooms"), names.join(", ")),
                style::OK,
            ),
            Err(errors) => (errors, style::ERR),
        });
        self.removing = None;
        None
    }

    fn carry_out(&mut self, pending: Option<Pending>, lang: Lang) {
        match pending {
            Some(Pending::Call {
                action,
                label,
                names,
            }) => {
                let sent_at = Instant::now();
                self.desk.call(&names, action.clone());
                self.last_batch = Some(Batch {
                    action,
                    label,
                    names,
                    sent_at,
                });
            }
            Some(Pending::Remove { names }) => {
                let ticket = self.desk.remove(&names);
                self.message = Some((lang.tr("removing").to_string(), style::MUTED));
                self.removing = Some((ticket, names));
                self.selected.clear();
            }
            None => {}
        }
    }
}

fn toggle(set: &mut BTreeSet<String>, name: &str) {
    if !set.remove(name) {
        set.insert(name.to_string());
    }
}

fn room_indices(lines: &[Line]) -> Vec<usize> {
    lines
        .iter()
        .filter_map(|l| match l {
            Line::Room(i) => Some(*i),
            Line::Group(_) => None,
        })
        .collect()
}

fn sort_key(by: SortBy) -> &'static str {
    match by {
        SortBy::Name => "sort_name",
        SortBy::State => "sort_state",
        SortBy::Changed => "sort_changed",
    }
}
