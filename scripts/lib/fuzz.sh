# scripts/lib/fuzz.sh: what the fuzz scripts share: build a libFuzzer + AddressSanitizer binary
# from some of the project's sources and run it for a time, keeping its corpus in .build-fuzz/.
# The caller sets NAME, SEEDS (a folder of seed inputs), MAX_LEN, SOURCES (array) and optionally
# SWIFTC_FLAGS (array), then calls: run_fuzzer SECONDS [extra libFuzzer flags...]
# A crash leaves its input in .build-fuzz/ and makes run_fuzzer fail.

run_fuzzer() {
  local seconds=${1:-600}; shift || true
  local out=.build-fuzz
  export PATH="/opt/swift/usr/bin:$PATH"
  mkdir -p "$out/corpus-$NAME"
  cp -n "$SEEDS"/* "$out/corpus-$NAME/" 2>/dev/null || true
  swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name "Quiver${NAME//-/}Fuzz" "${SWIFTC_FLAGS[@]}" \
    "${SOURCES[@]}" -o "$out/$NAME-fuzz" >"$out/build-$NAME.log" 2>&1 || { cat "$out/build-$NAME.log" >&2; return 1; }
  (
    cd "$out"
    "./$NAME-fuzz" "corpus-$NAME" -max_total_time="$seconds" -max_len="$MAX_LEN" -print_final_stats=1 \
      -artifact_prefix=./ "$@" 2>&1 | tee "fuzz-$NAME.log" | grep -E "^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY|Test unit" || true
    test "${PIPESTATUS[0]}" -eq 0
  )
}
