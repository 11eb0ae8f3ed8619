#!/usr/bin/env bash
# fuzz-websocket.sh: builds the WebSocket frame decoder, message assembler and permessage-deflate
# codec with libFuzzer and AddressSanitizer and fuzzes them for SECONDS (default 600).
#   scripts/fuzz-websocket.sh [SECONDS] [extra libFuzzer flags]
# Corpus: .build-fuzz/corpus-websocket (seeded from Fuzz/seeds/websocket-frames); crashes are left
# in .build-fuzz/ and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fuzz.sh
NAME=websocket
SEEDS=Fuzz/seeds/websocket-frames
MAX_LEN=8192
SWIFTC_FLAGS=(-I Sources/CZlib -lz)
SOURCES=(Sources/QuiverHTTP/HTTP1/HTTPTypes.swift Sources/QuiverHTTP/WebSocket/WebSocketFrame.swift
         Sources/QuiverHTTP/WebSocket/WebSocketFrameDecoder.swift Sources/QuiverHTTP/WebSocket/WebSocketFrameEncoder.swift
         Sources/QuiverHTTP/WebSocket/UTF8Validator.swift Sources/QuiverHTTP/WebSocket/WebSocketMessageAssembler.swift
         Sources/QuiverHTTP/WebSocket/PerMessageDeflate.swift Fuzz/WebSocketFrames/WebSocketFramesFuzz.swift)
run_fuzzer "$@"
