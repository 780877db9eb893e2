//! The embedded share engine: the room's state machine ([`room`]), its owner
//! task ([`actor`]) and per-client sessions ([`session`]).

pub mod actor;
pub mod room;
pub mod session;

pub use actor::{EngineGone, EngineHandle, EventFrame, RoomSnapshot};
pub use room::{Room, RoomConfig, demo_sources};
pub use session::{Session, SessionError};
