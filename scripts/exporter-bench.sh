#!/usr/bin/env bash
# The exporter at scale (docs/benchmarks.md, "One exporter, 2,000 rooms"):
# `roomshare serve --rooms-demo N` in one process, `roomshare rooms
# exporter` following all N rooms in another, then
#   - start to every room known (roomshare_fleet_rooms_known = N),
#   - the exporter's memory (VmRSS, VmHWM),
#   - a scrape's time and size (curl, 20 scrapes),
#   - idle CPU over IDLE seconds with nothing scraping.
#
#   scripts/exporter-bench.sh [target/debug/roomshare] [N=2000] [IDLE=60]
#
# Needs curl. Stops both processes it started (by pid) when it ends.
set -euo pipefail

bin="${1:-target/debug/roomshare}"
rooms="${2:-2000}"
idle="${3:-60}"
dir="$(mktemp -d)"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
# 2 fds a room in the serving process (listener + connection), 1 in the exporter.
ulimit -n "$(ulimit -Hn)"

now() { date +%s.%N; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

"$bin" serve --rooms-demo "$rooms" --port-base 0 --rooms-out "$dir/rooms.toml" \
  >"$dir/serve.out" 2>&1 &
pids+=($!)
until grep -q "roomshare serving" "$dir/serve.out" 2>/dev/null; do sleep 0.2; done

start="$(now)"
"$bin" rooms exporter --rooms "$dir/rooms.toml" --listen 127.0.0.1:0 >"$dir/exporter.out" 2>&1 &
exporter=$!
pids+=("$exporter")
until grep -q "^roomshare exporter" "$dir/exporter.out" 2>/dev/null; do sleep 0.02; done
url="$(sed -n 's/.* on \(http:[^ ]*\) .*/\1/p' "$dir/exporter.out")"
known=0
until [ "$known" = "$rooms" ]; do
  known="$(curl -s "$url" | awk '$1 == "roomshare_fleet_rooms_known" { print $2 }')"
  [ -n "$known" ] || known=0
  sleep 0.05
done
known_at="$(now)"
echo "rooms: $rooms"
printf "start to every room known: %.2f s\n" "$(echo "$known_at - $start" | bc)"

sleep 5
for i in $(seq 20); do
  curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$url"
done | sort -n >"$dir/scrapes"
echo "scrape time (20 scrapes): median $(awk 'NR == 10 { print $1 * 1000 }' "$dir/scrapes") ms, max $(awk 'END { print $1 * 1000 }' "$dir/scrapes") ms"
echo "scrape size: $(awk 'NR == 1 { printf "%.0f KiB", $2 / 1024 }' "$dir/scrapes") ($(curl -s "$url" | wc -l) lines; gzip -6 would make it $(curl -s "$url" | gzip -6 | wc -c | awk '{ printf "%.0f KiB", $1 / 1024 }'))"

hz="$(getconf CLK_TCK)"
t0="$(ticks "$exporter")"
sleep "$idle"
t1="$(ticks "$exporter")"
printf "idle CPU over %s s, no scrapes: %.2f %% of a core\n" "$idle" "$(echo "scale=4; ($t1 - $t0) * 100 / $hz / $idle" | bc)"
grep -E '^(VmRSS|VmHWM)' "/proc/$exporter/status" | awk '{ printf "%s %.1f MiB\n", $1, $2 / 1024 }'
