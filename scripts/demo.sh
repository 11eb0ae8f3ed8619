#!/usr/bin/env bash
# demo.sh: MovieLens-100k through the public API of a running Quiver, and a few personalised
# answers with explanations (scripts/demo.py). With no URL it builds and starts a release server on
# a fresh data directory, runs the demo, and stops it.
#   scripts/demo.sh                      # its own server
#   scripts/demo.sh http://127.0.0.1:8080  # a server you started (fresh data directory advised)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
DATA=${QUIVER_TEST_DATA:-/tmp/quiver-data}
[ -f "$DATA/ml-100k/ml-100k.inter" ] || ../shared/data/fetch.sh "$DATA" >/dev/null
URL=${1:-}
if [ -z "$URL" ]; then
  swift build -c release --product quiver >/dev/null
  dir=$(mktemp -d)
  port=$(( 20000 + RANDOM % 10000 ))
  .build/release/quiver serve --port "$port" --data-dir "$dir/data" --set log.level=warning >"$dir/quiver.log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  URL="http://127.0.0.1:$port"
fi
python3 scripts/demo.py --url "$URL" --data "$DATA/ml-100k"
