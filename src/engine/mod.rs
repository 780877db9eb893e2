//! The embedded share engine: the room's state machine ([`room`], one file
//! per command family), its owner task ([`actor`]), per-client sessions
//! ([`session`]) and the demo data an engine starts with ([`demo_sources`]).
//!
//! What other layers need is re-exported here: `capture` uses the share
//! bookkeeping ([`OwnShare`], [`ShareStats`], [`SHARE_STOPPED_SOURCE_GONE`])
//! from this module, never from `room` directly.

pub mod actor;
mod demo;
pub mod room;
pub mod session;

pub use actor::{EngineGone, EngineHandle, EventFrame, InspectRequest, Reply, RoomSnapshot};
pub use demo::demo_sources;
pub use room::{InspectJob, OwnShare, Room, RoomConfig, SHARE_STOPPED_SOURCE_GONE, ShareStats};
pub use session::{Session, SessionError};
