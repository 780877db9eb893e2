//! A test ScreenCast *backend* (`org.freedesktop.impl.portal.ScreenCast`)
//! for the real `xdg-desktop-portal` frontend, served with zbus on the
//! test's private bus.
//!
//! It stands in for the desktop's own backend (xdg-desktop-portal-gnome,
//! -kde, -wlr), because no compositor that can screencast runs here:
//! xdg-desktop-portal-wlr needs a DMA-BUF capable renderer (upstream
//! xdg-desktop-portal-wlr issue 289). It speaks the backend side of the
//! protocol as those do: methods answer `(response, results)` directly,
//! the frontend's request and session handles get
//! `org.freedesktop.impl.portal.Request` / `.Session` objects, and `Start`
//! answers with the PipeWire node ids of real producers plus
//! `persist_mode` and `restore_data` (`(suv)`), which the frontend turns
//! into restore tokens and keeps in its permission store.
//!
//! Its "dialog" is a policy ([`Dialog`]); everything it is asked is
//! recorded ([`Record`]) for the tests to check.
#![allow(dead_code)]

use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, StructureBuilder, Value};

/// The backend's bus name (`.portal` file `DBusName`).
pub const BACKEND_NAME: &str = "org.freedesktop.impl.portal.desktop.roomsharetest";
/// The desktop it is for (`XDG_CURRENT_DESKTOP`, `.portal` file `UseIn`).
pub const DESKTOP: &str = "roomsharetest";
const PATH: &str = "/org/freedesktop/portal/desktop";
/// The first field of its `restore_data`: whose data it is.
const VENDOR: &str = "roomsharetest";

/// The `.portal` file that makes the frontend use this backend.
pub fn portal_file() -> String {
    format!(
        "[portal]\nDBusName={BACKEND_NAME}\nInterfaces=org.freedesktop.impl.portal.ScreenCast;\nUseIn={DESKTOP}\n"
    )
}

/// What the "dialog" does when `Start` has no restore data to honour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialog {
    /// The user picks every offered stream.
    Accept,
    /// The user closes the dialog: response 1.
    Cancel,
    /// The backend ends the request with an error: response 2.
    Refuse,
    /// The backend leaves the bus without answering (it crashed).
    Vanish,
}

/// One stream the backend grants: a PipeWire node and what it is.
#[derive(Clone, Debug)]
pub struct Offer {
    pub node: u32,
    /// 1 monitor, 2 window.
    pub source_type: u32,
    pub id: String,
    pub size: (i32, i32),
}

/// One `SelectSources` call as received from the frontend.
#[derive(Clone, Debug, Default)]
pub struct Selected {
    pub app_id: String,
    pub types: Option<u32>,
    pub multiple: Option<bool>,
    pub cursor_mode: Option<u32>,
    pub persist_mode: Option<u32>,
    /// The third field of `restore_data`, when the frontend sent some.
    pub restore_data: Option<String>,
}

/// What the backend was asked.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub sessions: u32,
    pub selects: Vec<Selected>,
    /// `Start` calls that showed the dialog.
    pub dialogs: u32,
    /// `Start` calls granted from restore data, without a dialog.
    pub restores: u32,
    /// The restore data keys handed out, in order.
    pub issued: Vec<String>,
    pub closed_sessions: u32,
}

struct Inner {
    offers: Vec<Offer>,
    dialog: Mutex<Dialog>,
    record: Mutex<Record>,
    /// Restore keys this backend honours.
    grants: Mutex<HashSet<String>>,
    /// The restore key each session's `SelectSources` brought.
    session_keys: Mutex<HashMap<String, String>>,
}

/// The backend, owning [`BACKEND_NAME`] on a bus until dropped.
pub struct TestBackend {
    inner: Arc<Inner>,
    /// Held: the name and objects live as long as the connection.
    _conn: zbus::Connection,
}

impl TestBackend {
    pub fn serve(bus_address: &str, offers: Vec<Offer>, dialog: Dialog) -> TestBackend {
        let inner = Arc::new(Inner {
            offers,
            dialog: Mutex::new(dialog),
            record: Mutex::new(Record::default()),
            grants: Mutex::new(HashSet::new()),
            session_keys: Mutex::new(HashMap::new()),
        });
        let conn = async_io::block_on(async {
            zbus::connection::Builder::address(bus_address)?
                .name(BACKEND_NAME)?
                .serve_at(PATH, ScreenCast(inner.clone()))?
                .build()
                .await
        })
        .expect("serve the test ScreenCast backend");
        TestBackend { inner, _conn: conn }
    }

    pub fn set_dialog(&self, dialog: Dialog) {
        *self.inner.dialog.lock() = dialog;
    }

    pub fn record(&self) -> Record {
        self.inner.record.lock().clone()
    }
}

fn opt<'a, T: TryFrom<&'a OwnedValue>>(
    options: &'a HashMap<String, OwnedValue>,
    key: &str,
) -> Option<T> {
    options.get(key).and_then(|v| T::try_from(v).ok())
}

fn owned(v: Value<'_>) -> OwnedValue {
    v.try_to_owned().expect("owned value")
}

/// The key inside `restore_data` = `(vendor, version, <key>)`, if it is ours.
fn restore_key(options: &HashMap<String, OwnedValue>) -> Option<String> {
    let Value::Structure(data) = &**options.get("restore_data")? else {
        return None;
    };
    match data.fields() {
        [Value::Str(vendor), Value::U32(1), Value::Value(key)] if vendor.as_str() == VENDOR => {
            match &**key {
                Value::Str(key) => Some(key.to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

type Answer = (u32, HashMap<String, OwnedValue>);

impl Inner {
    /// `Start`: restored from a key it issued, or the dialog's policy.
    fn decide(&self, session: &str) -> Result<(), Dialog> {
        let key = self.session_keys.lock().remove(session);
        let mut record = self.record.lock();
        if key.is_some_and(|k| self.grants.lock().contains(&k)) {
            record.restores += 1;
            return Ok(());
        }
        record.dialogs += 1;
        match *self.dialog.lock() {
            Dialog::Accept => Ok(()),
            other => Err(other),
        }
    }

    fn grant(&self) -> HashMap<String, OwnedValue> {
        let key = {
            let mut record = self.record.lock();
            let key = format!("grant-{}", record.issued.len() + 1);
            record.issued.push(key.clone());
            key
        };
        self.grants.lock().insert(key.clone());
        let streams: Vec<(u32, HashMap<&str, Value>)> = self
            .offers
            .iter()
            .map(|s| {
                let props = HashMap::from([
                    ("id", Value::from(s.id.as_str())),
                    ("source_type", Value::from(s.source_type)),
                    ("size", Value::from(s.size)),
                    ("position", Value::from((0i32, 0i32))),
                ]);
                (s.node, props)
            })
            .collect();
        let restore = StructureBuilder::new()
            .add_field(VENDOR)
            .add_field(1u32)
            .append_field(Value::Value(Box::new(Value::from(key))))
            .build()
            .expect("restore data");
        HashMap::from([
            ("streams".to_string(), owned(Value::new(streams))),
            ("persist_mode".to_string(), owned(Value::from(2u32))),
            ("restore_data".to_string(), owned(Value::from(restore))),
        ])
    }
}

struct ScreenCast(Arc<Inner>);

#[zbus::interface(name = "org.freedesktop.impl.portal.ScreenCast")]
impl ScreenCast {
    #[zbus(out_args("response", "results"))]
    async fn create_session(
        &self,
        #[zbus(object_server)] server: &zbus::ObjectServer,
        _handle: OwnedObjectPath,
        session_handle: OwnedObjectPath,
        _app_id: String,
        _options: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<Answer> {
        let session = SessionObject(self.0.clone());
        server.at(&session_handle, session).await?;
        self.0.record.lock().sessions += 1;
        Ok((0, HashMap::new()))
    }

    #[zbus(out_args("response", "results"))]
    async fn select_sources(
        &self,
        _handle: OwnedObjectPath,
        session_handle: OwnedObjectPath,
        app_id: String,
        options: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<Answer> {
        let selected = Selected {
            app_id,
            types: opt(&options, "types"),
            multiple: opt(&options, "multiple"),
            cursor_mode: opt(&options, "cursor_mode"),
            persist_mode: opt(&options, "persist_mode"),
            restore_data: restore_key(&options),
        };
        if let Some(key) = &selected.restore_data {
            self.0
                .session_keys
                .lock()
                .insert(session_handle.to_string(), key.clone());
        }
        self.0.record.lock().selects.push(selected);
        Ok((0, HashMap::new()))
    }

    #[zbus(out_args("response", "results"))]
    async fn start(
        &self,
        #[zbus(connection)] conn: &zbus::Connection,
        handle: OwnedObjectPath,
        session_handle: OwnedObjectPath,
        _app_id: String,
        _parent_window: String,
        _options: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<Answer> {
        // The dialog's request object, as a real backend exports one.
        let server = conn.object_server();
        server.at(&handle, RequestObject).await?;
        let answer = match self.0.decide(session_handle.as_str()) {
            Ok(()) => (0, self.0.grant()),
            Err(Dialog::Cancel) => (1, HashMap::new()),
            Err(Dialog::Vanish) => {
                // Crashed mid-dialog: the connection goes, nothing answers.
                let _ = conn.clone().close().await;
                return Err(zbus::fdo::Error::Failed("vanished".into()));
            }
            Err(_) => (2, HashMap::new()),
        };
        server.remove::<RequestObject, _>(&handle).await?;
        Ok(answer)
    }

    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        4
    }

    #[zbus(property, name = "AvailableSourceTypes")]
    fn available_source_types(&self) -> u32 {
        1 | 2
    }

    #[zbus(property, name = "AvailableCursorModes")]
    fn available_cursor_modes(&self) -> u32 {
        1 | 2 | 4
    }
}

struct RequestObject;

#[zbus::interface(name = "org.freedesktop.impl.portal.Request")]
impl RequestObject {
    async fn close(&self) {}
}

struct SessionObject(Arc<Inner>);

#[zbus::interface(name = "org.freedesktop.impl.portal.Session")]
impl SessionObject {
    async fn close(&self) {
        self.0.record.lock().closed_sessions += 1;
    }

    #[zbus(signal)]
    async fn closed(emitter: &zbus::object_server::SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        1
    }
}
