#!/usr/bin/env bash
# bench-ws.sh: Quiver's WebSocket layer next to hummingbird-websocket (built by
# ../shared/bench/peers.sh), in one run, interleaved:
#   1. 1,000 connections echoing 100-byte text messages (closed loop): messages/s, p50/p99
#   2. one connection echoing 1 MiB binary messages
#   3. memory per idle connection: RSS of the fresh server before and after opening IDLE (1,000)
#      idle connections (measured first, so no freed heap from the load runs is reused)
#   ROUNDS=2 SECS=10 CONNS=1000 IDLE=1000 scripts/bench-ws.sh
# Results go to $OUT (default /tmp/quiver-bench-ws) and a table to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
PEERS=${PEERS:-$(cd ../shared/bench && pwd)/peers.sh}
OUT=${OUT:-/tmp/quiver-bench-ws}
ROUNDS=${ROUNDS:-2}; SECS=${SECS:-10}; CONNS=${CONNS:-1000}; IDLE=${IDLE:-1000}
mkdir -p "$OUT"
ulimit -n 65536 2>/dev/null || true

swift build -c release --product quiver >/dev/null
"$PEERS" build >/dev/null

qport=$(( 20000 + RANDOM % 5000 )); hport=$(( 25000 + RANDOM % 5000 ))
.build/release/quiver serve --port "$qport" --set server.benchmark_endpoints=true --set log.level=warning \
  --data-dir "$OUT/data" >"$OUT/quiver.log" 2>&1 &
qpid=$!
hpid=$("$PEERS" start hbws "$hport")
trap 'kill $qpid $hpid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$qport/hello" >/dev/null && curl -sf "http://127.0.0.1:$hport/hello" >/dev/null && break; sleep 0.1; done

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

idle_memory() { # port pid -> KiB per idle connection
  local before after
  before=$(rss "$2")
  python3 - "$1" "$IDLE" "$OUT/idle-$1.flag" <<'PY' &
import asyncio, sys, os
from websockets.asyncio.client import connect
port, n, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
async def main():
    conns = []
    for i in range(n):
        conns.append(await connect(f"ws://127.0.0.1:{port}/ws", compression=None, ping_interval=None))
    open(flag, "w").close()
    await asyncio.sleep(6)
    for c in conns: await c.close()
asyncio.run(main())
PY
  local client=$!
  for _ in $(seq 1 300); do [ -f "$OUT/idle-$1.flag" ] && break; sleep 0.1; done
  sleep 2
  after=$(rss "$2")
  rm -f "$OUT/idle-$1.flag"
  wait $client || true
  awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN { printf "%.1f", (a - b) / n }'
}

# Idle memory first, on fresh processes (after a load run, freed heap would be reused).
qidle=$(idle_memory "$qport" "$qpid"); hidle=$(idle_memory "$hport" "$hpid")

results=()
for round in $(seq 1 "$ROUNDS"); do
  for name in quiver hbws; do
    if [ $name = quiver ]; then port=$qport; pid=$qpid; else port=$hport; pid=$hpid; fi
    small=$(WS_SERVER_PID=$pid "$PEERS" wsbench "ws://127.0.0.1:$port/ws" "$CONNS" "$SECS" 2>"$OUT/small-$name-$round.err" | tee "$OUT/small-$name-$round.txt" | grep RESULT || echo "RESULT ok=0")
    big=$(WS_SERVER_PID=$pid "$PEERS" wsstream "ws://127.0.0.1:$port/ws" "$SECS" 2>"$OUT/big-$name-$round.err" | tee "$OUT/big-$name-$round.txt" | grep RESULT || echo "RESULT ok=0")
    results+=("$round $name small: $small")
    results+=("$round $name 1MiB:  $big")
    echo "round $round $name small: $small" >&2
    echo "round $round $name 1MiB:  $big" >&2
  done
done
echo
echo "| round | server | test | result |"
echo "|---|---|---|---|"
for r in "${results[@]}"; do
  set -- $r
  echo "| $1 | $2 | $3 | ${*:4} |"
done
echo
echo "Idle connections: $IDLE; RSS growth per idle connection: quiver ${qidle} KiB, hbws ${hidle} KiB"
echo "Peak RSS after the runs: quiver $(awk '/VmHWM/ {print $2}' /proc/$qpid/status) KiB, hbws $(awk '/VmHWM/ {print $2}' /proc/$hpid/status) KiB"
