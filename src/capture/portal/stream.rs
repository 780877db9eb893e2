//! The PipeWire side: one thread per portal session runs a PipeWire main
//! loop on the portal's fd, with one input stream per portal node. Each
//! stream copies its newest buffer into a [`Slot`] (a mutex'd latest frame);
//! capture callers read the slot from their own threads and never touch
//! PipeWire objects, which must stay on the loop's thread.
//!
//! A source is gone when its node leaves the registry (window closed,
//! monitor unplugged, session ended) or its stream stops; the slot then
//! answers [`CaptureError::Gone`] for good.

use super::LOG;
use super::error::PortalError;
use super::frame::{self, Chunk, Crop, FrameError, PackedRgb, PipewireFrame};
use super::{dmabuf, params};
use crate::capture::CaptureError;
use parking_lot::{Condvar, Mutex};
use pipewire as pw;
use pw::buffer::Buffer;
use pw::context::ContextRc;
use pw::core::{CoreRc, PW_ID_CORE};
use pw::main_loop::{MainLoopRc, MainLoopWeak};
use pw::registry::RegistryRc;
use pw::spa::buffer::meta::MetaVideoCrop;
use pw::spa::buffer::{ChunkFlags, Data, DataType};
use pw::spa::pod::Pod;
use pw::spa::utils::Direction;
use pw::stream::{Stream, StreamFlags, StreamListener, StreamRc, StreamState};
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why a stream stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    Gone,
    Failed(String),
}

/// The latest frame of one stream, handed from the PipeWire thread to the
/// capture callers.
#[derive(Default)]
pub(crate) struct Slot {
    inner: Mutex<SlotInner>,
    cv: Condvar,
}

#[derive(Default)]
struct SlotInner {
    frame: Option<PipewireFrame>,
    /// The negotiated size, before the first frame arrives.
    size: Option<(u32, u32)>,
    end: Option<End>,
    /// When the stream last delivered a frame (it pushes frames; a grab
    /// takes the newest, which may be old when the stream stopped).
    delivered: Option<Instant>,
}

impl Slot {
    /// Put `frame` in; `frame` gets the previous buffer back, so the
    /// stream reuses two buffers instead of allocating per frame.
    fn publish(&self, frame: &mut PipewireFrame) {
        let mut inner = self.inner.lock();
        inner.size = Some((frame.width, frame.height));
        inner.delivered = Some(Instant::now());
        match &mut inner.frame {
            Some(old) => std::mem::swap(old, frame),
            None => {
                inner.frame = Some(std::mem::replace(frame, PipewireFrame::empty(frame.format)))
            }
        }
        drop(inner);
        self.cv.notify_all();
    }

    fn set_size(&self, size: (u32, u32)) {
        self.inner.lock().size = Some(size);
    }

    /// Mark the stream ended (the first reason stays).
    pub(crate) fn end(&self, end: End) {
        let mut inner = self.inner.lock();
        if inner.end.is_none() {
            tracing::debug!(target: LOG, "screen sharing stream ended: {end:?}");
            inner.end = Some(end);
        }
        drop(inner);
        self.cv.notify_all();
    }

    pub(crate) fn is_live(&self) -> bool {
        self.inner.lock().end.is_none()
    }

    /// How long ago the stream delivered its newest frame.
    pub(crate) fn frame_age(&self) -> Option<Duration> {
        self.inner.lock().delivered.map(|at| at.elapsed())
    }

    /// The pixel size, once the stream knows it.
    pub(crate) fn size(&self) -> Option<(u32, u32)> {
        self.inner.lock().size
    }

    /// The newest frame, waiting up to `timeout` for the first one.
    pub(crate) fn latest(
        &self,
        source_id: &str,
        timeout: Duration,
    ) -> Result<PipewireFrame, CaptureError> {
        let mut inner = self.inner.lock();
        self.cv.wait_while_for(
            &mut inner,
            |i| i.frame.is_none() && i.end.is_none(),
            timeout,
        );
        match (&inner.end, &inner.frame) {
            (Some(End::Gone), _) => Err(CaptureError::Gone(source_id.to_string())),
            (Some(End::Failed(why)), _) => Err(CaptureError::Failed(why.clone())),
            (None, Some(frame)) => Ok(frame.clone()),
            (None, None) => Err(CaptureError::Failed(format!(
                "no picture from the screen sharing stream yet (waited {:.1} s)",
                timeout.as_secs_f32()
            ))),
        }
    }
}

/// The thread running the PipeWire loop; dropping it stops the streams.
pub(crate) struct PwThread {
    quit: pw::channel::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl PwThread {
    /// Connect on `fd` and open a stream per `(node, slot)`; returns once
    /// the streams are connecting (or why they could not be set up).
    pub(crate) fn spawn(
        fd: OwnedFd,
        nodes: Vec<(u32, Arc<Slot>)>,
    ) -> Result<PwThread, PortalError> {
        let (quit, quit_rx) = pw::channel::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("roomshare-pipewire".into())
            .spawn(move || run(fd, &nodes, quit_rx, ready_tx))
            .map_err(|e| PortalError::PipeWire(format!("cannot start its thread: {e}")))?;
        let pw_thread = PwThread {
            quit,
            thread: Some(thread),
        };
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(pw_thread),
            Ok(Err(why)) => Err(PortalError::PipeWire(why)),
            Err(_) => Err(PortalError::PipeWire(
                "its thread stopped while setting up".into(),
            )),
        }
    }
}

impl Drop for PwThread {
    fn drop(&mut self) {
        // Fails only when the loop already ended (connection lost).
        let _ = self.quit.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread's body: build everything, report, run until told to quit.
fn run(
    fd: OwnedFd,
    nodes: &[(u32, Arc<Slot>)],
    quit: pw::channel::Receiver<()>,
    ready: mpsc::Sender<Result<(), String>>,
) {
    let graph = match Graph::build(fd, nodes) {
        Ok(graph) => graph,
        Err(why) => {
            let _ = ready.send(Err(why));
            return;
        }
    };
    let mainloop = graph.mainloop.clone();
    let _quit = quit.attach(graph.mainloop.loop_(), move |()| mainloop.quit());
    let _ = ready.send(Ok(()));
    graph.mainloop.run();
    // Every stream ends with the loop; nothing will refresh the slots.
    for (_, slot) in nodes {
        slot.end(End::Gone);
    }
}

/// Everything living on the loop's thread. Fields drop in this order:
/// listeners before what they listen to, streams before the core.
struct Graph {
    _dmabuf: dmabuf::Check,
    _streams: Vec<(StreamListener<StreamData>, StreamRc)>,
    _registry_listener: pw::registry::Listener,
    _registry: RegistryRc,
    _core_listener: pw::core::Listener,
    _core: CoreRc,
    _context: ContextRc,
    mainloop: MainLoopRc,
}

fn pw_error(what: &str) -> impl Fn(pw::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

impl Graph {
    fn build(fd: OwnedFd, nodes: &[(u32, Arc<Slot>)]) -> Result<Graph, String> {
        pw::init();
        let mainloop = MainLoopRc::new(None).map_err(pw_error("no PipeWire main loop"))?;
        let context = ContextRc::new(&mainloop, None).map_err(pw_error("no PipeWire context"))?;
        let core = context
            .connect_fd_rc(fd, None)
            .map_err(pw_error("cannot connect to PipeWire on the portal's fd"))?;
        let slots: Vec<Arc<Slot>> = nodes.iter().map(|(_, s)| s.clone()).collect();
        let core_listener = watch_core(&core, mainloop.downgrade(), slots);
        let registry = core
            .get_registry_rc()
            .map_err(pw_error("no PipeWire registry"))?;
        let registry_listener = watch_removals(&registry, nodes);
        let dmabuf = dmabuf::check(&core, &registry, nodes);
        let streams = nodes
            .iter()
            .map(|(node, slot)| open_stream(&core, *node, slot.clone()))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Graph {
            _dmabuf: dmabuf,
            _streams: streams,
            _registry_listener: registry_listener,
            _registry: registry,
            _core_listener: core_listener,
            _core: core,
            _context: context,
            mainloop,
        })
    }
}

/// EPIPE on the core itself means the connection is lost (PipeWire or the
/// portal went away): every stream fails and the loop ends. Other core
/// errors are not fatal (e.g. "unknown resource" for a message that crossed
/// a stream's removal) and only logged.
fn watch_core(core: &CoreRc, mainloop: MainLoopWeak, slots: Vec<Arc<Slot>>) -> pw::core::Listener {
    core.add_listener_local()
        .error(move |id, _seq, res, message| {
            if id != PW_ID_CORE || res != -libc::EPIPE {
                tracing::debug!(target: LOG, "PipeWire error on object {id}: {message} ({res})");
                return;
            }
            let why = format!("the PipeWire connection was lost: {message} ({res})");
            for slot in &slots {
                slot.end(End::Failed(why.clone()));
            }
            if let Some(mainloop) = mainloop.upgrade() {
                mainloop.quit();
            }
        })
        .register()
}

/// A node leaving the registry is a source gone for good.
fn watch_removals(registry: &RegistryRc, nodes: &[(u32, Arc<Slot>)]) -> pw::registry::Listener {
    let by_node: HashMap<u32, Arc<Slot>> = nodes.iter().cloned().collect();
    registry
        .add_listener_local()
        .global_remove(move |id| {
            if let Some(slot) = by_node.get(&id) {
                slot.end(End::Gone);
            }
        })
        .register()
}

/// Per-stream state, owned by the loop's thread.
struct StreamData {
    slot: Arc<Slot>,
    format: Option<(PackedRgb, (u32, u32))>,
    /// The buffer the next frame is copied into (swapped with the slot's).
    spare: PipewireFrame,
    streamed: bool,
    warned: bool,
}

impl StreamData {
    fn new(slot: Arc<Slot>) -> StreamData {
        StreamData {
            slot,
            format: None,
            spare: PipewireFrame::empty(PackedRgb::Bgrx),
            streamed: false,
            warned: false,
        }
    }
}

fn open_stream(
    core: &CoreRc,
    node: u32,
    slot: Arc<Slot>,
) -> Result<(StreamListener<StreamData>, StreamRc), String> {
    let props = pw::properties::properties! {
        *pw::keys::MEDIA_TYPE => "Video",
        *pw::keys::MEDIA_CATEGORY => "Capture",
        *pw::keys::MEDIA_ROLE => "Screen",
        *pw::keys::APP_NAME => "roomshare",
        // Never move this stream to another source when its own goes away:
        // it would show another picture under this source's name.
        *pw::keys::NODE_DONT_RECONNECT => "true",
    };
    let stream = StreamRc::new(core.clone(), "roomshare-screencast", props)
        .map_err(pw_error("cannot create a PipeWire stream"))?;
    let listener = stream
        .add_local_listener_with_user_data(StreamData::new(slot))
        .state_changed(on_state)
        .param_changed(on_param)
        .process(on_process)
        .register()
        .map_err(pw_error("cannot listen to a PipeWire stream"))?;
    let format = params::enum_format()?;
    let flags = StreamFlags::AUTOCONNECT | StreamFlags::MAP_BUFFERS;
    stream
        .connect(
            Direction::Input,
            Some(node),
            flags,
            &mut [params::pod(&format)?],
        )
        .map_err(pw_error(&format!("cannot connect to PipeWire node {node}")))?;
    Ok((listener, stream))
}

fn on_state(_: &Stream, data: &mut StreamData, _old: StreamState, new: StreamState) {
    match new {
        StreamState::Streaming => data.streamed = true,
        // After frames flowed, an error is the producer going away.
        StreamState::Error(_) if data.streamed => data.slot.end(End::Gone),
        StreamState::Error(why) => data.slot.end(End::Failed(format!(
            "the screen sharing stream failed: {why}"
        ))),
        StreamState::Unconnected => data.slot.end(End::Gone),
        StreamState::Connecting | StreamState::Paused => {}
    }
}

fn on_param(stream: &Stream, data: &mut StreamData, id: u32, param: Option<&Pod>) {
    if id != pw::spa::param::ParamType::Format.as_raw() {
        return;
    }
    let Some(param) = param else {
        data.format = None;
        return;
    };
    match params::video_format(param) {
        Ok((format, size)) => {
            data.format = Some((format, size));
            data.slot.set_size(size);
            if let Err(why) = ask_for_shm(stream) {
                tracing::warn!(target: LOG, "{why}");
            }
        }
        Err(why) => data.slot.end(End::Failed(why)),
    }
}

fn ask_for_shm(stream: &Stream) -> Result<(), String> {
    let [buffers, crop] = params::buffers_and_crop()?;
    let mut update = [params::pod(&buffers)?, params::pod(&crop)?];
    stream
        .update_params(&mut update)
        .map_err(pw_error("cannot ask for mappable buffers"))
}

/// Copy the newest queued buffer into the slot; older ones go straight back.
fn on_process(stream: &Stream, data: &mut StreamData) {
    let mut newest = None;
    while let Some(buffer) = stream.dequeue_buffer() {
        newest = Some(buffer);
    }
    let (Some(mut buffer), Some((format, size))) = (newest, data.format) else {
        return;
    };
    let crop = video_crop(&buffer);
    let Some(plane) = buffer.datas_mut().first_mut() else {
        return;
    };
    match copy_plane(plane, format, size, crop, &mut data.spare) {
        Ok(()) => data.slot.publish(&mut data.spare),
        // An empty or flagged buffer means "nothing new": keep the last one.
        Err(Skip::Nothing) => {}
        Err(Skip::DmaBuf) => data.slot.end(End::Failed(dmabuf::ONLY_DMABUF.into())),
        Err(Skip::Bad(e)) if !data.warned => {
            data.warned = true;
            tracing::warn!(target: LOG, "skipping screen sharing frames: {e}");
        }
        Err(Skip::Bad(_)) => {}
    }
}

/// Why a buffer gave no frame.
enum Skip {
    Nothing,
    /// Only when a producer ignores the Buffers param: nothing to map.
    DmaBuf,
    Bad(FrameError),
}

fn copy_plane(
    plane: &mut Data,
    format: PackedRgb,
    size: (u32, u32),
    crop: Option<Crop>,
    into: &mut PipewireFrame,
) -> Result<(), Skip> {
    let kind = plane.type_();
    if kind == DataType::DmaBuf {
        return Err(Skip::DmaBuf);
    }
    let raw = plane.chunk();
    let chunk = Chunk {
        offset: raw.offset(),
        size: raw.size(),
        stride: raw.stride(),
    };
    let mappable = kind == DataType::MemPtr || kind == DataType::MemFd;
    if raw.flags().contains(ChunkFlags::CORRUPTED) || !mappable {
        return Err(Skip::Nothing);
    }
    let mem = plane.data().ok_or(Skip::Nothing)?;
    frame::copy_frame(mem, chunk, format, size, crop, into).map_err(|e| match e {
        FrameError::Empty => Skip::Nothing,
        e => Skip::Bad(e),
    })
}

/// The buffer's `VideoCrop` region, when the producer set a valid one.
fn video_crop(buffer: &Buffer<'_>) -> Option<Crop> {
    let region = buffer.find_meta::<MetaVideoCrop>()?.meta_region();
    if !region.is_valid() {
        return None;
    }
    let (pos, extent) = (region.position(), region.size());
    Some(Crop {
        x: u32::try_from(pos.x).ok()?,
        y: u32::try_from(pos.y).ok()?,
        width: extent.width,
        height: extent.height,
    })
}
