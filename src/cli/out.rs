//! Lines on stdout for every subcommand. A closed pipe (`roomshare query
//! Share | head -0`) is not an error worth a panic, as `println!` would
//! make it: the reader simply wants no more, so the command ends quietly.

use serde::Serialize;
use std::io::{self, Write};

/// Write `text` and a newline, flushed at once (lines come as rooms or
/// events answer). `Err` when stdout is gone: a caller that would write
/// more (a watch) stops there.
pub fn write_line(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush())
}

/// [`write_line`] for a command that ends after its output anyway.
pub fn print_line(text: &str) {
    let _ = write_line(text);
}

/// One JSON line on stdout.
pub fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(line) => print_line(&line),
        Err(e) => eprintln!("cannot encode a line as JSON: {e}"),
    }
}
