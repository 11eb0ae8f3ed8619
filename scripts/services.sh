#!/usr/bin/env bash
# services.sh: starts and stops the real servers the tests talk to, on loopback only, each on
# its own port and data directory under $QUIVER_TEST_SERVICES_DIR (default /tmp/quiver-services):
#   scripts/services.sh start   redis-server on $QUIVER_TEST_REDIS_PORT (16379) and PostgreSQL 15
#                               on $QUIVER_TEST_PG_PORT (15432), database "quiver", user "postgres"
#   scripts/services.sh stop    stops both (only the processes this script started)
#   scripts/services.sh env     prints the QUIVER_TEST_* variables the tests read
# PostgreSQL refuses to run as root: it runs as the "postgres" user.
set -euo pipefail

DIR=${QUIVER_TEST_SERVICES_DIR:-/tmp/quiver-services}
REDIS_PORT=${QUIVER_TEST_REDIS_PORT:-16379}
PG_PORT=${QUIVER_TEST_PG_PORT:-15432}
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
  if [ -f "$DIR/pg/postmaster.pid" ] && [ -x "$PG_BIN/pg_ctl" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    log "postgres stopped"
  fi
}

print_env() {
  echo "export QUIVER_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
  echo "export QUIVER_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$PG_PORT/quiver"
}

case ${1:-} in
  start) start_redis; start_postgres ;;
  stop) stop_all ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
