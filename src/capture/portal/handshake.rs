//! The conversation with `org.freedesktop.portal.ScreenCast` (through ashpd):
//! CreateSession → SelectSources (monitors and windows, several at once,
//! pointer drawn in, persistent, with the stored restore token) → Start →
//! the streams and a new restore token → OpenPipeWireRemote.

use super::LOG;
use super::error::PortalError;
use super::sources::{PortalStream, StreamKind};
use super::token::TokenStore;
use ashpd::desktop::screencast::{
    CursorMode, Screencast, SelectSourcesOptions, SourceType, Stream, Streams,
};
use ashpd::desktop::{PersistMode, ResponseError, Session};
use ashpd::enumflags2::BitFlags;
use ashpd::zbus;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

const DESTINATION: &str = "org.freedesktop.portal.Desktop";
const PATH: &str = "/org/freedesktop/portal/desktop";
const INTERFACE: &str = "org.freedesktop.portal.ScreenCast";
/// How long looking for the portal's backend after a failure may take.
const LOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// `persist_mode` and `restore_token` came with version 4 of the interface.
const PERSIST_VERSION: u32 = 4;

/// A started portal session. The connection must outlive the streams: the
/// portal ends a session whose caller leaves the bus.
pub(crate) struct Grant {
    pub connection: zbus::Connection,
    pub proxy: Screencast,
    pub session: Session<Screencast>,
    pub streams: Vec<PortalStream>,
}

/// Connect, ask with the stored token (once more without it if the portal
/// fails the request), and keep the token the portal returns.
pub(crate) async fn negotiate(
    bus_address: Option<&str>,
    store: Option<&TokenStore>,
) -> Result<Grant, PortalError> {
    let connection = connect(bus_address).await?;
    let offer = probe(&connection).await?;
    let version = offer.version;
    let proxy = Screencast::with_connection(connection.clone())
        .await
        .map_err(from_ashpd)?;
    let token = store
        .filter(|_| version >= PERSIST_VERSION)
        .and_then(TokenStore::load);
    let (session, streams) = match ask(&proxy, &offer, token.as_deref()).await {
        Err(e) if token.is_some() && e.token_may_be_at_fault() => {
            tracing::warn!(target: LOG, "the stored screen sharing token was not accepted ({e}); asking again");
            forget_token(store);
            ask(&proxy, &offer, None).await?
        }
        other => other?,
    };
    keep_token(store, streams.restore_token());
    Ok(Grant {
        connection,
        proxy,
        session,
        streams: streams.streams().iter().map(portal_stream).collect(),
    })
}

/// The fd of a PipeWire connection that sees the session's streams.
pub(crate) async fn open_remote(grant: &Grant) -> Result<OwnedFd, PortalError> {
    grant
        .proxy
        .open_pipe_wire_remote(&grant.session, Default::default())
        .await
        .map_err(|e| PortalError::PipeWire(format!("the portal gave no PipeWire connection: {e}")))
}

/// The portal's `Session.Closed` signals for this connection's sessions
/// (the user stopped sharing from the compositor's own UI). `None` when the
/// match cannot be set up; the streams ending still tells the same.
pub(crate) async fn closed_signal(grant: &Grant) -> Option<zbus::MessageStream> {
    let unique = grant.connection.unique_name()?;
    let sender = unique.trim_start_matches(':').replace('.', "_");
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .interface("org.freedesktop.portal.Session")
        .and_then(|b| b.member("Closed"))
        .and_then(|b| b.path_namespace(format!("{PATH}/session/{sender}")))
        .ok()?
        .build();
    zbus::MessageStream::for_match_rule(rule, &grant.connection, None)
        .await
        .ok()
}

async fn connect(address: Option<&str>) -> Result<zbus::Connection, PortalError> {
    let connection = match address {
        Some(address) => match zbus::connection::Builder::address(address) {
            Ok(builder) => builder.build().await,
            Err(e) => Err(e),
        },
        None => zbus::Connection::session().await,
    };
    connection.map_err(|e| PortalError::NoPortal(format!("cannot reach the session bus: {e}")))
}

/// What the portal offers, read before asking.
struct Offer {
    version: u32,
    source_types: BitFlags<SourceType>,
}

/// Start the portal if the bus activates it on demand and wait until it
/// owns its name, then read its version and source types without a cache.
/// A version that cannot be read means there is no ScreenCast portal to
/// talk to (ashpd alone would take "no such service" for version 1 and
/// fail later with a less clear error). A source-type read that fails is
/// reported as that failure, never as "offers nothing" (a portal still
/// starting its backend is not a portal without monitors).
async fn probe(connection: &zbus::Connection) -> Result<Offer, PortalError> {
    let no_portal = |e: &dyn std::fmt::Display| PortalError::NoPortal(e.to_string());
    let bus = zbus::fdo::DBusProxy::new(connection)
        .await
        .map_err(|e| no_portal(&e))?;
    // A running portal need not be activatable (StartServiceByName fails
    // for a name no .service file provides, even when it has an owner).
    let name = zbus::names::WellKnownName::from_static_str_unchecked(DESTINATION);
    let running = bus
        .name_has_owner(name.clone().into())
        .await
        .unwrap_or(false);
    if !running {
        bus.start_service_by_name(name, 0)
            .await
            .map_err(|e| no_portal(&e))?;
    }
    let properties = zbus::fdo::PropertiesProxy::builder(connection)
        .destination(DESTINATION)
        .and_then(|b| b.path(PATH))
        .map_err(|e| no_portal(&e))?
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .map_err(|e| no_portal(&e))?;
    let interface = zbus::names::InterfaceName::from_static_str_unchecked(INTERFACE);
    let version = properties
        .get(interface.clone(), "version")
        .await
        .map_err(|e| no_portal(&e))?;
    let version = u32::try_from(version)
        .map_err(|e| PortalError::Protocol(format!("its version is not a number: {e}")))?;
    let source_types = source_types(&properties, interface).await?;
    Ok(Offer {
        version,
        source_types,
    })
}

/// How long a portal that offers no source type is read again: the
/// frontend learns its backend's types as the backend starts, and may
/// report none until then.
const SOURCE_TYPES_SETTLE: Duration = Duration::from_secs(2);

/// `AvailableSourceTypes`, read again while it is empty, up to
/// [`SOURCE_TYPES_SETTLE`].
async fn source_types(
    properties: &zbus::fdo::PropertiesProxy<'_>,
    interface: zbus::names::InterfaceName<'static>,
) -> Result<BitFlags<SourceType>, PortalError> {
    let deadline = Instant::now() + SOURCE_TYPES_SETTLE;
    loop {
        let value = properties
            .get(interface.clone(), "AvailableSourceTypes")
            .await
            .map_err(|e| {
                PortalError::Protocol(format!(
                    "cannot read the portal's AvailableSourceTypes: {e}"
                ))
            })?;
        let bits = u32::try_from(value).map_err(|e| {
            PortalError::Protocol(format!("its AvailableSourceTypes is not a number: {e}"))
        })?;
        let types = BitFlags::from_bits_truncate(bits);
        if !types.is_empty() || Instant::now() >= deadline {
            return Ok(types);
        }
        async_io::Timer::after(Duration::from_millis(200)).await;
    }
}

/// One session: create, select, start. A failed session is closed.
async fn ask(
    proxy: &Screencast,
    offer: &Offer,
    token: Option<&str>,
) -> Result<(Session<Screencast>, Streams), PortalError> {
    let session = proxy
        .create_session(Default::default())
        .await
        .map_err(from_ashpd)?;
    match select_and_start(proxy, &session, offer, token).await {
        Ok(streams) => Ok((session, streams)),
        Err(e) => {
            let e = backend_gone(proxy.connection(), e).await;
            let _ = session.close().await;
            Err(e)
        }
    }
}

async fn select_and_start(
    proxy: &Screencast,
    session: &Session<Screencast>,
    offer: &Offer,
    token: Option<&str>,
) -> Result<Streams, PortalError> {
    let options = select_options(proxy, offer, token).await?;
    proxy
        .select_sources(session, options)
        .await
        .and_then(|request| request.response())
        .map_err(from_ashpd)?;
    // This is where the dialog shows, unless the token restored the grant.
    let streams = proxy
        .start(session, None, Default::default())
        .await
        .and_then(|request| request.response())
        .map_err(from_ashpd)?;
    if streams.streams().is_empty() {
        return Err(PortalError::NoStreams);
    }
    Ok(streams)
}

async fn select_options(
    proxy: &Screencast,
    offer: &Offer,
    token: Option<&str>,
) -> Result<SelectSourcesOptions, PortalError> {
    // A type the portal does not offer makes it refuse the whole request
    // (some portals offer monitors only).
    let types = offer.source_types & (SourceType::Monitor | SourceType::Window);
    if types.is_empty() {
        return Err(PortalError::Refused(
            "it offers neither monitors nor windows".into(),
        ));
    }
    // Pointer drawn into the picture, as the viewers expect to see it;
    // version 1 portals have no cursor modes and draw it or not as they like.
    let cursor = match proxy.available_cursor_modes().await {
        Ok(modes) if modes.contains(CursorMode::Embedded) => Some(CursorMode::Embedded),
        _ => None,
    };
    let mut options = SelectSourcesOptions::default()
        .set_sources(types)
        .set_multiple(true)
        .set_cursor_mode(cursor);
    if offer.version >= PERSIST_VERSION {
        options = options
            .set_persist_mode(PersistMode::ExplicitlyRevoked)
            .set_restore_token(token);
    }
    Ok(options)
}

/// A request the portal ended with response 2 may mean its desktop
/// backend (xdg-desktop-portal-gnome, -kde, -wlr …) crashed or left the bus
/// mid-request: the frontend answers 2 for that too, and keeps showing the
/// backend's source types. What tells the two apart: no backend serving
/// ScreenCast is left on the bus. (Not inside a Flatpak sandbox, whose bus
/// proxy hides the backends.)
async fn backend_gone(connection: &zbus::Connection, e: PortalError) -> PortalError {
    let sandboxed = std::path::Path::new("/.flatpak-info").exists();
    if !matches!(e, PortalError::Refused(_)) || sandboxed {
        return e;
    }
    // A backend that hangs instead must not hold up the answer.
    let look = std::pin::pin!(screencast_backend_on_bus(connection));
    let timeout = std::pin::pin!(async_io::Timer::after(LOOK_TIMEOUT));
    match futures_util::future::select(look, timeout).await {
        futures_util::future::Either::Left((Ok(false), _)) => PortalError::NoPortal(
            "its ScreenCast backend went away during the request: no portal backend with ScreenCast is left on the session bus".into(),
        ),
        _ => e,
    }
}

/// Whether a running `org.freedesktop.impl.portal.desktop.*` service
/// serves the ScreenCast backend interface (only running ones: looking
/// does not start any).
async fn screencast_backend_on_bus(connection: &zbus::Connection) -> zbus::Result<bool> {
    let names = zbus::fdo::DBusProxy::new(connection)
        .await?
        .list_names()
        .await?;
    for name in names {
        if !name.starts_with("org.freedesktop.impl.portal.desktop.") {
            continue;
        }
        let introspection = zbus::fdo::IntrospectableProxy::builder(connection)
            .destination(name)?
            .path(PATH)?
            .build()
            .await?
            .introspect()
            .await;
        let impl_interface = "\"org.freedesktop.impl.portal.ScreenCast\"";
        if introspection.is_ok_and(|xml| xml.contains(impl_interface)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Tokens are single-use: keep the new one, or forget the spent one when
/// the portal gave none (persistence not allowed).
fn keep_token(store: Option<&TokenStore>, token: Option<&str>) {
    let Some(store) = store else { return };
    let kept = match token {
        Some(token) => store.store(token),
        None => store.clear(),
    };
    if let Err(e) = kept {
        tracing::warn!(target: LOG, "cannot keep the screen sharing token in {}: {e}; the next start will ask again", store.path().display());
    }
}

fn forget_token(store: Option<&TokenStore>) {
    if let Some(Err(e)) = store.map(TokenStore::clear) {
        tracing::warn!(target: LOG, "cannot remove the refused screen sharing token: {e}");
    }
}

fn portal_stream(s: &Stream) -> PortalStream {
    PortalStream {
        node_id: s.pipe_wire_node_id(),
        kind: s.source_type().map(|t| match t {
            SourceType::Monitor => StreamKind::Monitor,
            SourceType::Window => StreamKind::Window,
            SourceType::Virtual => StreamKind::Virtual,
        }),
        portal_id: s.id().map(str::to_owned),
        position: s.position(),
        size: s.size(),
    }
}

fn from_ashpd(e: ashpd::Error) -> PortalError {
    match e {
        ashpd::Error::Response(ResponseError::Cancelled)
        | ashpd::Error::Portal(ashpd::PortalError::Cancelled(_)) => PortalError::Cancelled,
        ashpd::Error::Response(_) => {
            PortalError::Refused("it ended the request with an error (response code 2)".into())
        }
        ashpd::Error::PortalNotFound(_) => PortalError::NoPortal(e.to_string()),
        ashpd::Error::Portal(e) => PortalError::Refused(e.to_string()),
        ashpd::Error::Zbus(zbus::Error::MethodError(name, text, _)) => {
            PortalError::Refused(format!("{name}: {}", text.unwrap_or_default()))
        }
        other => PortalError::Protocol(other.to_string()),
    }
}
