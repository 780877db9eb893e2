#!/usr/bin/env bash
# Run a command inside a real, headless Wayland session, as a Debian 12
# desktop has it: sway (wlroots, headless backend, pixman renderer) with one
# 1280x720 output painted solid red, a private D-Bus session bus, PipeWire +
# WirePlumber, and xdg-desktop-portal with the wlr backend set to pick that
# output without a dialog (chooser_type=none).
#
#   scripts/wayland-session.sh CMD [ARGS...]
#
# CMD runs with WAYLAND_DISPLAY set and DISPLAY unset (no XWayland), HOME and
# XDG_CONFIG_HOME in a temporary folder, XDG_CURRENT_DESKTOP=sway. Its exit
# status is the script's. WL_LOGS=DIR keeps sway's, PipeWire's and
# WirePlumber's logs there (default: a temporary folder).
#
# Needs (Debian; scripts/deps.sh installs them): sway swaybg
#   xdg-desktop-portal xdg-desktop-portal-wlr pipewire wireplumber dbus grim
#   (grim takes screenshots of the session).
#
# sway refuses to run as root, so as root everything runs as the user
# `wltest` (created if missing): files CMD reads or writes must be reachable
# by that user (e.g. under /tmp).
#
# Known limit: xdg-desktop-portal-wlr 0.7 needs a DMA-BUF capable renderer for
# ScreenCast; under this headless pixman renderer its Start fails ("unable to
# receive a valid format from wlr_screencopy", upstream issue 289), so the
# portal's ScreenCast always refuses here. Screenshots with grim work.
#
# From the team's tools (../shared/tools/wayland-session.sh), with waits on
# conditions instead of fixed sleeps.
set -u
if [ "$(id -u)" = 0 ]; then
  id wltest >/dev/null 2>&1 || useradd -m -s /bin/bash wltest
  exec runuser -u wltest -- env PATH="$PATH" WL_LOGS="${WL_LOGS:-}" "$(readlink -f "$0")" "$@"
fi
if [ -z "${WL_INNER:-}" ]; then
  export WL_INNER=1
  exec dbus-run-session -- "$0" "$@"
fi
for tool in sway pipewire wireplumber dbus-update-activation-environment; do
  command -v "$tool" >/dev/null || { echo "wayland-session: $tool is missing (bash scripts/deps.sh installs it)" >&2; exit 91; }
done
export XDG_RUNTIME_DIR=$(mktemp -d); chmod 700 "$XDG_RUNTIME_DIR"
export HOME=$(mktemp -d); export XDG_CONFIG_HOME=$HOME/.config
mkdir -p "$XDG_CONFIG_HOME/sway" "$XDG_CONFIG_HOME/xdg-desktop-portal-wlr"
cat >"$XDG_CONFIG_HOME/sway/config" <<CFG
output HEADLESS-1 resolution 1280x720 position 0 0 bg #ff0000 solid_color
default_border none
CFG
cat >"$XDG_CONFIG_HOME/xdg-desktop-portal-wlr/config" <<CFG
[screencast]
chooser_type=none
output_name=HEADLESS-1
max_fps=30
CFG
unset DISPLAY WAYLAND_DISPLAY
export WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman
export XDG_CURRENT_DESKTOP=sway XDG_SESSION_TYPE=wayland XDG_SESSION_DESKTOP=sway
LOGS=${WL_LOGS:-$(mktemp -d)}

# Wait up to 5 s for a file to appear in the runtime dir; its name, or "".
await() {
  local found=""
  for _ in $(seq 1 50); do
    found=$(ls "$XDG_RUNTIME_DIR" 2>/dev/null | grep -m1 -x "$1") && break
    sleep 0.1
  done
  echo "$found"
}

pipewire >"$LOGS/pipewire.log" 2>&1 & PW=$!
[ -n "$(await 'pipewire-0')" ] || { echo "pipewire did not start:"; tail -5 "$LOGS/pipewire.log"; kill $PW; exit 90; }
wireplumber >"$LOGS/wireplumber.log" 2>&1 & WP=$!
sway -c "$XDG_CONFIG_HOME/sway/config" >"$LOGS/sway.log" 2>&1 & SW=$!
s=$(await 'wayland-[0-9]*')
[ -n "$s" ] || { echo "sway did not start:"; tail -5 "$LOGS/sway.log"; kill $PW $WP $SW 2>/dev/null; exit 90; }
export WAYLAND_DISPLAY=$s
# The portals start on demand through D-Bus activation, with this environment.
dbus-update-activation-environment HOME XDG_CONFIG_HOME WAYLAND_DISPLAY XDG_CURRENT_DESKTOP \
  XDG_SESSION_TYPE XDG_RUNTIME_DIR PATH 2>/dev/null
"$@"; rc=$?
kill $SW $WP $PW 2>/dev/null; wait 2>/dev/null
exit $rc
