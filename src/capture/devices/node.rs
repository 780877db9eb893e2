//! Which device nodes are capture devices, and the stable ids they get.
//! Plain data rules shared by the V4L2 code and the tests' fake system.

use super::DeviceInfo;

/// `V4L2_CAP_*` bits (videodev2.h), as plain numbers so these rules need
/// no kernel headers.
pub mod caps {
    pub const VIDEO_CAPTURE: u32 = 0x0000_0001;
    pub const VIDEO_CAPTURE_MPLANE: u32 = 0x0000_1000;
    pub const META_CAPTURE: u32 = 0x0080_0000;
    pub const STREAMING: u32 = 0x0400_0000;
    pub const DEVICE_CAPS: u32 = 0x8000_0000;
}

/// True when a node is a single-planar video-capture node we can stream
/// from with mmap buffers.
///
/// `capabilities` describes the whole driver and `device_caps` this node.
/// A UVC camera has two nodes, `/dev/video0` (pictures) and `/dev/video1`
/// (metadata): both report VIDEO_CAPTURE in `capabilities`, only the first
/// in `device_caps`. So `device_caps` decides; drivers too old to fill it
/// (no DEVICE_CAPS bit) have one node per device, and `capabilities` is
/// that node's.
pub fn is_video_capture_node(capabilities: u32, device_caps: u32) -> bool {
    let node = if capabilities & caps::DEVICE_CAPS != 0 {
        device_caps
    } else {
        capabilities
    };
    node & caps::VIDEO_CAPTURE != 0 && node & caps::STREAMING != 0
}

/// The id a device keeps across reboots and replugging order.
///
/// udev's `/dev/v4l/by-id/` link name (vendor, product, serial, interface)
/// names the device itself wherever it is plugged; without one (no udev,
/// PCI cards) the driver's bus info names the port it sits on, which is
/// stable as long as it stays there; the node path is the last resort (it
/// follows plugging order).
pub fn stable_device_id(by_id: Option<&str>, bus_info: &str, path: &str) -> String {
    match by_id {
        Some(link) if !link.is_empty() => link.to_string(),
        _ if !bus_info.trim().is_empty() => bus_info.trim().to_string(),
        _ => path.to_string(),
    }
}

/// Make ids unique: a device with two capture nodes (some grabbers) has
/// one bus info for both, so later nodes get `#2`, `#3`, … in node order.
pub fn dedupe_ids(devices: &mut [DeviceInfo]) {
    for i in 1..devices.len() {
        let base = devices[i].device_id.clone();
        let mut n = 1;
        while devices[..i]
            .iter()
            .any(|d| d.device_id == devices[i].device_id)
        {
            n += 1;
            devices[i].device_id = format!("{base}#{n}");
        }
    }
}
