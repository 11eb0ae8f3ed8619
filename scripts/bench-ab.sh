#!/usr/bin/env bash
# bench-ab.sh: two quiver binaries side by side on the same data, rounds alternating A, B, A, B...
# so that a change is measured against its baseline in one run on this shared machine. Each server
# gets the same synthetic catalog and histories (scripts/bench-data.py, seed 7) through the API.
#   scripts/bench-ab.sh /tmp/quiver-before .build/release/quiver            # recommend, cache miss
#   LOAD=hit|zipf|mixed|miss ITEMS=10000 USERS=100000 EVENTS_PER_USER=20 DUR=10s CONNS=32 ROUNDS=3 \
#     scripts/bench-ab.sh A B
#   LOAD=events EVENT_USER_GROUPS=200 scripts/bench-ab.sh A B   # POST batches of 100 events, no data
#     loaded first (scripts/wrk/events-batch.lua; 200 groups = 20,000 users, 5000 = 500,000)
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:?usage: bench-ab.sh BINARY_A BINARY_B}; B=${2:?usage: bench-ab.sh BINARY_A BINARY_B}
ITEMS=${ITEMS:-10000}; USERS=${USERS:-100000}; EVENTS_PER_USER=${EVENTS_PER_USER:-20}
DUR=${DUR:-10s}; CONNS=${CONNS:-32}; ROUNDS=${ROUNDS:-3}; LOAD=${LOAD:-miss}
OUT=${OUT:-/tmp/quiver-bench-ab}
rm -rf "$OUT"; mkdir -p "$OUT"
command -v wrk >/dev/null || scripts/setup.sh --test
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
start() { # name binary port
  "$2" serve --port "$3" --data-dir "$OUT/$1" --set log.level=warning --set features.max_resident_users=$USERS \
    >"$OUT/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$3/health" >/dev/null && return; sleep 0.1; done
  echo "$1 did not start"; cat "$OUT/$1.log"; exit 1
}
pa=$(( 20000 + RANDOM % 5000 )); pb=$(( pa + 1 ))
start A "$A" "$pa"; start B "$B" "$pb"
[ "$LOAD" = events ] || for port in $pa $pb; do
  python3 scripts/bench-data.py --url "http://127.0.0.1:$port" --items "$ITEMS" --users "$USERS" --events-per-user "$EVENTS_PER_USER" >/dev/null
done
export RECOMMEND_USERS=$USERS RECOMMEND_ITEMS=$ITEMS
case $LOAD in
  miss)  export RECOMMEND_CACHE=false ;;
  hit)   export RECOMMEND_HOT=1000 RECOMMEND_CACHE=true ;;
  zipf)  export RECOMMEND_ZIPF=1 RECOMMEND_CACHE=true ;;
  mixed) export RECOMMEND_ZIPF=1 RECOMMEND_CACHE=true RECOMMEND_MIX=10 ;;
  events) export EVENT_USER_GROUPS=${EVENT_USER_GROUPS:-5000} ;;
esac
script=scripts/wrk/recommend.lua; [ "$LOAD" = events ] && script=scripts/wrk/events-batch.lua
for port in $pa $pb; do wrk -t1 -c8 -d2s -s "$script" "http://127.0.0.1:$port" >/dev/null; done  # warm-up
for round in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    port=$pa; pid=${pids[0]}; [ $side = B ] && port=$pb && pid=${pids[1]}
    # The server's CPU time over the round (utime + stime, in clock ticks; CPU per request is
    # steadier than requests/s when other work shares the cores) and the bytes it wrote to storage
    # (WAL, database, checkpoints).
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat"); written=$(awk '/^write_bytes/ {print $2}' "/proc/$pid/io")
    wrk -t1 -c"$CONNS" -d"$DUR" --latency -s "$script" "http://127.0.0.1:$port" >"$OUT/$side-$round.txt"
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat"); written=$(( $(awk '/^write_bytes/ {print $2}' "/proc/$pid/io") - written ))
    awk -v s="$side" -v r="$round" -v l="$LOAD" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v written="$written" \
      '/Requests\/sec/ {rps=$2} /requests in/ {n=$1} /PERCENTILES/ {p=$2 " " $3 " " $4} /Non-2xx/ {bad=$4}
      END {printf "%-6s %s round %s: %8.0f req/s  %7.1f us CPU/req  %5.1f KB written/req  %s  non-2xx %s\n", l, s, r, rps, ticks * 1e6 / hz / n, written / 1024 / n, p, bad+0}' "$OUT/$side-$round.txt"
  done
done
