#!/usr/bin/env bash
# CPU per frame of the real console window with each renderer, in a private
# Xvfb + openbox (Mesa's llvmpipe for GL, lavapipe for Vulkan: software
# rendering, as on a VM, over RDP/VNC or without a GPU driver): a forced
# repaint loop over a 60-tile wall and over an idle console's 4 tiles (what
# each needless repaint costs), then the window left idle.
#
#   scripts/render-cost.sh [--release] [FRAMES]     default: 150 frames, dev profile
#   TILES="60 4" RENDERERS="glow wgpu"
#
# Builds and runs examples/render_cost.rs. Every process it starts is ended
# by its pid. Needs Xvfb and openbox (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=()
if [ "${1:-}" = "--release" ]; then
    profile=(--release)
    shift
fi
FRAMES=${1:-150}
TILES=${TILES:-60 4}
RENDERERS=${RENDERERS:-glow wgpu}

for tool in Xvfb openbox; do
    command -v "$tool" >/dev/null || { echo "$tool missing: run scripts/deps.sh" >&2; exit 1; }
done
cargo build -q "${profile[@]}" --example render_cost
dir=target/debug
[ ${#profile[@]} -gt 0 ] && dir=target/release
bin=${CARGO_TARGET_DIR:-target}/${dir#target/}/examples/render_cost

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

display=""
for n in $(seq 150 199); do
    [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { display=":$n"; break; }
done
[ -n "$display" ] || { echo "no free display" >&2; exit 1; }
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp -noreset >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
DISPLAY=$display openbox >/dev/null 2>&1 &
pids+=($!)
sleep 1

echo "render cost: $FRAMES forced frames at 1360x860, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for tiles in $TILES; do
    for renderer in $RENDERERS; do
        env -u WAYLAND_DISPLAY -u XDG_SESSION_TYPE DISPLAY="$display" \
            "$bin" --renderer "$renderer" --tiles "$tiles" --frames "$FRAMES" --idle-secs 5 2>/dev/null
    done
done
