#!/usr/bin/env bash
# bench-events.sh: event ingestion over HTTP: wrk POSTs batches of 100 events to a release
# `quiver serve` on the embedded store (each batch durable in SQLite before its answer).
#   DUR=10s CONNS=32 ROUNDS=3 EVENT_USER_GROUPS=5000 scripts/bench-events.sh
# EVENT_USER_GROUPS x 100 distinct users (default 500,000: far more than stay resident, so the
# engine evicts constantly; 200 gives 20,000 users that all stay resident).
# Prints requests/s, events/s (= 100 x requests/s) and latency percentiles per round.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
DUR=${DUR:-10s}; CONNS=${CONNS:-32}; ROUNDS=${ROUNDS:-3}
OUT=${OUT:-/tmp/quiver-bench-events}
rm -rf "$OUT"; mkdir -p "$OUT"
command -v wrk >/dev/null || scripts/setup.sh --test
swift build -c release --product quiver >/dev/null
export EVENT_USER_GROUPS=${EVENT_USER_GROUPS:-5000}
port=$(( 20000 + RANDOM % 10000 ))
.build/release/quiver serve --port "$port" --data-dir "$OUT/data" --set log.level=warning >"$OUT/quiver.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
for round in $(seq 1 "$ROUNDS"); do
  wrk -t1 -c"$CONNS" -d"$DUR" --latency -s scripts/wrk/events-batch.lua "http://127.0.0.1:$port" >"$OUT/round-$round.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/round-$round.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$OUT/round-$round.txt"); p99=$(awk '$1 == "99%" {print $2}' "$OUT/round-$round.txt")
  non2xx=$(awk '/Non-2xx/ {print $4}' "$OUT/round-$round.txt")
  awk -v r="$round" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v bad="${non2xx:-0}" \
    'BEGIN { printf "round %s: %.0f requests/s = %.0f events/s, p50 %s, p99 %s, non-2xx %s\n", r, rps, rps * 100, p50, p99, bad }'
done
echo "events in the log: $(sqlite3 "$OUT/data/quiver.db" 'SELECT count(*) FROM events' 2>/dev/null || echo '?'), RSS $(awk '/VmRSS/ {print $2}' /proc/$pid/status) KiB"
