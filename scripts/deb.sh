#!/usr/bin/env bash
# Build the Debian package with cargo-deb ([package.metadata.deb] in
# Cargo.toml): target/debian/roomshare_<version>-1_<arch>.deb.
#   scripts/deb.sh         release build, then the package (make deb)
#   scripts/deb.sh --dev   package the dev binary that is already there
#                          (CI: the one scripts/test.sh built and tested)
#   scripts/deb.sh --tool  only install cargo-deb
# Installs the pinned cargo-deb with `cargo install` when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

# Pinned: cargo-deb warns that --profile dev will become an error one day.
cargo_deb_version=3.8.0
if [ "$(cargo deb --version 2>/dev/null)" != "cargo-deb $cargo_deb_version" ]; then
  echo "roomshare: installing cargo-deb $cargo_deb_version with cargo install (it builds the .deb; once, a minute or two)" >&2
  # Its own temporary target dir, not this project's CARGO_TARGET_DIR.
  env -u CARGO_TARGET_DIR cargo install --locked --quiet --version "$cargo_deb_version" cargo-deb
fi

case "${1:-}" in
  --tool) ;;
  --dev)
    # No `cargo build` here: after `cargo test --all-targets` a bin-only
    # build resolves other features (no dev-dependencies) and recompiles
    # much of the tree (5 min in CI). The tested binary is the one to ship.
    bin="${CARGO_TARGET_DIR:-target}/debug/roomshare"
    if [ ! -x "$bin" ]; then
      echo "roomshare: no $bin; build it first (scripts/test.sh or cargo build)" >&2
      exit 1
    fi
    # --fast, --no-dbgsym: this package is installed and thrown away, not shipped.
    cargo deb --no-build --profile dev --fast --no-dbgsym --quiet
    ;;
  "")
    cargo deb --locked
    ;;
  *)
    echo "usage: scripts/deb.sh [--dev | --tool]" >&2
    exit 2
    ;;
esac
