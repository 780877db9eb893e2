#!/usr/bin/env bash
# Render assets/roomshare.svg to the PNG sizes desktops use:
# assets/icons/roomshare-<N>.png for N in 16 32 48 64 128 256 512 (square,
# RGBA). The PNGs are committed; run this after editing the SVG.
# Needs rsvg-convert (Debian package librsvg2-bin).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v rsvg-convert >/dev/null 2>&1; then
  echo "render-icons: rsvg-convert not found; install it: sudo apt-get install librsvg2-bin" >&2
  exit 1
fi
mkdir -p assets/icons
for n in 16 32 48 64 128 256 512; do
  rsvg-convert --width "$n" --height "$n" --format png \
    --output "assets/icons/roomshare-$n.png" assets/roomshare.svg
done
echo "render-icons: $(rsvg-convert --version): 7 PNGs in assets/icons/"
