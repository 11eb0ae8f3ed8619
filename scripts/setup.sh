#!/usr/bin/env bash
# setup.sh: installs what building, running and testing Quiver needs on a fresh Debian machine.
#   scripts/setup.sh          build and run needs: C libraries (hiredis, libpq, zlib, SQLite), curl
#   scripts/setup.sh --test   plus test needs: redis-server, PostgreSQL, wrk, Python test clients
# Idempotent: installs only what is missing. apt-get needs root (CI and this machine run as root).
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

packages=(libhiredis-dev libpq-dev zlib1g-dev libsqlite3-dev pkg-config curl ca-certificates)
if [ $want_test = 1 ]; then
  packages+=(redis-server redis-tools postgresql postgresql-client wrk procps iproute2)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "setup: need root for apt-get (missing: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "setup: swift is at /opt/swift/usr/bin; add it to PATH" >&2
  else
    echo "setup: Swift 6 toolchain not found (expected /opt/swift)" >&2
    exit 1
  fi
fi

if [ $want_test = 1 ]; then
  command -v python3 >/dev/null 2>&1 || { echo "setup: python3 not found" >&2; exit 1; }
  # Independent HTTP/WebSocket clients for the conformance tests, from PyPI.
  python3 - <<'PY' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "websockets>=12" "wsproto>=1.2" "openapi-spec-validator>=0.7"
import websockets, wsproto, openapi_spec_validator  # noqa: F401
PY
fi
echo "setup: ok" >&2
