//! A call's outcome ([`CallOutcome`]): one room's answer to one action, as
//! the fleet, the single-room link and `roomshare rooms call` all report
//! it; how far a visit got ([`Reach`]); and the count of a batch's
//! outcomes ([`Tally`]).

use super::FleetAction;
use crate::client::ClientError;
use crate::link::NO_ANSWER;
use crate::protocol::{RpcResult, codes};
use std::time::Instant;

/// How far a visit got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Connected and answered.
    Connected,
    /// The room refused the password (4, 5 or 16).
    AuthFailed,
    /// Nothing there, or the connection was refused or lost.
    Unreachable,
    /// No answer (handshake or request) within the timeout.
    Timeout,
}

impl Reach {
    /// `connected`, `auth_failed`, `unreachable`, `timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Connected => "connected",
            Reach::AuthFailed => "auth_failed",
            Reach::Unreachable => "unreachable",
            Reach::Timeout => "timeout",
        }
    }

    pub(crate) fn of(error: &ClientError) -> Reach {
        match error {
            ClientError::Timeout(_) => Reach::Timeout,
            ClientError::AuthFailed { .. } => Reach::AuthFailed,
            ClientError::NotConnected(_) | ClientError::Stopped => Reach::Unreachable,
            // The room answered, just not what was hoped for.
            ClientError::Refused { .. }
            | ClientError::Protocol { .. }
            | ClientError::Malformed { .. } => Reach::Connected,
        }
    }
}

/// One room's answer to one action.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    pub action: FleetAction,
    /// How far the call got: [`Reach::Connected`] once the room answered.
    pub reach: Reach,
    /// The device's `error_code` (0 = done) or a JSON-RPC error's code;
    /// [`NO_ANSWER`] when the room could not be asked or did not answer;
    /// `None` while waiting.
    pub code: Option<i64>,
    /// The device's message, or why there was no answer.
    pub message: String,
    /// When it was sent, then when it was answered.
    pub at: Instant,
}

impl CallOutcome {
    /// Sent, no answer yet.
    pub(crate) fn pending(action: FleetAction) -> CallOutcome {
        CallOutcome {
            action,
            reach: Reach::Connected,
            code: None,
            message: String::new(),
            at: Instant::now(),
        }
    }

    /// No answer came, and why.
    pub(crate) fn unanswered(action: FleetAction, reach: Reach, why: String) -> CallOutcome {
        CallOutcome {
            action,
            reach,
            code: Some(NO_ANSWER),
            message: why,
            at: Instant::now(),
        }
    }

    /// What the client made of the request: the device's result, a
    /// JSON-RPC error or a refused password (with their codes), or no
    /// answer.
    pub(crate) fn of(action: FleetAction, answer: Result<RpcResult, ClientError>) -> CallOutcome {
        let (reach, code, message) = match answer {
            Ok(r) => (Reach::Connected, r.error_code, r.message),
            Err(ClientError::Protocol { code, message }) => (Reach::Connected, code, message),
            Err(ClientError::AuthFailed { code, message }) => (Reach::AuthFailed, code, message),
            Err(e) => return CallOutcome::unanswered(action, Reach::of(&e), e.to_string()),
        };
        CallOutcome {
            action,
            reach,
            code: Some(code),
            message,
            at: Instant::now(),
        }
    }

    pub fn is_pending(&self) -> bool {
        self.code.is_none()
    }

    pub fn is_done(&self) -> bool {
        self.code == Some(codes::OK)
    }

    /// The room answered with this code (`None` while waiting or without
    /// an answer).
    pub fn answer_code(&self) -> Option<i64> {
        self.code
            .filter(|_| self.reach == Reach::Connected)
            .filter(|&c| c != NO_ANSWER)
    }

    /// The documented meaning of the code (`None` while waiting, when
    /// done, or for [`NO_ANSWER`]: see [`CallOutcome::message`]).
    pub fn meaning(&self) -> Option<&'static str> {
        match self.code {
            None | Some(codes::OK) | Some(NO_ANSWER) => None,
            Some(code) => Some(codes::meaning(code).unwrap_or("undocumented code")),
        }
    }

    /// For people: `done`, `waiting…`, `17 Repeat Operation: nothing is
    /// being shared`, `no answer: not connected: connection refused`.
    pub fn summary(&self) -> String {
        match self.code {
            None => "waiting…".into(),
            Some(codes::OK) => "done".into(),
            Some(NO_ANSWER) => format!("no answer: {}", self.message),
            Some(code) => {
                let meaning = codes::meaning(code).unwrap_or("undocumented code");
                if self.message.is_empty() || self.message == meaning {
                    format!("{code} {meaning}")
                } else {
                    format!("{code} {meaning}: {}", self.message)
                }
            }
        }
    }

    /// For scripts: why there is no answer or the answer is an error
    /// (`17 Repeat Operation: …`, `JSON-RPC error -32601: …`, `connection
    /// refused`); `None` when done or waiting.
    pub fn error(&self) -> Option<String> {
        let code = self.code?;
        if self.reach != Reach::Connected || code == NO_ANSWER {
            return Some(self.message.clone());
        }
        if code == codes::OK {
            return None;
        }
        if is_jsonrpc(code) {
            return Some(format!("JSON-RPC error {code}: {}", self.message));
        }
        let meaning = codes::meaning(code).unwrap_or("undocumented code");
        Some(match self.message.as_str() {
            "" => format!("{code} {meaning}"),
            m => format!("{code} {meaning}: {m}"),
        })
    }
}

/// How a batch of calls went so far.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub done: usize,
    /// The room answered with an error code.
    pub refused: usize,
    /// No answer: unreachable, refused password, timeout.
    pub unanswered: usize,
    pub waiting: usize,
}

impl Tally {
    /// Count one room's outcome (`None`: nothing sent to it yet, waiting).
    pub fn count(&mut self, outcome: Option<&CallOutcome>) {
        match outcome {
            None => self.waiting += 1,
            Some(o) if o.is_pending() => self.waiting += 1,
            Some(o) if o.is_done() => self.done += 1,
            Some(o) if o.answer_code().is_some() => self.refused += 1,
            Some(_) => self.unanswered += 1,
        }
    }

    /// Refused or unanswered.
    pub fn failed(&self) -> usize {
        self.refused + self.unanswered
    }
}

/// JSON-RPC 2.0 keeps -32768 to -32000 for its own errors; device codes
/// are never negative (protocol.md §7).
fn is_jsonrpc(code: i64) -> bool {
    (-32768..=-32000).contains(&code)
}
