#!/usr/bin/env bash
# Does scripts/deps.sh bring a fresh machine to a working Rust + package
# set? For each release: debootstrap a minimal system (once, kept as
# FRESH_ROOT/<suite>.base), copy it to FRESH_ROOT/<suite>, put a clean clone
# of this repository's HEAD in ~/roomshare, run scripts/deps.sh in a
# chroot, then check cargo, rustfmt and clippy and every package; a second
# run of deps.sh must print nothing. Not run by CI (needs root, debootstrap
# and ~2.5 GB a release).
#
#   sudo scripts/fresh-machine-check.sh                  # bookworm trixie
#   sudo scripts/fresh-machine-check.sh jammy noble      # Ubuntu too
#   sudo BUILD=1 scripts/fresh-machine-check.sh bookworm # + cargo build --bin roomshare
#   sudo PREINSTALL=cargo scripts/fresh-machine-check.sh bookworm
#        # apt packages put there first: Debian's own (too old) cargo here
#   sudo AS_USER=dev scripts/fresh-machine-check.sh bookworm
#        # deps.sh run by a user with sudo rather than by root
#   FRESH_ROOT=/work/fresh (default /var/tmp/roomshare-fresh; not in the repo)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
fresh="${FRESH_ROOT:-/var/tmp/roomshare-fresh}"
build="${BUILD:-0}"
preinstall="${PREINSTALL:-}"
as_user="${AS_USER:-}"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-machine-check: needs root (debootstrap, chroot, mount)" >&2
  exit 1
fi
case "$(realpath -m "$fresh")/" in
  "$repo"/*) echo "fresh-machine-check: FRESH_ROOT must be outside the repository" >&2; exit 1 ;;
esac
command -v debootstrap >/dev/null 2>&1 || apt-get install -y -qq debootstrap >/dev/null
mkdir -p "$fresh"
commit="$(git rev-parse HEAD)"
if ! git diff --quiet HEAD; then
  echo "fresh-machine-check: note: uncommitted changes are not checked (HEAD $commit is)" >&2
fi

mounted=()
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true
  done
  mounted=()
}
trap unmount_all EXIT
mount_in() { # TYPE-or-bind SOURCE TARGET
  mkdir -p "$3"
  if [ "$1" = bind ]; then mount --bind "$2" "$3"; else mount -t "$1" "$2" "$3"; fi
  mounted+=("$3")
}

base_of() { # suite -> debootstrap arguments' mirror, components, keyring
  case "$1" in
    jammy | noble)
      mirror=http://archive.ubuntu.com/ubuntu
      sources="deb $mirror $1 main universe
deb $mirror $1-updates main universe
deb $mirror $1-security main universe"
      keyring=(--no-check-gpg) # Debian 12 has no Ubuntu keyring; apt in the chroot checks
      script=(/usr/share/debootstrap/scripts/gutsy) # every Ubuntu release's script (older debootstraps lack noble)
      ;;
    *)
      mirror=http://deb.debian.org/debian
      sources="deb $mirror $1 main
deb $mirror $1-updates main
deb http://deb.debian.org/debian-security $1-security main"
      keyring=()
      script=()
      ;;
  esac
}

in_chroot() { # root, user, command...
  local root="$1" user="$2" home=/root spec=()
  shift 2
  if [ "$user" != root ]; then
    home="/home/$user"
    spec=(--userspec="$(chroot "$root" id -u "$user"):$(chroot "$root" id -g "$user")")
  fi
  chroot "${spec[@]}" "$root" /usr/bin/env -i HOME="$home" USER="$user" TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd ~/roomshare && $*"
}

status=0
for suite in "${suites[@]}"; do
  base_of "$suite"
  name="$suite"
  [ -z "$preinstall" ] || name+="+${preinstall// /+}"
  [ -z "$as_user" ] || name+="+$as_user"
  root="$fresh/$name"
  user="${as_user:-root}"
  echo "=== $suite: $root"
  if [ ! -e "$fresh/$suite.base/etc/os-release" ]; then
    echo "--- debootstrap --variant=minbase ${keyring[*]} $suite $mirror"
    rm -rf "$fresh/$suite.base"
    debootstrap --variant=minbase "${keyring[@]}" "$suite" "$fresh/$suite.base" "$mirror" "${script[@]}" \
      >"$fresh/debootstrap-$suite.log" 2>&1 ||
      { echo "debootstrap failed: tail $fresh/debootstrap-$suite.log" >&2; tail -n 5 "$fresh/debootstrap-$suite.log" >&2; status=1; continue; }
  fi
  rm -rf "$root"
  cp -a "$fresh/$suite.base" "$root"
  printf '%s\n' "$sources" >"$root/etc/apt/sources.list"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  cp /etc/hostname /etc/hosts "$root/etc/" # as a real machine has (sudo looks its name up)
  # This host's trusted CAs, as a local CA of the fresh system: where a
  # proxy intercepts TLS (as on the machine this was written on), a fresh
  # system on that network needs it too. update-ca-certificates adds it
  # when deps.sh installs ca-certificates. HOST_CA=0 skips it.
  if [ "${HOST_CA:-1}" = 1 ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/host-bundle.crt"
  fi
  mount_in proc proc "$root/proc"
  mount_in sysfs sys "$root/sys"
  mount_in bind /dev "$root/dev"
  mount_in bind /dev/pts "$root/dev/pts"
  extra="$preinstall"
  [ -z "$as_user" ] || extra+=" sudo"
  if [ -n "$extra" ]; then
    echo "--- set up first: apt-get install ${extra# }${as_user:+; user $as_user with passwordless sudo}"
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      bash -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $extra >/dev/null"
  fi
  if [ -n "$as_user" ]; then
    chroot "$root" useradd -m -s /bin/bash "$as_user"
    echo "$as_user ALL=(ALL) NOPASSWD:ALL" >"$root/etc/sudoers.d/$as_user"
    checkout="$root/home/$as_user/roomshare"
  else
    checkout="$root/root/roomshare"
  fi
  git clone -q --no-hardlinks "$repo" "$checkout"
  git -C "$checkout" checkout -q --detach "$commit"
  [ -z "$as_user" ] || chroot "$root" chown -R "$as_user:$as_user" "/home/$as_user/roomshare"

  grep PRETTY_NAME "$root/etc/os-release"
  echo "--- scripts/deps.sh (first run)"
  start=$SECONDS
  if in_chroot "$root" "$user" 'bash scripts/deps.sh'; then
    echo "--- first run took $((SECONDS - start)) s"
  else
    echo "FAIL: scripts/deps.sh on $suite" >&2
    status=1
    unmount_all
    continue
  fi
  echo "--- versions and packages"
  # shellcheck disable=SC2016 # expanded in the chroot
  in_chroot "$root" "$user" 'out="$(source scripts/deps.sh 2>&1)"
    [ -z "$out" ] && echo "second run: silent" || { echo "second run printed: $out"; exit 1; }
    source scripts/deps.sh
    echo "cargo:  $(command -v cargo)"; cargo --version; cargo fmt --version; cargo clippy --version; rustc --version
    bad=0
    for p in "${roomshare_packages[@]}"; do
      s="$(dpkg-query -W -f="\${db:Status-Status} \${Version}" "$p" 2>/dev/null || true)"
      case "$s" in installed*) ;; *) echo "NOT INSTALLED: $p"; bad=1 ;; esac
    done
    echo "packages: ${#roomshare_packages[@]} listed, $([ $bad = 0 ] && echo all || echo NOT all) installed"
    exit $bad' || { echo "FAIL: checks on $suite" >&2; status=1; }
  if [ "$build" = 1 ]; then
    echo "--- cargo build --bin roomshare"
    start=$SECONDS
    # shellcheck disable=SC2016
    in_chroot "$root" "$user" 'source scripts/deps.sh && cargo build --locked --bin roomshare 2>&1 | tail -n 3 &&
      target/debug/roomshare --version' || { echo "FAIL: build on $suite" >&2; status=1; }
    echo "--- build took $((SECONDS - start)) s"
  fi
  unmount_all
done
exit $status
