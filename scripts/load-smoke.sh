#!/usr/bin/env bash
# The short load and fuzz runs CI does (about 1.5 minutes after the build):
#   scenario (a): 20 clients × 200 mixed requests against `roomshare serve`
#   scenario (b): 100 subscribers each receiving 20 share events
#   30 s of the plain fuzz driver per target (FUZZ_SECS; 0 skips)
# Exits non-zero on any error, lost response or missing event, or on a
# fuzz failure. LOAD_SERVER=inproc measures Server::start in-process
# instead of the `serve` binary.
set -euo pipefail
cd "$(dirname "$0")/.."
server="${LOAD_SERVER:-serve}"
cargo build -q --bin roomshare --example loadgen
lg="${CARGO_TARGET_DIR:-target}/debug/examples/loadgen"

echo "== load smoke (a): mixed requests =="
"$lg" mix --server "$server" --clients 20 --requests 200
echo "== load smoke (b): subscribers =="
"$lg" fanout --server "$server" --subscribers 100 --events 20 --interval-ms 10

secs="${FUZZ_SECS:-30}"
if [ "$secs" != 0 ]; then
  echo "== fuzz smoke: ${secs}s per target =="
  FUZZ_DRIVER="${FUZZ_DRIVER:-plain}" FUZZ_PROFILE="${FUZZ_PROFILE:-dev}" scripts/fuzz.sh "$secs"
fi
