#!/usr/bin/env bash
# fuzz-http-parser.sh: builds the HTTP request parser with libFuzzer and AddressSanitizer
# (swiftc -sanitize=fuzzer,address) and fuzzes it for SECONDS (default 600).
#   scripts/fuzz-http-parser.sh [SECONDS] [extra libFuzzer flags]
# The corpus grows in .build-fuzz/corpus-http-parser (seeded from Fuzz/seeds/http-parser); a crash
# leaves its input in .build-fuzz/ and makes the script fail. The last lines give the executions.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
SECONDS_TO_RUN=${1:-600}; shift || true
OUT=.build-fuzz
mkdir -p "$OUT/corpus-http-parser"
cp -n Fuzz/seeds/http-parser/* "$OUT/corpus-http-parser/" 2>/dev/null || true

sources=(Sources/QuiverHTTP/HTTP1/HTTPTypes.swift Sources/QuiverHTTP/HTTP1/HTTPRequest.swift
         Sources/QuiverHTTP/HTTP1/HTTPErrorResponse.swift Sources/QuiverHTTP/HTTP1/HTTPRequestParser.swift
         "Sources/QuiverHTTP/HTTP1/HTTPRequestParser+Head.swift" Sources/QuiverHTTP/Routing/PercentDecoding.swift
         Sources/QuiverHTTP/Routing/Router.swift Fuzz/HTTPParser/HTTPParserFuzz.swift)
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name QuiverHTTPFuzz "${sources[@]}" -o "$OUT/http-parser-fuzz" \
  >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; exit 1; }

cd "$OUT"
./http-parser-fuzz corpus-http-parser -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix=./ "$@" 2>&1 | tee fuzz-http-parser.log | grep -E "^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY|Test unit" || true
test "${PIPESTATUS[0]}" -eq 0
