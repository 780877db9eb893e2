//! Prints the figures of one `make bench` run in one place: every criterion
//! result under `target/criterion` (whoever's bench it is), the ratios the
//! project tracks, and the load generator's engine-vs-echo comparison.
//!
//! ```text
//! cargo run --release --example bench_report -- [--loadgen FILE] [--since UNIX_SECS]
//! ```
//! `FILE` holds the output of `loadgen compare` (its `RESULT` line is read);
//! `--since` ignores criterion results older than that (stale runs).

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `group/function` → mean in nanoseconds.
fn criterion_results(root: &Path, since: Option<u64>) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") {
                    if let Some((name, mean)) = read_result(&p, since) {
                        out.insert(name, mean);
                    }
                } else {
                    stack.push(p);
                }
            }
        }
    }
    out
}

fn read_result(dir: &Path, since: Option<u64>) -> Option<(String, f64)> {
    let estimates = dir.join("estimates.json");
    if let Some(since) = since {
        let modified = std::fs::metadata(&estimates)
            .ok()?
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        if modified < since {
            return None;
        }
    }
    let bench: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("benchmark.json")).ok()?).ok()?;
    let est: Value = serde_json::from_str(&std::fs::read_to_string(estimates).ok()?).ok()?;
    let name = bench.get("full_id")?.as_str()?.to_string();
    // Criterion's headline figure: the slope of linear sampling when it has
    // one, else the mean.
    let mean = est
        .pointer("/slope/point_estimate")
        .and_then(Value::as_f64)
        .or_else(|| est.pointer("/mean/point_estimate").and_then(Value::as_f64))?;
    Some((name, mean))
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The first result whose name contains every one of `parts`.
fn find<'a>(r: &'a BTreeMap<String, f64>, parts: &[&str]) -> Option<(&'a str, f64)> {
    r.iter()
        .find(|(k, _)| {
            let k = k.to_lowercase();
            parts.iter().all(|p| k.contains(p))
        })
        .map(|(k, v)| (k.as_str(), *v))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let since = arg("--since").and_then(|s| s.parse().ok());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let results = criterion_results(&target.join("criterion"), since);

    println!("== criterion (time per iteration) ==");
    if results.is_empty() {
        println!(
            "(no criterion results found under {})",
            target.join("criterion").display()
        );
    }
    for (k, v) in &results {
        println!("  {k:<60} {:>12}", fmt_ns(*v));
    }

    println!();
    println!("== ratios ==");
    let ratio = |label: &str, num: Option<(&str, f64)>, den: Option<(&str, f64)>, note: &str| match (
        num, den,
    ) {
        (Some((a, x)), Some((b, y))) => {
            println!("  {label}: {:.2}  ({a} / {b}){note}", x / y);
        }
        _ => println!("  {label}: not measured (bench missing)"),
    };
    ratio(
        "Session::handle_text over pure dispatch (actor hop, current-thread)",
        find(&results, &["path/session_handle_text_query_share"])
            .filter(|(k, _)| !k.ends_with("_mt")),
        find(&results, &["path/room_dispatch_query_share"]),
        "",
    );
    ratio(
        "Session::handle_text over pure dispatch (actor hop, multi-thread)",
        find(&results, &["path/session_handle_text_query_share_mt"]),
        find(&results, &["path/room_dispatch_query_share"]),
        "",
    );
    ratio(
        "device formatter over serde_json::to_string",
        find(&results, &["serialise/query_share_device_form"]),
        find(&results, &["serialise/query_share_serde_json"]),
        "",
    );
    // Other engineers' benches: matched by name, so whatever they call
    // their variants, a thumbnail bench comparing fast_image_resize with
    // image::imageops::thumbnail shows up here.
    let thumb_ref = find(&results, &["thumbnail", "imageops"])
        .or_else(|| find(&results, &["thumbnail", "image_thumbnail"]));
    let thumb_fast =
        find(&results, &["thumbnail", "fast"]).or_else(|| find(&results, &["thumbnail", "simd"]));
    ratio(
        "thumbnail downscale: image::imageops::thumbnail over ours (speed-up)",
        thumb_ref,
        thumb_fast,
        "",
    );
    match results.iter().find(|(k, _)| {
        let k = k.to_lowercase();
        (k.contains("ui") || k.contains("frame"))
            && !k.starts_with("dispatch")
            && !k.contains("thumbnail")
    }) {
        Some((k, v)) => println!("  UI frame time: {} ({k})", fmt_ns(*v)),
        None => println!("  UI frame time: not measured (no UI frame-time bench found)"),
    }

    if let Some(file) = arg("--loadgen") {
        println!();
        println!("== load generator: engine over raw transport (loopback WebSocket) ==");
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                let Some(line) = text
                    .lines()
                    .rev()
                    .find(|l| l.starts_with("RESULT scenario=compare"))
                else {
                    println!("  no RESULT line in {file}: the comparison did not complete");
                    return ExitCode::from(1);
                };
                let kv: BTreeMap<&str, &str> = line
                    .split_whitespace()
                    .filter_map(|w| w.split_once('='))
                    .collect();
                let f = |k: &str| {
                    kv.get(k)
                        .and_then(|v| v.parse::<f64>().ok())
                        .unwrap_or(f64::NAN)
                };
                println!(
                    "  latency at 1 in flight: engine {} µs vs echo {} µs (pooled p50) → engine overhead {:+.1} % (median of per-round p50 ratios; pooled mean {:+.1} %; target ≤ 20 %)",
                    f("engine1_p50_us"),
                    f("echo1_p50_us"),
                    f("overhead1") * 100.0,
                    f("overhead1_mean") * 100.0
                );
                println!(
                    "  at {} in flight: overhead {:+.1} % (median of rounds); throughput engine {:.0} req/s vs echo {:.0} req/s = {:.2}",
                    kv.get("clients").unwrap_or(&"N"),
                    f("overheadN") * 100.0,
                    f("engineN_rps"),
                    f("echoN_rps"),
                    f("throughput_ratio")
                );
            }
            Err(e) => {
                println!("  cannot read {file}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
