//! Keyboard on the wall: arrows move the focus between visible tiles (up
//! and down by the last frame's layout), Home/End jump, Enter shares, I
//! inspects.

use super::Wall;
use super::tiles::Tile;
use crate::ui::Intent;
use crate::ui::keys::Keys;
use egui::Rect;

#[derive(Clone, Copy)]
enum Step {
    Left,
    Right,
    Up,
    Down,
}

impl Wall {
    /// Move focus / share with the keyboard.
    pub fn keys(&mut self, keys: Keys, tiles: &[Tile], out: &mut Vec<Intent>) {
        if keys.focus_filter {
            self.focus_filter = true;
        }
        let visible = self.visible(tiles);
        if visible.is_empty() {
            return;
        }
        let pos = self.moved(&keys, &visible);
        if keys.moves() > 0
            && let Some(p) = pos
        {
            self.focused = Some(visible[p].id.clone());
            self.scroll_to_focus = true;
        }
        if keys.enter
            && let Some(p) = pos
        {
            self.share(visible[p], out);
        }
        if keys.inspect
            && let Some(p) = pos
        {
            self.focused = Some(visible[p].id.clone());
            out.push(Intent::Inspect(visible[p].id.clone()));
        }
    }

    /// Where the focus lands after this frame's presses.
    fn moved(&self, keys: &Keys, visible: &[&Tile]) -> Option<usize> {
        let mut pos = self
            .focused
            .as_ref()
            .and_then(|f| visible.iter().position(|t| &t.id == f));
        if keys.home {
            pos = Some(0);
        }
        if keys.end {
            pos = Some(visible.len() - 1);
        }
        let steps = [
            (keys.left, Step::Left),
            (keys.right, Step::Right),
            (keys.up, Step::Up),
            (keys.down, Step::Down),
        ];
        for (count, step) in steps {
            for _ in 0..count {
                pos = Some(match (pos, step) {
                    // The first arrow press focuses the first tile.
                    (None, _) => 0,
                    (Some(p), Step::Left) => p.saturating_sub(1),
                    (Some(p), Step::Right) => (p + 1).min(visible.len() - 1),
                    (Some(p), Step::Up) => self.vertical(visible, p, false).unwrap_or(p),
                    (Some(p), Step::Down) => self.vertical(visible, p, true).unwrap_or(p),
                });
            }
        }
        pos
    }

    /// The tile in the next row up or down that is nearest horizontally.
    fn vertical(&self, visible: &[&Tile], p: usize, down: bool) -> Option<usize> {
        let rect_of = |id: &str| self.rects.iter().find(|(i, _)| i == id).map(|(_, r)| *r);
        let cur = rect_of(&visible[p].id)?;
        let cy = cur.center().y;
        let beyond = |r: &Rect| {
            if down {
                r.center().y > cy + 1.0
            } else {
                r.center().y < cy - 1.0
            }
        };
        let rows: Vec<(usize, Rect)> = visible
            .iter()
            .enumerate()
            .filter_map(|(i, t)| rect_of(&t.id).map(|r| (i, r)))
            .filter(|(_, r)| beyond(r))
            .collect();
        let row_y = rows
            .iter()
            .map(|(_, r)| r.center().y)
            .min_by(|a, b| (a - cy).abs().total_cmp(&(b - cy).abs()))?;
        let dx = |r: &Rect| (r.center().x - cur.center().x).abs();
        rows.iter()
            .filter(|(_, r)| (r.center().y - row_y).abs() < 1.0)
            .min_by(|(_, a), (_, b)| dx(a).total_cmp(&dx(b)))
            .map(|(i, _)| *i)
    }
}
