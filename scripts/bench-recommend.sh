#!/usr/bin/env bash
# bench-recommend.sh: recommendation throughput and latency of a release `quiver serve` on the
# embedded store, with wrk on the same machine. Loads a synthetic catalog of ITEMS items and USERS
# users with EVENTS_PER_USER events each (scripts/bench-data.py), then runs, ROUNDS times each:
#   miss    uniform users, use_cache=false             (the full pipeline every time)
#   hit     the same 1,000 users, use_cache=true        (after one warm-up pass)
#   zipf    Zipf-distributed users, use_cache=true      (a realistic repeat pattern: hit rate reported)
#   mixed   zipf + 10% events and feedback              (writes invalidate the users' cache entries)
#   ITEMS=10000 USERS=100000 EVENTS_PER_USER=20 DUR=10s CONNS=32 ROUNDS=3 scripts/bench-recommend.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
ITEMS=${ITEMS:-10000}; USERS=${USERS:-100000}; EVENTS_PER_USER=${EVENTS_PER_USER:-20}
DUR=${DUR:-10s}; CONNS=${CONNS:-32}; ROUNDS=${ROUNDS:-3}; RUNS=${RUNS:-miss hit zipf mixed}
OUT=${OUT:-/tmp/quiver-bench-recommend}
rm -rf "$OUT"; mkdir -p "$OUT"
command -v wrk >/dev/null || scripts/setup.sh --test
swift build -c release --product quiver >/dev/null
port=$(( 20000 + RANDOM % 10000 ))
.build/release/quiver serve --port "$port" --data-dir "$OUT/data" --set log.level=warning \
  --set features.max_resident_users=$USERS >"$OUT/quiver.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
python3 scripts/bench-data.py --url "http://127.0.0.1:$port" --items "$ITEMS" --users "$USERS" --events-per-user "$EVENTS_PER_USER"
export RECOMMEND_USERS=$USERS RECOMMEND_ITEMS=$ITEMS
metric() { curl -s "http://127.0.0.1:$port/api/v1/metrics" | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
run() { # name, then env assignments
  local name=$1; shift
  for round in $(seq 1 "$ROUNDS"); do
    local before_hits before_lookups
    before_hits=$(metric 'd["cache_hits"]'); before_lookups=$(metric 'd["requests"]')
    env "$@" wrk -t1 -c"$CONNS" -d"$DUR" --latency -s scripts/wrk/recommend.lua "http://127.0.0.1:$port" >"$OUT/$name-$round.txt"
    local hits lookups
    hits=$(metric 'd["cache_hits"]'); lookups=$(metric 'd["requests"]')
    awk -v n="$name" -v r="$round" -v h=$((hits - before_hits)) -v l=$((lookups - before_lookups)) '
      /Requests\/sec/ {rps=$2} /PERCENTILES/ {p=$2 " " $3 " " $4} /Non-2xx/ {bad=$4}
      END {printf "%-6s round %s: %8.0f req/s  %s  non-2xx %s  cache hit rate %.3f\n", n, r, rps, p, bad+0, (l > 0 ? h / l : 0)}' \
      "$OUT/$name-$round.txt"
  done
}
for name in $RUNS; do
  case $name in
    miss)  run miss RECOMMEND_CACHE=false ;;
    hit)   RECOMMEND_HOT=1000 RECOMMEND_CACHE=true wrk -t1 -c8 -d2s -s scripts/wrk/recommend.lua "http://127.0.0.1:$port" >/dev/null
           run hit RECOMMEND_HOT=1000 RECOMMEND_CACHE=true ;;
    zipf)  run zipf RECOMMEND_ZIPF=1 RECOMMEND_CACHE=true ;;
    mixed) run mixed RECOMMEND_ZIPF=1 RECOMMEND_CACHE=true RECOMMEND_MIX=10 ;;
  esac
done
echo "RSS $(awk '/VmRSS/ {print $2}' /proc/$pid/status) KiB; degraded: $(metric 'd["degraded"]')"
