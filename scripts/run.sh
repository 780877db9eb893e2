#!/usr/bin/env bash
# Run the console on the embedded engine: real capture where a display
# exists, synthetic sources where none does (then under a private Xvfb so
# the window still opens; see README). Extra arguments go to roomshare.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "roomshare: no display; starting a private Xvfb on :77 with openbox and synthetic sources" >&2
  Xvfb :77 -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  trap 'kill $wm_pid $xvfb_pid 2>/dev/null || true' EXIT
  export DISPLAY=:77
  sleep 0.5
  openbox >/dev/null 2>&1 &
  wm_pid=$!
  exec_args=(--sources synthetic "$@")
else
  exec_args=("$@")
fi
cargo run --quiet -- "${exec_args[@]}"
