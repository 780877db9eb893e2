//! A dependency-free fuzz driver for the targets in `fuzz/` (no libFuzzer,
//! no nightly flags): seeded random inputs and mutations of the seed
//! corpus, for a fixed time budget. It checks the same properties as the
//! cargo-fuzz targets (`fuzz/src/lib.rs`, included below), without coverage
//! guidance. A failing input is saved under `fuzz/regressions/<target>/`,
//! where `tests/fuzz_regressions.rs` replays it forever after.
//!
//! ```text
//! cargo run --release --example fuzz_plain -- parse_request 30
//! cargo run --release --example fuzz_plain -- engine 30 --seed 7
//! ```

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod checks;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// JSON-ish fragments that make random text look like requests often
/// enough to get past the first `{`.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\"id\"",
    "\"method\"",
    "\"params\"",
    "\"jsonrpc\"",
    "\"2.0\"",
    "\"Query\"",
    "\"Call/Share\"",
    "\"Call/Meeting\"",
    "\"Subscribe\"",
    "\"path\"",
    "\"Share\"",
    "\"action\"",
    "\"StartShare\"",
    "\"action_params\"",
    "\"share_type\"",
    "0",
    "1",
    "-1",
    "1e999",
    "123456789012345678901234567890",
    "1.5",
    "null",
    "true",
    "false",
    "\\u0000",
    "\\ud800",
    "\\\"",
    "中文",
    " ",
    "\n",
    "\u{feff}",
    "-0",
    "0.0e0",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(target), Some(secs)) = (args.first(), args.get(1).and_then(|s| s.parse().ok()))
    else {
        eprintln!("usage: fuzz_plain parse_request|engine SECONDS [--seed N]");
        return ExitCode::from(2);
    };
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let check: fn(&[u8]) = match target.as_str() {
        "parse_request" => checks::parse_request_case,
        "engine" => checks::engine_case,
        other => {
            eprintln!("unknown target {other:?}: parse_request or engine");
            return ExitCode::from(2);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let seeds = read_dir_files(&root.join("seeds").join(target));
    let mut rng = SmallRng::seed_from_u64(seed);
    let budget = Duration::from_secs(secs);
    let began = Instant::now();
    let mut runs: u64 = 0;
    // The panic message is printed by the default hook; we only add where
    // the input went.
    while began.elapsed() < budget {
        for _ in 0..256 {
            let input = generate(&mut rng, &seeds, target == "parse_request");
            runs += 1;
            if std::panic::catch_unwind(|| check(&input)).is_err() {
                let path = save_crash(&root, target, &input);
                eprintln!(
                    "fuzz_plain {target}: property violated after {runs} runs (seed {seed}); input saved to {}",
                    path.display()
                );
                return ExitCode::from(1);
            }
        }
    }
    let known = checks::KNOWN_OPEN_HITS.load(std::sync::atomic::Ordering::Relaxed);
    if known > 0 {
        println!(
            "fuzz_plain {target}: {known} inputs hit known open bugs (not failures; ROOMSHARE_FUZZ_STRICT=1 to fail): {:?}",
            checks::KNOWN_OPEN
                .iter()
                .map(|(t, _)| *t)
                .collect::<Vec<_>>()
        );
    }
    println!(
        "fuzz_plain {target}: {runs} runs in {:.0} s ({:.0}/s), seed {seed}, no failure",
        began.elapsed().as_secs_f64(),
        runs as f64 / began.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

fn read_dir_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok().map(|d| (e.path(), d)))
        .collect();
    out.sort();
    out.into_iter().map(|(_, d)| d).collect()
}

fn generate(rng: &mut SmallRng, seeds: &[Vec<u8>], text: bool) -> Vec<u8> {
    match rng.random_range(0..4) {
        // Plain random bytes.
        0 => {
            let len = rng.random_range(0..256);
            (0..len).map(|_| rng.random()).collect()
        }
        // Token soup (mostly valid UTF-8, often JSON-shaped).
        1 if text => {
            let n = rng.random_range(1..40);
            let mut s = String::new();
            for _ in 0..n {
                s.push_str(TOKENS[rng.random_range(0..TOKENS.len())]);
            }
            s.into_bytes()
        }
        // A mutated seed.
        _ if !seeds.is_empty() => {
            let mut d = seeds[rng.random_range(0..seeds.len())].clone();
            for _ in 0..rng.random_range(1..8) {
                mutate(rng, &mut d, seeds);
            }
            d
        }
        _ => {
            let len = rng.random_range(0..1024);
            (0..len).map(|_| rng.random()).collect()
        }
    }
}

fn mutate(rng: &mut SmallRng, d: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let pos = if d.is_empty() {
        0
    } else {
        rng.random_range(0..d.len())
    };
    match rng.random_range(0..6) {
        0 if !d.is_empty() => d[pos] = rng.random(),
        1 if !d.is_empty() => d[pos] ^= 1 << rng.random_range(0..8),
        2 => d.insert(pos, rng.random()),
        3 if !d.is_empty() => {
            let end = (pos + rng.random_range(1..16)).min(d.len());
            d.drain(pos..end);
        }
        4 => {
            // Splice in a piece of another seed.
            let other = &seeds[rng.random_range(0..seeds.len())];
            if !other.is_empty() {
                let a = rng.random_range(0..other.len());
                let b = (a + rng.random_range(1..32)).min(other.len());
                let piece = other[a..b].to_vec();
                d.splice(pos..pos, piece);
            }
        }
        _ => {
            let t = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
            d.splice(pos..pos, t.iter().copied());
        }
    }
}

fn save_crash(root: &Path, target: &str, input: &[u8]) -> PathBuf {
    // FNV-1a: a stable name without another dependency.
    let hash = input.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    let dir = root.join("regressions").join(target);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("crash-{hash:016x}"));
    let _ = std::fs::write(&path, input);
    path
}
