#!/usr/bin/env bash
# The Windows download (make dist): target/dist/roomshare-<version>-
# x86_64-pc-windows-gnu.zip, one folder of that name holding roomshare.exe
# (stripped), README.md and the licence texts (LICENSE-MIT,
# LICENSE-APACHE: Cargo.toml's "MIT OR Apache-2.0"). Cross-built on Linux
# with mingw-w64 (linker: .cargo/config.toml); the .deb is `make deb`.
#   scripts/dist.sh              release build, then the zip (make dist)
#   scripts/dist.sh --dev        zip the dev exe that is already there (CI:
#                                the one scripts/wine-check.sh ran)
#   scripts/dist.sh --check ZIP  ZIP holds exactly those four files, and
#                                its exe is a Windows x86-64 program
# CARGO=/path/to/cargo runs another cargo (a wrapper).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo="${CARGO:-cargo}"
target=x86_64-pc-windows-gnu
target_dir="${CARGO_TARGET_DIR:-target}"
version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)"
name="roomshare-$version-$target"
docs=(README.md LICENSE-MIT LICENSE-APACHE)

fail() {
  echo "dist: $*" >&2
  exit 1
}
for tool in x86_64-w64-mingw32-strip zip unzip; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found; scripts/deps.sh installs it (gcc-mingw-w64-x86-64, zip, unzip)"
done

# Stage the folder and zip it; the zip's path on stdout.
package() { # exe
  local stage="$target_dir/dist/stage" zipfile="$target_dir/dist/$name.zip"
  rm -rf "$stage" "$zipfile"
  mkdir -p "$stage/$name"
  # Line tables stay with the build, not in the download.
  x86_64-w64-mingw32-strip -o "$stage/$name/roomshare.exe" "$1"
  cp "${docs[@]}" "$stage/$name/"
  (cd "$stage" && zip -q -r -X "../$name.zip" "$name")
  rm -rf "$stage"
  echo "$zipfile"
}

check() { # zip
  local zipfile="$1" want got
  [ -f "$zipfile" ] || fail "no $zipfile"
  want="$(printf '%s\n' "$name/" "$name/roomshare.exe" "${docs[@]/#/$name/}" | sort)"
  got="$(unzip -Z1 "$zipfile" | sort)"
  [ "$got" = "$want" ] || fail "$zipfile holds:
$got
expected:
$want"
  local unpacked
  unpacked="$(mktemp -d)"
  unzip -q "$zipfile" -d "$unpacked"
  for f in "${docs[@]}"; do
    cmp -s "$unpacked/$name/$f" "$f" || { rm -rf "$unpacked"; fail "$name/$f in the zip differs from $f"; }
  done
  # A PE32+ executable for x86-64 (MZ, then PE, machine 0x8664).
  python3 - "$unpacked/$name/roomshare.exe" <<'EOF' || { rm -rf "$unpacked"; fail "$name/roomshare.exe is not a Windows x86-64 executable"; }
import struct, sys
head = open(sys.argv[1], "rb").read(4096)
assert head[:2] == b"MZ"
pe = struct.unpack_from("<I", head, 0x3C)[0]
assert head[pe:pe + 4] == b"PE\0\0"
assert struct.unpack_from("<H", head, pe + 4)[0] == 0x8664
EOF
  rm -rf "$unpacked"
  echo "dist: $zipfile: roomshare.exe (x86-64), ${docs[*]}"
}

case "${1:-}" in
  "")
    "$cargo" build --locked --release --target "$target" --bin roomshare
    check "$(package "$target_dir/$target/release/roomshare.exe")"
    ;;
  --dev)
    exe="$target_dir/$target/debug/roomshare.exe"
    [ -f "$exe" ] || fail "no $exe; build it first (cargo build --target $target)"
    package "$exe" >/dev/null
    ;;
  --check)
    [ $# -eq 2 ] || fail "usage: scripts/dist.sh --check ZIP"
    check "$2"
    ;;
  *) fail "usage: scripts/dist.sh [--dev | --check ZIP]" ;;
esac
