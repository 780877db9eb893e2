#!/usr/bin/env bash
# Install what roomshare needs on Debian/Ubuntu: the C libraries xcap and
# eframe build against, an X server + window manager for the capture and
# desktop tests, Mesa for offscreen rendering, a CJK font, and a Rust
# toolchain when none is present. Idempotent: does nothing when all is there.
set -euo pipefail

packages=(
  build-essential pkg-config clang libclang-dev
  libpipewire-0.3-dev libgbm-dev libwayland-dev libegl1-mesa-dev
  libxkbcommon-dev libxkbcommon-x11-0 libx11-dev libxrandr-dev
  libxcb1-dev libxcb-randr0-dev libxcb-shm0-dev libxcb-xfixes0-dev
  libgl1-mesa-dri mesa-vulkan-drivers libvulkan1
  xvfb openbox xdotool x11-utils imagemagick
  fonts-noto-cjk
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "roomshare: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "roomshare: no Rust toolchain found; installing rustup (stable)" >&2
  if apt-cache show rustup >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq rustup >/dev/null
  else
    command -v curl >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq curl >/dev/null
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  fi
  export PATH="$HOME/.cargo/bin:$PATH"
  rustup default stable
fi
