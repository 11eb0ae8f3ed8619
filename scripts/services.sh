#!/usr/bin/env bash
# services.sh: starts and stops the real servers the tests talk to, on loopback only, each on
# its own port and data directory under $QUIVER_TEST_SERVICES_DIR (default /tmp/quiver-services):
#   scripts/services.sh start   redis-server on $QUIVER_TEST_REDIS_PORT (16379), PostgreSQL 15 on
#                               $QUIVER_TEST_PG_PORT (15432), database "quiver", user "postgres", and
#                               a 3-master Redis Cluster on $QUIVER_TEST_REDIS_CLUSTER_PORT (17000) +0..2
#   scripts/services.sh stop    stops them (only the processes this script started)
#   scripts/services.sh env     prints the QUIVER_TEST_* variables the tests read
# PostgreSQL refuses to run as root: it runs as the "postgres" user.
set -euo pipefail

DIR=${QUIVER_TEST_SERVICES_DIR:-/tmp/quiver-services}
REDIS_PORT=${QUIVER_TEST_REDIS_PORT:-16379}
PG_PORT=${QUIVER_TEST_PG_PORT:-15432}
CLUSTER_PORT=${QUIVER_TEST_REDIS_CLUSTER_PORT:-17000}
CLUSTER_PORTS=("$CLUSTER_PORT" "$((CLUSTER_PORT + 1))" "$((CLUSTER_PORT + 2))")
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

log() { echo "services: $*" >&2; }

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
  else "$@"  # a non-root developer runs PostgreSQL as themselves
  fi
}

wait_for() { # description command...
  local what=$1; shift
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "$what did not come up"; return 1
}

start_redis() {
  mkdir -p "$DIR/redis"
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then log "redis already up on $REDIS_PORT"; return; fi
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR/redis" --daemonize yes \
    --pidfile "$DIR/redis/redis.pid" --logfile "$DIR/redis/redis.log" --save "" --appendonly no
  wait_for "redis-server" redis-cli -p "$REDIS_PORT" ping
  log "redis-server on 127.0.0.1:$REDIS_PORT"
}

cluster_ok() { # every node answers and says cluster_state:ok
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

stop_cluster() {
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    local pidfile=$DIR/redis-cluster/$port/redis.pid
    [ -f "$pidfile" ] || continue
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

# A running cluster in state ok is reused. Anything else (nodes down, a stale nodes.conf from an
# earlier run, a half-made cluster) is stopped, wiped and created again from empty nodes.
start_redis_cluster() {
  local port up=0
  for port in "${CLUSTER_PORTS[@]}"; do
    redis-cli -p "$port" ping >/dev/null 2>&1 && up=$((up + 1))
  done
  if [ "$up" = 3 ] && wait_for "redis cluster state" cluster_ok 2>/dev/null; then
    log "redis cluster already up on ${CLUSTER_PORTS[*]}"; return
  fi
  stop_cluster
  for port in "${CLUSTER_PORTS[@]}"; do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
      log "port $port answers but is not a node this script started: set QUIVER_TEST_REDIS_CLUSTER_PORT"; return 1
    fi
  done
  for port in "${CLUSTER_PORTS[@]}"; do
    local dir=$DIR/redis-cluster/$port
    rm -rf "$dir" && mkdir -p "$dir"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
  done
  for port in "${CLUSTER_PORTS[@]}"; do wait_for "redis cluster node $port" redis-cli -p "$port" ping; done
  local nodes=()
  for port in "${CLUSTER_PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/redis-cluster/create.log" 2>&1 \
    || { cat "$DIR/redis-cluster/create.log" >&2; return 1; }
  wait_for "redis cluster state ok" cluster_ok
  log "redis cluster on 127.0.0.1:${CLUSTER_PORTS[*]}"
}

start_postgres() {
  [ -x "$PG_BIN/pg_ctl" ] || { log "PostgreSQL binaries not found (install postgresql)"; return 1; }
  mkdir -p "$DIR"
  local data=$DIR/pg socket=$DIR/pg-run
  mkdir -p "$socket"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$socket"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$data"; fi
    as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-sync >"$DIR/pg-initdb.log" 2>&1 \
      || { cat "$DIR/pg-initdb.log" >&2; return 1; }
  fi
  if as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "postgres already up on $PG_PORT"
  else
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$socket/pg.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $socket -c fsync=off -c max_connections=200" start >/dev/null \
      || { tail -20 "$socket/pg.log" >&2; return 1; }
  fi
  wait_for "postgres" "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT"
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='quiver'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE quiver" >/dev/null
  log "postgres on 127.0.0.1:$PG_PORT (database quiver)"
}

stop_all() {
  if [ -f "$DIR/redis/redis.pid" ]; then
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$DIR/redis/redis.pid")" 2>/dev/null || true
    rm -f "$DIR/redis/redis.pid"
    log "redis stopped"
  fi
  if ls "$DIR"/redis-cluster/*/redis.pid >/dev/null 2>&1; then
    stop_cluster
    log "redis cluster stopped"
  fi
  if [ -f "$DIR/pg/postmaster.pid" ] && [ -x "$PG_BIN/pg_ctl" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    log "postgres stopped"
  fi
}

print_env() {
  echo "export QUIVER_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
  echo "export QUIVER_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$PG_PORT/quiver"
  echo "export QUIVER_TEST_REDIS_CLUSTER_URL=redis://127.0.0.1:${CLUSTER_PORTS[0]},127.0.0.1:${CLUSTER_PORTS[1]},127.0.0.1:${CLUSTER_PORTS[2]}"
}

case ${1:-} in
  start) start_redis; start_redis_cluster; start_postgres ;;
  stop) stop_all ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
