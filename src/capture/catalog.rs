//! The catalog thread: re-read the source list, diff it by stable id, and
//! publish it to the engine when it changed.

use super::workers::{Ctx, LOG};
use super::{Backend, list_with_status, share};
use crate::protocol::{CaptureStatus, SourceInfo};
use std::time::Instant;

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

/// Each source with its health as the thumbnailer last measured it.
fn with_health(ctx: &Ctx, mut list: Vec<SourceInfo>) -> Vec<SourceInfo> {
    let health = ctx.health.lock();
    for s in &mut list {
        s.health = health.get(&s.id).copied();
    }
    list
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

fn log_diff(diff: &SourceDiff) {
    for s in &diff.added {
        tracing::info!(target: LOG, "source added: {} {:?} ({}, {}x{})", s.id, s.title, s.app, s.width, s.height);
    }
    for s in &diff.removed {
        tracing::info!(target: LOG, "source removed: {} {:?}", s.id, s.title);
    }
    for (id, old, new) in &diff.renamed {
        tracing::info!(target: LOG, "source renamed: {id} {old:?} -> {new:?}");
    }
}

/// What the catalog last told the engine.
#[derive(Default)]
struct Published {
    list: Option<Vec<SourceInfo>>,
    status: Option<CaptureStatus>,
    /// The engine's `RetryCapture` count already acted on.
    retries: u64,
}

pub(super) fn run(ctx: Ctx) {
    let mut backend = (ctx.factory)();
    // The engine starts out `ok`: only a change is news.
    let mut published = Published {
        retries: ctx.engine.snapshot().borrow().capture_retries,
        status: Some(CaptureStatus::ok()),
        ..Published::default()
    };
    loop {
        let started = Instant::now();
        retry_if_asked(&ctx, backend.as_mut(), &mut published);
        if !cycle(&ctx, backend.as_mut(), &mut published) {
            tracing::debug!(target: LOG, "engine gone; catalog stops");
            return;
        }
        tracing::trace!(target: LOG, "catalog cycle {:?}", started.elapsed());
        let wait = ctx
            .options
            .catalog_interval
            .saturating_sub(started.elapsed());
        if ctx.stopper.sleep(wait) {
            return;
        }
    }
}

/// A console asked the engine to try capture again (`RetryCapture`).
fn retry_if_asked(ctx: &Ctx, backend: &mut dyn Backend, published: &mut Published) {
    let retries = ctx.engine.snapshot().borrow().capture_retries;
    if retries != published.retries {
        published.retries = retries;
        backend.retry();
        // The engine showed "asking again": the next status is news.
        published.status = None;
    }
}

/// List once and publish what changed: the list, then where capture
/// stands. False when the engine is gone.
fn cycle(ctx: &Ctx, backend: &mut dyn Backend, published: &mut Published) -> bool {
    let (listed, status) = list_with_status(backend);
    match listed {
        Ok(list) => {
            let list = with_health(ctx, dedupe(list));
            if published.list.as_ref() != Some(&list) {
                log_diff(&diff_sources(
                    published.list.as_deref().unwrap_or(&[]),
                    &list,
                ));
                if !publish(ctx, &list) {
                    return false;
                }
                published.list = Some(list);
            }
        }
        Err(e) => tracing::debug!(target: LOG, "cannot list sources: {e}"),
    }
    if published.status.as_ref() != Some(&status) {
        match &status.reason {
            Some(reason) => tracing::warn!(target: LOG, "capture {:?}: {reason}", status.state),
            None => tracing::info!(target: LOG, "capture works"),
        }
        if let Some(Err(_)) = ctx.rt.block_on(ctx.engine.set_capture(status.clone())) {
            return false;
        }
        (ctx.on_change)();
        published.status = Some(status);
    }
    true
}

/// The catalog can see a shared source vanish before the share capture
/// does (a slow share rate, a device node gone before its stream says so):
/// end the share in the source's own terms ("was unplugged"), as the share
/// capture would, before the engine gets a list without it.
fn stop_share_of_vanished(ctx: &Ctx, list: &[SourceInfo]) {
    let own = ctx.engine.snapshot().borrow().own_share.clone();
    if let Some(own) = own
        && !list.iter().any(|s| s.id == own.source.id)
    {
        let reason = share::gone_reason(own.source.kind, &own.source.title);
        let _ = ctx
            .rt
            .block_on(ctx.engine.share_failed(&own.source.id, &reason));
    }
}

/// Hand a changed list to the thumbnailer and the engine; false when the
/// engine is gone.
fn publish(ctx: &Ctx, list: &[SourceInfo]) -> bool {
    stop_share_of_vanished(ctx, list);
    *ctx.catalog.lock() = list.to_vec();
    let ids: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
    ctx.thumbnails.retain_ids(&ids);
    if let Some(Err(_)) = ctx.rt.block_on(ctx.engine.set_sources(list.to_vec())) {
        return false;
    }
    (ctx.on_change)();
    true
}
