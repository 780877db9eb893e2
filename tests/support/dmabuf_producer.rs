//! A PipeWire video source that offers DMA-BUF only, the way a compositor
//! without a shared-memory path does: its one EnumFormat carries a
//! mandatory `VideoModifier` (mutter, KWin and xdg-desktop-portal-wlr mark
//! DMA-BUF formats so). It never sends a buffer: nothing on these machines
//! can allocate a DMA-BUF (no `/dev/dri`, no `udmabuf`), and a consumer
//! that cannot take DMA-BUF must never get as far as a buffer.
//!
//! Runs its own PipeWire main loop on a thread, connected to the rig's
//! daemon; dropping it stops the loop and joins the thread.
#![allow(dead_code)]

use pipewire as pw;
use pw::spa;
use spa::param::ParamType;
use spa::param::format::{FormatProperties, MediaSubtype, MediaType};
use spa::param::video::VideoFormat;
use spa::pod::serialize::PodSerializer;
use spa::pod::{ChoiceValue, Object, Pod, Property, PropertyFlags, Value};
use spa::utils::{Choice, ChoiceEnum, ChoiceFlags, Fraction, Id, Rectangle, SpaTypes};
use std::io::Cursor;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::thread::JoinHandle;

pub struct DmabufProducer {
    quit: pw::channel::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl DmabufProducer {
    /// A `Video/Source` node called `name` on the daemon at `socket`.
    pub fn start(socket: &Path, name: &str) -> DmabufProducer {
        let socket = UnixStream::connect(socket).expect("connect to PipeWire");
        let (quit, quit_rx) = pw::channel::channel();
        let name = name.to_string();
        let thread = std::thread::spawn(move || run(socket, &name, quit_rx));
        DmabufProducer {
            quit,
            thread: Some(thread),
        }
    }
}

impl Drop for DmabufProducer {
    fn drop(&mut self) {
        let _ = self.quit.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(socket: UnixStream, name: &str, quit: pw::channel::Receiver<()>) {
    pw::init();
    let mainloop = pw::main_loop::MainLoopRc::new(None).expect("main loop");
    let context = pw::context::ContextRc::new(&mainloop, None).expect("context");
    let core = context
        .connect_fd_rc(socket.into(), None)
        .expect("connect on the socket");
    let props = pw::properties::properties! {
        *pw::keys::MEDIA_CLASS => "Video/Source",
        *pw::keys::NODE_NAME => name,
    };
    let stream = pw::stream::StreamRc::new(core, name, props).expect("stream");
    let format = enum_format();
    let pod = Pod::from_bytes(&format).expect("pod");
    let flags = pw::stream::StreamFlags::DRIVER | pw::stream::StreamFlags::ALLOC_BUFFERS;
    stream
        .connect(spa::utils::Direction::Output, None, flags, &mut [pod])
        .expect("connect the stream");
    let weak = mainloop.downgrade();
    let _quit = quit.attach(mainloop.loop_(), move |()| {
        if let Some(mainloop) = weak.upgrade() {
            mainloop.quit();
        }
    });
    mainloop.run();
    drop(stream);
}

/// BGRx 64x48 at 30/s, with a mandatory modifier (DRM_FORMAT_MOD_LINEAR).
fn enum_format() -> Vec<u8> {
    let id = |v: u32| Value::Id(Id(v));
    let modifier = Property {
        key: FormatProperties::VideoModifier.as_raw(),
        flags: PropertyFlags::from_bits_retain(
            spa::sys::SPA_POD_PROP_FLAG_MANDATORY | spa::sys::SPA_POD_PROP_FLAG_DONT_FIXATE,
        ),
        value: Value::Choice(ChoiceValue::Long(Choice(
            ChoiceFlags::empty(),
            ChoiceEnum::Enum {
                default: 0,
                alternatives: vec![0],
            },
        ))),
    };
    let object = Object {
        type_: SpaTypes::ObjectParamFormat.as_raw(),
        id: ParamType::EnumFormat.as_raw(),
        properties: vec![
            Property::new(
                FormatProperties::MediaType.as_raw(),
                id(MediaType::Video.as_raw()),
            ),
            Property::new(
                FormatProperties::MediaSubtype.as_raw(),
                id(MediaSubtype::Raw.as_raw()),
            ),
            Property::new(
                FormatProperties::VideoFormat.as_raw(),
                id(VideoFormat::BGRx.as_raw()),
            ),
            modifier,
            Property::new(
                FormatProperties::VideoSize.as_raw(),
                Value::Rectangle(Rectangle {
                    width: 64,
                    height: 48,
                }),
            ),
            Property::new(
                FormatProperties::VideoFramerate.as_raw(),
                Value::Fraction(Fraction { num: 30, denom: 1 }),
            ),
        ],
    };
    PodSerializer::serialize(Cursor::new(Vec::new()), &Value::Object(object))
        .expect("serialize")
        .0
        .into_inner()
}
