//! The one way a test waits for something it cannot be told about: look at
//! a condition every [`POLL`] until it holds or the deadline passes, then
//! fail saying what was awaited ("timed out after 5 s waiting for …").
//!
//! A condition answers `bool` (done or not), `Option<T>` (done with a
//! value) or `Result<T, E>` (not yet, with what it saw: the failure message
//! shows the last `E`). Included by `support/mod.rs` and, with `#[path]`,
//! by the harnesses that are included on their own (`capture_x11.rs`).
#![allow(dead_code)]

use std::fmt::{self, Display};
use std::time::Duration;

/// Between two looks at a condition: short next to every deadline, long
/// enough not to spin on a 2-core machine.
pub const POLL: Duration = Duration::from_millis(10);

/// A condition's answer: met (with a value) or not yet (with, perhaps,
/// what it saw instead).
pub trait Met {
    type Value;
    fn met(self) -> Result<Self::Value, Option<String>>;
}

impl Met for bool {
    type Value = ();
    fn met(self) -> Result<(), Option<String>> {
        if self { Ok(()) } else { Err(None) }
    }
}

impl<T> Met for Option<T> {
    type Value = T;
    fn met(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: Display> Met for Result<T, E> {
    type Value = T;
    fn met(self) -> Result<T, Option<String>> {
        self.map_err(|seen| Some(seen.to_string()))
    }
}

/// A wait that ran out: what was awaited, for how long, and what the
/// condition last saw (when it said).
#[derive(Debug)]
pub struct TimedOut {
    pub deadline: Duration,
    pub what: String,
    pub last: Option<String>,
}

impl Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.deadline;
        match d.subsec_millis() {
            0 => write!(f, "timed out after {} s", d.as_secs())?,
            _ => write!(f, "timed out after {} ms", d.as_millis())?,
        }
        write!(f, " waiting for {}", self.what)?;
        match &self.last {
            Some(last) => write!(f, "; last: {last}"),
            None => Ok(()),
        }
    }
}

/// Poll `condition` until it is met; its value, or [`TimedOut`] after
/// `deadline` (for a caller that fails its own way, with logs).
pub fn try_wait_until<M: Met>(
    deadline: Duration,
    what: impl Display,
    condition: impl FnMut() -> M,
) -> Result<M::Value, TimedOut> {
    try_wait_every(POLL, deadline, what, condition)
}

/// [`try_wait_until`] looking every `poll` instead of every [`POLL`]: for
/// a condition that runs a UI frame each time it is asked, where the
/// number of frames per second is part of what the test sees.
pub fn try_wait_every<M: Met>(
    poll: Duration,
    deadline: Duration,
    what: impl Display,
    mut condition: impl FnMut() -> M,
) -> Result<M::Value, TimedOut> {
    let end = std::time::Instant::now() + deadline;
    loop {
        let last = match condition().met() {
            Ok(value) => return Ok(value),
            Err(last) => last,
        };
        if std::time::Instant::now() >= end {
            let what = what.to_string();
            return Err(TimedOut {
                deadline,
                what,
                last,
            });
        }
        std::thread::sleep(poll);
    }
}

/// Poll `condition` until it is met and return its value; panic with what
/// was awaited after `deadline`.
pub fn wait_until<M: Met>(
    deadline: Duration,
    what: impl Display,
    condition: impl FnMut() -> M,
) -> M::Value {
    try_wait_until(deadline, what, condition).unwrap_or_else(|e| panic!("{e}"))
}

/// [`wait_until`] inside a runtime: the condition may await, and the pause
/// between looks lets the runtime's other tasks run. The deadline is
/// tokio's clock (the same as the wall clock unless a test pauses time).
pub async fn wait_until_async<M: Met>(
    deadline: Duration,
    what: impl Display,
    mut condition: impl AsyncFnMut() -> M,
) -> M::Value {
    let end = tokio::time::Instant::now() + deadline;
    loop {
        let last = match condition().await.met() {
            Ok(value) => return value,
            Err(last) => last,
        };
        if tokio::time::Instant::now() >= end {
            let what = what.to_string();
            panic!(
                "{}",
                TimedOut {
                    deadline,
                    what,
                    last
                }
            );
        }
        tokio::time::sleep(POLL).await;
    }
}
