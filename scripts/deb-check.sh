#!/usr/bin/env bash
# CI's packaging check, after scripts/test.sh: package the dev build
# (scripts/deb.sh --dev), install the .deb with apt (which also pulls in its
# declared dependencies), run the installed /usr/bin/roomshare, check the
# desktop entry and icons landed, and remove the package again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=()
if [ "$(id -u)" -ne 0 ]; then root=(sudo); fi

step() { # name, command...
  local name="$1" start=$SECONDS
  shift
  "$@"
  echo "deb-check: $name: $((SECONDS - start)) s"
}
fail() {
  echo "deb-check: FAIL: $*" >&2
  exit 1
}

version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)"
arch="$(dpkg --print-architecture)"
deb="${CARGO_TARGET_DIR:-target}/debian/roomshare_${version}-1_${arch}.deb"
rm -f "$deb"
step "install cargo-deb (when missing)" scripts/deb.sh --tool
step "cargo deb (package the dev build)" scripts/deb.sh --dev
[ -f "$deb" ] || fail "no $deb"
case "$deb" in /*) ;; *) deb="./$deb" ;; esac # apt wants a path, not a name
dpkg-deb -f "$deb" Package Version Depends

trap '"${root[@]}" apt-get remove -y -qq roomshare >/dev/null 2>&1 || true' EXIT
install_deb() {
  "${root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
}
step "apt-get install the .deb" install_deb
[ "$(command -v roomshare)" = /usr/bin/roomshare ] || fail "roomshare on PATH is $(command -v roomshare), not /usr/bin/roomshare"

out="$(/usr/bin/roomshare --version)"
echo "/usr/bin/roomshare --version: $out"
[ "$out" = "roomshare $version" ] || fail "--version printed '$out', expected 'roomshare $version'"

out="$(/usr/bin/roomshare sources --sources synthetic)"
echo "$out"
head -n 1 <<<"$out" | grep -q '^INDEX *KIND *ID *TITLE' || fail "sources: no table header"
grep -q '^0 *desktop ' <<<"$out" || fail "sources: no desktop source at index 0"
[ "$(grep -c ' window ' <<<"$out")" -ge 1 ] || fail "sources: no synthetic window"

for f in /usr/share/applications/roomshare.desktop \
  /usr/share/icons/hicolor/scalable/apps/roomshare.svg \
  /usr/share/icons/hicolor/{16x16,32x32,48x48,64x64,128x128,256x256,512x512}/apps/roomshare.png; do
  [ -s "$f" ] || fail "$f not installed"
done
if command -v desktop-file-validate >/dev/null 2>&1; then
  desktop-file-validate --no-hints /usr/share/applications/roomshare.desktop
fi
echo "deb-check: ok: $(basename "$deb") installs, /usr/bin/roomshare runs, desktop entry and 8 icons in place"
