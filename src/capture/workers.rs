//! The three worker threads: catalog, thumbnailer, share session.

use super::thumb::{Downscaler, frame_hash};
use super::{
    BackendFactory, CaptureError, CaptureOptions, Frame, Rt, SharePreview, Stopper, Thumb,
    ThumbnailStore, TileState,
};
use crate::engine::EngineHandle;
use crate::engine::room::SHARE_STOPPED_SOURCE_GONE;
use crate::protocol::SourceInfo;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const LOG: &str = "roomshare::capture";

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
    pub preview: Arc<Mutex<Option<SharePreview>>>,
    pub catalog: Arc<Mutex<Vec<SourceInfo>>>,
}

impl Ctx {
    fn catalog(&self) -> Vec<SourceInfo> {
        self.catalog
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

pub(crate) fn spawn_all(ctx: &Ctx) -> Vec<JoinHandle<()>> {
    let mut threads = Vec::new();
    type Job = fn(Ctx);
    let jobs: [(&str, Job); 3] = [
        ("capture-catalog", catalog_loop),
        ("capture-thumbs", thumbnail_loop),
        ("capture-share", share_loop),
    ];
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
    threads
}

/// How a source list changed, by stable id.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SourceDiff {
    pub added: Vec<SourceInfo>,
    pub removed: Vec<SourceInfo>,
    /// (id, old title, new title)
    pub renamed: Vec<(String, String, String)>,
}

impl SourceDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.renamed.is_empty()
    }
}

/// Compare two lists by id (order and size changes are not reported).
pub fn diff_sources(before: &[SourceInfo], after: &[SourceInfo]) -> SourceDiff {
    let mut diff = SourceDiff::default();
    for a in after {
        match before.iter().find(|b| b.id == a.id) {
            None => diff.added.push(a.clone()),
            Some(b) if b.title != a.title => {
                diff.renamed
                    .push((a.id.clone(), b.title.clone(), a.title.clone()))
            }
            Some(_) => {}
        }
    }
    for b in before {
        if !after.iter().any(|a| a.id == b.id) {
            diff.removed.push(b.clone());
        }
    }
    diff
}

/// Duplicate ids would make the index mapping ambiguous: keep the first.
fn dedupe(list: Vec<SourceInfo>) -> Vec<SourceInfo> {
    let mut out: Vec<SourceInfo> = Vec::with_capacity(list.len());
    for s in list {
        if !out.iter().any(|o| o.id == s.id) {
            out.push(s);
        }
    }
    out
}

fn catalog_loop(ctx: Ctx) {
    let mut backend = (ctx.factory)();
    let mut prev: Option<Vec<SourceInfo>> = None;
    let mut last_error: Option<String> = None;
    loop {
        let started = Instant::now();
        match backend.list() {
            Ok(list) => {
                last_error = None;
                let list = dedupe(list);
                if prev.as_ref() != Some(&list) {
                    let diff = diff_sources(prev.as_deref().unwrap_or(&[]), &list);
                    for s in &diff.added {
                        tracing::info!(target: LOG, "source added: {} {:?} ({}, {}x{})", s.id, s.title, s.app, s.width, s.height);
                    }
                    for s in &diff.removed {
                        tracing::info!(target: LOG, "source removed: {} {:?}", s.id, s.title);
                    }
                    for (id, old, new) in &diff.renamed {
                        tracing::info!(target: LOG, "source renamed: {id} {old:?} -> {new:?}");
                    }
                    *ctx.catalog.lock().unwrap_or_else(|p| p.into_inner()) = list.clone();
                    let ids: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
                    ctx.thumbnails.retain_ids(&ids);
                    if let Some(Err(_)) = ctx.rt.block_on(ctx.engine.set_sources(list.clone())) {
                        tracing::debug!(target: LOG, "engine gone; catalog stops");
                        return;
                    }
                    prev = Some(list);
                    (ctx.on_change)();
                }
            }
            Err(e) => {
                let e = e.to_string();
                if last_error.as_ref() != Some(&e) {
                    tracing::warn!(target: LOG, "cannot list sources: {e}");
                    last_error = Some(e);
                }
            }
        }
        tracing::trace!(target: LOG, "catalog cycle {:?}", started.elapsed());
        if ctx.stopper.sleep(
            ctx.options
                .catalog_interval
                .saturating_sub(started.elapsed()),
        ) {
            return;
        }
    }
}

/// Set a tile to `Unavailable(reason)`; true if that changed what it shows.
fn set_unavailable(store: &ThumbnailStore, id: &str, reason: String) -> bool {
    if matches!(store.get(id), TileState::Unavailable(ref r) if *r == reason) {
        return false;
    }
    store.set(id, TileState::Unavailable(reason));
    true
}

fn thumbnail_loop(ctx: Ctx) {
    struct Last {
        hash: u64,
        thumb: Thumb,
    }
    let mut backend = (ctx.factory)();
    let mut scaler = Downscaler::new();
    let mut last: HashMap<String, Last> = HashMap::new();
    loop {
        let cycle = Instant::now();
        let list = ctx.catalog();
        last.retain(|id, _| list.iter().any(|s| &s.id == id));
        for s in &list {
            if ctx.stopper.is_stopped() {
                return;
            }
            let changed = match backend.capture(&s.id) {
                Ok(img) => {
                    let (w, h) = img.dimensions();
                    let hash = frame_hash(w, h, img.as_raw());
                    match last.get(&s.id) {
                        // Same picture: no re-scaling, and the tile keeps
                        // its seq (the UI does not re-upload).
                        Some(l) if l.hash == hash => {
                            if matches!(ctx.thumbnails.get(&s.id), TileState::Ready(_)) {
                                false
                            } else {
                                ctx.thumbnails.set(&s.id, TileState::Ready(l.thumb.clone()));
                                true
                            }
                        }
                        prev => {
                            let seq = prev.map_or(1, |l| l.thumb.seq + 1);
                            match scaler.downscale(w, h, img.as_raw(), ctx.options.thumbnail_size) {
                                Ok(frame) => {
                                    let thumb = Thumb {
                                        frame: Arc::new(frame),
                                        seq,
                                        captured_at: Instant::now(),
                                    };
                                    ctx.thumbnails.set(&s.id, TileState::Ready(thumb.clone()));
                                    last.insert(s.id.clone(), Last { hash, thumb });
                                    true
                                }
                                Err(e) => set_unavailable(&ctx.thumbnails, &s.id, e.to_string()),
                            }
                        }
                    }
                }
                Err(e) => set_unavailable(&ctx.thumbnails, &s.id, e.to_string()),
            };
            if changed {
                (ctx.on_change)();
            }
        }
        // Tiles of sources the catalog dropped while we were capturing.
        let current = ctx.catalog();
        let ids: Vec<&str> = current.iter().map(|s| s.id.as_str()).collect();
        if ctx.thumbnails.retain_ids(&ids) {
            (ctx.on_change)();
        }
        let wait = if list.is_empty() {
            // Nothing listed yet: look again soon.
            ctx.options
                .thumbnail_interval
                .min(Duration::from_millis(100))
        } else {
            ctx.options
                .thumbnail_interval
                .saturating_sub(cycle.elapsed())
        };
        if ctx.stopper.sleep(wait) {
            return;
        }
    }
}

/// Captures of one share, for the preview and the rate measurement.
struct Session {
    source_id: String,
    title: String,
    fluency_first: bool,
    /// When recent frames were captured (the last 2 s, at least two), for the
    /// measured rate.
    times: VecDeque<Instant>,
    failures: u32,
    first_failure: Option<Instant>,
    /// `share_failed` was sent; wait for the engine to stop the share.
    reported: bool,
}

/// Consecutive failed captures (over at least [`FAIL_SPAN`]) that end a share.
const FAIL_COUNT: u32 = 5;
const FAIL_SPAN: Duration = Duration::from_secs(2);
const IDLE_POLL: Duration = Duration::from_millis(100);

fn share_loop(ctx: Ctx) {
    let mut backend = (ctx.factory)();
    let mut scaler = Downscaler::new();
    let snapshot = ctx.engine.snapshot();
    let mut session: Option<Session> = None;
    // Global so the UI sees a new seq even when the shared source switches.
    let mut seq: u64 = 0;
    let set_preview = |p: Option<SharePreview>| {
        let mut slot = ctx.preview.lock().unwrap_or_else(|p| p.into_inner());
        let changed = slot.is_some() || p.is_some();
        *slot = p;
        changed
    };
    loop {
        let own = snapshot.borrow().own_share.clone();
        let Some(own) = own else {
            if session.take().is_some() && set_preview(None) {
                (ctx.on_change)();
            }
            if ctx.stopper.sleep(IDLE_POLL) {
                return;
            }
            continue;
        };
        let same = session
            .as_ref()
            .is_some_and(|s| s.source_id == own.source.id && s.fluency_first == own.fluency_first);
        if !same {
            tracing::info!(target: LOG, "share session: {} {:?} (fluency_first {})", own.source.id, own.source.title, own.fluency_first);
            session = Some(Session {
                source_id: own.source.id.clone(),
                title: own.source.title.clone(),
                fluency_first: own.fluency_first,
                times: VecDeque::new(),
                failures: 0,
                first_failure: None,
                reported: false,
            });
        }
        let Some(st) = session.as_mut() else { continue };
        if st.reported {
            if ctx.stopper.sleep(IDLE_POLL) {
                return;
            }
            continue;
        }
        let target_fps = if st.fluency_first {
            ctx.options.fluent_fps
        } else {
            ctx.options.sharp_fps
        };
        let period = Duration::from_secs_f32(1.0 / target_fps.clamp(0.1, 240.0));
        let t0 = Instant::now();
        let mut failure: Option<String> = None;
        match backend.capture(&st.source_id) {
            Ok(img) => {
                st.failures = 0;
                st.first_failure = None;
                let (w, h) = img.dimensions();
                // fluency_first: smooth rate at reduced resolution.
                let frame = if st.fluency_first && w > ctx.options.fluent_max_width {
                    scaler.downscale(w, h, img.as_raw(), (ctx.options.fluent_max_width, u32::MAX))
                } else {
                    Ok(Frame::from_image(img))
                };
                match frame {
                    Ok(frame) => {
                        let now = Instant::now();
                        st.times.push_back(now);
                        // A 2 s window, but never fewer than two frames, so
                        // a rate below 0.5 fps still reads as a rate.
                        while st.times.len() > 2
                            && st
                                .times
                                .front()
                                .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(2))
                        {
                            st.times.pop_front();
                        }
                        let fps = match (st.times.front(), st.times.len()) {
                            (Some(first), n) if n >= 2 => {
                                let span = now.duration_since(*first).as_secs_f32();
                                if span > 0.0 {
                                    (n - 1) as f32 / span
                                } else {
                                    0.0
                                }
                            }
                            _ => 0.0,
                        };
                        seq += 1;
                        set_preview(Some(SharePreview {
                            source_id: st.source_id.clone(),
                            frame: Arc::new(frame),
                            seq,
                            fps,
                        }));
                        (ctx.on_change)();
                    }
                    Err(e) => failure = Some(e.to_string()),
                }
            }
            Err(CaptureError::Gone(_)) => {
                let reason = format!("{SHARE_STOPPED_SOURCE_GONE}: {:?} was closed", st.title);
                report(&ctx, st, &reason);
            }
            Err(e) => failure = Some(e.to_string()),
        }
        if let Some(e) = failure {
            st.failures += 1;
            let first = *st.first_failure.get_or_insert(t0);
            tracing::debug!(target: LOG, "share capture of {} failed ({}x): {e}", st.source_id, st.failures);
            if st.failures >= FAIL_COUNT && first.elapsed() >= FAIL_SPAN {
                let reason = format!("capturing {:?} keeps failing: {e}", st.title);
                report(&ctx, st, &reason);
            }
        }
        if st.reported && set_preview(None) {
            (ctx.on_change)();
        }
        if ctx.stopper.sleep(period.saturating_sub(t0.elapsed())) {
            return;
        }
    }
}

fn report(ctx: &Ctx, st: &mut Session, reason: &str) {
    tracing::warn!(target: LOG, "share of {} ends: {reason}", st.source_id);
    st.reported = true;
    let _ = ctx
        .rt
        .block_on(ctx.engine.share_failed(&st.source_id, reason));
}
