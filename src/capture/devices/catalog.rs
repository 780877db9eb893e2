//! [`CaptureDevices`]: a [`DeviceSystem`] as the capture layer uses it.
//!
//! Streams are **not** kept open for thumbnails. [`CaptureDevices::capture`]
//! opens the device, grabs one picture and closes it again, because a V4L2
//! device has one streaming owner at a time: a stream we kept open for a
//! tile would make the device "busy" for everyone else — Rooms itself when
//! it is told to share that device (`share_type` 1), or the room's video
//! call if the device is its camera. The cost is ~0.1–1 s per grab (open,
//! start, first frame), paid by the thumbnailer thread only.
//!
//! The share session, which reads continuously, calls
//! [`CaptureDevices::hold`]: the stream then stays open until
//! [`CaptureDevices::release`] (or the device vanishes), every capture of
//! that device reads from it, and a thumbnail of a held device reuses its
//! latest picture instead of opening the device a second time (which would
//! fail as busy). Clones share one state, so the thumbnailer's and the
//! share session's copies see each other's held streams. Opening a stream
//! — for one grab or for a hold — is serialised per device, so a share
//! that starts while the thumbnailer grabs that device waits for the grab
//! instead of failing as "in use by another program".

use super::{
    DeviceError, DeviceInfo, DeviceStream, DeviceSystem, DvTimings, FourCc, InputStatus,
    SignalStatus, choose_format, decode_frame,
};
use crate::protocol::{SourceInfo, SourceKind};
use image::RgbaImage;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Source ids of capture devices are this prefix and the device id.
pub const DEVICE_ID_PREFIX: &str = "device:";

/// A device's input is asked about at most this often.
const INPUT_POLL: Duration = Duration::from_secs(1);

/// What a capture device says about its input, and what its frames did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeviceInput {
    /// The current input's status (`VIDIOC_ENUMINPUT`), when it says.
    pub signal: Option<SignalStatus>,
    /// The detected timings (`VIDIOC_QUERY_DV_TIMINGS`), where supported.
    pub timings: Option<DvTimings>,
    /// Frames that did not decode (skipped: the stream goes on), so far.
    pub corrupt_frames: u64,
    /// The pixel format its last opened stream runs at (`MJPG`, `YUYV`).
    pub pixel_format: Option<FourCc>,
}

/// Tuning of [`CaptureDevices`].
#[derive(Debug, Clone)]
pub struct DevicePolicy {
    /// Frames dropped after opening a stream for one grab: many cameras
    /// send dark (exposure not settled) or torn first frames.
    pub warmup_frames: u32,
    /// Undecodable frames one capture skips before it reports
    /// [`DeviceError::Corrupt`].
    pub corrupt_retries: u32,
    /// A held stream's latest picture younger than this is reused for a
    /// thumbnail rather than waiting for the next frame.
    pub reuse_held_frame: Duration,
}

impl Default for DevicePolicy {
    fn default() -> Self {
        DevicePolicy {
            warmup_frames: 2,
            corrupt_retries: 2,
            reuse_held_frame: Duration::from_millis(500),
        }
    }
}

/// A held (kept-open) stream and its latest picture.
#[derive(Default)]
struct Held {
    stream: Option<Box<dyn DeviceStream>>,
    latest: Option<(Instant, RgbaImage)>,
    /// Who holds it (the share, an inspection): closed when the last
    /// one releases it.
    holders: u32,
}

type HeldSlot = Arc<Mutex<Held>>;

#[derive(Default)]
struct State {
    devices: Vec<DeviceInfo>,
    /// The last capture's failure, by device id (cleared by a success).
    failures: HashMap<String, DeviceError>,
    held: HashMap<String, HeldSlot>,
    /// Per device, held by whoever is opening a stream of it (and, for a
    /// one-shot grab, until that stream is closed again).
    openers: HashMap<String, Arc<Mutex<()>>>,
    /// The input's status as last asked, and when.
    inputs: HashMap<String, (Instant, InputStatus)>,
    /// Frames that did not decode, per device.
    corrupt: HashMap<String, u64>,
    /// The size the last opened stream runs at (after a source change, the
    /// new one): listed instead of the format choice's.
    sizes: HashMap<String, (u32, u32)>,
    /// The pixel format the last opened stream runs at.
    pixel_formats: HashMap<String, FourCc>,
}

struct Inner {
    system: Mutex<Box<dyn DeviceSystem>>,
    state: Mutex<State>,
    policy: DevicePolicy,
}

/// Capture devices for the source catalog, the thumbnailer and the share
/// session. Cheap to clone; clones share the devices and their streams.
///
/// Locks: `state` is never held while waiting for a frame or taking another
/// lock; they are taken in the order held slot → opener → `system` /
/// `state`, never the other way, so they cannot deadlock.
#[derive(Clone)]
pub struct CaptureDevices {
    inner: Arc<Inner>,
}

impl CaptureDevices {
    pub fn new(system: Box<dyn DeviceSystem>) -> CaptureDevices {
        CaptureDevices::with_policy(system, DevicePolicy::default())
    }

    pub fn with_policy(system: Box<dyn DeviceSystem>, policy: DevicePolicy) -> CaptureDevices {
        CaptureDevices {
            inner: Arc::new(Inner {
                system: Mutex::new(system),
                state: Mutex::new(State::default()),
                policy,
            }),
        }
    }

    /// This platform's devices (V4L2 on Linux); None where roomshare has no
    /// capture-device support.
    pub fn platform() -> Option<CaptureDevices> {
        #[cfg(target_os = "linux")]
        {
            Some(CaptureDevices::new(
                Box::new(super::v4l2::V4l2System::new()),
            ))
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// The devices present now, as sources. Re-reads the system on every
    /// call, so a catalog calling it once a second sees a device within a
    /// second of it appearing or vanishing. A device that is busy or offers
    /// no usable format is still listed (size 0×0 for the latter);
    /// [`CaptureDevices::status`] says why its tile has no picture.
    pub fn list(&self) -> Result<Vec<SourceInfo>, DeviceError> {
        let devices = self.inner.system.lock().list()?;
        let present = |id: &String| devices.iter().any(|d| &d.device_id == id);
        let mut state = self.inner.state.lock();
        let sources = devices
            .iter()
            .map(|d| source_info(d, state.sizes.get(&d.device_id).copied()))
            .collect();
        // Vanished devices: forget their failures and their held streams
        // (closed after the lock is released: stopping a stream is ioctls).
        state.failures.retain(|id, _| present(id));
        state.openers.retain(|id, _| present(id));
        state.inputs.retain(|id, _| present(id));
        state.corrupt.retain(|id, _| present(id));
        state.sizes.retain(|id, _| present(id));
        let gone: Vec<String> = state
            .held
            .keys()
            .filter(|id| !present(id))
            .cloned()
            .collect();
        let closed: Vec<HeldSlot> = gone.iter().filter_map(|id| state.held.remove(id)).collect();
        state.devices = devices;
        drop(state);
        drop(closed);
        Ok(sources)
    }

    /// The devices of the last [`CaptureDevices::list`], with their formats.
    pub fn devices(&self) -> Vec<DeviceInfo> {
        self.inner.state.lock().devices.clone()
    }

    /// Why a listed device's tile has no picture ("in use by another
    /// program", "no supported video format (offers H264…)", …); None when
    /// it is fine or not listed.
    pub fn status(&self, device_id: &str) -> Option<String> {
        let state = self.inner.state.lock();
        let device = state.devices.iter().find(|d| d.device_id == device_id)?;
        if let Err(e) = choose_format(&device.formats) {
            return Some(e.to_string());
        }
        state.failures.get(device_id).map(|e| e.to_string())
    }

    /// What `device_id`'s input reports (the system is asked at most once
    /// a second per device; in between the last answer is kept) and how
    /// many of its frames did not decode so far.
    pub fn input(&self, device_id: &str) -> DeviceInput {
        let cached = self.inner.state.lock().inputs.get(device_id).copied();
        let status = match cached {
            Some((at, status)) if at.elapsed() < INPUT_POLL => status,
            _ => {
                let status = self
                    .inner
                    .system
                    .lock()
                    .input(device_id)
                    .unwrap_or_default();
                let mut state = self.inner.state.lock();
                state
                    .inputs
                    .insert(device_id.to_string(), (Instant::now(), status));
                status
            }
        };
        DeviceInput {
            signal: status.signal,
            timings: status.timings,
            corrupt_frames: self.corrupt_frames(device_id),
            pixel_format: self
                .inner
                .state
                .lock()
                .pixel_formats
                .get(device_id)
                .copied(),
        }
    }

    /// Frames of `device_id` that did not decode so far.
    pub fn corrupt_frames(&self, device_id: &str) -> u64 {
        let state = self.inner.state.lock();
        state.corrupt.get(device_id).copied().unwrap_or(0)
    }

    /// One decoded picture of source `source_id` (`device:<device_id>`):
    /// from the held stream if the device is held (its latest picture if
    /// recent enough), else open, grab, close.
    pub fn capture(&self, source_id: &str) -> Result<RgbaImage, DeviceError> {
        self.capture_with(source_id, true)
    }

    /// Like [`CaptureDevices::capture`], but a held stream's *next* frame,
    /// never a reused one: for the share session reading the device it
    /// holds (a reused picture would be shown and counted as a new frame).
    pub fn capture_next(&self, source_id: &str) -> Result<RgbaImage, DeviceError> {
        self.capture_with(source_id, false)
    }

    fn capture_with(&self, source_id: &str, reuse: bool) -> Result<RgbaImage, DeviceError> {
        let device_id = source_id
            .strip_prefix(DEVICE_ID_PREFIX)
            .ok_or(DeviceError::Gone)?;
        let held = self.inner.state.lock().held.get(device_id).cloned();
        let result = match held {
            Some(slot) => self.capture_held(device_id, &slot, reuse),
            None => self.capture_unheld(device_id),
        };
        self.record(device_id, &result);
        result
    }

    /// Keep `device_id`'s stream open (the share session): until
    /// [`CaptureDevices::release`], captures read from it. Opens it now so
    /// that "busy" is known at once.
    pub fn hold(&self, device_id: &str) -> Result<(), DeviceError> {
        let slot = self
            .inner
            .state
            .lock()
            .held
            .entry(device_id.to_string())
            .or_default()
            .clone();
        let mut held = slot.lock();
        if held.stream.is_some() {
            held.holders += 1;
            return Ok(());
        }
        // Waits for a one-shot grab of this device to finish and close.
        let opener = self.opener(device_id);
        let opened = {
            let _opening = opener.lock();
            self.open_stream(device_id)
        };
        self.record(device_id, &opened);
        match opened {
            Ok(stream) => {
                held.stream = Some(stream);
                held.holders += 1;
                Ok(())
            }
            Err(e) => {
                // Not held after all (unless by another holder): captures
                // go back to open-grab-close.
                if held.holders == 0 {
                    self.inner.state.lock().held.remove(device_id);
                }
                Err(e)
            }
        }
    }

    /// One holder is done (the share stopped, an inspection ended): the
    /// stream closes when it was the last. A no-op when not held.
    pub fn release(&self, device_id: &str) {
        let Some(slot) = self.inner.state.lock().held.get(device_id).cloned() else {
            return;
        };
        let mut held = slot.lock();
        held.holders = held.holders.saturating_sub(1);
        if held.holders > 0 {
            return;
        }
        self.inner.state.lock().held.remove(device_id);
        // Closed outside the locks: stopping a stream makes ioctls.
        let stream = held.stream.take();
        drop(held);
        drop(stream);
    }

    /// True while `device_id` is held (by the share, or an inspection).
    pub fn is_held(&self, device_id: &str) -> bool {
        self.inner.state.lock().held.contains_key(device_id)
    }

    /// The lock whoever opens a stream of `device_id` holds.
    fn opener(&self, device_id: &str) -> Arc<Mutex<()>> {
        let mut state = self.inner.state.lock();
        state
            .openers
            .entry(device_id.to_string())
            .or_default()
            .clone()
    }

    /// A device not held when asked: one grab, unless a share took the
    /// device while we waited for the opener (then its stream is read).
    fn capture_unheld(&self, device_id: &str) -> Result<RgbaImage, DeviceError> {
        let opener = self.opener(device_id);
        let opening = opener.lock();
        let held = self.inner.state.lock().held.get(device_id).cloned();
        match held {
            Some(slot) => {
                drop(opening);
                self.capture_held(device_id, &slot, true)
            }
            // The opener stays locked until the one-shot stream is closed.
            None => self.capture_once(device_id),
        }
    }

    fn capture_once(&self, device_id: &str) -> Result<RgbaImage, DeviceError> {
        let mut stream = self.open_stream(device_id)?;
        let policy = &self.inner.policy;
        for _ in 0..policy.warmup_frames {
            match stream.next_frame() {
                // Opened just before the change: open again at the new size.
                Err(DeviceError::SourceChanged) => {
                    drop(stream);
                    stream = self.open_stream(device_id)?;
                }
                other => {
                    other?;
                }
            }
        }
        self.grab(device_id, &mut stream)
    }

    /// Open a stream of `device_id` (the caller holds its opener) and note
    /// the size it runs at.
    fn open_stream(&self, device_id: &str) -> Result<Box<dyn DeviceStream>, DeviceError> {
        let stream = self.inner.system.lock().open(device_id)?;
        let format = stream.format();
        let size = (format.width, format.height);
        let mut state = self.inner.state.lock();
        state
            .pixel_formats
            .insert(device_id.to_string(), format.fourcc);
        if state.sizes.insert(device_id.to_string(), size) != Some(size) {
            tracing::info!(target: "roomshare::capture", "device {device_id} streams at {}x{}", size.0, size.1);
        }
        Ok(stream)
    }

    /// The next decodable frame, skipping up to the policy's retries of
    /// corrupt ones (each counted); a source change reopens the stream at
    /// the new size (renegotiation) and goes on.
    fn grab(
        &self,
        device_id: &str,
        stream: &mut Box<dyn DeviceStream>,
    ) -> Result<RgbaImage, DeviceError> {
        let mut last = DeviceError::Timeout;
        let mut renegotiated = false;
        let mut tries = 0;
        while tries <= self.inner.policy.corrupt_retries {
            let raw = match stream.next_frame() {
                Err(DeviceError::SourceChanged) if !renegotiated => {
                    tracing::info!(target: "roomshare::capture", "device {device_id}: the input changed, renegotiating");
                    renegotiated = true;
                    // The old stream must be closed before the device opens again.
                    *stream = Box::new(Closed);
                    *stream = self.open_stream(device_id)?;
                    continue;
                }
                other => other?,
            };
            tries += 1;
            match decode_frame(stream.format(), &raw.data) {
                Err(e @ DeviceError::Corrupt(_)) => {
                    *self
                        .inner
                        .state
                        .lock()
                        .corrupt
                        .entry(device_id.to_string())
                        .or_default() += 1;
                    last = e;
                }
                other => return other,
            }
        }
        Err(last)
    }

    fn capture_held(
        &self,
        device_id: &str,
        slot: &HeldSlot,
        reuse: bool,
    ) -> Result<RgbaImage, DeviceError> {
        let mut held = slot.lock();
        if let Some((at, img)) = &held.latest
            && reuse
            && at.elapsed() < self.inner.policy.reuse_held_frame
        {
            return Ok(img.clone());
        }
        let mut stream = match held.stream.take() {
            Some(s) => s,
            // The last read failed (and closed it): the device may be back.
            None => {
                let opener = self.opener(device_id);
                let _opening = opener.lock();
                self.open_stream(device_id)?
            }
        };
        let result = self.grab(device_id, &mut stream);
        match &result {
            Ok(img) => held.latest = Some((Instant::now(), img.clone())),
            // A bad frame leaves the stream usable; anything else reopens.
            Err(DeviceError::Corrupt(_)) => held.latest = None,
            Err(_) => {
                held.latest = None;
                return result;
            }
        }
        held.stream = Some(stream);
        result
    }

    fn record<T>(&self, device_id: &str, result: &Result<T, DeviceError>) {
        let mut state = self.inner.state.lock();
        match result {
            Ok(_) => state.failures.remove(device_id),
            Err(e) => state.failures.insert(device_id.to_string(), e.clone()),
        };
    }
}

/// A stream already closed, in the place of one being reopened.
struct Closed;

impl DeviceStream for Closed {
    fn format(&self) -> &super::StreamFormat {
        &CLOSED_FORMAT
    }

    fn next_frame(&mut self) -> Result<super::DeviceFrame, DeviceError> {
        Err(DeviceError::Gone)
    }
}

const CLOSED_FORMAT: super::StreamFormat = super::StreamFormat {
    fourcc: super::FourCc([0; 4]),
    width: 0,
    height: 0,
    stride: 0,
};

/// A listed device as the engine publishes it: at the size its stream
/// runs at when one was opened, else at the format choice's.
fn source_info(device: &DeviceInfo, streamed: Option<(u32, u32)>) -> SourceInfo {
    let chosen = match choose_format(&device.formats) {
        Ok(choice) => Some((choice.width, choice.height)),
        Err(_) => None,
    };
    let (width, height) = chosen.and(streamed).or(chosen).unwrap_or((0, 0));
    SourceInfo {
        id: format!("{DEVICE_ID_PREFIX}{}", device.device_id),
        kind: SourceKind::CaptureDevice,
        select_index: None,
        device_id: Some(device.device_id.clone()),
        title: device.name.clone(),
        app: "capture device".to_string(),
        width,
        height,
        unavailable: None,
        health: None,
    }
}
