#!/usr/bin/env bash
# fuzz-websocket.sh: builds the WebSocket frame decoder, message assembler and permessage-deflate
# codec with libFuzzer and AddressSanitizer and fuzzes them for SECONDS (default 600).
#   scripts/fuzz-websocket.sh [SECONDS] [extra libFuzzer flags]
# Corpus: .build-fuzz/corpus-websocket (seeded from Fuzz/seeds/websocket-frames); crashes are left
# in .build-fuzz/ and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
SECONDS_TO_RUN=${1:-600}; shift || true
OUT=.build-fuzz
mkdir -p "$OUT/corpus-websocket"
cp -n Fuzz/seeds/websocket-frames/* "$OUT/corpus-websocket/" 2>/dev/null || true

sources=(Sources/QuiverHTTP/HTTP1/HTTPTypes.swift Sources/QuiverHTTP/WebSocket/WebSocketFrame.swift
         Sources/QuiverHTTP/WebSocket/WebSocketFrameDecoder.swift Sources/QuiverHTTP/WebSocket/WebSocketFrameEncoder.swift
         Sources/QuiverHTTP/WebSocket/UTF8Validator.swift Sources/QuiverHTTP/WebSocket/WebSocketMessageAssembler.swift
         Sources/QuiverHTTP/WebSocket/PerMessageDeflate.swift Fuzz/WebSocketFrames/WebSocketFramesFuzz.swift)
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name QuiverWebSocketFuzz -I Sources/CZlib -lz \
  "${sources[@]}" -o "$OUT/websocket-fuzz" >"$OUT/build-websocket.log" 2>&1 || { cat "$OUT/build-websocket.log" >&2; exit 1; }

cd "$OUT"
./websocket-fuzz corpus-websocket -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -print_final_stats=1 \
  -artifact_prefix=./ "$@" 2>&1 | tee fuzz-websocket.log | grep -E "^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY|Test unit" || true
test "${PIPESTATUS[0]}" -eq 0
