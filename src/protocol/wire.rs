//! The device-compatible serialiser (protocol.md §2 "Exact output form").
//!
//! Real Rooms devices serialise like Python's `json.dumps`: separators `", "`
//! and `": "`, keys in insertion order, raw UTF-8. Regex-based controllers
//! match on that text, so every frame roomshare emits goes through here.

use serde::Serialize;
use serde_json::ser::Formatter;
use std::io;

/// `json.dumps`-style compact formatter: `", "` between items, `": "` after keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeviceFormatter;

impl Formatter for DeviceFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separator(w, first)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separator(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

/// `", "` before every item but the first, of arrays and objects alike.
fn separator<W: ?Sized + io::Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

/// Serialise `value` in the device form.
pub fn to_device_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, DeviceFormatter);
    // Our frame types contain only strings, numbers, maps with string keys
    // and raw JSON fragments that were validated on the way in, so
    // serialisation cannot fail.
    value
        .serialize(&mut ser)
        .expect("device frames always serialise");
    // serde_json writes valid UTF-8.
    String::from_utf8(out).expect("serde_json emits UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_separators_and_raw_utf8() {
        let v = json!({"a": 1, "b": [1, 2, {"c": "中文"}], "d": {}, "e": []});
        assert_eq!(
            to_device_string(&v),
            r#"{"a": 1, "b": [1, 2, {"c": "中文"}], "d": {}, "e": []}"#
        );
    }
}
