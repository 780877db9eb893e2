#!/usr/bin/env bash
# Every figure of docs/benchmarks.md in one run (about 3 minutes after the
# release build): the criterion benches (dispatch, and the thumbnail and UI
# frame-time benches when they exist), then the load generator's engine vs
# bare echo server comparison over loopback, then a summary with the ratios.
#   BENCH_SERVER=serve|inproc   what `loadgen compare` measures (default serve)
#   BENCH_CLIENTS=N             concurrency of the "N in flight" part (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
target="${CARGO_TARGET_DIR:-target}"
cargo build -q --release --bin roomshare --example loadgen --example bench_report

echo "== criterion =="
# --benches: every bench target in Cargo.toml, whoever wrote it.
cargo bench -q --benches 2>&1 | grep -Ev '^(Gnuplot|Benchmarking .*: (Warming|Collecting|Analyzing))' || true

echo "== load generator: engine vs bare tokio-tungstenite echo =="
"$target/release/examples/loadgen" compare --server "${BENCH_SERVER:-serve}" \
  --clients "${BENCH_CLIENTS:-50}" | tee "$target/bench-loadgen.txt"

echo
"$target/release/examples/bench_report" --since "$start" --loadgen "$target/bench-loadgen.txt"
