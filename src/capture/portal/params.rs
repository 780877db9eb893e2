//! The SPA params the streams negotiate with.
//!
//! - EnumFormat: raw video in the packed RGB layouts [`super::frame`]
//!   converts, any size and rate. No `VideoModifier` property is offered, and
//!   that is how a consumer says "no DMA-BUF": producers (mutter, KWin,
//!   xdg-desktop-portal-wlr) then use memory they can share as a plain fd.
//! - Buffers (once the format is fixed): data types MemPtr and MemFd only,
//!   so the buffers can be mapped and read on the CPU.
//! - Meta VideoCrop: a window stream may be a region of a larger buffer.

use super::frame::PackedRgb;
use pipewire as pw;
use pw::spa;
use spa::param::ParamType;
use spa::param::format::{FormatProperties, MediaSubtype, MediaType};
use spa::param::format_utils;
use spa::param::video::{VideoFormat, VideoInfoRaw};
use spa::pod::serialize::PodSerializer;
use spa::pod::{ChoiceValue, Object, Pod, Property, Value};
use spa::utils::{Choice, ChoiceEnum, ChoiceFlags, Fraction, Id, Rectangle, SpaTypes};
use std::io::Cursor;

/// The formats offered, preferred first (BGRx is what compositors have).
const FORMATS: [(VideoFormat, PackedRgb); 10] = [
    (VideoFormat::BGRx, PackedRgb::Bgrx),
    (VideoFormat::BGRA, PackedRgb::Bgra),
    (VideoFormat::RGBx, PackedRgb::Rgbx),
    (VideoFormat::RGBA, PackedRgb::Rgba),
    (VideoFormat::xRGB, PackedRgb::Xrgb),
    (VideoFormat::ARGB, PackedRgb::Argb),
    (VideoFormat::xBGR, PackedRgb::Xbgr),
    (VideoFormat::ABGR, PackedRgb::Abgr),
    (VideoFormat::RGB, PackedRgb::Rgb),
    (VideoFormat::BGR, PackedRgb::Bgr),
];

fn serialize(object: Object) -> Result<Vec<u8>, String> {
    PodSerializer::serialize(Cursor::new(Vec::new()), &Value::Object(object))
        .map(|(cursor, _)| cursor.into_inner())
        .map_err(|e| format!("cannot build a stream parameter: {e:?}"))
}

/// Bytes of the EnumFormat param (see the module docs).
pub(crate) fn enum_format() -> Result<Vec<u8>, String> {
    let formats: Vec<Id> = FORMATS.iter().map(|(f, _)| Id(f.as_raw())).collect();
    let id = |v: u32| Value::Id(Id(v));
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
                Value::Choice(ChoiceValue::Id(Choice(
                    ChoiceFlags::empty(),
                    ChoiceEnum::Enum {
                        default: formats[0],
                        alternatives: formats,
                    },
                ))),
            ),
            Property::new(FormatProperties::VideoSize.as_raw(), any_size()),
            Property::new(FormatProperties::VideoFramerate.as_raw(), any_rate()),
        ],
    };
    serialize(object)
}

fn any_size() -> Value {
    let rect = |width, height| Rectangle { width, height };
    Value::Choice(ChoiceValue::Rectangle(Choice(
        ChoiceFlags::empty(),
        ChoiceEnum::Range {
            default: rect(1920, 1080),
            min: rect(1, 1),
            max: rect(16384, 16384),
        },
    )))
}

/// Any rate: a compositor that only offers its refresh rate must still
/// match. Damage-driven producers send far fewer frames anyway.
fn any_rate() -> Value {
    let rate = |num| Fraction { num, denom: 1 };
    Value::Choice(ChoiceValue::Fraction(Choice(
        ChoiceFlags::empty(),
        ChoiceEnum::Range {
            default: rate(30),
            min: rate(0),
            max: rate(1000),
        },
    )))
}

/// Bytes of the Buffers and Meta params sent once the format is fixed.
pub(crate) fn buffers_and_crop() -> Result<[Vec<u8>; 2], String> {
    let shm: i32 = (1 << spa::sys::SPA_DATA_MemPtr) | (1 << spa::sys::SPA_DATA_MemFd);
    let buffers = Object {
        type_: SpaTypes::ObjectParamBuffers.as_raw(),
        id: ParamType::Buffers.as_raw(),
        properties: vec![Property::new(
            spa::sys::SPA_PARAM_BUFFERS_dataType,
            Value::Choice(ChoiceValue::Int(Choice(
                ChoiceFlags::empty(),
                ChoiceEnum::Flags {
                    default: shm,
                    flags: vec![],
                },
            ))),
        )],
    };
    let region = std::mem::size_of::<spa::sys::spa_meta_region>() as i32;
    let crop = Object {
        type_: SpaTypes::ObjectParamMeta.as_raw(),
        id: ParamType::Meta.as_raw(),
        properties: vec![
            Property::new(
                spa::sys::SPA_PARAM_META_type,
                Value::Id(Id(spa::sys::SPA_META_VideoCrop)),
            ),
            Property::new(spa::sys::SPA_PARAM_META_size, Value::Int(region)),
        ],
    };
    Ok([serialize(buffers)?, serialize(crop)?])
}

/// View serialized bytes as a pod.
pub(crate) fn pod(bytes: &[u8]) -> Result<&Pod, String> {
    Pod::from_bytes(bytes).ok_or_else(|| "a stream parameter is not a valid pod".to_string())
}

/// The negotiated format: pixel layout and size, or why it cannot be used.
pub(crate) fn video_format(param: &Pod) -> Result<(PackedRgb, (u32, u32)), String> {
    let (media, subtype) =
        format_utils::parse_format(param).map_err(|e| format!("unreadable stream format: {e}"))?;
    if media != MediaType::Video || subtype != MediaSubtype::Raw {
        return Err("the stream is not raw video".into());
    }
    let mut info = VideoInfoRaw::new();
    info.parse(param)
        .map_err(|e| format!("unreadable video format: {e}"))?;
    let format = FORMATS
        .iter()
        .find(|(f, _)| *f == info.format())
        .map(|(_, p)| *p)
        .ok_or_else(|| format!("unsupported pixel format {:?}", info.format()))?;
    let size = info.size();
    Ok((format, (size.width, size.height)))
}
