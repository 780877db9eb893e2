//! The console's Rooms view against real rooms: engines served on loopback
//! ports (states set through the API), one that refuses the password, a
//! port with nothing listening and a server that accepts TCP and never
//! answers. egui_kittest drives the real `ConsoleApp` with the real fleet.
//! The view must show every room's truth, and its actions must reach
//! exactly the selected rooms.
// Unix only: its rooms files are made private with Unix modes (the Windows
// rule is tested in src/link/fleet/acl.rs).
#![cfg(unix)]

mod support;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use roomshare::link::RoomView;
use roomshare::link::fleet::{Fleet, FleetOptions, RoomsFile};
use roomshare::ui::rooms::{FleetDesk, RoomsView};
use roomshare::ui::{ConsoleApp, FixedRoomDesk, Page, Services, Settings};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

const T: Duration = Duration::from_secs(15);

/// Rooms named after mountains, as a floor of meeting rooms often is.
struct Campus {
    everest: Served,
    fuji: Served,
    lhotse: Served,
    k2: Served,
    /// Accepts connections and never answers a byte.
    _silent: std::net::TcpListener,
    dir: tempfile::TempDir,
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

async fn remote_share(served: &Served, nickname: &str) {
    let mut ws = served.connect().await;
    join_meeting(served, &mut ws).await;
    let params = json!({"nickname": nickname, "instance_id": 2, "role_type": 3});
    let r = call_code(&mut ws, "RoomShare", "SimulateRemoteShare", params).await;
    assert_eq!(r["error_code"], 0, "{r}");
    wait_for(&served.engine, |s| s.is_sharing).await;
}

fn campus(rt: &tokio::runtime::Runtime) -> Campus {
    // Everest and Lhotse show a phone's quick cast (which the room can
    // end); in Fuji a remote participant shares (which only they can stop).
    let (everest, fuji, lhotse, k2) = rt.block_on(async {
        let everest = serve().await;
        quick_cast_sharing(&everest, &mut everest.connect().await).await;
        let fuji = serve().await;
        remote_share(&fuji, "Alice").await;
        let lhotse = serve().await;
        quick_cast_sharing(&lhotse, &mut lhotse.connect().await).await;
        (everest, fuji, lhotse, serve().await)
    });
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = closed_port.local_addr().unwrap();
    drop(closed_port);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_private(&dir.path().join("good.pw"), PASSWORD);
    write_private(&dir.path().join("wrong.pw"), "not the password");
    let room = |name: &str, group: &str, url: String, pw: &str| {
        format!(
            "[[room]]\nname = \"{name}\"\ngroup = \"{group}\"\nurl = \"{url}\"\npassword_file = \"{pw}\"\n\n"
        )
    };
    let text = [
        room("Everest", "12F", everest.url(), "good.pw"),
        room("Fuji", "12F", fuji.url(), "good.pw"),
        room("K2", "12F", k2.url(), "wrong.pw"),
        room("Lhotse", "3F", lhotse.url(), "good.pw"),
        room("Closed", "3F", format!("ws://{closed}/"), "good.pw"),
        room(
            "Silent",
            "3F",
            format!("ws://{}/", silent.local_addr().unwrap()),
            "good.pw",
        ),
    ]
    .concat();
    std::fs::write(dir.path().join("rooms.toml"), text).unwrap();
    Campus {
        everest,
        fuji,
        lhotse,
        k2,
        _silent: silent,
        dir,
    }
}

fn fast_fleet() -> FleetOptions {
    FleetOptions {
        connect_timeout: Duration::from_millis(800),
        request_timeout: Duration::from_millis(800),
        backoff_min: Duration::from_millis(300),
        backoff_max: Duration::from_secs(2),
        ..FleetOptions::default()
    }
}

fn console(rt: &tokio::runtime::Runtime, rooms_toml: &Path) -> Harness<'static, ConsoleApp> {
    let file = RoomsFile::load(rooms_toml).expect("the rooms file loads");
    let on_change: Arc<dyn Fn() + Send + Sync> = Arc::new(|| {});
    let fleet = Fleet::start(
        file.fleet_rooms().unwrap(),
        rt.handle(),
        on_change.clone(),
        fast_fleet(),
    );
    let desk = Arc::new(FleetDesk::new(fleet, file, None));
    let services = Services {
        runtime: rt.handle().clone(),
        embedded: None,
        on_change,
        showing_embedded: Default::default(),
    };
    // The single-room view starts on a fixed, empty room; opening a room
    // from the list replaces it with a real link.
    let start = Arc::new(FixedRoomDesk::new(RoomView::empty("none".into(), false)));
    Harness::builder()
        .with_size(egui::vec2(1800.0, 900.0))
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
    let stepped = wait::try_wait_every(Duration::from_millis(5), T, what, || {
        h.step();
        cond(h)
    });
    if let Err(e) = stepped {
        let rooms = h.state().rooms.as_ref().map(|r| r.desk().rooms());
        panic!("{e}; rooms: {rooms:#?}");
    }
}

fn labels_containing(h: &Harness<'_, ConsoleApp>, text: &str) -> usize {
    h.query_all_by_label_contains(text).count()
}

/// Save the room dialog: the save runs off the UI thread with a spinner
/// (which keeps repainting), so step rather than wait for the UI to settle.
fn save(h: &mut Harness<'_, ConsoleApp>) {
    h.get(by().label("Save").role(egui::Role::Button)).click();
    h.step();
}

/// Click the one widget labelled `label`, whatever its role (chips are
/// toggle buttons).
fn click_chip(h: &mut Harness<'_, ConsoleApp>, label: &str) {
    h.get_by_label(label).click();
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

fn has_row(h: &Harness<'_, ConsoleApp>, name: &str) -> bool {
    h.query_all(by().label(name).role(egui::Role::Button))
        .next()
        .is_some()
}

fn click(h: &mut Harness<'_, ConsoleApp>, label: &str, role: egui::Role) {
    match h.query_all(by().label(label).role(role)).next() {
        Some(node) => node.click(),
        None => panic!("nothing labelled {label:?} ({role:?})"),
    }
    h.run();
}

#[test]
fn rooms_view_shows_every_room_and_acts_on_exactly_the_selected_ones() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let campus = campus(&rt);
    let mut h = console(&rt, &campus.dir.path().join("rooms.toml"));

    // The truth of every room, each in its own words.
    step_until(&mut h, "every room's state", |h| {
        labels_containing(h, "Alice · Mac · Screen") == 1
            && labels_containing(h, "手机 · Android · Screen") == 2
            && labels_containing(h, "wrong password") == 1
            && labels_containing(h, "unreachable") == 2
            && labels_containing(h, "246810") == 3
    });
    assert_eq!(labels_containing(&h, "12F"), 1, "one header per group");
    assert_eq!(
        labels_containing(&h, "3 rooms · 2 sharing · 1 with problems"),
        1
    );
    assert_eq!(labels_containing(&h, "Nobody is sharing"), 0);

    // Select Everest and Fuji, stop sharing there, confirm by name.
    click(&mut h, "select Everest", egui::Role::CheckBox);
    click(&mut h, "select Fuji", egui::Role::CheckBox);
    click(&mut h, "Stop share", egui::Role::Button);
    assert!(h.query_by_label("• Everest").is_some() && h.query_by_label("• Fuji").is_some());
    assert!(
        h.query_by_label("• Lhotse").is_none(),
        "the dialog names only the selected rooms"
    );
    click(&mut h, "Stop share in 2 rooms", egui::Role::Button);
    step_until(&mut h, "both answers", |h| {
        labels_containing(h, "Stop share → 2 rooms: 1 done · 1 failed · 0 waiting") == 1
    });
    // Each room's own result in its row, the code with its meaning.
    assert_eq!(labels_containing(&h, "StopShare: done"), 1);
    assert_eq!(labels_containing(&h, "StopShare: 17 "), 1);
    assert!(labels_containing(&h, "can only be stopped by them") == 1);
    assert!(
        !campus.everest.engine.snapshot().borrow().is_sharing,
        "Everest's quick cast ended"
    );
    assert!(
        campus.lhotse.engine.snapshot().borrow().is_sharing,
        "Lhotse, not selected, still shares"
    );
    let rooms = h.state().rooms.as_ref().unwrap().desk().rooms();
    let called: Vec<&str> = rooms
        .iter()
        .filter(|r| r.last_call.is_some())
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(called, ["Everest", "Fuji"]);
    step_until(&mut h, "Everest shows nobody sharing", |h| {
        labels_containing(h, "手机 · Android") == 1
    });

    // Filter chips: "Sharing now" leaves Fuji and Lhotse; "Problems" the
    // broken rooms and Fuji, whose last action failed.
    click_chip(&mut h, "Sharing now");
    assert!(has_row(&h, "Lhotse") && has_row(&h, "Fuji") && !has_row(&h, "Everest"));
    click_chip(&mut h, "Problems");
    for name in ["K2", "Closed", "Silent", "Fuji"] {
        assert!(has_row(&h, name), "{name} has a problem");
    }
    assert!(!has_row(&h, "Lhotse"));
    click_chip(&mut h, "All");

    // Enter opens the room under the cursor; Escape (nothing shared) comes back.
    click(&mut h, "Everest", egui::Role::Button);
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(h.state().page, Page::Room);
    step_until(&mut h, "Everest's own link", |h| {
        let view = h.state().room.desk().view();
        view.label == campus.everest.url() && view.cast_code.as_deref() == Some(CAST_CODE)
    });
    h.key_press(egui::Key::Escape);
    h.run();
    assert_eq!(h.state().page, Page::Rooms);
    let _ = (&campus.k2, &campus.fuji);

    // Add a room in the console: a password written into a rooms file that
    // others can read is refused with the fix; from a variable it is saved.
    let rooms_toml = campus.dir.path().join("rooms.toml");
    std::fs::set_permissions(&rooms_toml, std::fs::Permissions::from_mode(0o644)).unwrap();
    click(&mut h, "Add room…", egui::Role::Button);
    type_into(&mut h, "Name", "Makalu");
    type_into(&mut h, "Room address (ws://HOST:6295)", "ws://127.0.0.1:9/");
    // A new room starts in the group of the room under the cursor.
    let group = h
        .get(by().label("Group").role(egui::Role::TextInput))
        .accesskit_node()
        .value();
    assert_eq!(group.as_deref(), Some("12F"));
    click_chip(&mut h, "Typed here");
    // Into the rooms file, not the system keychain (whether this machine
    // has one or not): untick the box once the desk's probe has answered.
    step_until(&mut h, "the keychain probe", |h| {
        let desk = h.state().rooms.as_ref().unwrap().desk();
        desk.keychain_available().is_some()
    });
    let ticked = h
        .get(
            by().label("Store in the system keychain")
                .role(egui::Role::CheckBox),
        )
        .accesskit_node()
        .toggled()
        == Some(egui::accesskit::Toggled::True);
    if ticked {
        click(&mut h, "Store in the system keychain", egui::Role::CheckBox);
    }
    type_into(&mut h, "Password", "hunter2");
    save(&mut h);
    step_until(&mut h, "the refusal says how to fix it", |h| {
        labels_containing(h, "600") >= 2
    });
    h.run(); // let the dialog settle after the last step
    assert!(
        !std::fs::read_to_string(&rooms_toml)
            .unwrap()
            .contains("Makalu")
    );
    click_chip(&mut h, "Password file");
    type_into(&mut h, "File (relative to the rooms file)", "good.pw");
    save(&mut h);
    step_until(&mut h, "Makalu's row", |h| has_row(h, "Makalu"));
    let saved = std::fs::read_to_string(&rooms_toml).unwrap();
    assert!(
        saved.contains("name = \"Makalu\"") && saved.contains("password_file = \"good.pw\""),
        "{saved}"
    );
    assert!(
        !saved.contains("hunter2"),
        "the refused password was not written"
    );

    // Remove it again, confirmed by name (Escape clears the selection first).
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.state().rooms.as_ref().unwrap().selected.is_empty());
    click(&mut h, "select Makalu", egui::Role::CheckBox);
    click(&mut h, "Remove room", egui::Role::Button);
    assert!(h.query_by_label("• Makalu").is_some());
    click(
        &mut h,
        "Remove 1 room from the rooms file",
        egui::Role::Button,
    );
    step_until(&mut h, "Makalu gone", |h| !has_row(h, "Makalu"));
    assert!(
        !std::fs::read_to_string(&rooms_toml)
            .unwrap()
            .contains("Makalu")
    );
    assert!(has_row(&h, "Everest"), "the other rooms stay");
}

// ---------------------------------------------------------------------
// Fixed rooms (no network): the keyboard, and how the view looks.

use roomshare::link::ConnState;
use roomshare::link::fleet::{CallOutcome, FleetAction, Reach, RoomStatus};
use roomshare::protocol::ShareAction;
use roomshare::protocol::model::{MeetingInfo, ShareInfo, ShareUserInfo};
use roomshare::ui::rooms::FixedRoomsDesk;

fn meeting(status: i64, title: &str) -> Option<MeetingInfo> {
    Some(MeetingInfo {
        meeting_status: status,
        meeting_title: title.into(),
        ..MeetingInfo::default()
    })
}

fn shared_by(nickname: &str, instance_id: i64, whiteboard: bool) -> Option<ShareInfo> {
    Some(ShareInfo {
        is_sharing: true,
        quick_casting_state: 0,
        share_user_info: Some(ShareUserInfo {
            nickname: nickname.into(),
            instance_id,
            screen_share_type: i64::from(whiteboard),
            ..ShareUserInfo::default()
        }),
    })
}

fn nobody() -> Option<ShareInfo> {
    Some(ShareInfo::default())
}

/// A floor of rooms in every state a technician meets.
fn fixed_campus() -> Vec<RoomStatus> {
    let now = Instant::now();
    let ago = |s: u64| Some(now - Duration::from_secs(s));
    let up = |name: &str, group: &str, port: u16| {
        let mut r = RoomStatus::new(name, group, format!("ws://10.0.12.{port}:6295/"), false);
        r.conn = ConnState::Connected;
        r.connects = 1;
        r.cast_code = Some(format!("{}", 481_000 + u32::from(port)));
        r.share_guide_open = Some(false);
        r.changed_at = ago(3600 + u64::from(port) * 60);
        r.meeting = meeting(0, "");
        r.share_info = nobody();
        r
    };
    let mut rooms = Vec::new();
    let mut everest = up("Everest", "12F", 5);
    everest.meeting = meeting(1, "Weekly sync");
    everest.share_info = shared_by("Alice Chen", 2, false);
    everest.changed_at = ago(125);
    rooms.push(everest);
    let mut fuji = up("Fuji", "12F", 6);
    fuji.meeting = meeting(1, "Design review");
    fuji.share_info = shared_by("王芳", 6, true);
    rooms.push(fuji);
    let mut k2 = RoomStatus::new("K2", "12F", "ws://10.0.12.7:6295/".to_string(), false);
    k2.conn = ConnState::AuthFailed {
        code: 16,
        message: "Rooms CSAPI Password Error".into(),
    };
    k2.changed_at = ago(40);
    rooms.push(k2);
    rooms.push(up("Lhotse", "12F", 8));
    let mut makalu = up("Makalu", "12F", 9);
    makalu.meeting = meeting(4, "");
    makalu.share_info = Some(ShareInfo {
        quick_casting_state: 1,
        ..ShareInfo::default()
    });
    makalu.changed_at = ago(3);
    rooms.push(makalu);
    let mut atrium = up("Atrium", "3F", 20);
    atrium.meeting = meeting(1, "All hands");
    atrium.last_call = Some(CallOutcome {
        action: FleetAction::Share(ShareAction::StopShare),
        reach: Reach::Connected,
        code: Some(17),
        message: "nothing is being shared".into(),
        at: now,
    });
    rooms.push(atrium);
    let mut board = RoomStatus::new("Boardroom", "3F", "ws://10.0.3.21:6295/".to_string(), false);
    board.conn = ConnState::Closed {
        reason: "the device closed the connection (1001 going away)".into(),
    };
    rooms.push(board);
    for (i, name) in ["Focus 1", "Focus 2", "Focus 10"].into_iter().enumerate() {
        let mut focus = up(name, "3F", 30 + i as u16);
        focus.share_guide_open = Some(i == 1);
        rooms.push(focus);
    }
    let mut lobby = up("Lobby screen", "", 40);
    lobby.meeting = meeting(1, "Visitor loop");
    lobby.share_info = shared_by("Reception PC", 1, false);
    lobby.last_call = Some(CallOutcome {
        action: FleetAction::Share(ShareAction::OpenShareGuide),
        reach: Reach::Connected,
        code: Some(0),
        message: String::new(),
        at: now,
    });
    rooms.push(lobby);
    rooms
}

fn fixed_console(
    rt: &tokio::runtime::Runtime,
    desk: Arc<FixedRoomsDesk>,
    size: egui::Vec2,
) -> Harness<'static, ConsoleApp> {
    let services = Services {
        runtime: rt.handle().clone(),
        embedded: None,
        on_change: Arc::new(|| {}),
        showing_embedded: Default::default(),
    };
    let start = Arc::new(FixedRoomDesk::new(RoomView::empty("none".into(), false)));
    Harness::builder().with_size(size).build_eframe(move |cc| {
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

#[test]
fn keyboard_moves_selects_and_acts_on_exactly_those_rooms() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let desk = Arc::new(FixedRoomsDesk::new(fixed_campus()));
    let mut h = fixed_console(&rt, desk.clone(), egui::vec2(1360.0, 860.0));
    h.run();
    // Rooms read in groups by natural name order: 3F (Atrium, Boardroom,
    // Focus 1, Focus 2, Focus 10), 12F (Everest, …), then ungrouped.
    for _ in 0..4 {
        h.key_press(egui::Key::ArrowDown);
    }
    h.key_press(egui::Key::Space); // Focus 2
    h.key_press(egui::Key::ArrowDown);
    h.key_press(egui::Key::Space); // Focus 10
    h.key_press(egui::Key::End);
    h.key_press(egui::Key::Space); // Lobby screen
    h.run();
    let selected: Vec<String> = h
        .state()
        .rooms
        .as_ref()
        .unwrap()
        .selected
        .iter()
        .cloned()
        .collect();
    assert_eq!(selected, ["Focus 10", "Focus 2", "Lobby screen"]);
    click(&mut h, "Close share guide", egui::Role::Button);
    for name in ["Focus 2", "Focus 10", "Lobby screen"] {
        assert!(
            h.query_by_label(&format!("• {name}")).is_some(),
            "{name} is named"
        );
    }
    click(&mut h, "Close share guide in 3 rooms", egui::Role::Button);
    let calls = desk.calls.lock().clone();
    assert_eq!(
        calls,
        [(
            ["Focus 2", "Focus 10", "Lobby screen"]
                .map(String::from)
                .to_vec(),
            FleetAction::Share(ShareAction::CloseShareGuide)
        )],
        "exactly the selected rooms, in list order"
    );

    // Escape clears the selection; Ctrl+A selects what the filter shows.
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.state().rooms.as_ref().unwrap().selected.is_empty());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run();
    h.get(by().label("Filter").role(egui::Role::TextInput))
        .type_text("focus");
    h.run();
    h.key_press(egui::Key::Escape); // leaves the field
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run();
    let selected: Vec<String> = h
        .state()
        .rooms
        .as_ref()
        .unwrap()
        .selected
        .iter()
        .cloned()
        .collect();
    assert_eq!(selected, ["Focus 1", "Focus 10", "Focus 2"]);

    // Enter opens the room under the cursor in the single-room view.
    h.key_press(egui::Key::Home);
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(h.state().page, Page::Room);
    assert_eq!(h.state().room.desk().view().label, "ws://10.0.12.30:6295/");
}

#[test]
fn snapshot_rooms_view() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let desk = Arc::new(FixedRoomsDesk::new(fixed_campus()));
    let mut h = fixed_console(&rt, desk, egui::vec2(1360.0, 860.0));
    h.run();
    click(&mut h, "select Everest", egui::Role::CheckBox);
    click(&mut h, "select Fuji", egui::Role::CheckBox);
    h.run();
    h.snapshot("rooms_view");
}

/// The Add room dialog with a password typed where a keychain answered:
/// "Store in the system keychain" ticked, and what that means under it.
#[test]
fn snapshot_room_editor_with_the_keychain() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let desk = Arc::new(FixedRoomsDesk {
        keychain: true,
        ..FixedRoomsDesk::new(fixed_campus())
    });
    let mut h = fixed_console(&rt, desk, egui::vec2(1360.0, 860.0));
    h.run();
    click(&mut h, "Add room…", egui::Role::Button);
    type_into(&mut h, "Name", "13F Lhotse");
    type_into(
        &mut h,
        "Room address (ws://HOST:6295)",
        "ws://10.0.13.7:6295",
    );
    click_chip(&mut h, "Typed here");
    let ticked = h
        .get(
            by().label("Store in the system keychain")
                .role(egui::Role::CheckBox),
        )
        .accesskit_node()
        .toggled();
    assert_eq!(ticked, Some(egui::accesskit::Toggled::True));
    type_into(&mut h, "Password", "hunter2");
    h.snapshot("room_editor_keychain");
}

/// The console checks its rooms file before anything starts (no window,
/// no engine): the real binary exits 2 with the file, the line and why.
#[test]
fn console_refuses_a_bad_rooms_file_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.toml");
    let text = "[[room]]\nname = \"Everest\"\nurl = \"ws://10.0.12.5:6295\"\n\n[[room]]\nname = \"Everest\"\nurl = \"ws://10.0.12.6:6295\"\n";
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roomshare"))
        .arg("--rooms")
        .arg(&path)
        .args(["--sources", "synthetic"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:6:", path.display())),
        "the duplicate name's line: {stderr}"
    );
    assert!(stderr.contains("duplicate"), "{stderr}");
}

/// Escape closes what is open over the Rooms view and sends nothing: the
/// confirmation (no room is asked anything) and the toolbar's connection
/// dialog (which opens over this view too).
#[test]
fn escape_closes_dialogs_and_sends_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let desk = Arc::new(FixedRoomsDesk::new(fixed_campus()));
    let mut h = fixed_console(&rt, desk.clone(), egui::vec2(1360.0, 860.0));
    h.run();
    click(&mut h, "select Everest", egui::Role::CheckBox);
    click(&mut h, "Stop share", egui::Role::Button);
    assert!(
        h.query_by_label("• Everest").is_some(),
        "the confirmation is open"
    );
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.query_by_label("• Everest").is_none(), "Escape closed it");
    assert!(desk.calls.lock().is_empty(), "nothing was sent");
    let selected = &h.state().rooms.as_ref().unwrap().selected;
    assert_eq!(
        selected.len(),
        1,
        "that Escape belonged to the dialog, not the selection"
    );

    click(&mut h, "Connect…", egui::Role::Button);
    assert!(
        h.query_by_label("Connect to a room").is_some(),
        "the dialog opens here"
    );
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.query_by_label("Connect to a room").is_none());
    assert_eq!(h.state().page, Page::Rooms);
}
