//! Capture devices: video hardware (HDMI grabbers, USB cameras) that Rooms
//! shares with `share_type` 1 and a `device_id`.
//!
//! The layer is split so that everything but the kernel calls is
//! platform-neutral and testable without a device:
//! - [`DeviceSystem`] / [`DeviceStream`]: the two traits a platform
//!   implements (V4L2 on Linux: [`v4l2`]; tests use a fake that replays
//!   recorded frames);
//! - [`format`](mod@format): fourcc codes, offered sizes and the format choice rule;
//! - [`decode`]: raw frames (MJPEG, YUYV) to RGBA;
//! - [`CaptureDevices`]: what the capture layer needs — a source list,
//!   per-device status for the tiles, one decoded picture per call.

mod catalog;
pub mod decode;
pub mod format;
mod mjpeg;
pub mod node;
#[cfg(target_os = "linux")]
pub mod v4l2;

pub use crate::protocol::inspect::SignalStatus;
pub use catalog::{CaptureDevices, DEVICE_ID_PREFIX, DeviceInput, DevicePolicy};
pub use decode::decode_frame;
pub use format::{FormatChoice, FormatInfo, FourCc, FrameSizes, StreamFormat, choose_format};
pub use mjpeg::with_default_huffman_tables;
pub use node::{dedupe_ids, is_video_capture_node, stable_device_id};

/// One video-capture device as the platform lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Stable across reboots and plugging order: the `/dev/v4l/by-id/…`
    /// link name when udev made one, else the bus info
    /// (`usb-0000:00:14.0-3`), else the node path.
    pub device_id: String,
    /// The product name the driver reports ("HD Pro Webcam C920").
    pub name: String,
    /// The device node (`/dev/video0`); changes with plugging order.
    pub path: String,
    /// Where it is attached, as the driver reports it.
    pub bus_info: String,
    /// Every pixel format the device offers, with its frame sizes.
    pub formats: Vec<FormatInfo>,
}

/// One undecoded frame as the device delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFrame {
    /// Exactly the bytes the device filled (not the whole buffer).
    pub data: Vec<u8>,
    /// The driver's frame counter (gaps mean dropped frames).
    pub sequence: u32,
}

/// Why a device cannot be listed, opened or read. The messages are what a
/// source tile shows, so they say what happened in a user's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// EBUSY: another program streams from it (a V4L2 device has one
    /// streaming owner at a time).
    #[error("in use by another program")]
    Busy,
    /// Offers nothing roomshare decodes (MJPEG or YUYV).
    #[error("no supported video format (offers {}; roomshare reads MJPEG or YUYV)", offered_list(.offered))]
    NoSupportedFormat { offered: Vec<String> },
    /// ENODEV / ENOENT: unplugged, or never there.
    #[error("unplugged")]
    Gone,
    /// A frame that does not decode; the stream itself may still be fine.
    #[error("bad frame: {0}")]
    Corrupt(String),
    /// Any other failure of the device or the system.
    #[error("device error: {0}")]
    Io(String),
    /// No frame within the stream's timeout (a grabber without an input
    /// signal often just stops sending).
    #[error("no picture (no input signal?)")]
    Timeout,
    /// The input changed (`V4L2_EVENT_SOURCE_CHANGE`: a new resolution on
    /// an HDMI grabber): the stream must be opened again at the new size.
    #[error("the input changed; renegotiating")]
    SourceChanged,
}

fn offered_list(offered: &[String]) -> String {
    if offered.is_empty() {
        "no formats".to_string()
    } else {
        offered.join(", ")
    }
}

impl DeviceError {
    /// The capture layer's error for source `source_id`: "unplugged" becomes
    /// [`super::CaptureError::Gone`] so the share stops with the right event.
    pub fn to_capture_error(&self, source_id: &str) -> super::CaptureError {
        match self {
            DeviceError::Gone => super::CaptureError::Gone(source_id.to_string()),
            other => super::CaptureError::Failed(other.to_string()),
        }
    }
}

/// What a device's current input says about itself (`VIDIOC_G_INPUT`,
/// `VIDIOC_ENUMINPUT`, `VIDIOC_QUERY_DV_TIMINGS`); `None` where the
/// driver does not say.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct InputStatus {
    pub signal: Option<SignalStatus>,
    pub timings: Option<DvTimings>,
}

/// Detected digital-video timings: what an HDMI source sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DvTimings {
    pub width: u32,
    pub height: u32,
    pub interlaced: bool,
    /// Frames (fields, when interlaced) per second.
    pub rate: f64,
}

impl std::fmt::Display for DvTimings {
    /// `1920×1080p60`, `1920×1080i50`, `1280×720p59.94`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scan = if self.interlaced { 'i' } else { 'p' };
        let rate = (self.rate * 100.0).round() / 100.0;
        write!(f, "{}×{}{scan}{rate}", self.width, self.height)
    }
}

/// The platform's capture devices: enumerate, open.
pub trait DeviceSystem: Send {
    /// Every video-capture device present now (metadata and output nodes
    /// are not devices here). Cheap enough to call once a second.
    fn list(&mut self) -> Result<Vec<DeviceInfo>, DeviceError>;
    /// Open `device_id` with the format [`choose_format`] picks and start
    /// streaming.
    fn open(&mut self, device_id: &str) -> Result<Box<dyn DeviceStream>, DeviceError>;
    /// What `device_id`'s current input reports now, streaming or not
    /// (queries need no stream, so a busy device answers too). Called at
    /// most once a second per device.
    fn input(&mut self, _device_id: &str) -> Result<InputStatus, DeviceError> {
        Ok(InputStatus::default())
    }
}

/// A streaming device. Dropping it stops the stream and frees the device.
pub trait DeviceStream: Send {
    /// The format the driver actually set (it may adjust the request).
    fn format(&self) -> &StreamFormat;
    /// The next frame; blocks up to the stream's timeout
    /// ([`DeviceError::Timeout`] then). [`DeviceError::SourceChanged`]
    /// when the input changed: the stream is then to be opened again.
    fn next_frame(&mut self) -> Result<DeviceFrame, DeviceError>;
}
