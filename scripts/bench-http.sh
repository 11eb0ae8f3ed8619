#!/usr/bin/env bash
# bench-http.sh: Quiver's HTTP layer side by side with Hummingbird 2 and FlyingFox in one run,
# through ../shared/bench/peers.sh (wrk -t1 -c64, interleaved rounds, GET /hello and POST /echo),
# then a soak of Quiver alone that samples its RSS every second (flat RSS = no growth per request).
#   scripts/bench-http.sh                 ROUNDS=2 DUR=8s by default (peers.sh settings apply)
#   SOAK=60 scripts/bench-http.sh         soak length in seconds (0 skips it)
# Results: the peers' summary.md, and the soak's RSS samples in $OUT (default /tmp/quiver-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
PEERS=${PEERS:-../shared/bench/peers.sh}
OUT=${OUT:-/tmp/quiver-bench}
SOAK=${SOAK:-30}
mkdir -p "$OUT"

command -v wrk >/dev/null || scripts/setup.sh --test
swift build -c release --product quiver >/dev/null
"$PEERS" build >/dev/null

port=$(( 20000 + RANDOM % 10000 ))
.build/release/quiver serve --port "$port" --set server.benchmark_endpoints=true --set log.level=warning \
  --data-dir "$OUT/data" >"$OUT/quiver.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/hello" >/dev/null && break; sleep 0.1; done

"$PEERS" compare "http://127.0.0.1:$port" /hello /echo

if [ "$SOAK" -gt 0 ]; then
  echo
  echo "Soak: POST /echo for ${SOAK}s, RSS of quiver (pid $pid) every second"
  rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
  echo "rss_kb_before=$(rss)" | tee "$OUT/soak.txt"
  wrk -t1 -c64 -d"${SOAK}s" -s ../shared/bench/wrk/echo.lua "http://127.0.0.1:$port/echo" >"$OUT/soak-wrk.txt" &
  wrk_pid=$!
  samples=()
  while kill -0 $wrk_pid 2>/dev/null; do samples+=("$(rss)"); sleep 1; done
  wait $wrk_pid || true
  echo "rss_kb_samples=${samples[*]}" | tee -a "$OUT/soak.txt"
  echo "rss_kb_after=$(rss)" | tee -a "$OUT/soak.txt"
  grep -E "Requests/sec|requests in" "$OUT/soak-wrk.txt" | tee -a "$OUT/soak.txt"
  n=${#samples[@]}
  if [ "$n" -ge 4 ]; then
    q=$(( n / 4 ))
    echo "rss_kb first-quarter max=$(printf '%s\n' "${samples[@]:0:$q}" | sort -n | tail -1)" \
         "last-quarter max=$(printf '%s\n' "${samples[@]:$((n - q))}" | sort -n | tail -1)" | tee -a "$OUT/soak.txt"
  fi
fi
