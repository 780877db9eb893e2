#!/usr/bin/env bash
# Fuzz every target (or the ones named) for a fixed budget each:
#   scripts/fuzz.sh SECONDS [parse_request|engine ...]
#
# Drivers (FUZZ_DRIVER):
#   libfuzzer  cargo-fuzz + libFuzzer, coverage-guided. Needs nightly flags:
#              on the stable toolchain they are unlocked with RUSTC_BOOTSTRAP=1,
#              and the first build instruments every dependency (long).
#   plain      examples/fuzz_plain.rs: seeded random inputs and mutations of
#              fuzz/seeds/, same checks, no coverage guidance; reuses the
#              normal build (FUZZ_PROFILE=dev|release, default release).
#   auto       libfuzzer if cargo-fuzz is installed and builds, else plain.
# A failing input lands in fuzz/regressions/<target>/, which
# tests/fuzz_regressions.rs replays; the script then exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(parse_request engine)
driver="${FUZZ_DRIVER:-auto}"
profile="${FUZZ_PROFILE:-release}"
sanitizer="${FUZZ_SANITIZER:-none}"   # safe Rust: coverage is what we need; `address` works too

if [ "$driver" = auto ]; then
  if cargo fuzz --version >/dev/null 2>&1 &&
     (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -s "$sanitizer" >/tmp/roomshare-fuzz-build.log 2>&1); then
    driver=libfuzzer
  else
    echo "fuzz.sh: libFuzzer unavailable (cargo-fuzz missing or its build failed, see /tmp/roomshare-fuzz-build.log); using the plain driver" >&2
    driver=plain
  fi
fi

status=0
case "$driver" in
  libfuzzer)
    for t in "${targets[@]}"; do
      mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t"
      echo "== libFuzzer: $t for ${secs}s =="
      # corpus/ first: libFuzzer adds new inputs to the first directory only.
      if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
              -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1); then
        status=1
        for f in fuzz/artifacts/"$t"/*; do
          [ -f "$f" ] && cp -v "$f" "fuzz/regressions/$t/" && rm -f "$f"
        done
      fi
    done
    ;;
  plain)
    flag=()
    [ "$profile" = release ] && flag=(--release)
    cargo build -q "${flag[@]}" --example fuzz_plain
    bin="${CARGO_TARGET_DIR:-target}/$([ "$profile" = release ] && echo release || echo debug)/examples/fuzz_plain"
    for t in "${targets[@]}"; do
      echo "== plain driver: $t for ${secs}s =="
      "$bin" "$t" "$secs" || status=1
    done
    ;;
  *)
    echo "fuzz.sh: FUZZ_DRIVER must be auto, libfuzzer or plain" >&2
    exit 2
    ;;
esac
if [ $status -ne 0 ]; then
  echo "fuzz.sh: a property was violated; the input is in fuzz/regressions/ (replayed by tests/fuzz_regressions.rs)" >&2
fi
exit $status
