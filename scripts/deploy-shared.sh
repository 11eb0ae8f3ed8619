#!/usr/bin/env bash
# deploy-shared.sh: a two-process Quiver deployment for manual use: PostgreSQL as the system of
# record and Redis as the shared online store (both from scripts/services.sh, on loopback), and
# two `quiver serve` processes on ports 8081 and 8082 sharing them. An event sent to one changes
# the other's answers within milliseconds; cached answers are shared through Redis.
#   scripts/deploy-shared.sh            (Ctrl-C stops the two servers; `scripts/services.sh stop` the rest)
#   ONLINE_STORE=redis_cluster scripts/deploy-shared.sh   (the 3-master Redis Cluster instead)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
ONLINE_STORE=${ONLINE_STORE:-redis}
PORTS=${PORTS:-8081 8082}
DATA=${DATA:-/tmp/quiver-shared}
scripts/setup.sh --test
scripts/services.sh start
eval "$(scripts/services.sh env)"
export PGOPTIONS="--client-min-messages=warning"
admin=$QUIVER_TEST_POSTGRES_URL
psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = 'quiver_shared'" | grep -q 1 \
  || psql "$admin" -qc "CREATE DATABASE quiver_shared"
postgres_url="${admin%/*}/quiver_shared"
swift build -c release --product quiver
.build/release/quiver migrate --set postgres.url="$postgres_url"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT INT TERM
for port in $PORTS; do
  .build/release/quiver serve --port "$port" --data-dir "$DATA/$port" \
    --set storage.backend=postgres --set postgres.url="$postgres_url" \
    --set online_store.backend="$ONLINE_STORE" --set redis.url="$QUIVER_TEST_REDIS_URL" \
    --set redis.cluster_url="$QUIVER_TEST_REDIS_CLUSTER_URL" &
  pids+=($!)
done
for port in $PORTS; do
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
  echo "quiver on http://127.0.0.1:$port ($(curl -s "http://127.0.0.1:$port/ready"))"
done
wait
