#!/usr/bin/env bash
# Lint roomshare for the other platforms it ships on, from this Linux
# machine: Windows (x86_64, GNU toolchain) and macOS (Intel and Apple
# silicon). `cargo clippy --all-targets -- -D warnings` type-checks every
# `cfg`-gated line of those builds (the Win32 file ACL check, xcap's
# Windows and macOS paths) and keeps them lint-clean; nothing is linked, so
# no macOS SDK is needed. The one build script that compiles C for them
# (alloca, under criterion) includes only <stddef.h> and <stdint.h>: for
# macOS the clang scripts/deps.sh installs builds it with its own
# freestanding headers. For Windows it is mingw-w64's gcc (cc's default for
# the target), as for scripts/wine-check.sh's real build: the same compiler
# for both, so neither makes the other rebuild.
#
#     scripts/cross-check.sh            # all three targets
#     scripts/cross-check.sh TARGET...  # some of them
#
# CI runs it after the tests (.ci/run). The standard libraries come through
# rustup, once per machine.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deps.sh
source scripts/deps.sh
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-pc-windows-gnu x86_64-apple-darwin aarch64-apple-darwin)
command -v rustup >/dev/null || { echo "cross-check: needs rustup for the other targets' standard libraries (https://rustup.rs)" >&2; exit 2; }
installed="$(rustup target list --installed)"
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
for t in "${targets[@]}"; do
  case "$t" in
    *-windows-gnu)
      command -v x86_64-w64-mingw32-gcc >/dev/null ||
        { echo "cross-check: x86_64-w64-mingw32-gcc not found; scripts/deps.sh installs it (gcc-mingw-w64-x86-64)" >&2; exit 2; }
      ;;
    *)
      var="${t//-/_}"
      export "CC_$var=clang" "CFLAGS_$var=-ffreestanding"
      ;;
  esac
done
for t in "${targets[@]}"; do
  echo "== cargo clippy --target $t --all-targets -- -D warnings" >&2
  cargo clippy --quiet --target "$t" --all-targets -- -D warnings
done
echo "cross-check: clippy clean for ${targets[*]}" >&2
