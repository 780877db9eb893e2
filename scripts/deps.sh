#!/usr/bin/env bash
# Install what roomshare needs on Debian 12/13 and Ubuntu 22.04/24.04: the
# C libraries xcap and eframe build against, an X server + window manager
# for the capture and desktop tests, Mesa for offscreen rendering, a CJK
# font, and a Rust toolchain at least as new as Cargo.toml's rust-version,
# with rustfmt and clippy (through rustup: Debian's own cargo is too old).
#
# Sourced by run.sh and test.sh (it exports PATH); `bash scripts/deps.sh`
# works too. Idempotent and silent when everything is there; otherwise it
# says in one line what it installs and why. Runs as root, or as a user
# with sudo (apt only: the Rust toolchain goes to that user's ~/.cargo).
set -euo pipefail

# Every name exists on all four supported releases (e.g. libegl-dev, not the
# transitional libegl1-mesa-dev). curl and ca-certificates: for rustup and
# crates.io on a minimal system. scripts/fresh-machine-check.sh reads this.
roomshare_packages=(
  build-essential pkg-config clang libclang-dev curl ca-certificates
  libpipewire-0.3-dev libgbm-dev libwayland-dev libegl-dev
  libxkbcommon-dev libxkbcommon-x11-0 libx11-dev libxrandr-dev
  libxcb1-dev libxcb-randr0-dev libxcb-shm0-dev libxcb-xfixes0-dev
  libgl1-mesa-dri mesa-vulkan-drivers libvulkan1
  xvfb openbox xdotool x11-utils x11-xserver-utils imagemagick python3-tk
  fonts-noto-cjk
  # The Wayland portal tests: a private D-Bus and PipeWire with test sources.
  dbus pipewire pipewire-bin wireplumber
  gstreamer1.0-pipewire gstreamer1.0-tools gstreamer1.0-plugins-base
  # tests/portal_frontend.rs: the real portal frontend and its permission
  # store (/usr/libexec/xdg-desktop-portal, xdg-permission-store). Having it
  # installed (and -wlr, below) also proves the private buses are hermetic
  # (issue 16): the whole suite must pass with a desktop's portal on the
  # machine.
  xdg-desktop-portal
  # tests/wayland_console.rs and scripts/wayland-session.sh: the console in
  # a real headless Wayland session (sway) with the real portal and its wlr
  # backend (whose ScreenCast refuses there), screenshots with grim.
  sway swaybg xdg-desktop-portal-wlr grim
  # tests/keychain.rs: a real Secret Service (gnome-keyring-daemon) on a
  # private session bus, and secret-tool to read what roomshare stored.
  gnome-keyring libsecret-tools
  # tests/exporter.rs: promtool, a real Prometheus and Alertmanager (the
  # tests start their own on loopback ports; where systemd runs, the
  # packages' own services also start, on 9090 and 9093).
  prometheus prometheus-alertmanager
  # scripts/wine-check.sh and make dist (scripts/dist.sh): roomshare.exe
  # cross-linked with mingw-w64, run under Wine (wine64 is the 64-bit
  # loader, wine the `wine` command), zipped.
  gcc-mingw-w64-x86-64 wine wine64 zip unzip
)

_roomshare_deps() {
  local root=() missing=() p
  if [ "$(id -u)" -ne 0 ]; then root=(sudo); fi
  local cargo_toml
  cargo_toml="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/Cargo.toml"

  # --- Debian packages --------------------------------------------------
  for p in "${roomshare_packages[@]}"; do
    _roomshare_installed "$p" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    _roomshare_need_root "${root[@]}"
    echo "roomshare: installing ${#missing[@]} Debian packages it builds and tests against: ${missing[*]}" >&2
    "${root[@]}" apt-get update -qq
    local none=()
    for p in "${missing[@]}"; do
      _roomshare_candidate "$p" || none+=("$p")
    done
    if [ ${#none[@]} -gt 0 ]; then
      echo "roomshare: no install candidate for ${none[*]} on $(_roomshare_os)." \
        "Supported: Debian 12 and 13, Ubuntu 22.04 and 24.04 (on Ubuntu enable" \
        "universe: sudo add-apt-repository universe)." >&2
      return 1
    fi
    "${root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi

  # --- Rust -------------------------------------------------------------
  local need have why
  need="$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$cargo_toml")"
  [ -n "$need" ] || { echo "roomshare: no rust-version in $cargo_toml" >&2; return 1; }
  _roomshare_cargo_path
  have="$(_roomshare_rustc_version)"
  if [ -z "$have" ]; then
    why="no Rust toolchain found"
  elif ! _roomshare_version_ge "$have" "$need"; then
    if [ "$(command -v cargo)" = /usr/bin/cargo ] && _roomshare_installed cargo; then
      why="$(_roomshare_os_name)'s own cargo and rustc $have are older than the $need roomshare needs"
    else
      why="Rust $have is older than the $need roomshare needs"
    fi
  else
    why=""
  fi

  if [ -n "$why" ]; then
    if command -v rustup >/dev/null 2>&1; then
      echo "roomshare: installing Rust stable ($need+) with rustfmt and clippy through the existing rustup ($why)" >&2
      _roomshare_rustup_stable "$need"
    elif _roomshare_candidate rustup && ! _roomshare_rust_debs; then
      _roomshare_need_root "${root[@]}"
      echo "roomshare: installing Rust stable ($need+) with rustfmt and clippy through apt's rustup ($why)" >&2
      "${root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends rustup >/dev/null
      hash -r
      _roomshare_rustup_stable "$need"
    else
      echo "roomshare: installing Rust stable ($need+) with rustfmt and clippy through rustup from static.rust-lang.org ($why)" >&2
      _roomshare_rustup_init
    fi
    _roomshare_cargo_path
    hash -r
    have="$(_roomshare_rustc_version)"
    if [ -z "$have" ] || ! _roomshare_version_ge "$have" "$need"; then
      echo "roomshare: Rust $need+ still not found after installing (rustc: ${have:-none}, PATH=$PATH)" >&2
      return 1
    fi
  fi

  # rustfmt and clippy: test.sh runs cargo fmt; make lint runs clippy.
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    if ! command -v rustup >/dev/null 2>&1; then
      echo "roomshare: rustfmt or clippy is missing and there is no rustup to add them (install them for $(command -v cargo))" >&2
      return 1
    fi
    echo "roomshare: adding rustfmt and clippy to the Rust toolchain (cargo fmt and cargo clippy need them)" >&2
    rustup component add rustfmt clippy
  fi
}

# Installed (not merely known, nor removed with its configuration kept).
_roomshare_installed() {
  dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qx installed
}

# apt can install it: `apt-cache show` also succeeds for a package that has
# no candidate (rustup on Debian 12), so ask apt-cache policy.
_roomshare_candidate() {
  LC_ALL=C apt-cache policy "$1" 2>/dev/null |
    awk '$1 == "Candidate:" { c = $2 } END { exit !(c != "" && c != "(none)") }'
}

_roomshare_need_root() {
  if [ $# -gt 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "roomshare: packages are missing; run scripts/deps.sh as root or install sudo" >&2
    return 1
  fi
}

_roomshare_os() {
  (. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-this system}") || echo "this system"
}

# "Debian", "Ubuntu", ...
_roomshare_os_name() {
  (. /etc/os-release 2>/dev/null && echo "${NAME%% *}") || echo "the system"
}

# rustup's bin directory first, so that it wins over a system cargo.
_roomshare_cargo_path() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin"
  if [ -d "$bin" ] && [ "${PATH%%:*}" != "$bin" ]; then
    export PATH="$bin:$PATH"
  fi
}

# Debian/Ubuntu Rust packages that apt's rustup conflicts with: installing
# it would remove them, so then rustup-init goes to ~/.cargo instead.
_roomshare_rust_debs() {
  local p
  for p in rustc cargo rustfmt rust-clippy rustc-web cargo-web; do
    _roomshare_installed "$p" && return 0
  done
  return 1
}

# Stable (minimal + rustfmt + clippy) through rustup, made the default when
# the current default is older than $1 (a fresh rustup defaults to the first
# toolchain installed). --no-self-update: Ubuntu 24.04's packaged rustup 1.26
# otherwise fails the install looking for itself in ~/.cargo.
_roomshare_rustup_stable() {
  local v
  rustup toolchain install --no-self-update stable --profile minimal -c rustfmt -c clippy
  hash -r
  v="$(_roomshare_rustc_version)"
  if [ -z "$v" ] || ! _roomshare_version_ge "$v" "$1"; then
    rustup default stable
  fi
}

# "1.95.0" when rustc and cargo both run, else nothing.
_roomshare_rustc_version() {
  command -v cargo >/dev/null 2>&1 && cargo --version >/dev/null 2>&1 || return 0
  rustc --version 2>/dev/null | awk '{ print $2 }' | sed 's/-.*//'
}

# $1 >= $2, as versions (1.100 > 1.95).
_roomshare_version_ge() {
  printf '%s\n%s\n' "$2" "$1" | sort -V -C
}

# rustup-init for this machine from static.rust-lang.org, checked against
# its published SHA-256, then the stable toolchain (minimal + fmt + clippy).
_roomshare_rustup_init() {
  local triple tmp url sum
  case "$(uname -m)" in
    x86_64) triple=x86_64-unknown-linux-gnu ;;
    aarch64 | arm64) triple=aarch64-unknown-linux-gnu ;;
    armv7l) triple=armv7-unknown-linux-gnueabihf ;;
    i686 | i386) triple=i686-unknown-linux-gnu ;;
    ppc64le) triple=powerpc64le-unknown-linux-gnu ;;
    s390x) triple=s390x-unknown-linux-gnu ;;
    riscv64) triple=riscv64gc-unknown-linux-gnu ;;
    *) echo "roomshare: no rustup-init for $(uname -m); install Rust from https://rustup.rs" >&2; return 1 ;;
  esac
  url="https://static.rust-lang.org/rustup/dist/$triple/rustup-init"
  tmp="$(mktemp -d)"
  curl --proto '=https' --tlsv1.2 -sSf --retry 3 -o "$tmp/rustup-init" "$url"
  curl --proto '=https' --tlsv1.2 -sSf --retry 3 -o "$tmp/rustup-init.sha256" "$url.sha256"
  sum="$(awk '{ print $1; exit }' "$tmp/rustup-init.sha256")"
  if ! echo "$sum  $tmp/rustup-init" | sha256sum -c --quiet -; then
    echo "roomshare: $url does not match its .sha256; not running it" >&2
    rm -rf "$tmp"
    return 1
  fi
  chmod +x "$tmp/rustup-init"
  # Its closing how-to goes to stdout: replaced by the one line below.
  # SKIP_PATH_CHECK: a system cargo may stay; ~/.cargo/bin comes first.
  RUSTUP_INIT_SKIP_PATH_CHECK=yes "$tmp/rustup-init" -y --quiet --profile minimal \
    --default-toolchain stable -c rustfmt -c clippy >/dev/null
  rm -rf "$tmp"
  echo "roomshare: Rust is in ~/.cargo/bin, on PATH in new shells (rustup added it to ~/.profile and ~/.bashrc); in this one: . \"\$HOME/.cargo/env\"" >&2
}

_roomshare_deps
unset -f _roomshare_deps _roomshare_installed _roomshare_candidate _roomshare_need_root \
  _roomshare_os _roomshare_os_name _roomshare_cargo_path _roomshare_rust_debs _roomshare_rustup_stable _roomshare_rustc_version _roomshare_version_ge \
  _roomshare_rustup_init
