#!/usr/bin/env bash
# CPU of `roomshare inspect` grabbing a 1920x1080 RandR monitor at FPS for
# SECS seconds in a private Xvfb (no window manager needed for a monitor):
# roomshare's utime+stime over its wall time (from /usr/bin/time), and the
# X server's over the same run (from /proc/PID/stat), in % of one core.
#
#   scripts/inspect-cpu.sh [BINARY]        default: target/release/roomshare
#   FPS=30 SECS=20 SOURCE=1 scripts/inspect-cpu.sh target/debug/roomshare
#
# Every process it starts is ended by its pid. Needs Xvfb (scripts/deps.sh).
set -euo pipefail

BIN=${1:-target/release/roomshare}
FPS=${FPS:-30}
SECS=${SECS:-20}
SOURCE=${SOURCE:-1}
HZ=$(getconf CLK_TCK)
command -v Xvfb >/dev/null || { echo "Xvfb missing: apt-get install xvfb" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no binary $BIN (cargo build --release)" >&2; exit 1; }

display=""
for n in $(seq 150 199); do
    [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { display=":$n"; break; }
done
[ -n "$display" ] || { echo "no free display" >&2; exit 1; }
Xvfb "$display" -screen 0 1920x1080x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb=$!
trap 'kill "$xvfb" 2>/dev/null || true; wait "$xvfb" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done

out=$(mktemp); times=$(mktemp)
x0=$(awk '{ print $14 + $15 }' "/proc/$xvfb/stat")
DISPLAY=$display env -u WAYLAND_DISPLAY -u XDG_SESSION_TYPE ROOMSHARE_LOG=error \
    /usr/bin/time -f '%U %S %e' -o "$times" \
    "$BIN" inspect "$SOURCE" --sources real --seconds "$SECS" --fps "$FPS" --json >"$out" || true
x1=$(awk '{ print $14 + $15 }' "/proc/$xvfb/stat")
read -r user sys wall < <(tail -n 1 "$times")
python3 - "$out" "$user" "$sys" "$wall" "$x0" "$x1" "$HZ" <<'PY'
import json, sys
out, user, sys_, wall, x0, x1, hz = sys.argv[1:]
r = json.load(open(out))
wall = float(wall)
cpu = (float(user) + float(sys_)) / wall * 100
xcpu = (int(x1) - int(x0)) / int(hz) / wall * 100
s = r["source"]
print(f"inspect {s['id']} {s['width']}x{s['height']}: {r['frames']} frames in {r['seconds']} s "
      f"({r['capture_fps']} fps, interval p50 {r['interval_ms']['p50']} ms, p95 {r['interval_ms']['p95']} ms)")
print(f"roomshare: {cpu:.1f} % of a core (user {user} s, sys {sys_} s, wall {wall} s); Xvfb: {xcpu:.1f} %")
PY
rm -f "$out" "$times"
