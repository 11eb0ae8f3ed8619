-- percentiles.lua: the `done` hook the wrk scripts share: one PERCENTILES line (p50, p99, p99.9)
-- for scripts/bench-*.sh to read. Loaded with dofile from the scripts beside it.
function done(summary, latency, requests)
  io.write(string.format("PERCENTILES p50=%.3fms p99=%.3fms p99.9=%.3fms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
