#!/usr/bin/env bash
# The console's idle CPU, in % of one core: all of its threads (the
# renderer's included), utime+stime from /proc/PID/stat over MEASURE
# seconds after a WARMUP, in a private Xvfb + openbox with two idle Tk
# windows beside it. Two modes per binary:
#   embedded  roomshare --sources real (real X11 capture), in a meeting, nothing shared
#   remote    roomshare --url … against `roomshare serve --no-capture` (no thumbnails), in a meeting
#
#   scripts/idle-cpu.sh [BINARY[=LABEL[=FLAGS]]]...   default: target/debug/roomshare
#   EXTRA="--renderer wgpu" scripts/idle-cpu.sh       console flags for every binary
#   WARMUP=15 MEASURE=20 MODES="embedded remote"
#
# Give several binaries to compare them in one run on one machine, e.g. the
# build before the idle work and the current one, with FLAGS for one of
# them only:
#
#   scripts/idle-cpu.sh ../old/target/debug/roomshare=before \
#       target/debug/roomshare=after "target/debug/roomshare=after-wgpu=--renderer wgpu" Every process it starts
# is ended by its pid. Needs Xvfb, openbox, python3-tk (scripts/deps.sh).
set -euo pipefail

WARMUP=${WARMUP:-15}
MEASURE=${MEASURE:-20}
MODES=${MODES:-embedded remote}
EXTRA=${EXTRA:-}
HZ=$(getconf CLK_TCK)

for tool in Xvfb openbox python3; do
    command -v "$tool" >/dev/null || { echo "$tool missing: run scripts/deps.sh" >&2; exit 1; }
done
python3 -c 'import tkinter' 2>/dev/null || { echo "python3-tk missing: apt-get install python3-tk" >&2; exit 1; }

bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("target/debug/roomshare")

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
trap cleanup EXIT

ticks() { # utime + stime of PID, in clock ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

free_display() {
    for n in $(seq 150 199); do
        [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { echo ":$n"; return; }
    done
    echo "no free display" >&2; exit 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

TK='
import tkinter as tk
root = tk.Tk(); root.title("Idle Tk One"); root.geometry("360x260+1180+40")
tk.Label(root, text="An idle Tk window", font=("DejaVu Sans", 16)).pack(pady=10)
tk.Button(root, text="Does nothing").pack()
c = tk.Canvas(root, width=300, height=120, bg="#204070"); c.create_oval(20, 20, 120, 100, fill="#e0a030"); c.pack(pady=10)
two = tk.Toplevel(root); two.title("Idle Tk Two"); two.geometry("360x260+1180+420")
[tk.Label(two, text=f"row {i}: some text").pack(anchor="w") for i in range(6)]
root.mainloop()
'

start_meeting() { # BIN URL
    for _ in $(seq 1 100); do
        ROOMSHARE_LOG=off "$1" call Meeting StartMeeting --url "$2" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "could not start a meeting at $2" >&2; return 1
}

measure() { # BIN LABEL MODE FLAGS
    local bin=$1 label=$2 mode=$3 flags="$EXTRA ${4:-}"
    local display home port url console before after
    display=$(free_display)
    home=$(mktemp -d)
    Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp -noreset >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
    DISPLAY=$display openbox >/dev/null 2>&1 &
    pids+=($!)
    sleep 1
    DISPLAY=$display python3 -c "$TK" >/dev/null 2>&1 &
    pids+=($!)
    port=$(free_port)
    url="ws://127.0.0.1:$port"
    local common=(env -u WAYLAND_DISPLAY -u XDG_SESSION_TYPE DISPLAY="$display" HOME="$home"
        XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home"
        ROOMSHARE_LOG=warn)
    if [ "$mode" = embedded ]; then
        # shellcheck disable=SC2086
        "${common[@]}" "$bin" --sources real --listen "127.0.0.1:$port" $flags >"$home/console.log" 2>&1 &
        console=$!
        pids+=($console)
        start_meeting "$bin" "$url"
    else
        ROOMSHARE_LOG=warn "$bin" serve --no-capture --listen "127.0.0.1:$port" >"$home/serve.log" 2>&1 &
        pids+=($!)
        start_meeting "$bin" "$url"
        # shellcheck disable=SC2086
        "${common[@]}" "$bin" --url "$url" --sources real $flags >"$home/console.log" 2>&1 &
        console=$!
        pids+=($console)
    fi
    sleep "$WARMUP"
    kill -0 "$console" 2>/dev/null || { echo "$label $mode: the console exited:"; cat "$home/console.log"; cleanup; return 1; }
    before=$(ticks "$console")
    sleep "$MEASURE"
    after=$(ticks "$console")
    awk -v l="$label" -v m="$mode" -v t=$((after - before)) -v hz="$HZ" -v s="$MEASURE" -v x="$(echo $flags)" \
        'BEGIN { printf "%-24s %-9s %-20s %6.1f %% of a core (%d ticks in %d s)\n", l, m, x, 100 * t / hz / s, t, s }'
    cleanup
    rm -rf "$home"
}

echo "idle CPU of the console: warm-up ${WARMUP} s, measured over ${MEASURE} s, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for spec in "${bins[@]}"; do
    IFS='=' read -r bin label flags <<<"$spec"
    [ -n "$label" ] || label=$(basename "$bin")
    [ -x "$bin" ] || { echo "$bin: no such binary (build it first)" >&2; exit 1; }
    for mode in $MODES; do
        measure "$bin" "$label" "$mode" "$flags"
    done
done
