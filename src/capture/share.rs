//! The share capture thread: while this engine shares one of its sources,
//! capture it continuously (fluency_first: smooth, at reduced resolution;
//! otherwise sharp, at a lower rate), publish the live [`SharePreview`]
//! with its measured rate, and tell the engine when the source is gone or
//! keeps failing.

use super::CaptureError;
use super::scale::Downscaler;
use super::workers::{Ctx, LOG};
use crate::engine::{OwnShare, SHARE_STOPPED_SOURCE_GONE, ShareStats};
use crate::media::{Frame, SharePreview};
use crate::protocol::SourceKind;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Consecutive failed captures (over at least [`FAIL_SPAN`]) that end a share.
const FAIL_COUNT: u32 = 5;
const FAIL_SPAN: Duration = Duration::from_secs(2);
/// How often to look for a share to start when there is none.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// How often at most the measured rate goes to the engine (each time it
/// changes, every subscriber gets a `ShareSessionChanged`).
const STATS_EVERY: Duration = Duration::from_secs(1);

/// The frame rate over the last 2 s (but never fewer than two frames, so
/// that a rate below 0.5 fps still reads as a rate).
#[derive(Default)]
struct RateMeter {
    times: VecDeque<Instant>,
}

impl RateMeter {
    fn frame_at(&mut self, now: Instant) -> f32 {
        self.times.push_back(now);
        while self.times.len() > 2
            && self
                .times
                .front()
                .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(2))
        {
            self.times.pop_front();
        }
        match (self.times.front(), self.times.len()) {
            (Some(first), n) if n >= 2 => {
                let span = now.duration_since(*first).as_secs_f32();
                if span > 0.0 {
                    (n - 1) as f32 / span
                } else {
                    0.0
                }
            }
            _ => 0.0,
        }
    }
}

/// Captures of one share.
struct ShareCapture {
    source_id: String,
    title: String,
    kind: SourceKind,
    fluency_first: bool,
    rate: RateMeter,
    /// What the engine was last told, and when.
    published: Option<(Instant, ShareStats)>,
    failures: u32,
    first_failure: Option<Instant>,
    /// The engine was told the share cannot go on; wait for it to stop.
    reported: bool,
}

impl ShareCapture {
    fn of(own: &OwnShare) -> ShareCapture {
        ShareCapture {
            source_id: own.source.id.clone(),
            title: own.source.title.clone(),
            kind: own.source.kind,
            fluency_first: own.fluency_first,
            rate: RateMeter::default(),
            published: None,
            failures: 0,
            first_failure: None,
            reported: false,
        }
    }

    fn is_for(&self, own: &OwnShare) -> bool {
        self.source_id == own.source.id && self.fluency_first == own.fluency_first
    }

    fn gone_reason(&self) -> String {
        gone_reason(self.kind, &self.title)
    }

    /// The stats to tell the engine now, if they changed enough (a tenth of
    /// the rate, or the size) and the last ones are old enough.
    fn stats_due(&mut self, fps: f32, frame: &Frame, now: Instant) -> Option<ShareStats> {
        let stats = ShareStats {
            fps: (f64::from(fps) * 10.0).round() / 10.0,
            width: frame.width,
            height: frame.height,
        };
        let due = match self.published {
            None => fps > 0.0,
            Some((at, last)) => {
                let moved = (stats.fps - last.fps).abs() >= (last.fps * 0.1).max(1.0);
                let resized = (stats.width, stats.height) != (last.width, last.height);
                now.duration_since(at) >= STATS_EVERY && (moved || resized)
            }
        };
        due.then(|| {
            self.published = Some((now, stats));
            stats
        })
    }

    /// Count a failed capture; the reason to end the share when failures
    /// have gone on for long enough.
    fn failed(&mut self, started: Instant, error: &str) -> Option<String> {
        self.failures += 1;
        let first = *self.first_failure.get_or_insert(started);
        tracing::debug!(target: LOG, "share capture of {} failed ({}x): {error}", self.source_id, self.failures);
        (self.failures >= FAIL_COUNT && first.elapsed() >= FAIL_SPAN)
            .then(|| format!("capturing {:?} keeps failing: {error}", self.title))
    }
}

/// Why a share ends when its source is gone, in the source's terms.
pub(super) fn gone_reason(kind: SourceKind, title: &str) -> String {
    format!("{SHARE_STOPPED_SOURCE_GONE}: {}", gone_words(kind, title))
}

/// What happened to a source that is gone, as a person would say it
/// (`"Notes" was closed`): a tile's reason, and the end of a share's.
pub(super) fn gone_words(kind: SourceKind, title: &str) -> String {
    let what = match kind {
        SourceKind::Window => "was closed",
        SourceKind::Monitor => "was disconnected",
        SourceKind::CaptureDevice => "was unplugged",
        SourceKind::Desktop => "is no longer available",
    };
    format!("{title:?} {what}")
}

/// The thread's state across shares.
struct ShareWorker {
    backend: Box<dyn super::Backend>,
    scaler: Downscaler,
    current: Option<ShareCapture>,
    /// Across shares, so the UI sees a new seq even when the source switches.
    seq: u64,
}

pub(super) fn run(ctx: Ctx) {
    let snapshot = ctx.engine.snapshot();
    let mut worker = ShareWorker {
        backend: (ctx.factory)(),
        scaler: Downscaler::new(),
        current: None,
        seq: 0,
    };
    loop {
        let own = snapshot.borrow().own_share.clone();
        let wait = match own {
            None => worker.idle(&ctx),
            Some(own) => worker.step(&ctx, &own),
        };
        if ctx.stopper.sleep(wait) {
            return;
        }
    }
}

impl ShareWorker {
    /// Nothing is shared: let go of the last source, drop the preview once.
    fn idle(&mut self, ctx: &Ctx) -> Duration {
        if let Some(previous) = self.current.take() {
            self.backend.release(&previous.source_id);
            if ctx.preview.set(None) {
                (ctx.on_change)();
            }
        }
        IDLE_POLL
    }

    /// A share started or switched: let go of the old source, hold the new.
    fn start(&mut self, ctx: &Ctx, own: &OwnShare) {
        tracing::info!(target: LOG, "share capture: {} {:?} (fluency_first {})", own.source.id, own.source.title, own.fluency_first);
        if let Some(previous) = self.current.take()
            && previous.source_id != own.source.id
        {
            self.backend.release(&previous.source_id);
        }
        self.current = Some(ShareCapture::of(own));
        if let Err(e) = self.backend.hold(&own.source.id) {
            let reason = match e {
                CaptureError::Gone(_) => ShareCapture::of(own).gone_reason(),
                other => format!("{:?} cannot be shared: {other}", own.source.title),
            };
            self.report(ctx, &reason);
        }
    }

    /// One capture of the shared source; returns how long to wait before
    /// the next one.
    fn step(&mut self, ctx: &Ctx, own: &OwnShare) -> Duration {
        if !self.current.as_ref().is_some_and(|c| c.is_for(own)) {
            self.start(ctx, own);
        }
        if self.current.as_ref().is_some_and(|c| c.reported) {
            return IDLE_POLL;
        }
        let started = Instant::now();
        let fluent = own.fluency_first;
        if let Err(reason) = self.capture(ctx, started) {
            self.report(ctx, &reason);
        }
        let fps = if fluent {
            ctx.options.fluent_fps
        } else {
            ctx.options.sharp_fps
        };
        let period = Duration::from_secs_f32(1.0 / fps.clamp(0.1, 240.0));
        period.saturating_sub(started.elapsed())
    }

    /// Capture and publish one frame. `Err` is the reason the share must end.
    fn capture(&mut self, ctx: &Ctx, started: Instant) -> Result<(), String> {
        let Some(share) = self.current.as_mut() else {
            return Ok(());
        };
        let frame = match self.backend.capture(&share.source_id) {
            Ok(img) => fit_for_share(&mut self.scaler, ctx, share.fluency_first, img),
            Err(CaptureError::Gone(_)) => return Err(share.gone_reason()),
            Err(e) => Err(e),
        };
        match frame {
            Ok(frame) => {
                share.failures = 0;
                share.first_failure = None;
                let now = Instant::now();
                let fps = share.rate.frame_at(now);
                if let Some(stats) = share.stats_due(fps, &frame, now) {
                    let _ = ctx
                        .rt
                        .block_on(ctx.engine.share_stats(&share.source_id, stats));
                }
                self.seq += 1;
                ctx.preview.set(Some(SharePreview {
                    source_id: share.source_id.clone(),
                    frame: Arc::new(frame),
                    seq: self.seq,
                    fps,
                }));
                (ctx.on_change)();
                Ok(())
            }
            Err(e) => match share.failed(started, &e.to_string()) {
                Some(reason) => Err(reason),
                None => Ok(()),
            },
        }
    }

    /// Tell the engine the share cannot go on, and drop the preview.
    fn report(&mut self, ctx: &Ctx, reason: &str) {
        let Some(share) = self.current.as_mut() else {
            return;
        };
        tracing::warn!(target: LOG, "share of {} ends: {reason}", share.source_id);
        share.reported = true;
        let _ = ctx
            .rt
            .block_on(ctx.engine.share_failed(&share.source_id, reason));
        if ctx.preview.set(None) {
            (ctx.on_change)();
        }
    }
}

/// fluency_first: a smooth rate at reduced resolution; otherwise full size.
fn fit_for_share(
    scaler: &mut Downscaler,
    ctx: &Ctx,
    fluency_first: bool,
    img: image::RgbaImage,
) -> Result<Frame, CaptureError> {
    let (w, h) = img.dimensions();
    let max_width = ctx.options.fluent_max_width;
    if fluency_first && w > max_width {
        scaler.downscale(w, h, img.as_raw(), (max_width, u32::MAX))
    } else {
        Ok(Frame::from_image(img))
    }
}
