#!/usr/bin/env bash
# fuzz-http-parser.sh: builds the HTTP request parser (and the router's percent-decoding) with
# libFuzzer and AddressSanitizer and fuzzes it for SECONDS (default 600).
#   scripts/fuzz-http-parser.sh [SECONDS] [extra libFuzzer flags]
# Corpus: .build-fuzz/corpus-http-parser (seeded from Fuzz/seeds/http-parser); crashes are left
# in .build-fuzz/ and fail the script. The last lines give the executions.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fuzz.sh
NAME=http-parser
SEEDS=Fuzz/seeds/http-parser
MAX_LEN=4096
SWIFTC_FLAGS=()
SOURCES=(Sources/QuiverHTTP/HTTP1/HTTPTypes.swift Sources/QuiverHTTP/HTTP1/HTTPRequest.swift
         Sources/QuiverHTTP/HTTP1/HTTPErrorResponse.swift Sources/QuiverHTTP/HTTP1/HTTPRequestParser.swift
         "Sources/QuiverHTTP/HTTP1/HTTPRequestParser+Head.swift" Sources/QuiverHTTP/Routing/PercentDecoding.swift
         Fuzz/HTTPParser/HTTPParserFuzz.swift)
run_fuzzer "$@"
