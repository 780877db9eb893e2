//! The source list: the root window, every RandR monitor, and the managed
//! windows front to back.
//!
//! Every window costs nine requests; they are all sent first and the replies
//! collected afterwards, so a listing is one round trip, not nine per window.

use super::grab::Rect;
use super::{Atoms, DESKTOP_ID, MIN_WINDOW_SIDE, X11Backend, XFail};
use crate::capture::CaptureError;
use crate::protocol::{SourceInfo, SourceKind};
use x11rb::connection::Connection;
use x11rb::cookie::Cookie;
use x11rb::errors::ReplyError;
use x11rb::protocol::randr::{self, ConnectionExt as _, MonitorInfo};
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt as _, GetGeometryReply, GetPropertyReply,
    GetWindowAttributesReply, MapState, TranslateCoordinatesReply, Window,
};
use x11rb::rust_connection::RustConnection;

/// ICCCM `WM_STATE` value of a minimised window.
const ICONIC_STATE: u32 = 3;

/// One source with what [`SourceInfo`] has no room for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X11Source {
    pub info: SourceInfo,
    /// Top-left corner on the root window (a window's client area, not its
    /// frame; the desktop is at 0,0).
    pub x: i32,
    pub y: i32,
    /// RandR's primary flag (monitors only).
    pub primary: bool,
    /// Why a window cannot be captured right now (minimised, hidden,
    /// unmapped); None for everything capturable.
    pub minimized: Option<String>,
}

impl X11Source {
    fn new(info: SourceInfo, x: i32, y: i32) -> X11Source {
        X11Source {
            info,
            x,
            y,
            primary: false,
            minimized: None,
        }
    }
}

/// RandR 1.5 or later, which has `GetMonitors`.
pub(super) fn randr_monitors_usable(conn: &RustConnection) -> bool {
    super::extension_at_least(conn, randr::X11_EXTENSION_NAME, (1, 5), || {
        let v = conn.randr_query_version(1, 6).ok()?.reply().ok()?;
        Some((v.major_version, v.minor_version))
    })
}

impl X11Backend {
    /// Every source, minimised windows included (flagged with a reason).
    pub fn list_detailed(&mut self) -> Result<Vec<X11Source>, CaptureError> {
        let fail = |e: XFail| match e {
            XFail::Gone => CaptureError::Failed("the X root window is gone".into()),
            XFail::Failed(why) => CaptureError::Failed(why),
        };
        self.drain_events();
        let mut out = vec![self.desktop_source().map_err(fail)?];
        match self.monitor_sources() {
            Ok(monitors) => out.extend(monitors),
            Err(e) => self.warn_once(format!("cannot list RandR monitors: {e:?}")),
        }
        match self.window_sources() {
            Ok(windows) => {
                let listed: Vec<u32> = windows.iter().filter_map(window_xid).collect();
                self.release_redirects_except(&listed);
                out.extend(windows);
            }
            Err(e) => self.warn_once(format!(
                "cannot list windows (is an EWMH window manager running?): {e:?}"
            )),
        }
        self.conn.flush().map_err(|e| fail(e.into()))?;
        Ok(out)
    }

    fn warn_once(&mut self, warning: String) {
        if self.last_warning.as_ref() != Some(&warning) {
            tracing::warn!(target: "roomshare::capture", "x11: {warning}");
            self.last_warning = Some(warning);
        }
    }

    fn desktop_source(&self) -> Result<X11Source, XFail> {
        let g = self.conn.get_geometry(self.root)?.reply()?;
        let info = SourceInfo {
            id: DESKTOP_ID.into(),
            kind: SourceKind::Desktop,
            select_index: None,
            device_id: None,
            title: "Desktop".into(),
            app: format!("X display {}", self.display),
            width: u32::from(g.width),
            height: u32::from(g.height),
            unavailable: None,
            health: None,
        };
        Ok(X11Source::new(info, 0, 0))
    }

    fn monitor_sources(&mut self) -> Result<Vec<X11Source>, XFail> {
        Ok(self
            .monitors()?
            .into_iter()
            .map(|(name, m)| {
                let info = SourceInfo {
                    id: X11Backend::monitor_id(&name),
                    kind: SourceKind::Monitor,
                    select_index: None,
                    device_id: None,
                    title: name,
                    app: "monitor".into(),
                    width: u32::from(m.width),
                    height: u32::from(m.height),
                    unavailable: None,
                    health: None,
                };
                X11Source {
                    primary: m.primary,
                    ..X11Source::new(info, i32::from(m.x), i32::from(m.y))
                }
            })
            .collect())
    }

    /// The active RandR monitors with their names.
    fn monitors(&mut self) -> Result<Vec<(String, MonitorInfo)>, XFail> {
        if !self.randr_monitors {
            return Ok(Vec::new());
        }
        let reply = self.conn.randr_get_monitors(self.root, true)?.reply()?;
        self.learn_atom_names(reply.monitors.iter().map(|m| m.name))?;
        Ok(reply
            .monitors
            .into_iter()
            .map(|m| {
                let name = self.atom_names.get(&m.name).cloned();
                (name.unwrap_or_else(|| format!("monitor-{}", m.name)), m)
            })
            .collect())
    }

    /// The rectangle of monitor `name` on the root (None: no such monitor).
    pub(super) fn monitor_rect(&mut self, name: &str) -> Result<Option<Rect>, XFail> {
        Ok(self
            .monitors()?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| Rect {
                x: m.x,
                y: m.y,
                width: m.width,
                height: m.height,
            }))
    }

    fn learn_atom_names(&mut self, atoms: impl Iterator<Item = Atom>) -> Result<(), XFail> {
        let unknown: Vec<Atom> = atoms.filter(|a| !self.atom_names.contains_key(a)).collect();
        let cookies = unknown
            .iter()
            .map(|&a| self.conn.get_atom_name(a))
            .collect::<Result<Vec<_>, _>>()?;
        for (atom, cookie) in unknown.iter().zip(cookies) {
            let name = String::from_utf8_lossy(&cookie.reply()?.name).into_owned();
            self.atom_names.insert(*atom, name);
        }
        Ok(())
    }

    /// The managed windows, front to back, without the tiny and our own.
    fn window_sources(&self) -> Result<Vec<X11Source>, XFail> {
        let clients = self.client_list()?;
        let queries = clients
            .iter()
            .rev()
            .map(|&w| WindowQuery::send(&self.conn, &self.atoms, self.root, w))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            if let Some(w) = q.finish(&self.atoms)?
                && w.width.min(w.height) >= MIN_WINDOW_SIDE
                && w.pid != Some(self.own_pid)
            {
                out.push(w.into_source());
            }
        }
        Ok(out)
    }

    /// The WM's clients bottom to top (`_NET_CLIENT_LIST_STACKING`, else the
    /// mapping-ordered `_NET_CLIENT_LIST`).
    pub(super) fn client_list(&self) -> Result<Vec<Window>, XFail> {
        for atom in [
            self.atoms._NET_CLIENT_LIST_STACKING,
            self.atoms._NET_CLIENT_LIST,
        ] {
            let reply = self
                .conn
                .get_property(false, self.root, atom, AtomEnum::WINDOW, 0, 1 << 16)?
                .reply()?;
            if let Some(list) = reply.value32()
                && reply.type_ == u32::from(AtomEnum::WINDOW)
            {
                return Ok(list.collect());
            }
        }
        Err(XFail::Failed(
            "the window manager publishes no _NET_CLIENT_LIST".into(),
        ))
    }
}

fn window_xid(s: &X11Source) -> Option<u32> {
    (s.info.kind == SourceKind::Window)
        .then(|| s.info.id.strip_prefix(super::WINDOW_PREFIX))
        .flatten()
        .and_then(|n| n.parse().ok())
}

type Reply<'c, R> = Cookie<'c, RustConnection, R>;

/// The requests in flight for one window.
struct WindowQuery<'c> {
    win: Window,
    net_name: Reply<'c, GetPropertyReply>,
    wm_name: Reply<'c, GetPropertyReply>,
    class: Reply<'c, GetPropertyReply>,
    pid: Reply<'c, GetPropertyReply>,
    net_state: Reply<'c, GetPropertyReply>,
    wm_state: Reply<'c, GetPropertyReply>,
    geometry: Reply<'c, GetGeometryReply>,
    attributes: Reply<'c, GetWindowAttributesReply>,
    origin: Reply<'c, TranslateCoordinatesReply>,
}

/// What the replies said about one window.
struct WindowFacts {
    win: Window,
    title: String,
    app: String,
    pid: Option<u32>,
    width: u32,
    height: u32,
    x: i32,
    y: i32,
    minimized: Option<String>,
}

impl<'c> WindowQuery<'c> {
    fn send(
        conn: &'c RustConnection,
        atoms: &Atoms,
        root: Window,
        win: Window,
    ) -> Result<WindowQuery<'c>, XFail> {
        let any = AtomEnum::ANY;
        let prop = |atom: Atom, len: u32| conn.get_property(false, win, atom, any, 0, len);
        Ok(WindowQuery {
            win,
            net_name: prop(atoms._NET_WM_NAME, 1024)?,
            wm_name: prop(AtomEnum::WM_NAME.into(), 1024)?,
            class: prop(AtomEnum::WM_CLASS.into(), 256)?,
            pid: prop(atoms._NET_WM_PID, 1)?,
            net_state: prop(atoms._NET_WM_STATE, 64)?,
            wm_state: prop(atoms.WM_STATE, 2)?,
            geometry: conn.get_geometry(win)?,
            attributes: conn.get_window_attributes(win)?,
            origin: conn.translate_coordinates(win, root, 0, 0)?,
        })
    }

    /// None when the window vanished while being read.
    fn finish(self, atoms: &Atoms) -> Result<Option<WindowFacts>, XFail> {
        let (net_name, wm_name) = (optional(self.net_name)?, optional(self.wm_name)?);
        let (class, pid) = (optional(self.class)?, optional(self.pid)?);
        let (net_state, wm_state) = (optional(self.net_state)?, optional(self.wm_state)?);
        let (Some(g), Some(a), Some(o)) = (
            optional(self.geometry)?,
            optional(self.attributes)?,
            optional(self.origin)?,
        ) else {
            return Ok(None);
        };
        Ok(Some(WindowFacts {
            win: self.win,
            title: title(net_name.as_ref(), wm_name.as_ref()),
            app: class.map(|c| app_of_class(&c.value)).unwrap_or_default(),
            pid: pid.as_ref().and_then(first32),
            width: u32::from(g.width),
            height: u32::from(g.height),
            x: i32::from(o.dst_x),
            y: i32::from(o.dst_y),
            minimized: minimized_reason(wm_state.as_ref(), net_state.as_ref(), a.map_state, atoms),
        }))
    }
}

impl WindowFacts {
    fn into_source(self) -> X11Source {
        let info = SourceInfo {
            id: X11Backend::window_id(self.win),
            kind: SourceKind::Window,
            select_index: None,
            device_id: None,
            title: self.title,
            app: self.app,
            width: self.width,
            height: self.height,
            unavailable: self.minimized.clone(),
            health: None,
        };
        X11Source {
            minimized: self.minimized,
            ..X11Source::new(info, self.x, self.y)
        }
    }
}

/// A reply, or None when the server answered with an error (the window is
/// gone, or a property is malformed); only a broken connection is an error.
fn optional<R>(cookie: Reply<'_, R>) -> Result<Option<R>, XFail>
where
    R: x11rb::x11_utils::TryParse,
{
    match cookie.reply() {
        Ok(r) => Ok(Some(r)),
        Err(ReplyError::X11Error(_)) => Ok(None),
        Err(ReplyError::ConnectionError(e)) => Err(e.into()),
    }
}

fn first32(p: &GetPropertyReply) -> Option<u32> {
    p.value32().and_then(|mut v| v.next())
}

/// `_NET_WM_NAME` (UTF-8), else `WM_NAME` (Latin-1 `STRING`, or UTF-8).
fn title(net: Option<&GetPropertyReply>, wm: Option<&GetPropertyReply>) -> String {
    if let Some(p) = net.filter(|p| p.format == 8 && !p.value.is_empty()) {
        return String::from_utf8_lossy(&p.value).into_owned();
    }
    match wm.filter(|p| p.format == 8) {
        Some(p) if p.type_ == u32::from(AtomEnum::STRING) => {
            p.value.iter().map(|&b| char::from(b)).collect()
        }
        // UTF8_STRING, and COMPOUND_TEXT whose ASCII subset reads the same.
        Some(p) => String::from_utf8_lossy(&p.value).into_owned(),
        None => String::new(),
    }
}

/// The class part of `WM_CLASS` ("instance\0Class\0"), else the instance.
fn app_of_class(value: &[u8]) -> String {
    let mut parts = value.split(|&b| b == 0).filter(|s| !s.is_empty());
    let instance = parts.next();
    let class = parts.next().or(instance).unwrap_or_default();
    String::from_utf8_lossy(class).into_owned()
}

fn minimized_reason(
    wm_state: Option<&GetPropertyReply>,
    net_state: Option<&GetPropertyReply>,
    map_state: MapState,
    atoms: &Atoms,
) -> Option<String> {
    if wm_state.and_then(first32) == Some(ICONIC_STATE) {
        return Some("minimised (WM_STATE is Iconic)".into());
    }
    let hidden = net_state
        .and_then(|p| p.value32())
        .is_some_and(|mut v| v.any(|a| a == atoms._NET_WM_STATE_HIDDEN));
    if hidden {
        return Some("hidden (_NET_WM_STATE_HIDDEN)".into());
    }
    match map_state {
        MapState::VIEWABLE => None,
        MapState::UNVIEWABLE => {
            Some("not shown (its frame is unmapped, e.g. on another desktop)".into())
        }
        _ => Some("not shown (the window is unmapped)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::app_of_class;

    #[test]
    fn class_part_of_wm_class() {
        assert_eq!(app_of_class(b"xterm\0XTerm\0"), "XTerm");
        assert_eq!(app_of_class(b"solo\0"), "solo");
        assert_eq!(app_of_class(b""), "");
    }
}
