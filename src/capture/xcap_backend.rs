//! Real sources through xcap: the desktop (primary monitor), every monitor as
//! a capture device, and the windows front to back.
//!
//! On Linux xcap reads `DISPLAY` (and treats the session as Wayland when
//! `WAYLAND_DISPLAY`/`XDG_SESSION_TYPE` say so); window listing needs an EWMH
//! window manager (`_NET_CLIENT_LIST_STACKING`).

use super::{Backend, CaptureError};
use crate::protocol::{SourceInfo, SourceKind};
use image::RgbaImage;

/// Windows smaller than this (either side, in pixels) are left out: tooltips,
/// docks, invisible helpers.
pub const MIN_WINDOW_SIDE: u32 = 40;
/// The id of the whole desktop (select_index 0).
pub const DESKTOP_ID: &str = "desktop";
const MONITOR_PREFIX: &str = "monitor:";
const WINDOW_PREFIX: &str = "window:";

/// Real capture with xcap.
pub struct XcapBackend {
    own_pid: u32,
    /// The last window-listing error, so it is logged once, not every second.
    last_window_error: Option<String>,
}

impl Default for XcapBackend {
    fn default() -> Self {
        XcapBackend::new()
    }
}

impl XcapBackend {
    pub fn new() -> XcapBackend {
        XcapBackend {
            own_pid: std::process::id(),
            last_window_error: None,
        }
    }

    /// The stable id of an X window (or other platform window id).
    pub fn window_id(raw: u32) -> String {
        format!("{WINDOW_PREFIX}{raw}")
    }

    fn primary_monitor() -> Result<xcap::Monitor, CaptureError> {
        let monitors = xcap::Monitor::all().map_err(failed)?;
        let primary = monitors
            .iter()
            .position(|m| m.is_primary().unwrap_or(false))
            .unwrap_or(0);
        monitors
            .into_iter()
            .nth(primary)
            .ok_or_else(|| CaptureError::Failed("no monitor found".into()))
    }

    fn find_window(raw: u32) -> Result<Option<xcap::Window>, CaptureError> {
        Ok(xcap::Window::all()
            .map_err(failed)?
            .into_iter()
            .find(|w| w.id().ok() == Some(raw)))
    }
}

fn failed(e: xcap::XCapError) -> CaptureError {
    CaptureError::Failed(e.to_string())
}

/// The desktop (the primary monitor) and every monitor.
fn monitor_sources() -> Result<Vec<SourceInfo>, CaptureError> {
    let monitors = xcap::Monitor::all().map_err(failed)?;
    let primary = monitors
        .iter()
        .position(|m| m.is_primary().unwrap_or(false))
        .unwrap_or(0);
    let mut out = Vec::with_capacity(monitors.len() + 1);
    for (i, m) in monitors.iter().enumerate() {
        let name = m.name().unwrap_or_else(|_| format!("monitor-{i}"));
        let (width, height) = (m.width().unwrap_or(0), m.height().unwrap_or(0));
        let source = |id: String, kind, title: String, app: String| SourceInfo {
            id,
            kind,
            select_index: None,
            device_id: None,
            title,
            app,
            width,
            height,
            unavailable: None,
            health: None,
        };
        if i == primary {
            out.push(source(
                DESKTOP_ID.into(),
                SourceKind::Desktop,
                "Desktop".into(),
                name.clone(),
            ));
        }
        let title = m
            .friendly_name()
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| name.clone());
        let id = format!("{MONITOR_PREFIX}{name}");
        out.push(source(id, SourceKind::Monitor, title, "monitor".into()));
    }
    Ok(out)
}

impl XcapBackend {
    /// A listed window (minimised ones with why they cannot be captured),
    /// unless it is tiny, ours, or vanished while being read.
    fn window_source(&self, w: &xcap::Window) -> Option<SourceInfo> {
        let raw = w.id().ok()?;
        if w.pid().ok() == Some(self.own_pid) {
            return None;
        }
        let minimised = w.is_minimized().unwrap_or(false);
        let (width, height) = (w.width().unwrap_or(0), w.height().unwrap_or(0));
        if width < MIN_WINDOW_SIDE || height < MIN_WINDOW_SIDE {
            return None;
        }
        Some(SourceInfo {
            id: XcapBackend::window_id(raw),
            kind: SourceKind::Window,
            select_index: None,
            device_id: None,
            title: w.title().unwrap_or_default(),
            app: w.app_name().unwrap_or_default(),
            width,
            height,
            unavailable: minimised.then(|| "minimised".to_string()),
            health: None,
        })
    }
}

impl XcapBackend {
    /// The monitor a desktop or monitor source shows.
    fn monitor_of(source_id: &str) -> Option<xcap::Monitor> {
        if source_id == DESKTOP_ID {
            return XcapBackend::primary_monitor().ok();
        }
        let name = source_id.strip_prefix(MONITOR_PREFIX)?;
        xcap::Monitor::all()
            .ok()?
            .into_iter()
            .find(|m| m.name().ok().as_deref() == Some(name))
    }
}

/// `window` (x, y, w, h) inside `monitor` (x, y, w, h), in the pixels of a
/// `picture` of the monitor (which may be scaled: HiDPI).
pub fn region_in(window: [i64; 4], monitor: [i64; 4], picture: (u32, u32)) -> Option<[u32; 4]> {
    let [wx, wy, ww, wh] = window;
    let [mx, my, mw, mh] = monitor;
    if mw <= 0 || mh <= 0 {
        return None;
    }
    let (x0, y0) = (wx.max(mx), wy.max(my));
    let (x1, y1) = ((wx + ww).min(mx + mw), (wy + wh).min(my + mh));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let (sx, sy) = (
        f64::from(picture.0) / mw as f64,
        f64::from(picture.1) / mh as f64,
    );
    // Outward rounding: a scaled edge pixel belongs to the window.
    let px = |v: i64, s: f64| (v as f64 * s).floor().max(0.0) as u32;
    let pe = |v: i64, s: f64| (v as f64 * s).ceil().max(0.0) as u32;
    let (a, b) = (px(x0 - mx, sx), px(y0 - my, sy));
    let (c, d) = (pe(x1 - mx, sx), pe(y1 - my, sy));
    Some([a, b, c.saturating_sub(a), d.saturating_sub(b)])
}

impl Backend for XcapBackend {
    fn name(&self) -> &'static str {
        if cfg!(all(target_os = "linux", not(target_env = "ohos"))) {
            "x11"
        } else {
            "xcap"
        }
    }

    fn list(&mut self) -> Result<Vec<SourceInfo>, CaptureError> {
        let mut out = monitor_sources()?;
        // Windows: a failure here (no EWMH window manager) still leaves the
        // desktop and monitors usable.
        match xcap::Window::all() {
            Ok(windows) => {
                self.last_window_error = None;
                out.extend(windows.iter().filter_map(|w| self.window_source(w)));
            }
            Err(e) => {
                let e = e.to_string();
                if self.last_window_error.as_ref() != Some(&e) {
                    tracing::warn!(target: "roomshare::capture", "cannot list windows (is an EWMH window manager running?): {e}");
                    self.last_window_error = Some(e);
                }
            }
        }
        Ok(out)
    }

    /// The console's own windows on the desktop or a monitor (xcap
    /// captures the screen, the console included).
    fn own_regions(&mut self, source_id: &str, picture: (u32, u32)) -> Vec<[u32; 4]> {
        let Some(m) = XcapBackend::monitor_of(source_id) else {
            return Vec::new();
        };
        let monitor = [
            i64::from(m.x().unwrap_or(0)),
            i64::from(m.y().unwrap_or(0)),
            i64::from(m.width().unwrap_or(0)),
            i64::from(m.height().unwrap_or(0)),
        ];
        let Ok(windows) = xcap::Window::all() else {
            return Vec::new();
        };
        windows
            .iter()
            .filter(|w| w.pid().ok() == Some(self.own_pid) && !w.is_minimized().unwrap_or(false))
            .filter_map(|w| {
                let window = [
                    i64::from(w.x().ok()?),
                    i64::from(w.y().ok()?),
                    i64::from(w.width().ok()?),
                    i64::from(w.height().ok()?),
                ];
                region_in(window, monitor, picture)
            })
            .collect()
    }

    fn capture(&mut self, source_id: &str) -> Result<RgbaImage, CaptureError> {
        if source_id == DESKTOP_ID {
            return XcapBackend::primary_monitor()?
                .capture_image()
                .map_err(failed);
        }
        if let Some(name) = source_id.strip_prefix(MONITOR_PREFIX) {
            let monitors = xcap::Monitor::all().map_err(failed)?;
            let m = monitors
                .into_iter()
                .find(|m| m.name().ok().as_deref() == Some(name))
                .ok_or_else(|| CaptureError::Gone(source_id.to_string()))?;
            return m.capture_image().map_err(failed);
        }
        let raw: u32 = source_id
            .strip_prefix(WINDOW_PREFIX)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| CaptureError::Gone(source_id.to_string()))?;
        let window = XcapBackend::find_window(raw)?
            .ok_or_else(|| CaptureError::Gone(source_id.to_string()))?;
        match window.capture_image() {
            Ok(img) => Ok(img),
            Err(e) => {
                // Closed between listing and capturing: that is "gone", not
                // an error worth retrying.
                if matches!(XcapBackend::find_window(raw), Ok(None)) {
                    Err(CaptureError::Gone(source_id.to_string()))
                } else {
                    Err(failed(e))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::region_in;

    #[test]
    fn own_window_in_monitor_pixels() {
        // A 800×600 window at 100,50 on a 1920×1080 monitor at 0,0.
        let m = [0, 0, 1920, 1080];
        assert_eq!(
            region_in([100, 50, 800, 600], m, (1920, 1080)),
            Some([100, 50, 800, 600])
        );
        // The same on a HiDPI picture (2×).
        assert_eq!(
            region_in([100, 50, 800, 600], m, (3840, 2160)),
            Some([200, 100, 1600, 1200])
        );
        // On the second monitor, partly off it; and not on it at all.
        let right = [1920, 0, 1280, 1024];
        assert_eq!(
            region_in([1800, 10, 400, 300], right, (1280, 1024)),
            Some([0, 10, 280, 300])
        );
        assert_eq!(region_in([100, 50, 800, 600], right, (1280, 1024)), None);
    }
}
