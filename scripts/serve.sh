#!/usr/bin/env bash
# serve.sh: sets up, builds (release) and runs `quiver serve` on the embedded default: no Redis
# or PostgreSQL needed, data in ./data. Arguments go to `quiver serve` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh
swift build -c release --product quiver
exec .build/release/quiver serve "$@"
