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
cargo test --all-targets --no-fail-fast
if [ -x scripts/load-smoke.sh ]; then
  scripts/load-smoke.sh
fi
