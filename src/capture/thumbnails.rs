//! The thumbnailer thread: capture each listed source about once per
//! `thumbnail_interval`, one at a time, and downscale only what changed.

use super::Backend;
use super::health::{HealthBoard, HealthOptions};
use super::scale::{Downscaler, masked_frame_hash};
use super::workers::Ctx;
use super::{CaptureError, share};
use crate::media::{Thumbnail, ThumbnailState};
use crate::protocol::SourceInfo;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The last picture of a source: its fingerprint and its thumbnail.
struct Last {
    hash: u64,
    thumbnail: Thumbnail,
}

pub(super) fn run(ctx: Ctx) {
    let mut backend = (ctx.factory)();
    let mut scaler = Downscaler::new();
    let mut last: HashMap<String, Last> = HashMap::new();
    let mut health = HealthBoard::new(
        HealthOptions::default(),
        ctx.options.thumbnail_interval,
        ctx.health.clone(),
    );
    loop {
        let cycle = Instant::now();
        let list = ctx.catalog();
        last.retain(|id, _| list.iter().any(|s| &s.id == id));
        let ids: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
        health.retain(&ids);
        for s in &list {
            if ctx.stopper.is_stopped() {
                return;
            }
            if thumbnail(
                &ctx,
                backend.as_mut(),
                &mut scaler,
                &mut last,
                &mut health,
                s,
            ) {
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

/// One source's thumbnail (and health); true if what its tile shows changed.
fn thumbnail(
    ctx: &Ctx,
    backend: &mut dyn Backend,
    scaler: &mut Downscaler,
    last: &mut HashMap<String, Last>,
    health: &mut HealthBoard,
    s: &SourceInfo,
) -> bool {
    // What cannot be captured now (a minimised window) is not tried: its
    // tile says why.
    if let Some(why) = &s.unavailable {
        return ctx.thumbnails.set_unavailable(&s.id, why.clone());
    }
    // Nothing drawn into it since its tile was made (and the tile is still
    // that picture): no capture at all.
    if last.contains_key(&s.id)
        && matches!(ctx.thumbnails.get(&s.id), ThumbnailState::Ready(_))
        && backend.unchanged(&s.id)
    {
        health.unchanged(&s.id, Instant::now());
        return false;
    }
    let grabbed = backend.capture(&s.id);
    // A capture device's input status (asked at most once a second).
    if let Some(input) = backend.device_input(&s.id) {
        health.signal(&s.id, input.signal, Instant::now());
    }
    match grabbed {
        Ok(img) => {
            match backend.frame_age(&s.id) {
                Some(age) => health.delivered(&s.id, delivered_at(age), &img),
                None => health.frame(&s.id, Instant::now(), &img),
            }
            let hash = fingerprint(backend, &s.id, &img);
            refresh(ctx, scaler, last, &s.id, img, hash)
        }
        Err(e) => {
            match e {
                CaptureError::Gone(_) => health.gone(&s.id, Instant::now()),
                CaptureError::Failed(_) => health.failed(&s.id, Instant::now()),
            }
            ctx.thumbnails.set_unavailable(&s.id, tile_reason(s, &e))
        }
    }
}

/// When a frame `age` old was delivered.
fn delivered_at(age: std::time::Duration) -> Instant {
    let now = Instant::now();
    now.checked_sub(age).unwrap_or(now)
}

/// The picture's fingerprint, the console's own windows left out.
fn fingerprint(backend: &mut dyn Backend, id: &str, img: &image::RgbaImage) -> u64 {
    let (w, h) = img.dimensions();
    let own = backend.own_regions(id, (w, h));
    masked_frame_hash(w, h, img.as_raw(), &own)
}

/// A failed grab in the tile's words: a source that vanished between the
/// catalog listing it and this grab says so in its own terms ("was
/// closed"), not as an internal id, until the next listing drops it.
fn tile_reason(source: &SourceInfo, error: &CaptureError) -> String {
    match error {
        CaptureError::Gone(_) => share::gone_words(source.kind, &source.title),
        other => other.to_string(),
    }
}

/// Store the tile for a fresh capture; true if what the tile shows changed.
fn refresh(
    ctx: &Ctx,
    scaler: &mut Downscaler,
    last: &mut HashMap<String, Last>,
    id: &str,
    img: image::RgbaImage,
    hash: u64,
) -> bool {
    let (w, h) = img.dimensions();
    match last.get(id) {
        // Same picture: no re-scaling, and the tile keeps its seq (the UI
        // does not re-upload).
        Some(l) if l.hash == hash => {
            if matches!(ctx.thumbnails.get(id), ThumbnailState::Ready(_)) {
                return false;
            }
            ctx.thumbnails
                .set(id, ThumbnailState::Ready(l.thumbnail.clone()));
            true
        }
        prev => {
            let seq = prev.map_or(1, |l| l.thumbnail.seq + 1);
            match scaler.downscale(w, h, img.as_raw(), ctx.options.thumbnail_size) {
                Ok(frame) => {
                    let thumbnail = Thumbnail {
                        frame: Arc::new(frame),
                        seq,
                        captured_at: Instant::now(),
                    };
                    ctx.thumbnails
                        .set(id, ThumbnailState::Ready(thumbnail.clone()));
                    last.insert(id.to_string(), Last { hash, thumbnail });
                    true
                }
                Err(e) => ctx.thumbnails.set_unavailable(id, e.to_string()),
            }
        }
    }
}
