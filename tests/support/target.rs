//! The server the protocol tests (`conformance`, `hostile`) drive: an engine
//! served in this process, as everywhere else, or — when
//! `ROOMSHARE_TEST_SERVER=host:port` is set — an external `roomshare serve`
//! started by someone else (scripts/wine-check.sh: the Windows binary under
//! Wine), so that both are held to the very same cases.
//!
//! The external server must be started as the in-process one is configured:
//! `roomshare serve --no-capture --cast-code 246810 --password PASSWORD`
//! ([`CAST_CODE`]; the password is `ROOMSHARE_TEST_PASSWORD`, else
//! [`PASSWORD`]). Its state is reached over the wire only: the tests that
//! need the engine's handle or their own server settings are skipped, each
//! saying so ([`skip_when_external`]). Tests against it take turns (one room
//! is shared by all) and each starts from a room reset over the wire.

use super::{CAST_CODE, PASSWORD, Served, Ws, call_code, connect_raw, serve, wait};
use roomshare::protocol::answers::{
    MeetingInfoAnswer, ShareInfoAnswer, ShareSessionAnswer, SourcesAnswer,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};

/// `host:port` of an external server to test instead of the in-process one.
pub const SERVER_ENV: &str = "ROOMSHARE_TEST_SERVER";
/// Its password (default: [`PASSWORD`]).
pub const PASSWORD_ENV: &str = "ROOMSHARE_TEST_PASSWORD";

/// One test at a time on the external server: they all share its one room.
static EXTERNAL_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The server under test.
pub struct Target {
    pub addr: SocketAddr,
    pub password: String,
    /// The in-process server, shut down by [`Target::finish`].
    local: Option<Served>,
    /// Held while a test drives the external server.
    _turn: Option<tokio::sync::MutexGuard<'static, ()>>,
}

/// The external server's address, if one is named (a bad value fails the
/// test: it is never silently replaced by the in-process server).
fn external_addr() -> Option<SocketAddr> {
    let value = std::env::var(SERVER_ENV).ok()?;
    let addr = value
        .to_socket_addrs()
        .unwrap_or_else(|e| panic!("{SERVER_ENV}={value:?} is not host:port: {e}"))
        .next()
        .unwrap_or_else(|| panic!("{SERVER_ENV}={value:?} resolves to no address"));
    Some(addr)
}

/// The in-process server ([`serve`]), or the external one, reset.
pub async fn target() -> Target {
    let Some(addr) = external_addr() else {
        let served = serve().await;
        return Target {
            addr: served.addr,
            password: PASSWORD.into(),
            local: Some(served),
            _turn: None,
        };
    };
    let turn = EXTERNAL_TURN.lock().await;
    let target = Target {
        addr,
        password: std::env::var(PASSWORD_ENV).unwrap_or_else(|_| PASSWORD.into()),
        local: None,
        _turn: Some(turn),
    };
    target.reset().await;
    target
}

/// For a test that needs the in-process engine or server settings of its
/// own: true when an external server is under test, after saying on
/// stderr which test is skipped and why.
pub fn skip_when_external(test: &str, why: &str) -> bool {
    if std::env::var_os(SERVER_ENV).is_none() {
        return false;
    }
    // Not eprintln!: the harness swallows a passing test's output, and a
    // skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED with {SERVER_ENV}: {test}: {why}"
    );
    true
}

impl Target {
    /// A raw client that authenticates with the vendor's encoding.
    pub async fn connect(&self) -> Ws {
        let protocol = roomshare::protocol::auth::auth_protocol(&self.password);
        connect_raw(self.addr, Some(&protocol)).await.0
    }

    /// Shut the in-process server down (the external one keeps running).
    pub async fn finish(self) {
        if let Some(served) = self.local {
            served.server.shutdown().await;
        }
    }

    /// Back to the state a fresh `serve` starts in: out of any meeting (which
    /// also ends every share and quick cast), [`CAST_CODE`], guide closed.
    async fn reset(&self) {
        let mut ws = self.connect().await;
        if meeting_status(&mut ws).await != 0 {
            let r = call_code(&mut ws, "Meeting", "LeaveMeeting", Value::Null).await;
            assert_eq!(r["error_code"], 0, "reset: {r}");
        }
        let r = call_code(
            &mut ws,
            "RoomShare",
            "SetCastCode",
            json!({"cast_code": CAST_CODE}),
        )
        .await;
        assert_eq!(r["error_code"], 0, "reset: {r}");
        let r = call_code(&mut ws, "Share", "CloseShareGuide", Value::Null).await;
        assert_eq!(r["error_code"], 0, "reset: {r}");
    }
}

/// The data of a `Query` for `path`, decoded.
pub async fn query<T: DeserializeOwned>(ws: &mut Ws, path: &[&str]) -> T {
    let v = super::call(ws, "q", "Query", json!({"path": path})).await;
    assert_eq!(v["result"]["error_code"], 0, "Query {path:?}: {v}");
    serde_json::from_value(v["result"]["data"].clone())
        .unwrap_or_else(|e| panic!("Query {path:?}: {e}: {v}"))
}

pub async fn meeting_status(ws: &mut Ws) -> i64 {
    let a: MeetingInfoAnswer = query(ws, &["Meeting", "MeetingInfo"]).await;
    a.meeting_info.meeting_status
}

/// This room's own share, as `["RoomShare", "ShareSession"]` tells it.
pub async fn share_session(ws: &mut Ws) -> ShareSessionAnswer {
    query(ws, &["RoomShare", "ShareSession"]).await
}

/// The id of the source at `select_index`.
pub async fn source_at(ws: &mut Ws, select_index: u32) -> String {
    let a: SourcesAnswer = query(ws, &["RoomShare", "Sources"]).await;
    a.sources
        .into_iter()
        .find(|s| s.select_index == Some(select_index))
        .unwrap_or_else(|| panic!("no source has select_index {select_index}"))
        .id
}

/// Put the room in a meeting (status 1) over `ws`, waiting over the wire.
pub async fn wire_join_meeting(ws: &mut Ws) {
    let r = call_code(
        ws,
        "Meeting",
        "StartMeeting",
        json!({"meeting_type": "instant"}),
    )
    .await;
    assert_eq!(r["error_code"], 0, "{r}");
    wait::wait_until_async(
        super::WAIT,
        "meeting_status 1",
        async || match meeting_status(ws).await {
            1 => Ok(()),
            other => Err(format!("meeting_status {other}")),
        },
    )
    .await;
}

/// Start a simulated quick cast and wait, over the wire, until it shares
/// (state 2).
pub async fn wire_quick_cast_sharing(ws: &mut Ws) {
    let r = call_code(
        ws,
        "RoomShare",
        "SimulateQuickCast",
        json!({"nickname": "手机"}),
    )
    .await;
    assert_eq!(r["error_code"], 0, "{r}");
    wait::wait_until_async(super::WAIT, "quick_casting_state 2", async || {
        let a: ShareInfoAnswer = query(ws, &["Share", "ShareInfo"]).await;
        match a.share_info.quick_casting_state {
            2 => Ok(()),
            other => Err(format!("quick_casting_state {other}")),
        }
    })
    .await;
}
