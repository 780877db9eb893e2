//! The single-room link's side of [following](super::follow) a room: its
//! hooks (traffic recorded, roomshare's extension read, an auth failure
//! or a share that stopped by itself told as a notice), its own poll
//! interval for a remote room, remote thumbnails, and calls whose failure
//! becomes a notice.

use super::fleet::FleetAction;
use super::follow::{Follow, Room, interval};
use super::thumbnails::RemoteThumbnails;
use super::view::{Extension, stop_reason};
use super::{NO_ANSWER, Notice, RoomView, Shared, Subject};
use crate::client::{Client, ClientEvent, ConnState, TrafficEntry};
use crate::media::ThumbnailStore;
use crate::protocol::EventEnvelope;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// How often a remote room is re-queried: real devices may not push Share
/// events (protocol.md §5), and field controllers poll about once a second.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How often remote thumbnails are refreshed.
const THUMBNAIL_INTERVAL: Duration = Duration::from_millis(1500);

impl Room for Shared {
    const EXTENSION: bool = true;

    fn update(&self, f: impl FnOnce(&mut RoomView)) {
        Shared::update(self, f);
    }

    fn read<T>(&self, f: impl FnOnce(&RoomView) -> T) -> T {
        f(&self.view())
    }

    /// An auth failure is also a toast.
    fn show_conn(&self, conn: ConnState) {
        if let ConnState::AuthFailed { code, message } = &conn {
            self.notify(Notice {
                subject: Subject::Connect,
                code: *code,
                message: message.clone(),
            });
        }
        self.update(|v| v.conn = conn);
    }

    /// A share that stopped by itself is also a toast.
    fn event(&self, envelope: &EventEnvelope) {
        self.update(|v| v.apply_event(envelope));
        if let Some(reason) = stop_reason(envelope) {
            self.notify(Notice {
                subject: Subject::ShareStopped,
                code: envelope.error_code,
                message: reason.to_string(),
            });
        }
    }

    /// Wakes the UI only when the pane shows it.
    fn traffic(&self, entry: &TrafficEntry) {
        self.record(entry.clone());
    }
}

/// Follow the room until the client stops; a remote room is also polled
/// and its thumbnails fetched (the in-process engine pushes every change
/// and its pictures are local).
pub(super) async fn run(
    shared: Arc<Shared>,
    client: Client,
    events: broadcast::Receiver<ClientEvent>,
    store: ThumbnailStore,
) {
    let follow = Follow::new(shared.clone(), client.clone());
    if shared.view().embedded {
        return follow.run(events, None).await;
    }
    tokio::select! {
        () = follow.run(events, Some(POLL_INTERVAL)) => {}
        () = fetch_thumbnails(&shared, &client, &store) => {}
    }
}

/// Fetch the sources' thumbnails now and then, while connected to a peer
/// with roomshare's extension (forever: the caller stops it).
async fn fetch_thumbnails(shared: &Shared, client: &Client, store: &ThumbnailStore) {
    let mut tick = interval(THUMBNAIL_INTERVAL);
    let mut remote = RemoteThumbnails::default();
    loop {
        tick.tick().await;
        let view = shared.view();
        if view.conn == ConnState::Connected && view.extension == Extension::Present {
            remote.fetch_all(client, &view.sources, store, shared).await;
        }
    }
}

/// Send one call; a failure becomes a notice.
pub(super) async fn call(
    shared: Arc<Shared>,
    client: Client,
    action: FleetAction,
    subject: Subject,
) {
    let outcome = Follow::new(shared.clone(), client).call(action, None).await;
    if !outcome.is_done() {
        shared.notify(Notice {
            subject,
            code: outcome.code.unwrap_or(NO_ANSWER),
            message: outcome.message,
        });
    }
}
