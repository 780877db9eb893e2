//! The link's background work: keep the [`RoomView`] current from query
//! answers and events, poll where devices may not push, fetch remote
//! thumbnails, and turn failed calls into notices.

use super::{Extension, NO_ANSWER, Notice, RoomView, Shared, SharedSource};
use crate::capture::{Frame, Thumb, ThumbnailStore, TileState};
use crate::client::{Client, ClientError, ClientEvent, ConnState};
use crate::protocol::codes;
use crate::protocol::model::{MeetingInfo, ShareInfo, SourceInfo};
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{self, error::RecvError};

/// How often a remote room is re-queried: real devices may not push Share
/// events (protocol.md §5), and field controllers poll about once a second.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How often remote thumbnails are refreshed.
const THUMBNAIL_INTERVAL: Duration = Duration::from_millis(1500);

pub(super) async fn drive(
    client: Client,
    mut events: broadcast::Receiver<ClientEvent>,
    shared: Arc<Shared>,
    thumbnails: ThumbnailStore,
    embedded: bool,
) {
    // `events` predates the connection task, so no frame is missed; the
    // state may have moved on before this task ran, so show it now.
    let mut state = client.state();
    let initial = state.borrow_and_update().clone();
    if initial == ConnState::Connected {
        tokio::spawn(refresh(client.clone(), shared.clone(), true));
    }
    show_conn(&shared, initial);
    let mut poll = tokio::time::interval(POLL_INTERVAL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut thumb_tick = tokio::time::interval(THUMBNAIL_INTERVAL);
    thumb_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut fetcher = ThumbnailFetcher::default();
    loop {
        tokio::select! {
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
                let conn = state.borrow_and_update().clone();
                show_conn(&shared, conn);
            }
            event = events.recv() => match event {
                Ok(ClientEvent::Connected) => {
                    tokio::spawn(refresh(client.clone(), shared.clone(), true));
                }
                Ok(ClientEvent::Event { sub_event, error_code, message, data, .. }) => {
                    apply_event(&shared, &sub_event, error_code, &message, &data);
                }
                Ok(ClientEvent::Traffic(entry)) => {
                    let background = entry.background;
                    shared.record((*entry).clone());
                    if !background {
                        (shared.on_change)();
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Missed events: the view may be stale, so re-read it all.
                    tokio::spawn(refresh(client.clone(), shared.clone(), true));
                }
                Err(RecvError::Closed) => return,
            },
            _ = poll.tick(), if !embedded => {
                if shared.view().conn == ConnState::Connected {
                    tokio::spawn(refresh(client.clone(), shared.clone(), false));
                }
            }
            _ = thumb_tick.tick(), if !embedded => {
                let view = shared.view();
                if view.conn == ConnState::Connected && view.extension == Extension::Present {
                    fetcher.fetch_all(&client, &view.sources, &thumbnails, &shared).await;
                }
            }
        }
    }
}

/// Show the connection state; an auth failure is also a toast.
fn show_conn(shared: &Shared, conn: ConnState) {
    if let ConnState::AuthFailed { code, message } = &conn {
        shared.notify(Notice {
            action: "connect".into(),
            code: *code,
            message: message.clone(),
        });
    }
    shared.update(|v| v.conn = conn);
}

/// Read the room's state. `full` also reads the nodes that only change by
/// events (sources, share guide, share session); polls read the basics.
pub(super) async fn refresh(client: Client, shared: Arc<Shared>, full: bool) {
    let share = client.request_background("Query", json!({"path": ["Share"]}));
    let meeting = client.request_background("Query", json!({"path": ["Meeting", "MeetingInfo"]}));
    let (share, meeting) = tokio::join!(share, meeting);
    if let Ok(r) = share
        && r.is_ok()
        && let Some(node) = r.data.as_ref().and_then(|d| d.get("share"))
    {
        let share_info = node
            .get("share_info")
            .cloned()
            .and_then(|v| serde_json::from_value::<ShareInfo>(v).ok());
        let cast_code = node
            .get("cast_code")
            .and_then(Value::as_str)
            .map(str::to_string);
        let devices = string_list(node.get("capture_device_list"));
        shared.update(|v| {
            if share_info.is_some() {
                v.share_info = share_info;
            }
            if cast_code.is_some() {
                v.cast_code = cast_code;
            }
            v.capture_device_list = devices;
        });
    }
    if let Ok(r) = meeting
        && r.is_ok()
        && let Some(info) = r.data.as_ref().and_then(|d| d.get("meeting_info"))
        && let Ok(info) = serde_json::from_value::<MeetingInfo>(info.clone())
    {
        shared.update(|v| v.meeting = Some(info));
    }
    let view = shared.view();
    if !full && view.extension != Extension::Present {
        return;
    }
    let guide = client.request_background("Query", json!({"path": ["Share", "ShareGuide"]}));
    let sources = client.request_background("Query", json!({"path": ["RoomShare", "Sources"]}));
    let session =
        client.request_background("Query", json!({"path": ["RoomShare", "ShareSession"]}));
    let (guide, sources, session) = tokio::join!(guide, sources, session);
    if let Ok(r) = guide
        && r.is_ok()
    {
        let open = r
            .data
            .as_ref()
            .and_then(|d| d.get("share_guide_open"))
            .and_then(Value::as_bool);
        shared.update(|v| v.share_guide_open = open);
    }
    match sources {
        Ok(r) if r.is_ok() => {
            let data = r.data.unwrap_or(Value::Null);
            shared.update(|v| {
                v.extension = Extension::Present;
                apply_sources(v, &data);
            });
        }
        Ok(r) => {
            let reason = format!(
                "the room answered {} {} to [\"RoomShare\",\"Sources\"]: it is a Rooms device without roomshare's source extension, so only its capture devices are listed and no thumbnails are available",
                r.error_code,
                codes::meaning(r.error_code).unwrap_or("")
            );
            shared.update(|v| {
                v.extension = Extension::Absent(reason);
                v.sources.clear();
                v.generation = None;
            });
        }
        Err(_) => {}
    }
    if let Ok(r) = session
        && r.is_ok()
    {
        let shared_source = r
            .data
            .as_ref()
            .and_then(|d| d.get("share_session"))
            .and_then(parse_session);
        shared.update(|v| v.shared_source = shared_source);
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn apply_sources(view: &mut RoomView, data: &Value) {
    if let Some(list) = data
        .get("sources")
        .cloned()
        .and_then(|s| serde_json::from_value::<Vec<SourceInfo>>(s).ok())
    {
        view.sources = list;
    }
    if let Some(g) = data.get("generation").and_then(Value::as_u64) {
        view.generation = Some(g);
    }
}

fn parse_session(v: &Value) -> Option<SharedSource> {
    let id = v
        .get("source_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())?;
    Some(SharedSource {
        source_id: id.to_string(),
        fluency_first: v
            .get("fluency_first")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        share_voice: v
            .get("share_voice")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Fold one pushed event into the view.
fn apply_event(shared: &Shared, sub_event: &str, error_code: i64, message: &str, data: &Value) {
    match sub_event {
        "ShareInfoChanged" => {
            let info = data
                .get("share_info")
                .cloned()
                .and_then(|v| serde_json::from_value::<ShareInfo>(v).ok());
            shared.update(|v| {
                if info.is_some() {
                    v.share_info = info;
                }
                if error_code != 0 && !message.is_empty() {
                    v.last_stop_reason = Some(message.to_string());
                }
            });
            if error_code != 0 && !message.is_empty() {
                shared.notify(Notice {
                    action: "share stopped".into(),
                    code: error_code,
                    message: message.to_string(),
                });
            }
        }
        "CastCodeChanged" => {
            let code = data
                .get("cast_code")
                .and_then(Value::as_str)
                .map(str::to_string);
            shared.update(|v| v.cast_code = code.or(v.cast_code.take()));
        }
        "CaptureDeviceListChanged" => {
            let list = string_list(data.get("capture_device_list"));
            shared.update(|v| v.capture_device_list = list);
        }
        "ShareGuideChanged" => {
            let open = data.get("share_guide_open").and_then(Value::as_bool);
            shared.update(|v| v.share_guide_open = open.or(v.share_guide_open));
        }
        "SourcesChanged" => shared.update(|v| {
            v.extension = Extension::Present;
            apply_sources(v, data);
        }),
        "ShareSessionChanged" => {
            let session = data.get("share_session").and_then(parse_session);
            shared.update(|v| v.shared_source = session);
        }
        "JoinMeetingCompleted" | "LeaveMeeting" | "DissolveMeeting" | "MeetingStatusChanged" => {
            if let Some(info) = data
                .get("meeting_info")
                .cloned()
                .and_then(|v| serde_json::from_value::<MeetingInfo>(v).ok())
            {
                shared.update(|v| v.meeting = Some(info));
            }
        }
        other => tracing::debug!("event {other} not shown"),
    }
}

/// Send one call; a failure becomes a notice, a success a fresh read (real
/// devices may not push the change as an event).
pub(super) async fn call(
    client: Client,
    shared: Arc<Shared>,
    method: &'static str,
    action: &'static str,
    params: Value,
) {
    match client.request(method, params).await {
        Ok(r) if r.is_ok() => {}
        Ok(r) => shared.notify(Notice {
            action: action.into(),
            code: r.error_code,
            message: r.message,
        }),
        Err(ClientError::Protocol { code, message }) => shared.notify(Notice {
            action: action.into(),
            code,
            message,
        }),
        Err(ClientError::AuthFailed { code, message }) => shared.notify(Notice {
            action: action.into(),
            code,
            message,
        }),
        Err(e) => shared.notify(Notice {
            action: action.into(),
            code: NO_ANSWER,
            message: e.to_string(),
        }),
    }
    refresh(client, shared, false).await;
}

/// Fetches remote thumbnails one at a time and decodes them off the async
/// workers.
#[derive(Default)]
struct ThumbnailFetcher {
    /// Source id → (hash of the last JPEG, its seq).
    last: HashMap<String, (u64, u64)>,
}

impl ThumbnailFetcher {
    async fn fetch_all(
        &mut self,
        client: &Client,
        sources: &[SourceInfo],
        store: &ThumbnailStore,
        shared: &Shared,
    ) {
        let mut changed = false;
        for source in sources {
            let answer = client
                .request_background(
                    "Query",
                    json!({"path": ["RoomShare", "Thumbnail"], "source_id": source.id}),
                )
                .await;
            let result = match answer {
                Ok(r) => r,
                Err(_) => return, // disconnected: try again next round
            };
            if !result.is_ok() {
                store.set(&source.id, TileState::Unavailable(result.message));
                changed = true;
                continue;
            }
            let Some(b64) = result
                .data
                .as_ref()
                .and_then(|d| d.get("jpeg_base64"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let hash = fnv1a(b64.as_bytes());
            let entry = self.last.entry(source.id.clone()).or_insert((0, 0));
            if entry.0 == hash {
                continue;
            }
            let b64 = b64.to_string();
            let decoded = tokio::task::spawn_blocking(move || decode_jpeg(&b64))
                .await
                .ok()
                .flatten();
            match decoded {
                Some(frame) => {
                    entry.0 = hash;
                    entry.1 += 1;
                    store.set(
                        &source.id,
                        TileState::Ready(Thumb {
                            frame: Arc::new(frame),
                            seq: entry.1,
                            captured_at: Instant::now(),
                        }),
                    );
                }
                None => store.set(
                    &source.id,
                    TileState::Unavailable("the thumbnail could not be decoded".into()),
                ),
            }
            changed = true;
        }
        if changed {
            (shared.on_change)();
        }
    }
}

fn decode_jpeg(b64: &str) -> Option<Frame> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .ok()?
        .to_rgba8();
    Some(Frame {
        width: img.width(),
        height: img.height(),
        rgba: img.into_raw(),
    })
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}
