//! roomshare: a console for screen sharing in Tencent Meeting Rooms, with an
//! embedded share engine that speaks the Rooms control API.
//!
//! Layers (see README "Architecture"), each seeing only those before it:
//! [`protocol`] (wire types, no I/O) → [`engine`] (the room's state machine
//! and its sessions) → [`server`] / [`client`] (WebSocket transport) →
//! [`link`] (one interface for the UI over embedded and remote) → [`ui`].
//! [`capture`] produces the picture types of [`media`] for the engine and
//! the UI. [`embedded`], [`app`] and [`cli`] wire them together.

pub mod app;
pub mod capture;
pub mod cli;
pub mod client;
pub mod embedded;
pub mod engine;
pub mod link;
pub mod media;
pub mod protocol;
pub mod server;
pub mod ui;
