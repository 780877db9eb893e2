//! A fake capture-device machine behind the `DeviceSystem` trait, for tests
//! that need devices where none can exist (no `/dev/video*`, no
//! v4l2loopback). It replays the frames of `tests/fixtures/v4l2/`
//! (synthesised in the shape UVC devices send, see that folder's README)
//! **at a device's pace** (30 fps unless told otherwise: a real stream
//! delivers one frame per frame interval, it does not hand out frames as
//! fast as they are asked for), and behaves like V4L2 where it matters:
//! one streaming owner per node (a second open is `Busy`), `Gone` from the
//! stream and from `open` once the node is unplugged, scripted failures,
//! and only video capture nodes listed (a UVC camera's metadata node is
//! skipped by its device caps, as the V4L2 code does).
#![allow(dead_code)]

use roomshare::capture::devices::node::caps;
use roomshare::capture::devices::{
    CaptureDevices, DeviceError, DeviceFrame, DeviceInfo, DevicePolicy, DeviceStream, DeviceSystem,
    DvTimings, FormatInfo, FourCc, FrameSizes, InputStatus, SignalStatus, StreamFormat,
    choose_format, dedupe_ids, is_video_capture_node, stable_device_id,
};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The eight bars of every fixture, left to right (see the generator).
pub const BARS: [[u8; 3]; 8] = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
    [0, 0, 0],
];

/// The bytes of `tests/fixtures/v4l2/<name>`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v4l2")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Why an RGBA picture of `width`×`height` does not show the bars (every
/// bar's centre within `tol` of its colour); None when it does.
pub fn bars_mismatch(width: u32, height: u32, rgba: &[u8], tol: u8) -> Option<String> {
    if rgba.len() != (width * height * 4) as usize {
        return Some(format!("{} bytes for {width}x{height}", rgba.len()));
    }
    for (i, want) in BARS.iter().enumerate() {
        let x = (2 * i as u32 + 1) * width / 16;
        for y in [height / 4, height / 2, 3 * height / 4] {
            let at = ((y * width + x) * 4) as usize;
            let got = &rgba[at..at + 4];
            let off = (0..3).any(|c| got[c].abs_diff(want[c]) > tol);
            if off || got[3] != 255 {
                return Some(format!(
                    "bar {i} at ({x},{y}): got {got:?}, want {want:?} ±{tol}"
                ));
            }
        }
    }
    None
}

pub fn discrete(width: u32, height: u32) -> FrameSizes {
    FrameSizes::Discrete { width, height }
}

pub fn format(code: &str, sizes: Vec<FrameSizes>) -> FormatInfo {
    FormatInfo {
        fourcc: FourCc::parse(code).expect("a fourcc"),
        description: code.to_string(),
        sizes,
    }
}

/// One step of a replayed stream.
#[derive(Clone, Debug)]
pub enum Step {
    Frame(Vec<u8>),
    Fail(DeviceError),
}

/// The driver's capabilities of a UVC camera: picture and metadata nodes.
pub const DRIVER_CAPS: u32 =
    caps::VIDEO_CAPTURE | caps::META_CAPTURE | caps::STREAMING | caps::DEVICE_CAPS;
/// The device caps of a video capture node.
pub const CAPTURE_NODE: u32 = caps::VIDEO_CAPTURE | caps::STREAMING;
/// The device caps of a metadata node.
pub const META_NODE: u32 = caps::META_CAPTURE | caps::STREAMING;

/// A device node of the fake machine.
#[derive(Clone, Debug)]
pub struct Node {
    pub path: String,
    pub card: String,
    pub bus_info: String,
    pub by_id: Option<String>,
    /// The driver's capabilities (`VIDIOC_QUERYCAP` `capabilities`).
    pub capabilities: u32,
    /// The node's own (`device_caps`): only video capture nodes are listed.
    pub device_caps: u32,
    pub formats: Vec<FormatInfo>,
    /// Replayed in order from the start at each open, then repeated.
    pub script: Vec<Step>,
    /// Frames per second the stream delivers.
    pub fps: f64,
    /// Another program streams from it.
    pub busy_elsewhere: bool,
    /// The device broke: every open and every read fails with this.
    pub broken: Option<DeviceError>,
    /// Left out of listings (and refused by `open`) while an open stream
    /// still delivers: how an unplug looks when the listing notices first.
    pub hidden: bool,
    /// What `VIDIOC_ENUMINPUT` would report for the current input (None:
    /// the driver does not say).
    pub signal: Option<SignalStatus>,
    /// What `VIDIOC_QUERY_DV_TIMINGS` would detect; a stream opens at
    /// this size when set (as an HDMI receiver does).
    pub timings: Option<DvTimings>,
    /// Bumped by each source change; open streams see it as
    /// `V4L2_EVENT_SOURCE_CHANGE`.
    pub source_changes: u32,
    /// The device stops delivering: reads time out until resumed.
    pub paused: bool,
    /// The script goes on across streams (a live picture), instead of
    /// starting again with each open.
    pub continuous: bool,
    /// Where a continuous script is.
    pub position: usize,
}

impl Node {
    /// The id the fake (like the V4L2 code) lists it under.
    pub fn device_id(&self) -> String {
        stable_device_id(self.by_id.as_deref(), &self.bus_info, &self.path)
    }

    /// Its source id in the capture layer.
    pub fn source_id(&self) -> String {
        format!("device:{}", self.device_id())
    }
}

/// A video capture node offering `formats` and replaying `script`, with
/// no by-id link (the bus info is its id), at 30 fps.
pub fn node(
    path: &str,
    card: &str,
    bus: &str,
    formats: Vec<FormatInfo>,
    script: Vec<Step>,
) -> Node {
    Node {
        path: path.into(),
        card: card.into(),
        bus_info: bus.into(),
        by_id: None,
        capabilities: DRIVER_CAPS,
        device_caps: CAPTURE_NODE,
        formats,
        script,
        fps: 30.0,
        busy_elsewhere: false,
        broken: None,
        hidden: false,
        signal: None,
        timings: None,
        source_changes: 0,
        paused: false,
        continuous: false,
        position: 0,
    }
}

/// A UVC camera named "HD Webcam" offering MJPEG 320×240 (and YUYV),
/// replaying the colour bars without Huffman tables, as UVC sends them.
pub fn webcam(path: &str, by_id: &str) -> Node {
    let formats = vec![
        format("YUYV", vec![discrete(160, 120)]),
        format("MJPG", vec![discrete(320, 240)]),
    ];
    Node {
        by_id: Some(by_id.into()),
        ..node(
            path,
            "HD Webcam",
            "usb-0000:00:14.0-3",
            formats,
            vec![Step::Frame(fixture("bars_320x240_nodht.mjpg"))],
        )
    }
}

/// A Logitech C920 on `bus`: MJPEG up to 1080p and YUYV, replaying the
/// MJPEG bars (320×240, without Huffman tables).
pub fn c920(path: &str, by_id: &str, bus: &str) -> Node {
    let formats = vec![
        format("YUYV", vec![discrete(640, 480), discrete(1920, 1080)]),
        format(
            "MJPG",
            vec![
                discrete(320, 240),
                discrete(1280, 720),
                discrete(1920, 1080),
            ],
        ),
    ];
    Node {
        by_id: Some(by_id.into()),
        ..node(
            path,
            "HD Pro Webcam C920",
            bus,
            formats,
            vec![Step::Frame(fixture("bars_320x240_nodht.mjpg"))],
        )
    }
}

/// The metadata node a C920 has next to its picture node: never listed.
pub fn c920_metadata(path: &str, by_id: &str, bus: &str) -> Node {
    Node {
        by_id: Some(by_id.into()),
        device_caps: META_NODE,
        ..node(path, "HD Pro Webcam C920", bus, vec![], vec![])
    }
}

/// An HDMI grabber offering YUYV 160×120 only (no by-id link: the bus
/// info is its id).
pub fn yuyv_grabber(path: &str, card: &str, bus: &str) -> Node {
    let formats = vec![format("YUYV", vec![discrete(160, 120)])];
    node(
        path,
        card,
        bus,
        formats,
        vec![Step::Frame(fixture("bars_160x120.yuyv"))],
    )
}

/// A device that offers only formats roomshare does not decode.
pub fn h264_only(path: &str, card: &str, bus: &str) -> Node {
    Node {
        formats: vec![
            format("H264", vec![discrete(1920, 1080)]),
            format("HEVC", vec![discrete(1920, 1080)]),
        ],
        script: vec![],
        ..yuyv_grabber(path, card, bus)
    }
}

#[derive(Default)]
pub struct World {
    pub nodes: Vec<Node>,
    /// Node paths with a stream open now (one owner each).
    pub streaming: Vec<String>,
    /// Successful opens, per node path, in order.
    pub opens: Vec<String>,
    /// Opens refused because the node was already streaming.
    pub busy_refusals: usize,
    /// `DeviceSystem::list` calls.
    pub listings: usize,
}

/// The machine: clones share one world.
#[derive(Clone, Default)]
pub struct FakeMachine(Arc<Mutex<World>>);

impl FakeMachine {
    pub fn new(nodes: Vec<Node>) -> FakeMachine {
        let m = FakeMachine::default();
        m.world().nodes = nodes;
        m
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn plug(&self, n: Node) {
        self.world().nodes.push(n);
    }

    pub fn unplug(&self, path: &str) {
        self.world().nodes.retain(|n| n.path != path);
    }

    /// Break a plugged node: opens and reads fail with `error` from now on.
    pub fn break_node(&self, path: &str, error: DeviceError) {
        for n in self.world().nodes.iter_mut().filter(|n| n.path == path) {
            n.broken = Some(error.clone());
        }
    }

    /// Take a node out of the listing, leaving an open stream running.
    pub fn hide_from_listing(&self, path: &str) {
        for n in self.world().nodes.iter_mut().filter(|n| n.path == path) {
            n.hidden = true;
        }
    }

    /// Successful opens of any node so far.
    fn edit(&self, path: &str, change: impl Fn(&mut Node)) {
        for n in self.world().nodes.iter_mut().filter(|n| n.path == path) {
            change(n);
        }
    }

    /// The input's status as `VIDIOC_ENUMINPUT` would report it.
    pub fn set_signal(&self, path: &str, signal: Option<SignalStatus>) {
        self.edit(path, |n| n.signal = signal);
    }

    /// The source on the input changes to `timings`, delivering `script`
    /// from now on: open streams get a source-change event.
    pub fn change_source(&self, path: &str, timings: DvTimings, script: Vec<Step>) {
        self.edit(path, |n| {
            n.timings = Some(timings);
            n.script = script.clone();
            n.position = 0;
            n.source_changes += 1;
        });
    }

    /// The device stops delivering frames (reads time out) until resumed.
    pub fn pause(&self, path: &str) {
        self.edit(path, |n| n.paused = true);
    }

    pub fn resume(&self, path: &str) {
        self.edit(path, |n| n.paused = false);
    }

    fn next_position(&self, path: &str) -> usize {
        let mut world = self.world();
        let node = world.nodes.iter_mut().find(|n| n.path == path);
        node.map_or(0, |n| {
            n.position += 1;
            n.position - 1
        })
    }

    pub fn opens(&self) -> usize {
        self.world().opens.len()
    }

    /// Successful opens of `path` so far.
    pub fn opens_of(&self, path: &str) -> usize {
        self.world().opens.iter().filter(|p| *p == path).count()
    }

    pub fn is_streaming(&self, path: &str) -> bool {
        self.world().streaming.iter().any(|p| p == path)
    }

    /// The system to hand to [`CaptureDevices`].
    pub fn system(&self) -> Box<dyn DeviceSystem> {
        Box::new(FakeSystem(self.clone()))
    }

    pub fn devices(&self) -> CaptureDevices {
        CaptureDevices::new(self.system())
    }

    pub fn devices_with(&self, policy: DevicePolicy) -> CaptureDevices {
        CaptureDevices::with_policy(self.system(), policy)
    }
}

/// Lists like the V4L2 code: capture nodes only, stable ids, made unique.
fn list_world(world: &World) -> Vec<(DeviceInfo, Node)> {
    let listed: Vec<&Node> = world
        .nodes
        .iter()
        .filter(|n| !n.hidden && is_video_capture_node(n.capabilities, n.device_caps))
        .collect();
    let mut infos: Vec<DeviceInfo> = listed
        .iter()
        .map(|n| DeviceInfo {
            device_id: n.device_id(),
            name: n.card.clone(),
            path: n.path.clone(),
            bus_info: n.bus_info.clone(),
            formats: n.formats.clone(),
        })
        .collect();
    dedupe_ids(&mut infos);
    infos.into_iter().zip(listed.into_iter().cloned()).collect()
}

struct FakeSystem(FakeMachine);

impl DeviceSystem for FakeSystem {
    fn list(&mut self) -> Result<Vec<DeviceInfo>, DeviceError> {
        let mut world = self.0.world();
        world.listings += 1;
        Ok(list_world(&world).into_iter().map(|(i, _)| i).collect())
    }

    fn open(&mut self, device_id: &str) -> Result<Box<dyn DeviceStream>, DeviceError> {
        let mut world = self.0.world();
        let (info, node) = list_world(&world)
            .into_iter()
            .find(|(i, _)| i.device_id == device_id)
            .ok_or(DeviceError::Gone)?;
        if let Some(e) = &node.broken {
            return Err(e.clone());
        }
        if node.busy_elsewhere {
            return Err(DeviceError::Busy);
        }
        if world.streaming.contains(&node.path) {
            world.busy_refusals += 1;
            return Err(DeviceError::Busy);
        }
        let mut choice = choose_format(&info.formats)?;
        if let Some(t) = node.timings {
            (choice.width, choice.height) = (t.width, t.height);
        }
        world.streaming.push(node.path.clone());
        world.opens.push(node.path.clone());
        let interval = Duration::from_secs_f64(1.0 / node.fps.max(1.0));
        Ok(Box::new(FakeStream {
            machine: self.0.clone(),
            path: node.path,
            format: StreamFormat {
                fourcc: choice.fourcc,
                width: choice.width,
                height: choice.height,
                stride: 0,
            },
            script: node.script,
            at: 0,
            interval,
            next_due: Instant::now() + interval,
            source_changes: node.source_changes,
        }))
    }

    fn input(&mut self, device_id: &str) -> Result<InputStatus, DeviceError> {
        let world = self.0.world();
        let (_, node) = list_world(&world)
            .into_iter()
            .find(|(i, _)| i.device_id == device_id)
            .ok_or(DeviceError::Gone)?;
        Ok(InputStatus {
            signal: node.signal,
            timings: node.timings,
        })
    }
}

/// How long a read of a paused device waits before it times out.
pub const PAUSED_TIMEOUT: Duration = Duration::from_millis(300);

struct FakeStream {
    machine: FakeMachine,
    path: String,
    format: StreamFormat,
    script: Vec<Step>,
    at: usize,
    interval: Duration,
    next_due: Instant,
    /// The node's source changes when this stream saw the last one.
    source_changes: u32,
}

impl FakeStream {
    /// What the node is now: None once unplugged.
    fn node(&self) -> Option<Node> {
        let world = self.machine.world();
        world.nodes.iter().find(|n| n.path == self.path).cloned()
    }
}

impl DeviceStream for FakeStream {
    fn format(&self) -> &StreamFormat {
        &self.format
    }

    fn next_frame(&mut self) -> Result<DeviceFrame, DeviceError> {
        // The next frame arrives one frame interval after the previous one.
        let now = Instant::now();
        if self.next_due > now {
            std::thread::sleep(self.next_due - now);
        }
        self.next_due = self.next_due.max(Instant::now() - self.interval) + self.interval;
        let node = self.node().ok_or(DeviceError::Gone)?; // ENODEV after an unplug
        if let Some(e) = node.broken {
            return Err(e);
        }
        if node.source_changes != self.source_changes {
            self.source_changes = node.source_changes;
            return Err(DeviceError::SourceChanged);
        }
        if node.paused {
            std::thread::sleep(PAUSED_TIMEOUT);
            return Err(DeviceError::Timeout);
        }
        if self.script.is_empty() {
            return Err(DeviceError::Timeout);
        }
        let at = if node.continuous {
            self.machine.next_position(&self.path)
        } else {
            self.at
        };
        let step = self.script[at % self.script.len()].clone();
        self.at += 1;
        match step {
            Step::Frame(data) => Ok(DeviceFrame {
                data,
                sequence: self.at as u32,
            }),
            Step::Fail(e) => Err(e),
        }
    }
}

impl Drop for FakeStream {
    fn drop(&mut self) {
        let mut world = self.machine.world();
        if let Some(i) = world.streaming.iter().position(|p| *p == self.path) {
            world.streaming.remove(i);
        }
    }
}
