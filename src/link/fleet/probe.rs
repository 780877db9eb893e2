//! One-shot visits for the command line (`roomshare rooms status`, `rooms
//! call`): connect once, ask, report how it went — as one of four link
//! states a script can branch on.
//!
//! The timeout bounds the handshake (with the first answer) and then the
//! answers, each; the client's own timeouts are set a little longer so
//! that the outer one decides, and "no answer in time" is always
//! [`Reach::Timeout`], never confused with a refused connection.

use crate::client::{Client, ClientError, ClientOptions, ConnState};
use crate::link::Target;
use crate::protocol::RpcResult;
use crate::protocol::answers::{MeetingInfoAnswer, ShareAnswer};
use crate::protocol::model::ShareInfo;
use serde_json::Value;
use std::time::Duration;

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

    fn of(error: &ClientError) -> Reach {
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

/// A room's state as one visit found it. `None` = not answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub reach: Reach,
    pub meeting_status: Option<i64>,
    pub share_info: Option<ShareInfo>,
    pub cast_code: Option<String>,
    /// Why something is missing; `None` when the room answered everything.
    pub error: Option<String>,
}

impl Probe {
    fn failed(reach: Reach, error: String) -> Probe {
        Probe {
            reach,
            meeting_status: None,
            share_info: None,
            cast_code: None,
            error: Some(error),
        }
    }

    pub fn is_sharing(&self) -> Option<bool> {
        self.share_info.as_ref().map(|s| s.is_sharing)
    }

    /// The sharer's nickname while someone shares.
    pub fn sharer(&self) -> Option<&str> {
        let info = self.share_info.as_ref().filter(|s| s.is_sharing)?;
        info.share_user_info.as_ref().map(|u| u.nickname.as_str())
    }
}

/// Connect to `target` once; read its share and meeting state.
pub async fn probe(target: &Target, timeout: Duration) -> Probe {
    let client = match connect(target, timeout).await {
        Ok(c) => c,
        Err((reach, error)) => return Probe::failed(reach, error),
    };
    let reads = async {
        tokio::join!(
            client.fetch::<ShareAnswer>(),
            client.fetch::<MeetingInfoAnswer>()
        )
    };
    let Ok((share, meeting)) = tokio::time::timeout(timeout, reads).await else {
        let error = format!("connected, but no answer within {}", seconds(timeout));
        return Probe::failed(Reach::Timeout, error);
    };
    let mut probe = Probe::failed(Reach::Connected, String::new());
    let mut errors = Vec::new();
    match share {
        Ok(a) => {
            probe.share_info = a.share.share_info;
            probe.cast_code = a.share.cast_code;
        }
        Err(e) => errors.push(("Query Share", e)),
    }
    match meeting {
        Ok(a) => probe.meeting_status = Some(a.meeting_info.meeting_status),
        Err(e) => errors.push(("Query Meeting/MeetingInfo", e)),
    }
    // The worst reach among the failed reads decides.
    if let Some((_, e)) = errors
        .iter()
        .find(|(_, e)| Reach::of(e) != Reach::Connected)
    {
        probe.reach = Reach::of(e);
    }
    let text: Vec<String> = errors.iter().map(|(w, e)| format!("{w}: {e}")).collect();
    probe.error = (!text.is_empty()).then(|| text.join("; "));
    probe
}

/// The outcome of one call in one room.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    pub reach: Reach,
    /// The device's `error_code`; `None` without an answer.
    pub code: Option<i64>,
    /// The device's message (may be empty).
    pub message: String,
    /// Why there is no answer or the answer is an error; `None` when done.
    pub error: Option<String>,
}

/// Connect to `target` once and send `method` with `params`.
pub async fn call_once(
    target: &Target,
    method: &str,
    params: Value,
    timeout: Duration,
) -> CallOutcome {
    let failed = |reach, error| CallOutcome {
        reach,
        code: None,
        message: String::new(),
        error: Some(error),
    };
    let client = match connect(target, timeout).await {
        Ok(c) => c,
        Err((reach, error)) => return failed(reach, error),
    };
    match tokio::time::timeout(timeout, client.request(method, params)).await {
        Err(_) => failed(
            Reach::Timeout,
            format!("connected, but no answer within {}", seconds(timeout)),
        ),
        Ok(Ok(result)) => answered(result),
        Ok(Err(ClientError::Protocol { code, message })) => CallOutcome {
            reach: Reach::Connected,
            code: Some(code),
            error: Some(format!("JSON-RPC error {code}: {message}")),
            message,
        },
        Ok(Err(e)) => failed(Reach::of(&e), e.to_string()),
    }
}

fn answered(result: RpcResult) -> CallOutcome {
    let error = (!result.is_ok()).then(|| {
        let meaning =
            crate::protocol::codes::meaning(result.error_code).unwrap_or("undocumented code");
        match result.message.as_str() {
            "" => format!("{} {meaning}", result.error_code),
            m => format!("{} {meaning}: {m}", result.error_code),
        }
    });
    CallOutcome {
        reach: Reach::Connected,
        code: Some(result.error_code),
        message: result.message,
        error,
    }
}

/// Connect within `timeout`, or say how it failed.
async fn connect(target: &Target, timeout: Duration) -> Result<Client, (Reach, String)> {
    // A little longer than the outer timeout, which must decide first.
    let inner = timeout + Duration::from_secs(1);
    let options = ClientOptions {
        request_timeout: inner,
        connect_timeout: inner,
        reconnect: false,
        subscriptions: vec![],
        // Light, as the fleet's: hundreds of rooms are visited at once.
        traffic: false,
        event_capacity: 16,
        read_buffer: 8 * 1024,
        ..ClientOptions::default()
    };
    let connecting = Client::connect(target.endpoint().clone(), options);
    match tokio::time::timeout(timeout, connecting).await {
        Err(_) => Err((
            Reach::Timeout,
            format!("no answer within {}", seconds(timeout)),
        )),
        Ok(Ok(client)) => Ok(client),
        Ok(Err(ClientError::AuthFailed { code, message })) => Err((
            Reach::AuthFailed,
            ConnState::AuthFailed { code, message }.to_string(),
        )),
        Ok(Err(ClientError::NotConnected(reason))) => Err((Reach::Unreachable, reason)),
        Ok(Err(e)) => Err((Reach::of(&e), e.to_string())),
    }
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}
