//! What the worker threads share, and how they are started.

use super::health::HealthMap;
use super::{BackendFactory, CaptureOptions, Rt, Stopper, catalog, inspect, share, thumbnails};
use crate::engine::{EngineHandle, InspectRequest};
use crate::media::{PreviewSlot, ThumbnailStore};
use crate::protocol::SourceInfo;
use parking_lot::Mutex;
use std::sync::Arc;
use std::thread::JoinHandle;

pub(super) const LOG: &str = "roomshare::capture";

/// Everything a worker needs; cloned into each thread.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub factory: BackendFactory,
    pub engine: EngineHandle,
    pub options: CaptureOptions,
    pub on_change: Arc<dyn Fn() + Send + Sync>,
    pub stopper: Arc<Stopper>,
    pub rt: Arc<Rt>,
    pub thumbnails: ThumbnailStore,
    pub preview: PreviewSlot,
    /// The catalog's latest list, for the thumbnailer.
    pub catalog: Arc<Mutex<Vec<SourceInfo>>>,
    /// Each source's health, measured by the thumbnailer, published with
    /// the list by the catalog.
    pub health: HealthMap,
}

impl Ctx {
    pub fn catalog(&self) -> Vec<SourceInfo> {
        self.catalog.lock().clone()
    }
}

pub(crate) fn spawn_all(
    ctx: &Ctx,
    inspections: tokio::sync::mpsc::Receiver<InspectRequest>,
) -> Vec<JoinHandle<()>> {
    type Job = fn(Ctx);
    let jobs: [(&str, Job); 3] = [
        ("capture-catalog", catalog::run),
        ("capture-thumbs", thumbnails::run),
        ("capture-share", share::run),
    ];
    let mut threads = Vec::new();
    for (name, job) in jobs {
        let ctx = ctx.clone();
        match std::thread::Builder::new()
            .name(name.into())
            .spawn(move || job(ctx))
        {
            Ok(t) => threads.push(t),
            Err(e) => tracing::error!(target: LOG, "cannot start {name}: {e}"),
        }
    }
    let inspector = ctx.clone();
    match std::thread::Builder::new()
        .name("capture-inspector".into())
        .spawn(move || inspect::run(inspector, inspections))
    {
        Ok(t) => threads.push(t),
        Err(e) => tracing::error!(target: LOG, "cannot start capture-inspector: {e}"),
    }
    threads
}
