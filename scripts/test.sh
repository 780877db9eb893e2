#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages, one build, every
# test (unit, conformance over real sockets, capture under Xvfb + openbox,
# egui_kittest UI, the real binary end to end), then the short load run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

# Offscreen rendering for egui_kittest through Mesa (lavapipe / llvmpipe).
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
# Capture tests talk X11 to their own Xvfb.
unset WAYLAND_DISPLAY XDG_SESSION_TYPE
export RUST_BACKTRACE=1

cargo fmt --all -- --check
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --all-targets --no-fail-fast 2>&1 | tee "$log"
scripts/load-smoke.sh
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { passed += $4; failed += $6 }
     END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
