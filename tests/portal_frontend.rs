//! The Wayland ScreenCast backend through the **real** portal frontend.
//!
//! What is real here: the frontend, `/usr/libexec/xdg-desktop-portal`
//! (Debian `xdg-desktop-portal`), with its own request and session objects,
//! app-id handling and restore-token bookkeeping; the permission store
//! (`/usr/libexec/xdg-permission-store`, same package) where it keeps the
//! grants; a private D-Bus session bus and a private PipeWire daemon with
//! WirePlumber (`tests/support/portal_rig.rs`); GStreamer `videotestsrc !
//! pipewiresink` producers of known solid colours. The frontend makes the
//! OpenPipeWireRemote fd itself, on that PipeWire daemon, with its
//! per-stream permissions.
//!
//! What is a stand-in: the desktop's ScreenCast *backend*
//! (`org.freedesktop.impl.portal.ScreenCast`), served by
//! `tests/support/screencast_backend.rs`, because a real one needs a
//! compositor that can screencast, and none can here:
//! xdg-desktop-portal-wlr needs a DMA-BUF capable renderer for ScreenCast
//! and the headless renderers these machines have are not (upstream
//! xdg-desktop-portal-wlr issue 289). The frontend picks it the way it
//! picks a desktop's backend: a `.portal` file in `XDG_DESKTOP_PORTAL_DIR`
//! whose `UseIn` matches `XDG_CURRENT_DESKTOP`. Its "dialog" is a policy:
//! accept, cancel, refuse, or leave the bus mid-request.
//!
//! Pixel formats: producers in BGRx, RGBx, BGRA and RGBA, as portals send
//! them, each captured in its colour through the frontend.
//!
//! DMA-BUF: no producer here can send DMA-BUF (no DRM device, no
//! `udmabuf`; `pipewiresink` sends shared memory only), so the DMA-BUF-only
//! source is `tests/support/dmabuf_producer.rs`, a real PipeWire node that
//! *offers* DMA-BUF formats only (a mandatory `VideoModifier`, as
//! compositors mark them) and never gets as far as a buffer, which is what
//! a consumer without DMA-BUF support meets: a link that cannot form.
//!
//! Every process started here is killed by pid when its test ends.
#![cfg(target_os = "linux")]

use roomshare::capture::portal::{Portal, PortalConfig, PortalError, PortalSession, PortalStatus};
use roomshare::capture::{Backend, CaptureError};
use roomshare::protocol::SourceKind;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use wait::wait_until;
use zbus::zvariant::{OwnedValue, Value};

#[path = "support/wait.rs"]
mod wait;

#[path = "support/portal_rig.rs"]
mod portal_rig;
use portal_rig::{Bus, DEADLINE, PipeWire};

#[path = "support/dmabuf_producer.rs"]
mod dmabuf_producer;

#[path = "support/screencast_backend.rs"]
mod screencast_backend;
use screencast_backend::{Dialog, Offer, TestBackend};

const FRONTEND: &str = "/usr/libexec/xdg-desktop-portal";
const PERMISSION_STORE: &str = "/usr/libexec/xdg-permission-store";
const PACKAGE: &str = "xdg-desktop-portal";

/// Green, as the producer draws it (ARGB) and as it is captured (RGBA).
const GREEN: (u32, [u8; 4]) = (0xff22aa44, [0x22, 0xaa, 0x44, 0xff]);

/// The real frontend and permission store, the test backend, and a
/// private PipeWire, on a private bus. Fields drop in order: the client's
/// things first (the test drops its own), then every helper process by pid
/// (the frontend before the backend's connection, the bus last).
struct Desk {
    pw: PipeWire,
    backend: TestBackend,
    home: tempfile::TempDir,
    bus: Bus,
}

impl Desk {
    /// One producer per `(name, format, argb)`, offered as monitors
    /// `0`, `1`, … of 64x48.
    fn start(producers: &[(&str, &str, u32)], dialog: Dialog) -> Desk {
        let (desk, ()) = Desk::start_with(dialog, |pw| {
            let offers = producers
                .iter()
                .enumerate()
                .map(|(i, (name, format, argb))| {
                    monitor(i, pw.source(name, format, *argb, (64, 48)))
                })
                .collect();
            (offers, ())
        });
        desk
    }

    /// With the streams `make` sets up on the private PipeWire (and
    /// whatever of theirs must live as long).
    fn start_with<T>(
        dialog: Dialog,
        make: impl FnOnce(&mut PipeWire) -> (Vec<Offer>, T),
    ) -> (Desk, T) {
        let bus = Bus::start();
        let mut pw = PipeWire::start(&bus);
        let (offers, kept) = make(&mut pw);
        let backend = TestBackend::serve(&bus.address, offers, dialog);
        let home = tempfile::tempdir().expect("temp dir");
        let portals = home.path().join("portals");
        std::fs::create_dir(&portals).expect("portal dir");
        std::fs::write(
            portals.join("roomsharetest.portal"),
            screencast_backend::portal_file(),
        )
        .expect("portal file");
        let desk_bus = bus.address.clone();
        pw.spawn_from(
            "xdg-permission-store",
            Command::new(PERMISSION_STORE),
            PACKAGE,
        );
        pw.wait_for("the permission store on the bus", |_| {
            has_owner(&desk_bus, "org.freedesktop.impl.portal.PermissionStore").then_some(())
        });
        let mut frontend = Command::new(FRONTEND);
        frontend
            .arg("--verbose")
            .env("XDG_DESKTOP_PORTAL_DIR", &portals)
            .env("XDG_CURRENT_DESKTOP", screencast_backend::DESKTOP);
        pw.spawn_from("xdg-desktop-portal", frontend, PACKAGE);
        pw.wait_for("the portal frontend on the bus", |_| {
            has_owner(&desk_bus, "org.freedesktop.portal.Desktop").then_some(())
        });
        let desk = Desk {
            pw,
            backend,
            home,
            bus,
        };
        (desk, kept)
    }

    fn token_path(&self) -> PathBuf {
        self.home.path().join("state/roomshare/portal-token")
    }

    fn config(&self) -> PortalConfig {
        PortalConfig {
            token_path: Some(self.token_path()),
            bus_address: Some(self.bus.address.clone()),
            first_frame_timeout: Duration::from_secs(5),
        }
    }

    /// A session granted through the frontend (failing with its log).
    fn granted(&self) -> PortalSession {
        PortalSession::start(&self.config())
            .unwrap_or_else(|e| panic!("not granted: {e}\nfrontend log:\n{}", self.frontend_log()))
    }

    /// The frontend's log, for failure messages.
    fn frontend_log(&self) -> String {
        std::fs::read_to_string(self.pw.log("xdg-desktop-portal")).unwrap_or_default()
    }

    /// The frontend's permission store entry for a restore token: the
    /// backend's restore key it keeps, if any.
    fn stored_grant(&self, token: &str) -> Option<String> {
        let (_, data): (HashMap<String, Vec<String>>, OwnedValue) = block_on_call(
            &self.bus.address,
            "org.freedesktop.impl.portal.PermissionStore",
            "/org/freedesktop/impl/portal/PermissionStore",
            "org.freedesktop.impl.portal.PermissionStore",
            "Lookup",
            &("screencast", token),
        )
        .ok()?;
        let Value::Structure(data) = &*data else {
            return None;
        };
        match data.fields() {
            [_, _, Value::Value(key)] => match &**key {
                Value::Str(key) => Some(key.to_string()),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Monitor `i` (portal id `i`, 64x48) on PipeWire node `node`.
fn monitor(i: usize, node: u32) -> Offer {
    Offer {
        node,
        source_type: 1,
        id: i.to_string(),
        size: (64, 48),
    }
}

fn block_on_call<R>(
    address: &str,
    destination: &str,
    path: &str,
    interface: &str,
    method: &str,
    body: &(impl serde::Serialize + zbus::zvariant::DynamicType),
) -> zbus::Result<R>
where
    R: for<'d> zbus::zvariant::DynamicDeserialize<'d>,
{
    async_io::block_on(async {
        let conn = zbus::connection::Builder::address(address)?.build().await?;
        let reply = conn
            .call_method(Some(destination), path, Some(interface), method, body)
            .await?;
        reply.body().deserialize::<R>()
    })
}

fn has_owner(address: &str, name: &str) -> bool {
    block_on_call::<bool>(
        address,
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "NameHasOwner",
        &(name,),
    )
    .unwrap_or(false)
}

fn stored(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("token file")
        .trim_end()
        .to_string()
}

/// A restore token as xdg-desktop-portal makes them: a UUID.
fn is_uuid(token: &str) -> bool {
    let parts: Vec<_> = token.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && token.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

fn picture(session: &PortalSession, id: &str) -> image::RgbaImage {
    wait_until(DEADLINE, format!("a picture of {id}"), || {
        session.capture(id)
    })
}

// ------------------------------------------------------------- grants ---

#[test]
fn granted_stream_through_the_frontend_is_a_monitor_of_its_colour() {
    let desk = Desk::start(&[("green", "BGRx", GREEN.0)], Dialog::Accept);
    let portal = Portal::new(desk.config());

    let status = portal.wait(DEADLINE);
    assert!(
        matches!(status, PortalStatus::Ready(_)),
        "{status:?}\n{}",
        desk.frontend_log()
    );
    let mut backend = portal.backend();
    let listed: Vec<_> = backend
        .list()
        .expect("listed")
        .into_iter()
        .map(|s| (s.id, s.kind))
        .collect();
    assert_eq!(
        listed,
        [
            ("desktop".to_string(), SourceKind::Desktop),
            ("portal-monitor:0".to_string(), SourceKind::Monitor),
        ]
    );
    let picture = wait_until(DEADLINE, "a picture of the monitor", || {
        backend.capture("portal-monitor:0")
    });
    assert_eq!((picture.width(), picture.height()), (64, 48));
    assert_eq!(picture.get_pixel(32, 24).0, GREEN.1, "the producer's green");

    let record = desk.backend.record();
    assert_eq!(record.selects.len(), 1, "{record:?}");
    let select = &record.selects[0];
    assert_eq!(select.app_id, "", "a host app, as the frontend sees it");
    assert_eq!(select.types, Some(1 | 2), "monitors and windows");
    assert_eq!(select.persist_mode, Some(2), "a persistent grant");
    assert_eq!(select.restore_data, None, "nothing to restore yet");
    assert_eq!((record.dialogs, record.restores), (1, 0));
    let token = stored(&desk.token_path());
    assert!(is_uuid(&token), "the frontend's token: {token}");
    assert_eq!(
        desk.stored_grant(&token).as_deref(),
        Some("grant-1"),
        "the frontend keeps the backend's restore data under the token"
    );
}

#[test]
fn second_start_restores_through_the_permission_store_without_a_dialog() {
    let desk = Desk::start(&[("green", "BGRx", GREEN.0)], Dialog::Accept);
    let first = desk.granted();
    picture(&first, "portal-monitor:0");
    drop(first);
    let token_path = desk.token_path();
    let first_token = stored(&token_path);
    let first_inode = std::fs::metadata(&token_path).expect("token").ino();

    let second = desk.granted();

    let record = desk.backend.record();
    assert_eq!(record.selects.len(), 2, "{record:?}");
    assert_eq!(
        record.selects[1].restore_data.as_deref(),
        Some("grant-1"),
        "the frontend swapped the token for the backend's restore data"
    );
    assert_eq!(
        (record.dialogs, record.restores),
        (1, 1),
        "no second dialog"
    );
    let token = stored(&token_path);
    assert!(is_uuid(&token), "{token}");
    assert_ne!(
        std::fs::metadata(&token_path).expect("token").ino(),
        first_inode,
        "the token file is replaced with the frontend's new answer"
    );
    assert_eq!(
        desk.stored_grant(&token).as_deref(),
        Some("grant-2"),
        "the new grant is kept under the token (was {first_token})"
    );
    let colour = picture(&second, "portal-monitor:0").get_pixel(0, 0).0;
    assert_eq!(colour, GREEN.1);
}

// ----------------------------------------------------------- failures ---

/// The failure a [`Portal`] keeps after asking through the frontend.
fn failure(desk: &Desk) -> PortalError {
    match Portal::new(desk.config()).wait(DEADLINE) {
        PortalStatus::Failed(e) => e,
        other => panic!("expected a failure, got {other:?}\n{}", desk.frontend_log()),
    }
}

#[test]
fn cancelled_dialog_through_the_frontend_says_so() {
    let desk = Desk::start(&[("green", "BGRx", GREEN.0)], Dialog::Cancel);

    let err = failure(&desk);

    assert_eq!(err, PortalError::Cancelled);
    assert_eq!(
        err.to_string(),
        "screen sharing was not allowed (the dialog was cancelled)"
    );
    assert_eq!(desk.backend.record().dialogs, 1);
    assert!(!desk.token_path().exists(), "nothing to keep");
}

#[test]
fn refused_request_through_the_frontend_says_so() {
    let desk = Desk::start(&[("green", "BGRx", GREEN.0)], Dialog::Refuse);

    let err = failure(&desk);

    assert!(matches!(err, PortalError::Refused(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("the screen sharing portal refused the request"),
        "{text}"
    );
    assert_eq!(desk.backend.record().dialogs, 1, "asked once");
    assert!(!desk.token_path().exists(), "nothing to keep");
}

/// The frontend answers response 2 for a backend that crashed as for one
/// that refused; the client tells them apart by the backend's absence.
#[test]
fn backend_that_vanishes_mid_request_says_so() {
    let desk = Desk::start(&[("green", "BGRx", GREEN.0)], Dialog::Vanish);

    let err = failure(&desk);

    assert!(
        !has_owner(&desk.bus.address, screencast_backend::BACKEND_NAME),
        "the backend left the bus"
    );
    assert!(matches!(err, PortalError::NoPortal(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("its ScreenCast backend went away during the request"),
        "{text}"
    );
    assert!(!text.contains("refused"), "not a refusal: {text}");
}

// ------------------------------------------------------ pixel formats ---

#[test]
fn every_packed_format_a_portal_sends_captures_in_its_colour() {
    let producers = [
        ("bgrx", "BGRx", 0xff3366cc),
        ("rgbx", "RGBx", 0xffcc3311),
        ("bgra", "BGRA", 0xff11aa77),
        ("rgba", "RGBA", 0xff8844ee),
    ];
    let desk = Desk::start(&producers, Dialog::Accept);
    let session = desk.granted();

    for (i, (_, format, argb)) in producers.iter().enumerate() {
        let [a, r, g, b] = argb.to_be_bytes();
        let id = format!("portal-monitor:{i}");
        let picture = picture(&session, &id);
        assert_eq!((picture.width(), picture.height()), (64, 48), "{format}");
        assert_eq!(picture.get_pixel(5, 40).0, [r, g, b, a], "{format}");
    }
}

#[test]
fn producer_offering_only_dmabuf_is_refused_with_that_reason() {
    let (desk, _producer) = Desk::start_with(Dialog::Accept, |pw| {
        let producer = dmabuf_producer::DmabufProducer::start(&pw.socket(), "dmabuf-only");
        (vec![monitor(0, pw.node("dmabuf-only"))], producer)
    });
    let session = desk.granted();

    // Until the producer's formats are read, capture says it has no
    // picture yet; then the reason, for good.
    let err = wait_until(
        DEADLINE,
        "the DMA-BUF-only stream to fail",
        || match session.capture("portal-monitor:0") {
            Err(e) if !e.to_string().contains("no picture") => Some(e),
            _ => None,
        },
    );
    assert!(matches!(err, CaptureError::Failed(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("the source offers only DMA-BUF buffers"),
        "{text}"
    );
    assert!(
        session.sources().is_empty(),
        "a source that cannot be read is not listed"
    );
}
