//! Window grabs through Composite.
//!
//! We redirect the window's *frame* (the WM's toplevel, child of the root)
//! with `RedirectAutomatic`: the server then keeps the whole frame in an
//! off-screen pixmap and still paints the screen itself, so nothing changes
//! for the user and no compositing manager is needed. Covered and off-screen
//! parts of the window are in that pixmap; the client area is cut out of it.
//!
//! Pitfalls handled here (OBS's xcomposite capture hits the same ones):
//! - a named pixmap is a snapshot of the window's *current* backing storage;
//!   after a resize or an unmap/map the window gets a new one and an old
//!   name keeps showing the stale picture. We therefore name the pixmap on
//!   every grab and free it right after (both requests have no reply, so
//!   this costs no round trip) and can never read a stale one;
//! - naming fails (BadMatch) for an unmapped, e.g. minimised, window: we
//!   look at the map state in the same round trip and say so;
//! - the window can vanish at any point: a Window/Drawable/Pixmap error is
//!   `Gone` once a last look confirms the client window no longer exists
//!   (a replaced frame is not a closed window), and its redirect
//!   bookkeeping is dropped;
//! - redirects are released when the window leaves the list and when the
//!   backend drops (the server also drops them when we disconnect).

use super::grab::Rect;
use super::{X11Backend, XFail};
use image::RgbaImage;
use x11rb::errors::ReplyError;
use x11rb::protocol::composite::{self, ConnectionExt as _, Redirect};
use x11rb::protocol::xproto::{ConnectionExt as _, MapState, Window};
use x11rb::rust_connection::RustConnection;

/// Frames deeper than this below the root are not WM frames.
const MAX_FRAME_DEPTH: usize = 16;

/// Composite 0.2 or later (`NameWindowPixmap`).
pub(super) fn composite_usable(conn: &RustConnection) -> bool {
    super::extension_at_least(conn, composite::X11_EXTENSION_NAME, (0, 2), || {
        let v = conn.composite_query_version(0, 4).ok()?.reply().ok()?;
        Some((v.major_version, v.minor_version))
    })
}

impl X11Backend {
    /// The client area of window `client`, covered or off-screen parts included.
    pub(super) fn capture_window(&mut self, client: Window) -> Result<RgbaImage, XFail> {
        let result = if self.composite {
            self.grab_through_frame(client)
        } else {
            self.capture_window_on_screen(client)
        };
        if !matches!(result, Err(XFail::Gone)) {
            return result;
        }
        self.forget_redirect(client);
        // A frame or pixmap error while the client still exists (its frame
        // was replaced mid-grab) must not end a share: only a vanished
        // client window is `Gone`.
        if self.window_exists(client)? {
            return Err(XFail::Failed(format!(
                "window {client:#x} changed while being read"
            )));
        }
        Err(XFail::Gone)
    }

    fn window_exists(&self, win: Window) -> Result<bool, XFail> {
        match self.conn.get_window_attributes(win)?.reply() {
            Ok(_) => Ok(true),
            Err(ReplyError::X11Error(_)) => Ok(false),
            Err(ReplyError::ConnectionError(e)) => Err(e.into()),
        }
    }

    fn grab_through_frame(&mut self, client: Window) -> Result<RgbaImage, XFail> {
        let frame = self.frame_of(client)?;
        self.ensure_redirected(client, frame)?;
        self.arm_damage(&X11Backend::window_id(client), frame);
        let rect = self.name_frame_pixmap(client, frame);
        let image = rect.and_then(|r| self.grabber.grab(&self.conn, self.pixmap, r));
        // Always free the name (harmless BadPixmap if naming failed), so the
        // id is free again for the next grab.
        self.conn.free_pixmap(self.pixmap)?.ignore_error();
        image
    }

    /// The ancestor of `client` that is a child of the root: the WM's frame,
    /// or the window itself under a non-reparenting WM.
    pub(super) fn frame_of(&self, client: Window) -> Result<Window, XFail> {
        let mut w = client;
        for _ in 0..MAX_FRAME_DEPTH {
            let tree = self.conn.query_tree(w)?.reply()?;
            if tree.parent == self.root || tree.parent == x11rb::NONE {
                return Ok(w);
            }
            w = tree.parent;
        }
        Err(XFail::Failed(format!(
            "window {client:#x} is nested too deep to find its frame"
        )))
    }

    /// Redirect `frame` once; a client that moved to another frame (the WM
    /// restarted) releases the old one.
    fn ensure_redirected(&mut self, client: Window, frame: Window) -> Result<(), XFail> {
        match self.redirected.get(&client) {
            Some(&f) if f == frame => return Ok(()),
            Some(_) => self.forget_redirect(client),
            None => {}
        }
        // Checked: a failure here (the frame vanished) must not be mistaken
        // for a later naming failure.
        self.conn
            .composite_redirect_window(frame, Redirect::AUTOMATIC)?
            .check()?;
        self.redirected.insert(client, frame);
        Ok(())
    }

    /// Name the frame's pixmap as `self.pixmap` and return where the client
    /// area lies inside it. All requests go out before the first reply is
    /// read: one round trip.
    fn name_frame_pixmap(&self, client: Window, frame: Window) -> Result<Rect, XFail> {
        let c = &self.conn;
        let attrs = c.get_window_attributes(client)?;
        let size = c.get_geometry(client)?;
        let offset = c.translate_coordinates(client, frame, 0, 0)?;
        let frame_geometry = c.get_geometry(frame)?;
        c.composite_name_window_pixmap(frame, self.pixmap)?
            .ignore_error();
        let pixmap = c.get_geometry(self.pixmap)?;
        let (attrs, size) = (attrs.reply()?, size.reply()?);
        let (offset, frame_geometry) = (offset.reply()?, frame_geometry.reply()?);
        if attrs.map_state != MapState::VIEWABLE {
            return Err(XFail::Failed(format!(
                "window {client:#x} is minimised or hidden, so it has no picture"
            )));
        }
        let pixmap = pixmap.reply()?;
        // The pixmap includes the frame's border; window coordinates do not.
        let border = i32::from(frame_geometry.border_width);
        let at = |v: i16| i16::try_from(i32::from(v) + border).unwrap_or(i16::MAX);
        Rect {
            x: at(offset.dst_x),
            y: at(offset.dst_y),
            width: size.width,
            height: size.height,
        }
        .clip_to(pixmap.width, pixmap.height)
        // Seen while openbox animates a restore: the frame is still tiny.
        .ok_or_else(|| {
            XFail::Failed(format!(
                "window {client:#x} is outside its frame (the window manager is resizing it)"
            ))
        })
    }

    /// Without Composite: the visible part of the window, read off the root
    /// (covered parts show what covers them, as with xcap).
    fn capture_window_on_screen(&mut self, client: Window) -> Result<RgbaImage, XFail> {
        let c = &self.conn;
        let size = c.get_geometry(client)?;
        let origin = c.translate_coordinates(client, self.root, 0, 0)?;
        let root = c.get_geometry(self.root)?;
        let (size, origin, root) = (size.reply()?, origin.reply()?, root.reply()?);
        let rect = Rect {
            x: origin.dst_x,
            y: origin.dst_y,
            width: size.width,
            height: size.height,
        };
        let rect = rect
            .clip_to(root.width, root.height)
            .ok_or_else(|| XFail::Failed(format!("window {client:#x} is off the screen")))?;
        self.grabber.grab(&self.conn, self.root, rect)
    }

    fn forget_redirect(&mut self, client: Window) {
        if let Some(frame) = self.redirected.remove(&client) {
            unredirect(&self.conn, frame);
        }
    }

    /// Release the redirects of windows no longer in `listed`.
    pub(super) fn release_redirects_except(&mut self, listed: &[Window]) {
        let stale: Vec<Window> = self
            .redirected
            .keys()
            .copied()
            .filter(|w| !listed.contains(w))
            .collect();
        for client in stale {
            self.forget_redirect(client);
        }
    }

    pub(super) fn release_redirects(&mut self) {
        for (_, frame) in self.redirected.drain() {
            unredirect(&self.conn, frame);
        }
    }
}

fn unredirect(conn: &RustConnection, frame: Window) {
    // The frame may be gone already (the server then dropped the redirect
    // itself): errors are of no interest.
    if let Ok(c) = conn.composite_unredirect_window(frame, Redirect::AUTOMATIC) {
        c.ignore_error();
    }
}
