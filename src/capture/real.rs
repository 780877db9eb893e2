//! Real sources: this machine's screens and windows (the X11 backend on an
//! X11 session, xcap elsewhere — macOS, Windows, Wayland) and its capture
//! devices (V4L2 on Linux), behind one [`Backend`].

use super::devices::{CaptureDevices, DEVICE_ID_PREFIX, DeviceInput};
use super::{Backend, CaptureError, XcapBackend};
use crate::protocol::{CaptureStatus, SourceInfo};
use image::RgbaImage;
use std::sync::Arc;

/// Screens and windows from one backend, capture devices from another.
pub struct RealBackend {
    screens: Box<dyn Backend>,
    /// Shared by every worker's backend: the devices' streams are single
    /// owner, so each worker must see the others' held streams.
    devices: Option<CaptureDevices>,
    /// The last device-listing problem, logged once.
    last_device_error: Option<String>,
    /// Device sources this backend holds (the share session's): it reads
    /// their every frame rather than a recent one another worker read.
    holding: Vec<String>,
}

impl RealBackend {
    pub fn new(screens: Box<dyn Backend>, devices: Option<CaptureDevices>) -> RealBackend {
        RealBackend {
            screens,
            devices,
            last_device_error: None,
            holding: Vec::new(),
        }
    }

    /// The devices as sources; a device without a usable format is listed
    /// with the reason (busy devices show theirs when a capture fails).
    fn device_sources(&mut self) -> Vec<SourceInfo> {
        let Some(devices) = &self.devices else {
            return Vec::new();
        };
        match devices.list() {
            Ok(mut list) => {
                self.last_device_error = None;
                for s in &mut list {
                    let no_format = s.width == 0 && s.height == 0;
                    let id = s.device_id.as_deref().unwrap_or_default();
                    if no_format {
                        s.unavailable = devices.status(id);
                    }
                }
                list
            }
            Err(e) => {
                let e = e.to_string();
                if self.last_device_error.as_ref() != Some(&e) {
                    tracing::warn!(target: "roomshare::capture", "cannot list capture devices: {e}");
                    self.last_device_error = Some(e);
                }
                Vec::new()
            }
        }
    }

    /// The device behind a `device:` source id, if it is one.
    fn device_of<'a>(&self, source_id: &'a str) -> Option<(&CaptureDevices, &'a str)> {
        let device_id = source_id.strip_prefix(DEVICE_ID_PREFIX)?;
        Some((self.devices.as_ref()?, device_id))
    }
}

/// Makes this machine's screen backend for each worker: X11 on an X11
/// session (xcap if the display cannot be opened), the ScreenCast portal on
/// a Wayland session (one permission for every worker), xcap elsewhere.
pub fn screens_factory() -> Arc<dyn Fn() -> Box<dyn Backend> + Send + Sync> {
    #[cfg(all(target_os = "linux", not(target_env = "ohos")))]
    {
        if is_x11_session() {
            return Arc::new(|| match super::x11::X11Backend::connect(None) {
                Ok(x11) => Box::new(x11) as Box<dyn Backend>,
                Err(e) => {
                    tracing::warn!(target: "roomshare::capture", "{e}; using xcap");
                    Box::new(XcapBackend::new())
                }
            });
        }
        if is_wayland_session() {
            let portal = super::portal::Portal::new(super::portal::PortalConfig::default());
            return Arc::new(move || Box::new(portal.backend()) as Box<dyn Backend>);
        }
    }
    Arc::new(|| Box::new(XcapBackend::new()) as Box<dyn Backend>)
}

/// Whether this machine has a display to capture: on Linux an X11 or a
/// Wayland display in the environment; elsewhere always (Windows and macOS
/// sessions have one).
pub fn display_exists() -> bool {
    #[cfg(target_os = "linux")]
    {
        let set = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
        set("DISPLAY") || set("WAYLAND_DISPLAY")
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

#[cfg(all(target_os = "linux", not(target_env = "ohos")))]
fn is_wayland_session() -> bool {
    std::env::var_os("WAYLAND_DISPLAY").is_some_and(|s| !s.is_empty())
        || std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t.eq_ignore_ascii_case("wayland"))
}

/// X11, not Wayland: xcap treats the session as Wayland when either says
/// so, and so do we (an X11 connection there would see only XWayland).
#[cfg(all(target_os = "linux", not(target_env = "ohos")))]
pub fn is_x11_session() -> bool {
    let set = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
    let wayland = set("WAYLAND_DISPLAY")
        || std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t.eq_ignore_ascii_case("wayland"));
    set("DISPLAY") && !wayland
}

impl Backend for RealBackend {
    fn name(&self) -> &'static str {
        self.screens.name()
    }

    fn list(&mut self) -> Result<Vec<SourceInfo>, CaptureError> {
        let mut list = self.screens.list()?;
        list.extend(self.device_sources());
        Ok(list)
    }

    fn capture(&mut self, source_id: &str) -> Result<RgbaImage, CaptureError> {
        let holding = self.holding.iter().any(|h| h == source_id);
        match self.device_of(source_id) {
            Some((devices, _)) if holding => devices.capture_next(source_id),
            Some((devices, _)) => devices.capture(source_id),
            None => return self.screens.capture(source_id),
        }
        .map_err(|e| e.to_capture_error(source_id))
    }

    fn unchanged(&mut self, source_id: &str) -> bool {
        self.device_of(source_id).is_none() && self.screens.unchanged(source_id)
    }

    fn own_regions(&mut self, source_id: &str, picture: (u32, u32)) -> Vec<[u32; 4]> {
        match self.device_of(source_id) {
            Some(_) => Vec::new(),
            None => self.screens.own_regions(source_id, picture),
        }
    }

    fn hold(&mut self, source_id: &str) -> Result<(), CaptureError> {
        // One hold per backend: the device counts its holders (the share,
        // an inspection), and closes the stream when the last lets go.
        if self.holding.iter().any(|h| h == source_id) {
            return Ok(());
        }
        match self.device_of(source_id) {
            Some((devices, device_id)) => {
                devices
                    .hold(device_id)
                    .map_err(|e| e.to_capture_error(source_id))?;
                self.holding.push(source_id.to_string());
                Ok(())
            }
            None => self.screens.hold(source_id),
        }
    }

    fn status(&mut self) -> CaptureStatus {
        self.screens.status()
    }

    fn retry(&mut self) {
        self.screens.retry()
    }

    fn release(&mut self, source_id: &str) {
        let held_here = self.holding.iter().any(|h| h == source_id);
        self.holding.retain(|h| h != source_id);
        match self.device_of(source_id) {
            Some((devices, device_id)) if held_here => devices.release(device_id),
            Some(_) => {}
            None => self.screens.release(source_id),
        }
    }

    fn device_input(&mut self, source_id: &str) -> Option<DeviceInput> {
        let (devices, device_id) = self.device_of(source_id)?;
        Some(devices.input(device_id))
    }
}
