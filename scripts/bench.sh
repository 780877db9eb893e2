#!/usr/bin/env bash
# Every figure of docs/benchmarks.md in one run (about 3 minutes after the
# build): the criterion benches (dispatch, and the thumbnail and UI
# frame-time benches when they exist), then the load generator's engine vs
# bare echo server comparison over loopback, then a summary with the ratios.
#   BENCH_PROFILE=release   (default) the release profile: a full release build once.
#   BENCH_PROFILE=dev-opt   reuse the dev build: roomshare itself at opt-level 3
#                           without debug assertions, dependencies at the dev
#                           profile's opt-level 2 (minutes instead of a full build).
#   BENCH_SERVER=serve|inproc   what `loadgen compare` measures (default serve)
#   BENCH_CLIENTS=N             concurrency of the "N in flight" part (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
target="${CARGO_TARGET_DIR:-target}"
case "${BENCH_PROFILE:-release}" in
  release)
    build=(--release); bench=(); dir="$target/release" ;;
  dev-opt)
    opt=(--config 'profile.dev.package.roomshare.opt-level=3'
         --config 'profile.dev.package.roomshare.debug-assertions=false'
         --config 'profile.dev.package.roomshare.overflow-checks=false')
    build=("${opt[@]}"); bench=("${opt[@]}" --profile dev); dir="$target/debug" ;;
  *) echo "BENCH_PROFILE must be release or dev-opt" >&2; exit 2 ;;
esac
cargo build -q "${build[@]}" --bin roomshare --example loadgen --example bench_report

echo "== criterion =="
# --benches: every bench target in Cargo.toml, whoever wrote it.
# A failing bench fails the script; only criterion's progress chatter is hidden.
cargo bench -q "${bench[@]}" --benches > "$target/bench-criterion.txt" 2>&1 ||
  { cat "$target/bench-criterion.txt"; exit 1; }
grep -Ev '^(Gnuplot|Benchmarking .*: (Warming|Collecting|Analyzing))' "$target/bench-criterion.txt" || true

echo "== load generator: engine vs bare tokio-tungstenite echo =="
"$dir/examples/loadgen" compare --server "${BENCH_SERVER:-serve}" \
  --clients "${BENCH_CLIENTS:-50}" | tee "$target/bench-loadgen.txt"

echo
"$dir/examples/bench_report" --since "$start" --loadgen "$target/bench-loadgen.txt"
