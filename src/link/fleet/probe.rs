//! One-shot visits for the command line (`roomshare rooms status`, `rooms
//! call`): connect once, ask, report how it went — as one of four link
//! states a script can branch on ([`Reach`]).
//!
//! The timeout bounds the handshake (with the first answer) and then the
//! answers, each; the client's own timeouts are set a little longer so
//! that the outer one decides, and "no answer in time" is always
//! [`Reach::Timeout`], never confused with a refused connection.

use super::{CallOutcome, FleetAction, Reach};
use crate::client::{Client, ClientError, ClientOptions, ConnState};
use crate::link::{RoomView, Target};
use crate::protocol::answers::{MeetingInfoAnswer, ShareAnswer};
use std::ops::Deref;
use std::time::Duration;

/// A room as one visit found it: how far the visit got, and the room's
/// view (it reads as its view: `probe.cast_code`, `probe.sharer()`);
/// what was not answered stays `None` in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub reach: Reach,
    pub view: RoomView,
    /// Why something is missing; `None` when the room answered everything.
    pub error: Option<String>,
}

impl Deref for Probe {
    type Target = RoomView;

    fn deref(&self) -> &RoomView {
        &self.view
    }
}

impl Probe {
    fn failed(target: &Target, reach: Reach, error: String) -> Probe {
        Probe {
            reach,
            view: RoomView::empty(target.label(), target.is_embedded()),
            error: Some(error),
        }
    }
}

/// Connect to `target` once; read its share and meeting state.
pub async fn probe(target: &Target, timeout: Duration) -> Probe {
    let client = match connect(target, timeout).await {
        Ok(c) => c,
        Err((reach, error)) => return Probe::failed(target, reach, error),
    };
    let reads = async {
        tokio::join!(
            client.fetch::<ShareAnswer>(),
            client.fetch::<MeetingInfoAnswer>()
        )
    };
    let Ok((share, meeting)) = tokio::time::timeout(timeout, reads).await else {
        let error = format!("connected, but no answer within {}", seconds(timeout));
        return Probe::failed(target, Reach::Timeout, error);
    };
    let mut probe = Probe::failed(target, Reach::Connected, String::new());
    probe.view.conn = ConnState::Connected;
    let mut errors = Vec::new();
    match share {
        Ok(a) => probe.view.apply_share(a.share),
        Err(e) => errors.push(("Query Share", e)),
    }
    match meeting {
        Ok(a) => probe.view.meeting = Some(a.meeting_info),
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

/// Connect to `target` once and send `action`.
pub async fn call_once(target: &Target, action: FleetAction, timeout: Duration) -> CallOutcome {
    let client = match connect(target, timeout).await {
        Ok(c) => c,
        Err((reach, error)) => return CallOutcome::unanswered(action, reach, error),
    };
    let (method, params) = action.request();
    let method = method.to_owned();
    match tokio::time::timeout(timeout, client.request(&method, params)).await {
        Err(_) => CallOutcome::unanswered(
            action,
            Reach::Timeout,
            format!("connected, but no answer within {}", seconds(timeout)),
        ),
        Ok(answer) => CallOutcome::of(action, answer),
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
