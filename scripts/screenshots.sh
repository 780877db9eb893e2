#!/usr/bin/env bash
# Regenerate screenshots/*.png from the real app:
#
#     scripts/screenshots.sh            # PNGs into screenshots/
#     scripts/screenshots.sh --idle-cpu # also print the console's idle CPU
#     PROFILE=dev scripts/screenshots.sh  # with the debug build
#
# Runs the release binary under its own Xvfb + openbox with a few real X
# windows (Tk windows showing generated pictures) to capture, drives the
# console into its main states through the control API (the CLI's `call`)
# and real key presses (xdotool), and grabs the console window with
# ImageMagick `import`. Every process it starts is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE_CPU=0
[ "${1:-}" = "--idle-cpu" ] && IDLE_CPU=1

for tool in Xvfb openbox xdotool import convert python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/deps.sh installs it)" >&2; exit 2; }
done
# PROFILE=dev uses the debug build (quicker to build, still smooth enough).
PROFILE="${PROFILE:-release}"
cargo build --profile "$PROFILE" --quiet
BIN="$PWD/target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/roomshare"
OUT="$PWD/screenshots"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# A free display and port.
N=150; while [ -e "/tmp/.X11-unix/X$N" ] || [ -e "/tmp/.X$N-lock" ]; do N=$((N+1)); done
export DISPLAY=":$N"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="ws://127.0.0.1:$PORT"
unset WAYLAND_DISPLAY XDG_SESSION_TYPE
export HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK" XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config"
mkdir -p "$HOME"

Xvfb "$DISPLAY" -screen 0 2560x1600x24 -nolisten tcp 2>/dev/null & PIDS+=($!)
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$N" ] && break; sleep 0.1; done
openbox 2>/dev/null & PIDS+=($!)
xsetroot -solid '#2d3e50' 2>/dev/null || true

# Real windows to capture: slides, a spreadsheet, a Chinese-titled document,
# placed beside the console (a covered window captures black on Xvfb).
convert -size 1024x640 gradient:'#1f4e79'-'#0b1d30' -fill white -pointsize 56 \
  -annotate +60+140 'Q3 Review' -pointsize 30 -annotate +60+220 'Revenue +18% · Churn -3%' \
  -fill '#f2c14e' -draw 'rectangle 60,320 240,560' -fill '#4cb944' -draw 'rectangle 300,260 480,560' \
  -fill '#f06543' -draw 'rectangle 540,380 720,560' "$WORK/slides.png"
convert -size 900x600 xc:white -stroke '#c8c8c8' \
  -draw 'line 0,40 900,40' -draw 'line 0,80 900,80' -draw 'line 0,120 900,120' -draw 'line 0,160 900,160' \
  -draw 'line 0,200 900,200' -draw 'line 150,0 150,600' -draw 'line 300,0 300,600' -draw 'line 450,0 450,600' \
  -stroke none -fill black -pointsize 22 -annotate +10+30 'Region   Q1     Q2     Q3' "$WORK/sheet.png"
convert -size 800x560 xc:'#fdf6e3' -fill '#586e75' -pointsize 40 -annotate +40+90 'Meeting notes' \
  -pointsize 26 -annotate +40+160 '1. Launch plan' -annotate +40+210 '2. Budget' "$WORK/notes.png"
window() { # title geometry image — a Tk window (sets _NET_WM_NAME, UTF-8)
  python3 -c '
import sys, tkinter as tk
r = tk.Tk(); r.title(sys.argv[1]); r.geometry(sys.argv[2])
img = tk.PhotoImage(file=sys.argv[3]); tk.Label(r, image=img, bd=0).pack()
r.mainloop()' "$1" "$2" "$3" & PIDS+=($!)
}
window 'Quarterly review — Slides' +1500+20 "$WORK/slides.png"
window 'Budget.xlsx — Sheets' +1560+720 "$WORK/sheet.png"
window '会议纪要 Meeting notes' +100+1000 "$WORK/notes.png"
sleep 1

start_console() { # args…
  ROOMSHARE_LOG=roomshare=info "$BIN" "$@" 2>>"$WORK/console.log" & PIDS+=($!)
  CONSOLE_PID=$!
  for _ in $(seq 300); do
    WIN=$(xdotool search --name '^roomshare$' 2>/dev/null | head -1 || true)
    [ -n "$WIN" ] && break; sleep 0.1
  done
  [ -n "$WIN" ] || { echo "the console window did not appear" >&2; cat "$WORK/console.log" >&2; exit 1; }
  xdotool windowsize "$WIN" 1440 900 windowmove "$WIN" 80 50 windowactivate --sync "$WIN" 2>/dev/null || true
}
key() { xdotool windowactivate --sync "$WIN" >/dev/null 2>&1 || true; xdotool key --delay 80 "$@"; }
call() { "$BIN" call --url "$URL" "$@" >/dev/null; }
query() { "$BIN" query --url "$URL" "$@"; }
shot() { sleep "${2:-1.5}"; import -window "$WIN" "$OUT/$1.png"; echo "wrote screenshots/$1.png"; }
# The same state at another window size (the smallest laptop screen and a
# large HiDPI one), then back to 1440x900.
sized() { # name width height
  xdotool windowsize --sync "$WIN" "$2" "$3" windowmove --sync "$WIN" 0 0 2>/dev/null || true
  shot "$1" 2
  xdotool windowsize --sync "$WIN" 1440 900 windowmove --sync "$WIN" 80 50 2>/dev/null || true
}

start_console --listen "127.0.0.1:$PORT" --sources real --cast-code 246810
for _ in $(seq 100); do query Share CastCode >/dev/null 2>&1 && break; sleep 0.2; done

# 1. Idle, in a meeting.
call Meeting StartMeeting meeting_type=instant
shot 01-idle-in-meeting 3
sized 01-idle-in-meeting-1280x720 1280 720
sized 01-idle-in-meeting-2560x1600 2560 1600

# The connection dialog (Ctrl+L), at the small size.
xdotool windowsize --sync "$WIN" 1280 720 windowmove --sync "$WIN" 0 0 2>/dev/null || true
key ctrl+l
shot 07-connection-dialog-1280x720
key Escape
xdotool windowsize --sync "$WIN" 1440 900 windowmove --sync "$WIN" 80 50 2>/dev/null || true

if [ "$IDLE_CPU" = 1 ]; then
  sleep 2
  t0=$(awk '{print $14+$15}' "/proc/$CONSOLE_PID/stat")
  sleep 10
  t1=$(awk '{print $14+$15}' "/proc/$CONSOLE_PID/stat")
  hz=$(getconf CLK_TCK)
  echo "idle CPU over 10 s (in a meeting, static windows): $(python3 -c "print(f'{($t1-$t0)/$hz/10*100:.2f}')") % of one core"
fi

# 2. Sharing a window, with the live preview: keyboard on the wall
#    (Right focuses the first tile, Right again … to the first window).
SOURCES=$(query RoomShare Sources)
STEPS=$(python3 -c '
import json,sys
s=json.loads(sys.argv[1])["sources"]
order=[x for x in s if x["kind"]!="window"]+[x for x in s if x["kind"]=="window"]
slides=[i for i,x in enumerate(order) if "Slides" in x.get("title","")]
print((slides or [len([x for x in s if x["kind"]!="window"])])[0]+1)' "$SOURCES")
for _ in 1 2 3 4 5; do
  key Home
  for _ in $(seq $((STEPS - 1))); do key Right; done
  key Return
  sleep 1.5
  query RoomShare ShareSession | grep -q '"source_id": "[^"]' && break
done
shot 02-sharing-window-with-preview 3

# 12. The inspector on the shared slides window (I on its focused tile),
#     the pointer on the picture for the pixel probe; Escape closes it and
#     only it (the share goes on).
for _ in 1 2 3; do
  key i
  sleep 1
  grep -q "inspecting window" "$WORK/console.log" && break
done
sleep 4
xdotool mousemove 520 520
shot 12-inspector 1
key Escape
xdotool mousemove 2500 1550

# 13. A wall with a black and a stalled tile: a window showing black (a
#     player paused on a black frame) and a monitor that RandR lists but
#     the X server cannot read (it lies outside the screen, so every grab
#     fails: what a stale monitor entry does). Both go again afterwards.
convert -size 560x315 xc:black "$WORK/black.png"
window 'Town hall stream — Player' +920+1000 "$WORK/black.png"
BLACK_PID=$!
xrandr --setmonitor STALE 1920/508x1080/286+2560+0 none >/dev/null
for _ in $(seq 100); do
  SOURCES=$(query RoomShare Sources)
  grep -q '"state": "stalled"' <<<"$SOURCES" && grep -q '"state": "black"' <<<"$SOURCES" && break
  sleep 0.2
done
shot 13-black-and-stalled 1
xrandr --delmonitor STALE >/dev/null
kill "$BLACK_PID"

# 3. A remote participant shares (a whiteboard, a co-host on a Mac).
call Share StopShare || true
sleep 0.5
call RoomShare SimulateRemoteShare nickname='"张伟"' whiteboard=true instance_id=2 role_type=2
shot 03-remote-participant-sharing

# 4. Quick cast (pre-meeting) preparing.
call RoomShare SimulateRemoteStop
call Meeting LeaveMeeting
sleep 1
call RoomShare SimulateQuickCast nickname='"李娜的手机"'
shot 04-quick-cast-preparing 0.6
call Share CancelQuickShare || true

# 5. An error toast: Enter on a tile outside a meeting → 10000.
sleep 0.5
key Return
shot 05-error-toast 2

# 6. Remote mode: a second console drives this room over the network.
kill "$CONSOLE_PID"; wait "$CONSOLE_PID" 2>/dev/null || true
"$BIN" serve --listen "127.0.0.1:$PORT" --sources real --cast-code 246810 2>>"$WORK/serve.log" & PIDS+=($!)
for _ in $(seq 100); do query Share CastCode >/dev/null 2>&1 && break; sleep 0.2; done
call Meeting StartMeeting meeting_type=instant
sleep 0.5
call RoomShare SimulateRemoteShare nickname='"王芳"' instance_id=1 role_type=1
start_console --url "$URL"
shot 06-remote-mode 7
sized 06-remote-mode-1280x720 1280 720

# 8. The Rooms view: 16 demo rooms on two floors in their states, a room
#    that refuses the password and one that is down.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DEMO=$(free_port)
"$BIN" serve --rooms-demo 16 --port-base "$DEMO" --rooms-out "$WORK/rooms.toml" 2>>"$WORK/demo.log" & PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/rooms.toml" ] && break; sleep 0.2; done
room() { "$BIN" call --url "ws://127.0.0.1:$((DEMO + $1))" "${@:2}" >/dev/null; }
for i in 0 1 3 4 6 10 11 13; do room "$i" Meeting StartMeeting meeting_type=instant; done
for _ in $(seq 50); do # joining takes the engine a moment
  "$BIN" query --url "ws://127.0.0.1:$((DEMO + 13))" Meeting MeetingInfo | grep -q '"meeting_status": 1' && break
  sleep 0.2
done
room 0 RoomShare SimulateRemoteShare nickname='"Alice Chen"' instance_id=2 role_type=1
room 3 RoomShare SimulateRemoteShare nickname='"王芳"' whiteboard=true instance_id=6 role_type=3
room 10 RoomShare SimulateRemoteShare nickname='"Bob"' instance_id=1 role_type=3
room 7 RoomShare SimulateQuickCast nickname='"李娜的手机"'
LOCKED=$(free_port)
"$BIN" serve --listen "127.0.0.1:$LOCKED" --password right --sources synthetic 2>>"$WORK/serve.log" & PIDS+=($!)
printf 'wrong\n' >"$WORK/boardroom.pw"; chmod 600 "$WORK/boardroom.pw"
cat >>"$WORK/rooms.toml" <<ROOMS
[[room]]
name = "Boardroom"
group = "Floor 1"
url = "ws://127.0.0.1:$LOCKED/"
password_file = "boardroom.pw"

[[room]]
name = "Training room"
group = "Floor 2"
url = "ws://127.0.0.1:$(free_port)/"
ROOMS
kill "$CONSOLE_PID" 2>/dev/null || true; wait "$CONSOLE_PID" 2>/dev/null || true
start_console --rooms "$WORK/rooms.toml" --sources synthetic
shot 08-rooms 4

# 9. Test patterns, asked for: every tile and the header say so.
kill "$CONSOLE_PID" 2>/dev/null || true; wait "$CONSOLE_PID" 2>/dev/null || true
start_console --sources synthetic
shot 09-test-patterns 3

# 10. A Wayland desktop whose portal refuses (sway, headless; see
#     scripts/wayland-session.sh): the wall says why and offers to ask again.
if command -v sway >/dev/null && command -v grim >/dev/null; then
  WL="$(mktemp -d /tmp/roomshare-shots-XXXX)"; chmod 777 "$WL"
  cp "$BIN" "$WL/roomshare"
  cat >"$WL/inner.sh" <<INNER
#!/bin/bash
"$WL/roomshare" >"$WL/console.log" 2>&1 &
P=\$!
for _ in \$(seq 100); do grep -q "capture Refused" "$WL/console.log" && break; sleep 0.1; done
sleep 1 # the repaint after the refusal
grim "$WL/shot.png"
kill \$P; wait \$P
INNER
  chmod 755 "$WL/inner.sh"
  scripts/wayland-session.sh bash "$WL/inner.sh" >/dev/null 2>&1 || true
  cp "$WL/shot.png" "$OUT/10-wayland-refused.png" && echo "wrote screenshots/10-wayland-refused.png"
  rm -rf "$WL"
else
  echo "skipped 10-wayland-refused: needs sway and grim (bash scripts/deps.sh)" >&2
fi

echo "done: $(find "$OUT" -maxdepth 1 -name "*.png" | wc -l) PNGs in screenshots/"
