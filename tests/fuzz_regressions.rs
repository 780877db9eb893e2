//! Fuzzing's memory: every input under `fuzz/regressions/<target>/` (a
//! property violation once found by `scripts/fuzz.sh`) and every seed under
//! `fuzz/seeds/<target>/` is replayed through the same checks the fuzz
//! targets run (`fuzz/src/lib.rs`), plus a short deterministic random pass.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in ["regressions", "seeds"] {
        let path = root.join(dir).join(target);
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            // A target without regressions has no such folder; its seeds
            // must be there.
            Err(e) if dir == "regressions" && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("cannot read {}: {e}", path.display()),
        };
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).expect("readable input");
            // Name the input if it fails.
            eprintln!("replaying {}", entry.path().display());
            check(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn parse_request_inputs_replay() {
    assert!(replay("parse_request", checks::parse_request_case) > 0);
}

#[test]
fn engine_inputs_replay() {
    assert!(replay("engine", checks::engine_case) > 0);
}

/// A few thousand pseudo-random inputs with a fixed seed: cheap, and it
/// keeps the checks themselves exercised in every `cargo test`.
#[test]
fn deterministic_random_inputs() {
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        // xorshift64*: deterministic, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545f4914f6cdd1d)
    };
    for _ in 0..2000 {
        let len = (next() % 300) as usize;
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        checks::parse_request_case(&data);
        checks::engine_case(&data);
    }
}

fn regression_input(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions/parse_request")
            .join(name),
    )
    .expect("regression input")
}

/// Once a bug (fixed since): an id serde_json cannot read back (an unpaired
/// surrogate escape) was accepted and echoed, and the answer was
/// unparseable for serde_json clients. Strict: these inputs must pass.
#[test]
fn unreadable_ids_are_not_echoed() {
    checks::set_strict_on_this_thread(true);
    for name in [
        "lone-surrogate-id.json",
        "lone-surrogate-id-invalid-request.json",
    ] {
        checks::parse_request_case(&regression_input(name));
    }
}

/// A number beyond f64 (`1e999`) was once refused as unreadable too; the
/// contract (protocol.md §2) echoes numeric ids exactly as written, so this
/// input is now a request whose answer carries `1e999` verbatim.
#[test]
fn ids_beyond_a_double_are_echoed_as_written() {
    checks::set_strict_on_this_thread(true);
    let data = regression_input("out-of-range-number-id.json");
    checks::parse_request_case(&data);
    let req =
        roomshare::protocol::parse_request(std::str::from_utf8(&data).unwrap()).expect("a request");
    assert_eq!(req.id.expect("with an id").raw().get(), "1e999");
}
