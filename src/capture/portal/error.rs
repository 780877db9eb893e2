//! Why a portal session could not be had, in sentences the UI can show.

use crate::capture::CaptureError;
use crate::protocol::{CaptureState, CaptureStatus};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortalError {
    /// Nothing answers `org.freedesktop.portal.ScreenCast` (no
    /// xdg-desktop-portal, or one without a ScreenCast backend), or there is
    /// no session bus at all.
    #[error("no xdg-desktop-portal with ScreenCast on this session bus ({0})")]
    NoPortal(String),
    /// The user closed the dialog without choosing.
    #[error("screen sharing was not allowed (the dialog was cancelled)")]
    Cancelled,
    /// The portal said no for another reason (its answer is in the text).
    #[error("the screen sharing portal refused the request: {0}")]
    Refused(String),
    /// The dialog was accepted with nothing chosen.
    #[error("the screen sharing portal gave no streams (nothing was chosen)")]
    NoStreams,
    /// The portal's answer did not follow the protocol.
    #[error("the screen sharing portal answered in an unexpected way: {0}")]
    Protocol(String),
    /// The grant was had, but its PipeWire streams could not be opened.
    #[error("cannot open the screen sharing streams: {0}")]
    PipeWire(String),
}

impl PortalError {
    /// Whether a stored restore token could be the reason (a stale token
    /// can make a portal fail the request instead of asking again), so one
    /// more try without it is worth it. Not for a cancelled dialog: the user
    /// said no, and asking again at once would be a second dialog.
    pub(crate) fn token_may_be_at_fault(&self) -> bool {
        matches!(
            self,
            PortalError::Refused(_) | PortalError::Protocol(_) | PortalError::NoStreams
        )
    }
}

/// What to install when no portal answers ScreenCast.
const INSTALL_PORTAL: &str = "install xdg-desktop-portal and this desktop's backend (xdg-desktop-portal-gnome on GNOME, xdg-desktop-portal-kde on KDE Plasma, xdg-desktop-portal-wlr on sway and other wlroots desktops), then log in again";

impl PortalError {
    /// The state and reason the wall, the tools and remote consoles show:
    /// what happened, then what to do.
    pub fn capture_status(&self) -> CaptureStatus {
        let (state, advice) = match self {
            PortalError::Cancelled => (
                CaptureState::Refused,
                "ask again and choose what to share in the dialog".to_string(),
            ),
            PortalError::Refused(_) | PortalError::NoStreams => (
                CaptureState::Refused,
                "ask again; if it keeps failing, check the portal's log (journalctl --user -u xdg-desktop-portal)".to_string(),
            ),
            PortalError::NoPortal(detail) => (CaptureState::Unavailable, no_portal_advice(detail)),
            PortalError::Protocol(_) => (
                CaptureState::Unavailable,
                "ask again; if it keeps failing, update xdg-desktop-portal and this desktop's backend".to_string(),
            ),
            PortalError::PipeWire(_) => (
                CaptureState::Unavailable,
                "check that PipeWire runs in this session (systemctl --user status pipewire), then ask again".to_string(),
            ),
        };
        CaptureStatus::not_ok(state, format!("{self}. What to do: {advice}"))
    }
}

/// No bus, no portal, or a portal without a ScreenCast backend for this
/// desktop: each needs something else.
fn no_portal_advice(detail: &str) -> String {
    if detail.contains("cannot reach the session bus") {
        return "run roomshare inside the desktop session (it needs the session's D-Bus, DBUS_SESSION_BUS_ADDRESS)".into();
    }
    if detail.contains("ServiceUnknown") || detail.contains("NameHasNoOwner") {
        return INSTALL_PORTAL.into();
    }
    if detail.contains("went away") {
        return "the desktop's portal backend stopped during the request: ask again; if it keeps happening, read its log (journalctl --user)".into();
    }
    let desktop = std::env::var("XDG_CURRENT_DESKTOP").unwrap_or_default();
    format!(
        "the portal has no ScreenCast backend for this desktop (XDG_CURRENT_DESKTOP={desktop:?}): {INSTALL_PORTAL}"
    )
}

impl From<PortalError> for CaptureError {
    fn from(e: PortalError) -> CaptureError {
        CaptureError::Failed(e.to_string())
    }
}
