//! The engine's one owner: a tokio task holding the [`Room`]. Everyone else
//! talks to it through a cloneable [`EngineHandle`]; changes fan out to
//! sessions through a bounded broadcast of pre-serialised event frames.

use super::room::{Deferred, OwnShare, Room, RoomConfig, ShareStats, Step};
use crate::protocol::{CaptureStatus, EventEnvelope, Request, RpcResult, SourceInfo, unix_now};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How many event frames a slow session may fall behind before it is told
/// it lagged (the server then drops that connection, not the others).
pub const EVENT_BUFFER: usize = 4096;

/// An event with its wire text, serialised once for every subscriber.
#[derive(Debug)]
pub struct EventFrame {
    pub event: EventEnvelope,
    pub text: String,
}

/// A consistent picture of the room after the latest change, for in-process
/// observers (the share session, tests).
#[derive(Debug, Clone)]
pub struct RoomSnapshot {
    pub own_share: Option<OwnShare>,
    pub sources: Vec<SourceInfo>,
    pub generation: u64,
    pub meeting_status: i64,
    pub is_sharing: bool,
    /// Bumped by every `RetryCapture`: the capture catalog asks again.
    pub capture_retries: u64,
}

enum Msg {
    Request(Request, oneshot::Sender<RpcResult>),
    SetSources(Vec<SourceInfo>),
    SetCapture(CaptureStatus),
    ShareFailed {
        source_id: String,
        reason: String,
    },
    ShareStats {
        source_id: String,
        stats: ShareStats,
    },
    Deferred(Deferred),
}

/// The task that owns the room: applies one message at a time.
struct Owner {
    room: Room,
    events: broadcast::Sender<Arc<EventFrame>>,
    snapshot: watch::Sender<Arc<RoomSnapshot>>,
    weak: mpsc::WeakSender<Msg>,
}

impl Owner {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        while let Some(msg) = rx.recv().await {
            let (step, reply) = match msg {
                Msg::Request(req, reply) => (self.room.handle(&req, unix_now()), Some(reply)),
                Msg::SetSources(list) => (self.room.set_sources(list), None),
                Msg::SetCapture(status) => (self.room.set_capture(status), None),
                Msg::ShareFailed { source_id, reason } => {
                    (self.room.share_failed(&source_id, &reason), None)
                }
                Msg::ShareStats { source_id, stats } => {
                    (self.room.share_stats(&source_id, stats), None)
                }
                Msg::Deferred(d) => (self.room.complete(&d), None),
            };
            self.publish(step, reply);
        }
    }

    /// Events, then the snapshot, then the answer: whoever sees the
    /// snapshot change can already receive the events, and whoever gets the
    /// answer sees the new snapshot. The caller's own connection still
    /// writes its response before these events (protocol.md §4): a session
    /// reads events only after it has written the answer to the request it
    /// was handling.
    fn publish(&self, step: Step, reply: Option<oneshot::Sender<RpcResult>>) {
        let changed = !step.events.is_empty();
        for event in step.events {
            let text = event.to_frame();
            tracing::debug!(target: "roomshare::engine", "{text}");
            // No receivers is fine: nobody is listening.
            let _ = self.events.send(Arc::new(EventFrame { event, text }));
        }
        if changed {
            self.snapshot.send_replace(snapshot_of(&self.room));
        }
        if let (Some(reply), Some(result)) = (reply, step.result) {
            let _ = reply.send(result);
        }
        for (delay, d) in step.deferred {
            let weak = self.weak.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Some(tx) = weak.upgrade() {
                    let _ = tx.send(Msg::Deferred(d)).await;
                }
            });
        }
    }
}

/// A handle on a running engine. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Msg>,
    events: broadcast::Sender<Arc<EventFrame>>,
    snapshot: watch::Receiver<Arc<RoomSnapshot>>,
}

/// The engine's task has ended (runtime shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the share engine has stopped")]
pub struct EngineGone;

fn snapshot_of(room: &Room) -> Arc<RoomSnapshot> {
    Arc::new(RoomSnapshot {
        own_share: room.own_share().cloned(),
        sources: room.sources().to_vec(),
        generation: room.generation(),
        meeting_status: room.meeting_info().meeting_status,
        is_sharing: room.share_info().is_sharing,
        capture_retries: room.capture_retries(),
    })
}

impl EngineHandle {
    /// Start an engine on the current tokio runtime.
    pub fn spawn(config: RoomConfig) -> EngineHandle {
        let room = Room::new(config);
        let (tx, rx) = mpsc::channel::<Msg>(1024);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (snapshot_tx, snapshot) = watch::channel(snapshot_of(&room));
        let handle = EngineHandle {
            tx: tx.clone(),
            events: events.clone(),
            snapshot,
        };
        // The task holds only a weak sender for deferred work, so it ends
        // when every handle is dropped.
        let owner = Owner {
            room,
            events,
            snapshot: snapshot_tx,
            weak: tx.downgrade(),
        };
        tokio::spawn(owner.run(rx));
        handle
    }

    /// Apply one request; `RpcResult` is the `result` to answer with.
    pub async fn request(&self, req: Request) -> Result<RpcResult, EngineGone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Request(req, reply))
            .await
            .map_err(|_| EngineGone)?;
        rx.await.map_err(|_| EngineGone)
    }

    /// Publish a new source list (from the capture catalog).
    pub async fn set_sources(&self, sources: Vec<SourceInfo>) -> Result<(), EngineGone> {
        self.tx
            .send(Msg::SetSources(sources))
            .await
            .map_err(|_| EngineGone)
    }

    /// Publish whether capture works (from the capture catalog).
    pub async fn set_capture(&self, status: CaptureStatus) -> Result<(), EngineGone> {
        self.tx
            .send(Msg::SetCapture(status))
            .await
            .map_err(|_| EngineGone)
    }

    /// The share session reports that it could not go on.
    pub async fn share_failed(&self, source_id: &str, reason: &str) -> Result<(), EngineGone> {
        self.tx
            .send(Msg::ShareFailed {
                source_id: source_id.to_string(),
                reason: reason.to_string(),
            })
            .await
            .map_err(|_| EngineGone)
    }

    /// The share capture's measured rate and frame size.
    pub async fn share_stats(&self, source_id: &str, stats: ShareStats) -> Result<(), EngineGone> {
        self.tx
            .send(Msg::ShareStats {
                source_id: source_id.to_string(),
                stats,
            })
            .await
            .map_err(|_| EngineGone)
    }

    /// Every event the engine emits, unfiltered.
    pub fn events(&self) -> broadcast::Receiver<Arc<EventFrame>> {
        self.events.subscribe()
    }

    /// How many receivers of [`events`](Self::events) are open: one per
    /// session with a subscription, plus any other listener. Only the tests
    /// use it (tests/hostile.rs: a closed connection frees its receiver).
    pub fn event_receivers(&self) -> usize {
        self.events.receiver_count()
    }

    /// The latest snapshot, updated after every change.
    pub fn snapshot(&self) -> watch::Receiver<Arc<RoomSnapshot>> {
        self.snapshot.clone()
    }
}
