//! Capture through the XDG desktop portal's ScreenCast interface, for
//! Wayland sessions: the user is asked once, the PipeWire streams stay open,
//! and the restore token makes the next start ask nothing.
//!
//! # Use
//!
//! ```no_run
//! use roomshare::capture::portal::{Portal, PortalConfig};
//! use roomshare::capture::{Backend, BackendFactory};
//! use std::sync::Arc;
//!
//! // One Portal for the process; one backend per capture worker.
//! let portal = Portal::new(PortalConfig::default());
//! let factory: BackendFactory =
//!     Arc::new(move || Box::new(portal.backend()) as Box<dyn Backend>);
//! ```
//!
//! - [`Portal`]: the process-wide session, started on the first `list()` or
//!   `capture()` in a background thread (`roomshare-portal`); until the user
//!   answers, `list()` is empty and `capture()` says it is waiting. A
//!   failure (no portal, dialog cancelled) is kept, not retried:
//!   [`Portal::reset`] asks again.
//! - [`PortalSession`]: one granted session, for callers that want to block
//!   on the dialog themselves ([`PortalSession::start`]).
//! - Threads: the portal calls run on the caller's thread (zbus's own
//!   executor thread does the I/O); each session runs one PipeWire main loop
//!   thread (`roomshare-pipewire`) holding all its streams; frames cross to
//!   callers through a mutex'd slot per stream.
//! - Pictures: packed RGB(A/x) SHM buffers (see [`frame`]); DMA-BUF is never
//!   offered, so producers fall back to shared memory; a source that offers
//!   DMA-BUF only fails with that reason (`dmabuf`), never a silent wait.
//! - Tokens: [`TokenStore`] at [`default_token_path`].

mod backend;
mod dmabuf;
mod error;
pub mod frame;
mod handshake;
mod params;
mod session;
mod sources;
mod stream;
mod token;

pub use backend::{Portal, PortalBackend, PortalStatus};
pub use error::PortalError;
pub use session::{PortalConfig, PortalSession};
pub use sources::{DESKTOP_ID, PortalStream, StreamInfo, StreamKind, catalog, describe};
pub use token::{TOKEN_FILE, TokenStore, default_token_path, token_path_from};

const LOG: &str = "roomshare::capture::portal";
