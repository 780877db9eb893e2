#!/usr/bin/env bash
# The Windows binary, run (issue 17): cross-built with mingw-w64 and run
# under Wine, headless, in a throwaway Wine prefix:
#   1. cargo build --target x86_64-pc-windows-gnu --bin roomshare (dev)
#   2. the ProcessPrng stand-in DLL (tests/support/wine/, test-only)
#   3. roomshare.exe --version
#   4. roomshare.exe serve, driven by the same conformance and hostile-input
#      tests as the Linux server (ROOMSHARE_TEST_SERVER) and by the load
#      generator's mixed and fan-out runs
#   5. the Windows CLI (query, call, rooms status --json) against a Linux
#      `roomshare serve`: it must print what the Linux CLI prints
#   6. the rooms file's secret rule through Wine's access lists
#   7. with a display (a private Xvfb): capture through xcap's GDI path
#      (`sources`, `snap`), and the console's window opens and draws
#   8. the zip `make dist` builds, from this same dev exe: its contents
#
#     scripts/wine-check.sh         # CI runs it after scripts/test.sh
#
# Needs the Linux test binaries and target/debug/roomshare built (test.sh
# builds them; otherwise cargo builds them here). CARGO=/path/to/cargo
# runs another cargo (a wrapper). Each step says how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deps.sh
source scripts/deps.sh
cargo="${CARGO:-cargo}"
unset WAYLAND_DISPLAY XDG_SESSION_TYPE DISPLAY

fail() {
  echo "wine-check: FAIL: $*" >&2
  exit 1
}
need() { # command, what for
  command -v "$1" >/dev/null 2>&1 ||
    fail "$1 not found ($2); scripts/deps.sh installs it (Debian: $3)"
}
need x86_64-w64-mingw32-gcc "links roomshare.exe and builds the ProcessPrng stand-in" gcc-mingw-w64-x86-64
need wine "runs roomshare.exe" "wine wine64"
need wineboot "creates the Wine prefix" wine
need wineserver "stops the prefix's processes" wine
need zip "make dist's zip" zip
need python3 "reads the CLI's JSON" python3
need Xvfb "the display for the capture and console checks" xvfb
need xdotool "finds the console's window" xdotool
need import "screenshots the console" imagemagick

timings=()
step() { # name, command...
  local name="$1" start=$SECONDS
  shift
  echo "== wine-check: $name" >&2
  "$@"
  timings+=("$name: $((SECONDS - start)) s")
}

target=x86_64-pc-windows-gnu
target_dir="${CARGO_TARGET_DIR:-target}"
exe="$target_dir/$target/debug/roomshare.exe"
linux_bin="$target_dir/debug/roomshare"
version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)"
password='s3cret+/=密码' # tests/support/mod.rs PASSWORD
cast_code=246810        # tests/support/mod.rs CAST_CODE

work="$(mktemp -d)"
# Wine turns arguments and environment into UTF-16 through the locale: the
# password has Chinese characters.
export LC_ALL=C.UTF-8
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEARCH=win64
# Wine's own bcryptprimitives.dll where it has one (9.0 and later), else
# the stand-in in system32; no Mono or Gecko install prompts.
export WINEDLLOVERRIDES="bcryptprimitives=b,n;mscoree=;mshtml="
pids=()
cleanup() {
  local p
  # Every Windows process of this private prefix, and its wineserver; then
  # what else was started here (the Linux serve, Xvfb), by pid.
  [ -d "$WINEPREFIX" ] && wineserver -k 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Wait until the `serve` whose output goes to $1 announces its address
# (it listens on port 0); set $addr to it.
addr=
announced() { # log, what
  local log="$1" i
  for i in $(seq 1 300); do # 30 s at most
    addr="$(sed -n 's|.*serving on ws://\([^/]*\)/.*|\1|p' "$log" 2>/dev/null | head -n 1)"
    [ -n "$addr" ] && return
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log" >&2; fail "$2 exited"; }
    sleep 0.1
  done
  cat "$log" >&2
  fail "$2 did not announce its address within 30 s"
}

build_exe() {
  "$cargo" build --quiet --target "$target" --bin roomshare
  [ -f "$exe" ] || fail "no $exe after the build"
}

# Wine 8 (Debian 12) has no bcryptprimitives.dll, whose ProcessPrng Rust's
# standard library imports (the exe exits at once, status 53, "Library
# bcryptprimitives.dll ... not found"); the stand-in goes into the prefix's
# system32, so nothing is added beside the exe (nor can end up in the zip).
stand_in() {
  x86_64-w64-mingw32-gcc -O2 -s -shared -o "$work/bcryptprimitives.dll" \
    tests/support/wine/bcryptprimitives.c -ladvapi32
}

prefix() {
  wineboot -i >/dev/null 2>&1 || fail "wineboot -i failed in $WINEPREFIX"
  cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
}

check_version() {
  local out
  out="$(wine "$exe" --version)" || fail "roomshare.exe --version exited $?"
  out="${out%$'\r'}"
  echo "roomshare.exe --version: $out"
  [ "$out" = "roomshare $version" ] || fail "--version printed '$out', expected 'roomshare $version'"
}

# `roomshare.exe serve` in the background; its address in $addr.
wine_serve() { # log, extra serve arguments...
  local log="$1"
  shift
  wine "$exe" serve --listen 127.0.0.1:0 --no-capture --cast-code "$cast_code" "$@" \
    >"$log" 2>&1 &
  pids+=($!)
  announced "$log" "roomshare.exe serve"
}

served_tests() {
  ROOMSHARE_PASSWORD="$password" wine_serve "$work/serve.log"
  echo "roomshare.exe serving on $addr"
  ROOMSHARE_TEST_SERVER="$addr" ROOMSHARE_TEST_PASSWORD="$password" \
    "$cargo" test --quiet --test conformance --test hostile ||
    { cat "$work/serve.log" >&2; fail "the conformance and hostile tests against roomshare.exe serve"; }
}

served_load() {
  local lg="$target_dir/debug/examples/loadgen"
  [ -x "$lg" ] || "$cargo" build --quiet --example loadgen
  # As load-smoke.sh's runs; the server's flood protection is not measured.
  wine_serve "$work/load.log" --rate-limit 1000000000
  "$lg" mix --server "$addr" --clients 20 --requests 200
  "$lg" fanout --server "$addr" --subscribers 100 --events 20 --interval-ms 10
}

# The Windows CLI says what the Linux CLI says, against a Linux serve.
cli_against_linux() {
  [ -x "$linux_bin" ] || "$cargo" build --quiet --bin roomshare
  "$linux_bin" serve --listen 127.0.0.1:0 --no-capture --cast-code "$cast_code" \
    --password "$password" >"$work/linux-serve.log" 2>&1 &
  pids+=($!)
  announced "$work/linux-serve.log" "the Linux roomshare serve"
  export ROOMSHARE_PASSWORD="$password" WINE_CHECK_PW="$password"
  local url="ws://$addr"
  same "query Share CastCode" 0 query Share CastCode --url "$url"
  grep -q "\"cast_code\": \"$cast_code\"" "$work/out.exe" || fail "query: no cast code $cast_code"
  same "call Share OpenShareGuide" 0 call Share OpenShareGuide --url "$url"
  same "query Share ShareGuide" 0 query Share ShareGuide --url "$url"
  grep -q '"share_guide_open": true' "$work/out.exe" || fail "the Windows CLI's call did not open the guide"
  # A refused call: status 1, the code and its meaning on stderr.
  same "call Share StopShare (outside a meeting)" 1 call Share StopShare --url "$url"
  grep -q 'error 10000' "$work/err.exe" || fail "call: no 'error 10000' in: $(cat "$work/err.exe")"
  cat >"$work/rooms.toml" <<EOF
[[room]]
name = "Linux serve"
url = "$url"
group = "wine"
password_env = "WINE_CHECK_PW"

[[room]]
name = "Nobody"
url = "ws://127.0.0.1:9"
EOF
  # One room answers, one cannot be reached: status 3. The lines come as
  # the rooms answer, and the unreachable room's error is the OS's own
  # wording: compared as JSON, room by room, without that error.
  ROOMS_UNORDERED=1 same "rooms status --json" 3 rooms status --json --timeout 2 --rooms "$work/rooms.toml"
  python3 - "$work/out.linux" "$work/out.exe" "$cast_code" <<'EOF' || fail "rooms status --json: $(cat "$work/out.exe")"
import json, sys
def rooms(path):
    lines = [json.loads(l) for l in open(path, encoding="utf-8")]
    return {l["name"]: l for l in lines}
linux, exe = rooms(sys.argv[1]), rooms(sys.argv[2])
up, down = exe["Linux serve"], exe["Nobody"]
assert (up["state"], up["cast_code"], up["group"]) == ("connected", sys.argv[3], "wine"), up
assert up == linux["Linux serve"], (up, linux["Linux serve"])
assert down["state"] == linux["Nobody"]["state"] == "unreachable", down
assert down["error"], down
print("rooms status --json under Wine:", json.dumps(down, ensure_ascii=False))
EOF
  unset ROOMSHARE_PASSWORD
}

# The rooms file's secret rule on Windows, through the real access-list
# reading (src/link/fleet/acl.rs: GetNamedSecurityInfoW and the DACL's
# entries), which Wine answers for a Unix file from its mode: an inline
# password in a file others can read is refused (status 2, naming who can
# read it and the fixes); the same file made private is accepted (the room
# is then just unreachable: status 3).
secret_rule() {
  local rooms="$work/inline.toml" st
  printf '[[room]]\nname = "Inline"\nurl = "ws://127.0.0.1:9"\npassword = "hunter2"\n' >"$rooms"
  chmod 644 "$rooms"
  wine "$exe" rooms status --json --timeout 2 --rooms "$rooms" >"$work/out.exe" 2>"$work/err.exe" && st=0 || st=$?
  [ "$st" = 2 ] || fail "an inline password in a file Everyone can read: exit $st, expected 2: $(cat "$work/err.exe")"
  grep -q 'others can read (Everyone (S-1-1-0))' "$work/err.exe" || fail "the refusal does not say who can read the file: $(cat "$work/err.exe")"
  grep -q 'roomshare rooms set-password "Inline"' "$work/err.exe" || fail "the refusal does not offer the keychain: $(cat "$work/err.exe")"
  echo "roomshare.exe refuses an inline password in a file Everyone can read: $(tr -d '\r' <"$work/err.exe" | head -n 1)"
  chmod 600 "$rooms"
  wine "$exe" rooms status --json --timeout 2 --rooms "$rooms" >"$work/out.exe" 2>"$work/err.exe" && st=0 || st=$?
  [ "$st" = 3 ] || fail "the same file made private: exit $st, expected 3 (accepted, unreachable): $(cat "$work/err.exe")"
  grep -q '"state":"unreachable"' "$work/out.exe" || fail "the private file's room was not tried: $(cat "$work/out.exe")"
  echo "roomshare.exe accepts it once only its owner can read the file"
}

# Run `roomshare ARGS` as the Linux binary and as roomshare.exe under Wine:
# the expected exit status from both, and the same stdout (unless
# ROOMS_UNORDERED is set: then the caller compares). A Unix path argument
# works for both: Wine maps /tmp/... to Z:\tmp\...
same() { # what, expected status, args...
  local what="$1" want="$2" got_linux got_exe
  shift 2
  "$linux_bin" "$@" >"$work/out.linux" 2>"$work/err.linux" && got_linux=0 || got_linux=$?
  wine "$exe" "$@" >"$work/out.exe" 2>"$work/err.exe" && got_exe=0 || got_exe=$?
  sed -i 's/\r$//' "$work/out.exe" "$work/err.exe"
  [ "$got_linux" = "$want" ] || fail "$what: Linux exited $got_linux, expected $want: $(cat "$work/err.linux")"
  [ "$got_exe" = "$want" ] || fail "$what: roomshare.exe exited $got_exe, expected $want: $(cat "$work/err.exe")"
  [ -n "${ROOMS_UNORDERED:-}" ] || diff -u "$work/out.linux" "$work/out.exe" >&2 || fail "$what: roomshare.exe printed something else than Linux (above)"
  echo "roomshare.exe $what: exit $got_exe, same output as Linux ($(wc -l <"$work/out.exe") lines)"
}

# Wine picks its display driver when the prefix's desktop starts: every
# step above ran without $DISPLAY (the null driver: no pixels to read, so
# BitBlt fails, see docs/platforms.md). Stop them all, then start again
# on a private Xvfb.
with_display() {
  wineserver -k 2>/dev/null || true
  wineserver -w
  Xvfb -displayfd 3 -screen 0 1280x720x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
  pids+=($!)
  local i
  for i in $(seq 1 100); do
    [ -s "$work/display" ] && break
    sleep 0.1
  done
  [ -s "$work/display" ] || fail "Xvfb did not start: $(cat "$work/xvfb.log")"
  export DISPLAY=":$(cat "$work/display")"
}

# xcap's GDI path: the desktop and the monitor are captured (BitBlt).
# Windows are not listed under Wine 8 (its DwmGetWindowAttribute does not
# give DWMWA_EXTENDED_FRAME_BOUNDS, which xcap requires of every window).
capture() {
  local out
  out="$(wine "$exe" sources --sources real)" || fail "roomshare.exe sources exited $?"
  out="${out//$'\r'/}"
  echo "$out"
  grep -q '^0  *desktop .* ok (1280x720)$' <<<"$out" || fail "sources: the desktop is not captured"
  grep -q '^1  *monitor .* ok (1280x720)$' <<<"$out" || fail "sources: the monitor is not captured"
  wine "$exe" snap 0 -o "$work/desktop.png" >/dev/null || fail "roomshare.exe snap 0 exited $?"
  [ "$(identify -format '%wx%h' "$work/desktop.png")" = 1280x720 ] || fail "snap 0: not a 1280x720 PNG"
}

# The console (glow through Wine's OpenGL, Mesa underneath): its window
# appears, and what is on the screen then is not one flat colour.
console() {
  local i spread
  wine "$exe" --sources synthetic >"$work/console.log" 2>&1 &
  pids+=($!)
  for i in $(seq 1 300); do # 30 s
    grep -q 'ready: 5 tiles' "$work/console.log" && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/console.log" >&2; fail "the console exited"; }
    sleep 0.1
  done
  grep -q 'ready: 5 tiles' "$work/console.log" || { cat "$work/console.log" >&2; fail "the console did not get ready within 30 s"; }
  xdotool search --name '^roomshare$' >/dev/null || fail "no window named roomshare on $DISPLAY"
  # "ready" is logged while the first frame is built; Wine presents it a
  # moment later: look again until it is on the screen (30 s at most).
  for i in $(seq 1 60); do
    import -window root "$work/console.png"
    spread="$(convert "$work/console.png" -colorspace Gray -format '%[fx:standard_deviation > 0.1]' info:)"
    [ "$spread" = 1 ] && break
    sleep 0.5
  done
  [ "$spread" = 1 ] || fail "the screen stayed (nearly) one colour for 30 s: the console did not draw"
  echo "the console's window is up and drawn (WINE_CHECK_KEEP=FILE keeps the screenshot)"
  [ -z "${WINE_CHECK_KEEP:-}" ] || cp "$work/console.png" "${WINE_CHECK_KEEP}"
}

dist_zip() {
  scripts/dist.sh --dev
  scripts/dist.sh --check "$target_dir/dist/roomshare-$version-$target.zip"
}

step "cross-build roomshare.exe (dev)" build_exe
step "build the ProcessPrng stand-in" stand_in
step "wineboot -i (a fresh prefix)" prefix
step "roomshare.exe --version" check_version
step "conformance + hostile tests against roomshare.exe serve" served_tests
step "load generator against roomshare.exe serve" served_load
step "Windows CLI against a Linux serve" cli_against_linux
step "the rooms file's secret rule through Windows access lists" secret_rule
with_display
step "capture under Wine + Xvfb" capture
step "the console's window under Wine + Xvfb" console
step "the dist zip" dist_zip
echo "wine-check: timings: $(IFS=,; echo "${timings[*]}" | sed 's/,/; /g')"
echo "wine-check: ok: roomshare.exe runs under $(wine --version), serves like the Linux server, and its CLI talks to a Linux serve"
