//! The engine's one owner: a tokio task holding the [`Room`]. Everyone else
//! talks to it through a cloneable [`EngineHandle`]; changes fan out to
//! sessions through a bounded broadcast of pre-serialised event frames.

use super::room::{Deferred, InspectJob, OwnShare, Room, RoomConfig, ShareStats, Step};
use crate::protocol::codes::{FAIL, REQUEST_TOO_FREQUENTLY};
use crate::protocol::{
    CaptureStatus, EventEnvelope, Request, RpcError, RpcResult, SourceInfo, unix_now,
};
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

/// The engine's answer to a request: its result now, or (an inspection)
/// where the result will come from when the work ends.
#[derive(Debug)]
pub enum Reply {
    Now(RpcResult),
    Later(oneshot::Receiver<RpcResult>),
}

/// An inspection for the capture layer to run: `reply` gets the request's
/// result (the report, or why not) when it ends.
#[derive(Debug)]
pub struct InspectRequest {
    pub job: InspectJob,
    pub reply: oneshot::Sender<RpcResult>,
}

/// How many accepted inspections may wait for the capture layer to pick
/// them up; beyond, a request is answered with error 10 at once.
const INSPECT_QUEUE: usize = 8;

enum Msg {
    Request(Request, oneshot::Sender<Reply>),
    /// Where inspections go from now on (the capture layer, once started).
    Inspector(mpsc::Sender<InspectRequest>),
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
    inspector: Option<mpsc::Sender<InspectRequest>>,
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
                Msg::Inspector(jobs) => {
                    self.inspector = Some(jobs);
                    continue;
                }
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
    fn publish(&self, mut step: Step, reply: Option<oneshot::Sender<Reply>>) {
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
        let answer = match step.inspect.take() {
            Some(job) => Some(self.hand_over(job)),
            None => step.result.map(Reply::Now),
        };
        if let (Some(reply), Some(answer)) = (reply, answer) {
            let _ = reply.send(answer);
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

impl Owner {
    /// Give an accepted inspection to the capture layer without waiting
    /// for it: the request is answered when the inspection ends. Refused
    /// at once when there is no capture layer or too many wait already.
    fn hand_over(&self, job: InspectJob) -> Reply {
        let refuse = |code, message: &str| {
            Reply::Now(RpcResult::err(
                Some("Inspect"),
                RpcError::new(code, message),
            ))
        };
        let Some(inspector) = &self.inspector else {
            return refuse(
                FAIL,
                "this engine has no capture layer (started with --no-capture): nothing to inspect",
            );
        };
        let (reply, later) = oneshot::channel();
        match inspector.try_send(InspectRequest { job, reply }) {
            Ok(()) => Reply::Later(later),
            Err(mpsc::error::TrySendError::Full(_)) => refuse(
                REQUEST_TOO_FREQUENTLY,
                "too many inspections are waiting; try again when one has ended",
            ),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                refuse(FAIL, "the engine's capture layer has stopped")
            }
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
            inspector: None,
        };
        tokio::spawn(owner.run(rx));
        handle
    }

    /// Apply one request; `RpcResult` is the `result` to answer with. An
    /// inspection is awaited to its end: see [`EngineHandle::submit`].
    pub async fn request(&self, req: Request) -> Result<RpcResult, EngineGone> {
        match self.submit(req).await? {
            Reply::Now(result) => Ok(result),
            Reply::Later(later) => later.await.map_err(|_| EngineGone),
        }
    }

    /// Apply one request; its result, or where it will come from (an
    /// inspection), so the caller can go on serving meanwhile.
    pub async fn submit(&self, req: Request) -> Result<Reply, EngineGone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Request(req, reply))
            .await
            .map_err(|_| EngineGone)?;
        rx.await.map_err(|_| EngineGone)
    }

    /// The capture layer runs the inspections from now on; it returns the
    /// queue to take them from. Called once, when capture starts (without
    /// it an `Inspect` is refused: nothing could run it).
    pub fn inspections(&self) -> mpsc::Receiver<InspectRequest> {
        let (jobs, queue) = mpsc::channel(INSPECT_QUEUE);
        // A full engine queue at start-up is not possible in practice;
        // should it happen, `Inspect` says there is no capture layer.
        if self.tx.try_send(Msg::Inspector(jobs)).is_err() {
            tracing::warn!(target: "roomshare::engine", "the engine did not take the inspection queue");
        }
        queue
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
