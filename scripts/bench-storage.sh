#!/usr/bin/env bash
# bench-storage.sh: the production storage side by side in one run (release builds, wrk on the
# same machine, the real Redis and PostgreSQL of scripts/services.sh):
#   recommend  Zipf users, use_cache=true, against two servers loaded with the same data: one on
#              the in-process cache only (online_store=memory), one with the shared Redis cache
#              behind it (online_store=redis); rounds alternate between them. Also reports Redis
#              round trips per in-process miss.
#   ingest     batches of 100 events (scripts/wrk/events-batch.lua) into a server on the embedded
#              store and one on PostgreSQL (storage.backend=postgres), alternating.
#   restart    RESTART_EVENTS events logged in PostgreSQL, then the time until a restarted
#              server answers /health (snapshot restored + log replayed).
#   ITEMS=5000 USERS=20000 EVENTS_PER_USER=10 DUR=10s CONNS=32 ROUNDS=3 RESTART_EVENTS=1000000 \
#   RUNS="recommend ingest restart" scripts/bench-storage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
ITEMS=${ITEMS:-5000}; USERS=${USERS:-20000}; EVENTS_PER_USER=${EVENTS_PER_USER:-10}
DUR=${DUR:-10s}; CONNS=${CONNS:-32}; ROUNDS=${ROUNDS:-3}; RESTART_EVENTS=${RESTART_EVENTS:-1000000}
RUNS=${RUNS:-recommend ingest restart}
OUT=${OUT:-/tmp/quiver-bench-storage}
rm -rf "$OUT"; mkdir -p "$OUT"
command -v wrk >/dev/null || scripts/setup.sh --test
scripts/services.sh start >/dev/null
eval "$(scripts/services.sh env)"
swift build -c release --product quiver >/dev/null
PG_ADMIN=$QUIVER_TEST_POSTGRES_URL
export PGOPTIONS="--client-min-messages=warning"
pg_db() { # a fresh database; prints its URL
  local name="quiver_bench_$1"
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
  psql "$PG_ADMIN" -qc "CREATE DATABASE $name" >/dev/null
  echo "${PG_ADMIN%/*}/$name"
}
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
start() { # name port args...
  local name=$1 port=$2; shift 2
  .build/release/quiver serve --port "$port" --data-dir "$OUT/$name" --set log.level=warning \
    --set features.max_resident_users=$USERS "$@" >"$OUT/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 3000); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.1; done
  echo "$name did not start"; cat "$OUT/$name.log"; exit 1
}
metric() { curl -s "http://127.0.0.1:$1/api/v1/metrics" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
summary() { # name round file
  awk -v n="$1" -v r="$2" '/Requests\/sec/ {rps=$2} /PERCENTILES/ {p=$2 " " $3 " " $4} /Non-2xx/ {bad=$4}
    END {printf "%-22s round %s: %8.0f req/s  %s  non-2xx %s\n", n, r, rps, p, bad+0}' "$3"
}

for run in $RUNS; do case $run in
recommend)
  m=$(( 20000 + RANDOM % 5000 )); r=$(( m + 1 ))
  start memory "$m"
  start redis "$r" --set online_store.backend=redis --set redis.url="$QUIVER_TEST_REDIS_URL"
  redis-cli -u "$QUIVER_TEST_REDIS_URL" --scan --pattern 'quiver:rc:*' | xargs -r -n 1000 redis-cli -u "$QUIVER_TEST_REDIS_URL" del >/dev/null
  for port in $m $r; do
    python3 scripts/bench-data.py --url "http://127.0.0.1:$port" --items "$ITEMS" --users "$USERS" --events-per-user "$EVENTS_PER_USER" >/dev/null
  done
  export RECOMMEND_USERS=$USERS RECOMMEND_ITEMS=$ITEMS
  for round in $(seq 1 "$ROUNDS"); do
    for side in memory redis; do
      port=$m; [ $side = redis ] && port=$r
      RECOMMEND_ZIPF=1 RECOMMEND_CACHE=true wrk -t1 -c"$CONNS" -d"$DUR" --latency -s scripts/wrk/recommend.lua \
        "http://127.0.0.1:$port" >"$OUT/recommend-$side-$round.txt"
      summary "recommend zipf $side" "$round" "$OUT/recommend-$side-$round.txt"
    done
  done
  echo "redis side: $(metric $r '"shared cache: %d lookups (one pipelined GET+PTTL round trip each) for %d in-process misses, %d hits; %d entries written in %d background pipelines; failures %d" % (d["shared_cache"]["lookups"], d["shared_cache"]["hits"] + d["shared_cache"]["misses"], d["shared_cache"]["hits"], d["shared_cache"]["entries_written"], d["shared_cache"]["write_round_trips"], d["shared_cache"]["failures"])')"
  echo "in-process cache hit rate: memory $(metric $m 'round(d["cache"]["hit_rate"], 3)'), redis side $(metric $r 'round(d["cache"]["hit_rate"], 3)')"
  kill "${pids[@]}" 2>/dev/null || true; pids=()
  ;;
ingest)
  e=$(( 25000 + RANDOM % 5000 )); p=$(( e + 1 ))
  start embedded "$e"
  start postgres "$p" --set storage.backend=postgres --set postgres.url="$(pg_db ingest)"
  for round in $(seq 1 "$ROUNDS"); do
    for side in embedded postgres; do
      port=$e; [ $side = postgres ] && port=$p
      wrk -t1 -c"$CONNS" -d"$DUR" --latency -s scripts/wrk/events-batch.lua "http://127.0.0.1:$port" >"$OUT/ingest-$side-$round.txt"
      summary "ingest x100 $side" "$round" "$OUT/ingest-$side-$round.txt"
      awk '/Requests\/sec/ {printf "    = %.0f events/s acknowledged\n", $2 * 100}' "$OUT/ingest-$side-$round.txt"
    done
  done
  kill "${pids[@]}" 2>/dev/null || true; pids=()
  ;;
restart)
  url=$(pg_db restart)
  port=$(( 30000 + RANDOM % 5000 ))
  start restart "$port" --set storage.backend=postgres --set postgres.url="$url" --set recommend.snapshot_interval_seconds=0
  users=$(( RESTART_EVENTS / 20 ))
  python3 scripts/bench-data.py --url "http://127.0.0.1:$port" --items "$ITEMS" --users "$users" --events-per-user 20 >/dev/null
  logged=$(psql "$url" -tAc "SELECT count(*) FROM events")
  for mode in graceful kill9; do
    pid=${pids[-1]}
    if [ $mode = graceful ]; then kill -TERM "$pid"; else kill -9 "$pid"; fi
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    # kill -9 with no snapshot at all: the models are rebuilt from the whole log too.
    [ $mode = kill9 ] && psql "$url" -qc "DELETE FROM model_snapshots"
    t0=$(date +%s.%N)
    start "restart-$mode" "$port" --set storage.backend=postgres --set postgres.url="$url" --set recommend.snapshot_interval_seconds=0
    t1=$(date +%s.%N)
    echo "restart after $mode ($( [ $mode = kill9 ] && echo "no snapshot" || echo "snapshot at stop")) with $logged events logged: $(python3 -c "print(round($t1 - $t0, 1))") s to /health"
  done
  kill "${pids[@]}" 2>/dev/null || true; pids=()
  ;;
esac; done
