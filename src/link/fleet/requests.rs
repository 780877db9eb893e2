//! How the requests a fleet room sends end ([`RequestResult`]), counted per
//! room ([`RequestCounts`]): every read, poll and call, for the exporter's
//! `roomshare_room_requests_total{result}`.
//!
//! Kept beside the room's status, not in it: a count moves on every poll,
//! and a status that changed on every poll would wake the Rooms view (and
//! rebuild the fleet's snapshot) for nothing anyone sees.

use crate::client::ClientError;
use crate::protocol::RpcResult;
use std::sync::atomic::{AtomicU64, Ordering};

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestResult {
    /// Answered with `error_code` 0.
    Ok,
    /// Answered with an error: a device code or a JSON-RPC error.
    Refused,
    /// No answer in time.
    Timeout,
    /// Not sent or not understood: not connected, a malformed answer,
    /// the client stopped.
    Failed,
}

impl RequestResult {
    pub const ALL: [RequestResult; 4] = [
        RequestResult::Ok,
        RequestResult::Refused,
        RequestResult::Timeout,
        RequestResult::Failed,
    ];

    /// The `result` label.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestResult::Ok => "ok",
            RequestResult::Refused => "refused",
            RequestResult::Timeout => "timeout",
            RequestResult::Failed => "failed",
        }
    }

    /// A typed read's result (`Client::fetch`).
    pub fn of_read<T>(result: &Result<T, ClientError>) -> RequestResult {
        match result {
            Ok(_) => RequestResult::Ok,
            Err(e) => RequestResult::of_error(e),
        }
    }

    /// A call's answer (`Client::request`): a non-zero `error_code` is a
    /// refusal.
    pub fn of_answer(result: &Result<RpcResult, ClientError>) -> RequestResult {
        match result {
            Ok(answer) if answer.error_code == 0 => RequestResult::Ok,
            Ok(_) => RequestResult::Refused,
            Err(e) => RequestResult::of_error(e),
        }
    }

    fn of_error(error: &ClientError) -> RequestResult {
        match error {
            ClientError::Refused { .. } | ClientError::Protocol { .. } => RequestResult::Refused,
            ClientError::Timeout(_) => RequestResult::Timeout,
            ClientError::NotConnected(_)
            | ClientError::AuthFailed { .. }
            | ClientError::Malformed { .. }
            | ClientError::Stopped => RequestResult::Failed,
        }
    }
}

/// One room's requests so far, by how they ended.
#[derive(Debug, Default)]
pub struct RequestCounts([AtomicU64; 4]);

impl RequestCounts {
    pub fn add(&self, result: RequestResult) {
        self.0[result as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, result: RequestResult) -> u64 {
        self.0[result as usize].load(Ordering::Relaxed)
    }

    /// Every count now, in [`RequestResult::ALL`]'s order.
    pub fn snapshot(&self) -> [(RequestResult, u64); 4] {
        RequestResult::ALL.map(|r| (r, self.get(r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn every_way_a_request_ends_has_its_label_and_count() {
        let counts = RequestCounts::default();
        let refused: Result<(), ClientError> = Err(ClientError::Refused {
            code: 10000,
            message: "not in a meeting".into(),
        });
        let late: Result<(), ClientError> = Err(ClientError::Timeout(Duration::from_secs(5)));
        counts.add(RequestResult::of_read(&Ok::<(), ClientError>(())));
        counts.add(RequestResult::of_read(&refused));
        counts.add(RequestResult::of_read(&late));
        counts.add(RequestResult::of_read(&late));
        let labels: Vec<_> = RequestResult::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels, ["ok", "refused", "timeout", "failed"]);
        let got: Vec<_> = RequestResult::ALL.iter().map(|&r| counts.get(r)).collect();
        assert_eq!(got, [1, 1, 2, 0]);
    }
}
