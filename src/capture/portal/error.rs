//! Why a portal session could not be had, in sentences the UI can show.

use crate::capture::CaptureError;

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

impl From<PortalError> for CaptureError {
    fn from(e: PortalError) -> CaptureError {
        CaptureError::Failed(e.to_string())
    }
}
