//! The console's side of room passwords in the system keychain, against a
//! real Secret Service (gnome-keyring-daemon on a private session bus:
//! `support/keychain_rig.rs`) and a real engine served with a password:
//! first what the Add/Edit room dialog's Save does at the link/fleet level
//! (`RoomsFile::save_with_keychain`), then the dialog itself driven by
//! egui_kittest in the real `ConsoleApp` with the real fleet — "Store in
//! the system keychain" ticked by default because the keychain answered,
//! the password stored there, the room connecting with it.
//!
//! One test in this binary: it points this process's D-Bus session address
//! at the private bus (the keyring crate connects from here).
#![cfg(target_os = "linux")]

mod support;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use roomshare::client::ConnState;
use roomshare::link::RoomView;
use roomshare::link::fleet::{
    Fleet, FleetOptions, PasswordSource, Reach, RoomEntry, RoomsFile, keychain, probe,
};
use roomshare::ui::rooms::{FleetDesk, RoomsView};
use roomshare::ui::{ConsoleApp, FixedRoomDesk, Page, Services, Settings};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::keychain_rig::Keychain;
use support::{PASSWORD, room_config, serve_with, server_config};

const T: Duration = Duration::from_secs(20);

fn keyring_room(name: &str, url: &str) -> RoomEntry {
    RoomEntry::new(name, url, "8F", PasswordSource::Keyring)
}

#[test]
#[allow(unsafe_code)] // set_var, before any other thread exists
fn the_dialog_and_the_file_keep_room_passwords_in_the_keychain() {
    let keychain = Keychain::start();
    // SAFETY: the only test of this binary, and no thread of it exists yet
    // (the rig's daemons are other processes): nothing reads the
    // environment while it changes.
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &keychain.bus.address) };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let served = rt.block_on(serve_with(server_config(Some(PASSWORD)), room_config()));
    let url = served.url();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.toml");

    // ---- link/fleet: what the dialog's Save does ----
    assert!(keychain::available(), "the Secret Service answers");
    let mut file = RoomsFile::load_or_new(&path).unwrap();
    // Nothing typed and nothing stored: refused, nothing written.
    let err = file
        .save_with_keychain(None, keyring_room("Makalu", &url), None)
        .unwrap_err();
    assert!(
        err.reason.contains("no password for room \"Makalu\"")
            && err
                .reason
                .contains("roomshare rooms set-password \"Makalu\""),
        "{err}"
    );
    assert!(!path.exists());
    file.save_with_keychain(None, keyring_room("Makalu", &url), Some(PASSWORD))
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("password_keyring = true") && !text.contains(PASSWORD),
        "{text}"
    );
    let user = |name: &str, url: &str| format!("{name} <{url}>");
    assert_eq!(
        keychain.lookup(&user("Makalu", &url)).as_deref(),
        Some(PASSWORD)
    );
    // The engine wants PASSWORD: it answers only with the keychain's.
    let rooms = file.fleet_rooms().unwrap();
    let visit = rt.block_on(probe(&rooms[0].target, Duration::from_secs(5)));
    assert_eq!(visit.reach, Reach::Connected, "{:?}", visit.error);
    // Renamed, nothing typed: the entry moves to the new key.
    file.save_with_keychain(Some("Makalu"), keyring_room("Makalu II", &url), None)
        .unwrap();
    assert_eq!(
        keychain.lookup(&user("Makalu II", &url)).as_deref(),
        Some(PASSWORD)
    );
    assert_eq!(keychain.lookup(&user("Makalu", &url)), None);
    // A taken name is refused before anything is stored.
    let elsewhere = "ws://127.0.0.1:9/";
    let err = file
        .save_with_keychain(None, keyring_room("Makalu II", elsewhere), Some("other"))
        .unwrap_err();
    assert!(err.reason.contains("already exists"), "{err}");
    assert_eq!(keychain.lookup(&user("Makalu II", elsewhere)), None);

    // ---- the dialog ----
    let mut h = console(&rt, &path);
    click(&mut h, "Add room…", egui::Role::Button);
    type_into(&mut h, "Name", "Cho Oyu");
    type_into(&mut h, "Room address (ws://HOST:6295)", &url);
    h.get_by_label("Typed here").click();
    h.run();
    // Ticked by default once the desk's probe found the keychain.
    step_until(&mut h, "the keychain box ticked", |h| {
        let boxes = by()
            .label("Store in the system keychain")
            .role(egui::Role::CheckBox);
        h.query_all(boxes)
            .next()
            .is_some_and(|b| b.accesskit_node().toggled() == Some(egui::accesskit::Toggled::True))
    });
    // The hint names the entry.
    let entry = format!("service roomshare, user “Cho Oyu <{url}>”");
    assert!(h.query_by_label_contains(&entry).is_some(), "{entry}");
    type_into(&mut h, "Password", PASSWORD);
    // Saving runs off the UI thread with a spinner (which keeps
    // repainting): step, do not wait for the UI to settle.
    h.get(by().label("Save").role(egui::Role::Button)).click();
    h.step();
    step_until(&mut h, "Cho Oyu connected", |h| {
        let rooms = h.state().rooms.as_ref().unwrap().desk().rooms();
        rooms
            .iter()
            .any(|r| r.name == "Cho Oyu" && r.conn == ConnState::Connected)
    });
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(PASSWORD), "{text}");
    let cho_oyu = RoomsFile::load(&path).unwrap();
    assert_eq!(
        cho_oyu.get("Cho Oyu").map(|e| &e.password),
        Some(&PasswordSource::Keyring)
    );
    assert_eq!(
        keychain.lookup(&user("Cho Oyu", &url)).as_deref(),
        Some(PASSWORD)
    );
}

fn console(rt: &tokio::runtime::Runtime, rooms_toml: &Path) -> Harness<'static, ConsoleApp> {
    let file = RoomsFile::load(rooms_toml).expect("the rooms file loads");
    let on_change: Arc<dyn Fn() + Send + Sync> = Arc::new(|| {});
    let options = FleetOptions {
        backoff_min: Duration::from_millis(300),
        ..FleetOptions::default()
    };
    let fleet = Fleet::start(
        file.fleet_rooms().unwrap(),
        rt.handle(),
        on_change.clone(),
        options,
    );
    let desk = Arc::new(FleetDesk::new(fleet, file, None));
    let services = Services {
        runtime: rt.handle().clone(),
        embedded: None,
        on_change,
        showing_embedded: Default::default(),
    };
    let start = Arc::new(FixedRoomDesk::new(RoomView::empty("none".into(), false)));
    Harness::builder()
        .with_size(egui::vec2(1400.0, 800.0))
        .build_eframe(move |cc| {
            let app = ConsoleApp::new(
                &cc.egui_ctx,
                start,
                Settings::default(),
                Some(services),
                None,
            );
            app.with_rooms(RoomsView::new(desk), Page::Rooms)
        })
}

fn step_until(
    h: &mut Harness<'_, ConsoleApp>,
    what: &str,
    mut cond: impl FnMut(&Harness<'_, ConsoleApp>) -> bool,
) {
    let stepped = support::wait::try_wait_every(Duration::from_millis(5), T, what, || {
        h.step();
        cond(h)
    });
    if let Err(e) = stepped {
        let rooms = h.state().rooms.as_ref().map(|r| r.desk().rooms());
        panic!("{e}; rooms: {rooms:#?}");
    }
}

fn click(h: &mut Harness<'_, ConsoleApp>, label: &str, role: egui::Role) {
    match h.query_all(by().label(label).role(role)).next() {
        Some(node) => node.click(),
        None => panic!("nothing labelled {label:?} ({role:?})"),
    }
    h.run();
}

fn type_into(h: &mut Harness<'_, ConsoleApp>, label: &str, text: &str) {
    let password = h
        .query_all(by().label(label).role(egui::Role::PasswordInput))
        .next()
        .is_some();
    let role = match password {
        true => egui::Role::PasswordInput,
        false => egui::Role::TextInput,
    };
    let field = || by().label(label).role(role);
    h.get(field()).click();
    h.run();
    h.get(field()).type_text(text);
    h.run();
}
