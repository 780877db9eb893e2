//! Damage: which sources nothing has drawn into since their last grab.
//!
//! Each captured source gets a Damage object of its own on the drawable it
//! is grabbed from: the root window for the desktop and the monitors, the
//! redirected WM frame for a window. A grab first empties its damage
//! (`DamageSubtract`), so what accumulates afterwards is exactly what was
//! drawn since. [`X11Backend::unchanged`] reads it back as rectangles
//! (`DamageSubtract` into an XFixes region, `FetchRegion`):
//!
//! - no damage: the source shows what its last grab showed, and the
//!   thumbnailer does not grab it at all (no 8 MB copy, no hash);
//! - for the desktop and the monitors, damage that lies entirely inside the
//!   console's own windows (found by `_NET_WM_PID`, as the listing leaves
//!   them out) does not count: otherwise every repaint of the console
//!   would change the desktop thumbnail, which the console shows, which
//!   repaints it — a loop that never settles;
//! - damage outside the monitor's rectangle does not count for a monitor.
//!
//! Each backend (one per worker thread) has its own connection and so its
//! own Damage objects; the server destroys them with the drawable (a closed
//! window) and when the connection closes.

use super::grab::Rect;
use super::{DESKTOP_ID, MONITOR_PREFIX, X11Backend, XFail};
use std::collections::HashMap;
use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::ReplyError;
use x11rb::protocol::damage::{self, ConnectionExt as _, ReportLevel};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, Drawable, Rectangle, Window};
use x11rb::rust_connection::RustConnection;

/// One source's Damage object and the drawable it watches.
struct Watch {
    damage: damage::Damage,
    drawable: Drawable,
}

/// The Damage objects of one connection.
pub(super) struct DamageTracker {
    /// A scratch XFixes region that `DamageSubtract` fills; None when the
    /// server lacks Damage 1.1 or XFixes 2 (every source then counts as
    /// changed, as before).
    region: Option<xfixes::Region>,
    watches: HashMap<String, Watch>,
}

impl DamageTracker {
    /// Announce the versions (both extensions require it before any other
    /// request) and make the scratch region.
    pub fn new(conn: &RustConnection) -> DamageTracker {
        let region = setup(conn).map_err(|why| {
            tracing::info!(target: "roomshare::capture", "x11: no damage tracking ({why}): every thumbnail is grabbed");
        });
        DamageTracker {
            region: region.ok(),
            watches: HashMap::new(),
        }
    }

    pub fn usable(&self) -> bool {
        self.region.is_some()
    }

    /// Start (or restart) watching `drawable` for `id`, with nothing
    /// damaged yet: called right before `id` is grabbed.
    pub fn arm(&mut self, conn: &RustConnection, id: &str, drawable: Drawable) {
        if self.region.is_none() {
            return;
        }
        match self.watches.get(id) {
            Some(w) if w.drawable == drawable => return empty(conn, w.damage),
            Some(_) => self.forget(conn, id),
            None => {}
        }
        let Ok(damage) = conn.generate_id() else {
            return;
        };
        // NonEmpty: at most one event per emptying, which nothing reads
        // (the backend drains its event queue); the rectangles are fetched.
        if conn
            .damage_create(damage, drawable, ReportLevel::NON_EMPTY)
            .map(|c| c.ignore_error())
            .is_ok()
        {
            // The server reports a new window damage object's whole window
            // as damaged: empty it, or the first check after the first grab
            // would always say "changed".
            empty(conn, damage);
            self.watches
                .insert(id.to_string(), Watch { damage, drawable });
        }
    }

    /// Stop watching `id`.
    pub fn forget(&mut self, conn: &RustConnection, id: &str) {
        if let Some(w) = self.watches.remove(id)
            && let Ok(c) = conn.damage_destroy(w.damage)
        {
            // Harmless BadDamage when the drawable (and so the damage) is gone.
            c.ignore_error();
        }
    }

    /// The damage of `id` since it was armed, emptied as it is read. None:
    /// not watched, or the watch broke (the drawable is gone): the caller
    /// must treat the source as changed.
    fn take(&mut self, conn: &RustConnection, id: &str) -> Option<Vec<Rectangle>> {
        let region = self.region?;
        let damage = self.watches.get(id)?.damage;
        let taken = (|| -> Result<Vec<Rectangle>, XFail> {
            let subtract = conn.damage_subtract(damage, x11rb::NONE, region)?;
            let fetched = conn.xfixes_fetch_region(region)?.reply()?;
            // The fetch's reply came after the subtract, so this reads the
            // subtract's outcome without another round trip. A failed
            // subtract left the region as it was: its contents mean nothing.
            subtract.check()?;
            Ok(fetched.rectangles)
        })();
        match taken {
            Ok(rects) => Some(rects),
            Err(_) => {
                self.forget(conn, id);
                None
            }
        }
    }

    pub fn release(&mut self, conn: &RustConnection) {
        let ids: Vec<String> = self.watches.keys().cloned().collect();
        for id in ids {
            self.forget(conn, &id);
        }
        if let Some(region) = self.region.take()
            && let Ok(c) = conn.xfixes_destroy_region(region)
        {
            c.ignore_error();
        }
    }
}

/// Forget what `damage` has accumulated (no reply; errors ignored).
fn empty(conn: &RustConnection, damage: damage::Damage) {
    if let Ok(c) = conn.damage_subtract(damage, x11rb::NONE, x11rb::NONE) {
        c.ignore_error();
    }
}

fn setup(conn: &RustConnection) -> Result<xfixes::Region, String> {
    for name in [damage::X11_EXTENSION_NAME, xfixes::X11_EXTENSION_NAME] {
        let present = conn
            .extension_information(name)
            .map_err(|e| e.to_string())?
            .is_some();
        if !present {
            return Err(format!("the X server has no {name} extension"));
        }
    }
    let fixes = conn
        .xfixes_query_version(5, 0)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?;
    if fixes.major_version < 2 {
        return Err(format!("XFIXES {} is too old", fixes.major_version));
    }
    let dmg = conn
        .damage_query_version(1, 1)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?;
    if (dmg.major_version, dmg.minor_version) < (1, 1) {
        return Err(format!(
            "DAMAGE {}.{} is too old",
            dmg.major_version, dmg.minor_version
        ));
    }
    let region = conn.generate_id().map_err(|e| e.to_string())?;
    conn.xfixes_create_region(region, &[])
        .map_err(|e| e.to_string())?
        .check()
        .map_err(|e| e.to_string())?;
    Ok(region)
}

/// `r` cut to `area`, both on the same drawable (None: they do not meet).
fn intersect(r: Rectangle, area: Rect) -> Option<Rectangle> {
    let x0 = i32::from(r.x).max(i32::from(area.x));
    let y0 = i32::from(r.y).max(i32::from(area.y));
    let x1 = (i32::from(r.x) + i32::from(r.width)).min(i32::from(area.x) + i32::from(area.width));
    let y1 = (i32::from(r.y) + i32::from(r.height)).min(i32::from(area.y) + i32::from(area.height));
    (x1 > x0 && y1 > y0).then(|| Rectangle {
        x: x0 as i16,
        y: y0 as i16,
        width: (x1 - x0) as u16,
        height: (y1 - y0) as u16,
    })
}

/// `inner` lies entirely inside `outer`.
fn contains(outer: Rect, inner: Rectangle) -> bool {
    let (ox, oy) = (i32::from(outer.x), i32::from(outer.y));
    let (ix, iy) = (i32::from(inner.x), i32::from(inner.y));
    ix >= ox
        && iy >= oy
        && ix + i32::from(inner.width) <= ox + i32::from(outer.width)
        && iy + i32::from(inner.height) <= oy + i32::from(outer.height)
}

/// Whether `damage` on the root, seen through `area`, is nothing, or only
/// drawing inside `own` (the console's windows).
pub(super) fn only_own(damage: &[Rectangle], area: Rect, own: &[Rect]) -> bool {
    damage
        .iter()
        .filter_map(|&r| intersect(r, area))
        .all(|r| own.iter().any(|&o| contains(o, r)))
}

impl X11Backend {
    /// Arm the damage of `id` before grabbing it from `drawable`.
    pub(super) fn arm_damage(&mut self, id: &str, drawable: Drawable) {
        self.damage.arm(&self.conn, id, drawable);
    }

    /// True when `id` surely shows what its last grab by this backend
    /// showed (see the module docs); false when unsure.
    pub(super) fn damage_says_unchanged(&mut self, id: &str) -> bool {
        let Some(rects) = self.damage.take(&self.conn, id) else {
            return false;
        };
        if rects.is_empty() {
            return true;
        }
        let area = if id == DESKTOP_ID {
            self.root_rect().ok()
        } else if let Some(name) = id.strip_prefix(MONITOR_PREFIX) {
            self.monitor_rect(name).ok().flatten()
        } else {
            // A window: anything drawn into it is a change.
            return false;
        };
        let Some(area) = area else {
            return false;
        };
        match self.own_frames() {
            Ok(own) => only_own(&rects, area, &own),
            Err(_) => false,
        }
    }

    /// The console's windows inside the desktop or monitor `id`, in the
    /// picture's pixels (empty for windows, and when unknown).
    pub(super) fn own_regions_in(&mut self, id: &str) -> Vec<[u32; 4]> {
        let area = if id == DESKTOP_ID {
            self.root_rect().ok()
        } else if let Some(name) = id.strip_prefix(MONITOR_PREFIX) {
            self.monitor_rect(name).ok().flatten()
        } else {
            None
        };
        let Some(area) = area else {
            return Vec::new();
        };
        let own = self.own_frames().unwrap_or_default();
        own.into_iter()
            .filter_map(|o| {
                let r = Rectangle {
                    x: o.x,
                    y: o.y,
                    width: o.width,
                    height: o.height,
                };
                let r = intersect(r, area)?;
                let x = i32::from(r.x) - i32::from(area.x);
                let y = i32::from(r.y) - i32::from(area.y);
                Some([
                    u32::try_from(x).ok()?,
                    u32::try_from(y).ok()?,
                    u32::from(r.width),
                    u32::from(r.height),
                ])
            })
            .collect()
    }

    fn root_rect(&self) -> Result<Rect, XFail> {
        let g = self.conn.get_geometry(self.root)?.reply()?;
        Ok(Rect {
            x: 0,
            y: 0,
            width: g.width,
            height: g.height,
        })
    }

    /// The on-root rectangles (frame and border included) of this
    /// process's own top-level windows: the console's.
    pub(super) fn own_frames(&self) -> Result<Vec<Rect>, XFail> {
        let clients = match self.client_list() {
            Ok(list) => list,
            // No EWMH window manager: the clients are the root's children.
            Err(_) => self.conn.query_tree(self.root)?.reply()?.children,
        };
        let cookies = clients
            .iter()
            .map(|&w| {
                self.conn
                    .get_property(false, w, self.atoms._NET_WM_PID, AtomEnum::CARDINAL, 0, 1)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut own: Vec<Window> = Vec::new();
        for (&w, cookie) in clients.iter().zip(cookies) {
            match cookie.reply() {
                Ok(p) if p.value32().and_then(|mut v| v.next()) == Some(self.own_pid) => {
                    own.push(w);
                }
                Ok(_) | Err(ReplyError::X11Error(_)) => {}
                Err(ReplyError::ConnectionError(e)) => return Err(e.into()),
            }
        }
        let mut out = Vec::with_capacity(own.len());
        for w in own {
            let frame = self.frame_of(w)?;
            let g = self.conn.get_geometry(frame)?.reply()?;
            let border = g.border_width.saturating_mul(2);
            out.push(Rect {
                x: g.x,
                y: g.y,
                width: g.width.saturating_add(border),
                height: g.height.saturating_add(border),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::grab::rect;
    use super::only_own;
    use x11rb::protocol::xproto::Rectangle;

    fn damage(x: i16, y: i16, width: u16, height: u16) -> Rectangle {
        Rectangle {
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn damage_inside_own_windows_does_not_count() {
        let screen = rect(0, 0, 1920, 1080);
        let console = rect(100, 100, 800, 600);
        // Nothing at all, and drawing only inside the console.
        assert!(only_own(&[], screen, &[console]));
        assert!(only_own(&[damage(100, 100, 800, 600)], screen, &[console]));
        assert!(only_own(&[damage(300, 200, 10, 10)], screen, &[console]));
        // One pixel past the console, or anywhere else: a change.
        assert!(!only_own(&[damage(100, 100, 801, 600)], screen, &[console]));
        assert!(!only_own(
            &[damage(300, 200, 10, 10), damage(1000, 10, 5, 5)],
            screen,
            &[console]
        ));
        // No console window known: every damage counts.
        assert!(!only_own(&[damage(300, 200, 10, 10)], screen, &[]));
    }

    #[test]
    fn damage_outside_a_monitor_does_not_count_for_it() {
        let right = rect(1920, 0, 1280, 1024);
        assert!(only_own(&[damage(10, 10, 100, 100)], right, &[]));
        assert!(!only_own(&[damage(1900, 10, 100, 100)], right, &[]));
        // Straddling the edge: only the part on this monitor is judged.
        let console = rect(1920, 0, 400, 400);
        assert!(only_own(&[damage(1800, 10, 200, 100)], right, &[console]));
    }
}
