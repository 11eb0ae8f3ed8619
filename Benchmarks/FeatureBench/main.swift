// FeatureBench: release-mode throughput and latency of the QuiverCore feature engine.
// Usage: FeatureBench [runs] [standard,wide,lean] | FeatureBench ml100k DATA/ml-100k [runs].
// BENCH_BATCH=N ingests through the batch path, N events per call (the HTTP API's batches), instead
// of one `ingest` call per event. BENCH_STEADY=K times, after the fresh pass and K-1 untimed ones, a
// pass of a new stream over the same users and items with later timestamps (an engine that has
// already grown; each pass spans 10,000 s of event time);
// BENCH_RESIDENT=N bounds resident users to N (evicted users go to a BoundedFeatureStateStore of N,
// as in the server). Minor page faults are printed per phase.
import QuiverCore
import Foundation

struct BenchRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

func wideSet() -> FeatureDefinitionSet {
    var set = FeatureDefinitionSet.standard
    set.version = "wide"
    set.definitions.append(FeatureDefinition(
        name: "user_wide", key: .user, eventTypes: [],
        aggregations: [.count, .sum, .mean, .rate, .min, .max, .distinct, .decayedCount, .recency, .lastN],
        windows: [.oneMinute, .fiveMinutes, .oneHour, .oneDay, .oneWeek]))
    return set
}

func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
func stats(_ xs: [Double]) -> String {
    let s = xs.sorted()
    let mean = xs.reduce(0, +) / Double(xs.count)
    return String(format: "min %.3g  median %.3g  max %.3g  mean %.3g", s.first!, percentile(s, 0.5), s.last!, mean)
}

func leanSet() -> FeatureDefinitionSet {
    FeatureDefinitionSet(version: "lean", definitions: [
        FeatureDefinition(name: "user_events", key: .user, eventTypes: [], aggregations: [.count],
                          windows: [.oneMinute, .fiveMinutes, .oneHour, .oneDay, .oneWeek]),
    ])
}

func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
}

/// Events per batch call (0: one `ingest` call per event).
let batchSize = Int(ProcessInfo.processInfo.environment["BENCH_BATCH"] ?? "") ?? 0

func ingestAll(_ engine: RealTimeFeatureEngine, _ events: [UserEvent], receivedAt: Double) {
    if batchSize > 0 {
        var i = 0
        while i < events.count {
            let end = min(events.count, i + batchSize)
            engine.ingest(events[i..<end], receivedAt: receivedAt)
            i = end
        }
    } else {
        for e in events { engine.ingest(e, receivedAt: receivedAt) }
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

/// CPU seconds this thread has used: unlike wall-clock time, not inflated when other processes
/// take the core (the benchmark host is shared), so it compares binaries more steadily.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Minor page faults of this thread so far (first touches of fresh memory, mostly).
func minorFaults() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (a macro Swift does not import)
    return usage.ru_minflt
}

if CommandLine.arguments.count > 2, CommandLine.arguments[1] == "ml100k" {
    // Replay MovieLens-100k (ratings in time order) through the standard definitions.
    let dir = CommandLine.arguments[2]
    let runs = CommandLine.arguments.count > 3 ? Int(CommandLine.arguments[3]) ?? 5 : 5
    let rssStart = residentMegabytes()
    let inter = try! String(contentsOfFile: dir + "/ml-100k.inter", encoding: .utf8)
    var events: [UserEvent] = []
    for line in inter.split(separator: "\n").dropFirst() {
        let f = line.split(separator: "\t")
        guard f.count >= 4, let rating = Double(f[2]), let t = Double(f[3]) else { continue }
        events.append(UserEvent(userID: String(f[0]), itemID: String(f[1]), type: .rating, value: rating, timestamp: t))
    }
    events.sort { $0.time < $1.time }
    var items: [CatalogItem] = []
    let itemText = try! String(contentsOfFile: dir + "/ml-100k.item", encoding: .utf8)
    for line in itemText.split(separator: "\n").dropFirst() {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard f.count >= 4 else { continue }
        items.append(CatalogItem(itemID: String(f[0]), categories: f[3].split(separator: " ").map(String.init)))
    }
    let rssLoaded = residentMegabytes()
    var times: [Double] = []
    var lastEngine: RealTimeFeatureEngine?
    for _ in 0..<runs {
        lastEngine = nil
        let engine = try! RealTimeFeatureEngine(definitions: .standard)
        let clock = ContinuousClock()
        let start = clock.now
        for item in items { engine.upsertItem(item) }
        ingestAll(engine, events, receivedAt: 0)
        times.append(seconds(start.duration(to: clock.now)))
        lastEngine = engine
    }
    let m = lastEngine!.metrics()
    print("ml-100k replay: \(batchSize > 0 ? "batches of \(batchSize)" : "one call per event"), \(events.count) ratings, \(items.count) items, \(m.residentUsers) users")
    print("replay seconds: \(stats(times)); events/s median \(String(format: "%.3g", Double(events.count) / times.sorted()[times.count / 2]))")
    print(String(format: "process RSS MB: start %.1f, data loaded %.1f, after replay (one engine live) %.1f; engine estimate %.1f MB (%.0f bytes/user)",
                 rssStart, rssLoaded, residentMegabytes(), Double(m.residentBytes) / 1e6, Double(m.residentBytes) / Double(max(1, m.residentUsers))))
    let now = events.last!.time
    var buffer: [Double] = []
    var samples: [Double] = []
    let clock = ContinuousClock()
    let readRounds = Int(ProcessInfo.processInfo.environment["BENCH_ML_READ_ROUNDS"] ?? "") ?? 20
    for u in 1...943 {
        for _ in 0..<readRounds {
            let t0 = clock.now
            lastEngine!.writeFeatureVector(for: String(u), now: now, into: &buffer)
            samples.append(seconds(t0.duration(to: clock.now)) * 1e6)
        }
    }
    samples.sort()
    print(String(format: "ml-100k vector us: p50 %.2f p99 %.2f p99.9 %.2f", percentile(samples, 0.5), percentile(samples, 0.99), percentile(samples, 0.999)))
    exit(0)
}

let runs = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 5 : 5
let types: [EventType] = [.view, .view, .view, .view, .click, .click, .addToCart, .purchase, .rating, .dwell]
let base = 1_764_000_000.0
let environment = ProcessInfo.processInfo.environment
let userCount = Int(environment["BENCH_USERS"] ?? "") ?? 100_000
/// Passes after the fresh one (the last is timed); 0: the fresh pass only.
let laterPasses = max(0, Int(environment["BENCH_STEADY"] ?? "") ?? 0)
let steady = laterPasses > 0
/// Resident-user bound (the default leaves every user resident).
let residentBound = Int(environment["BENCH_RESIDENT"] ?? "") ?? 200_000
let itemCount = 20_000, eventCount = 1_000_000

/// `eventCount` events, 10 ms apart (jittered up to 30 s back); pass p continues the time of pass p - 1.
func makeEvents(seed: UInt64, pass: Int = 0) -> [UserEvent] {
    var rng = BenchRandom(state: seed)
    let users = (0..<userCount).map { "user-\($0)" }
    let items = (0..<itemCount).map { "item-\($0)" }
    let start = base + Double(pass * eventCount) * 0.01
    return (0..<eventCount).map { i in
        UserEvent(userID: users[rng.below(userCount)], itemID: items[rng.below(itemCount)],
                  type: types[rng.below(types.count)], value: Double(rng.below(5) + 1),
                  timestamp: start + Double(i) * 0.01 - Double(rng.below(30)))
    }
}

/// One timed ingestion of `events`: events/s, events per CPU second of this thread, minor faults.
struct PhaseResult { var rate: Double; var cpuRate: Double; var faults: Double }
func timedIngest(_ engine: RealTimeFeatureEngine, _ events: [UserEvent], receivedAt: Double) -> PhaseResult {
    let clock = ContinuousClock()
    let faults = minorFaults()
    let cpuStart = threadCPUSeconds()
    let start = clock.now
    ingestAll(engine, events, receivedAt: receivedAt)
    let elapsed = seconds(start.duration(to: clock.now))
    let cpu = threadCPUSeconds() - cpuStart
    return PhaseResult(rate: Double(events.count) / elapsed, cpuRate: Double(events.count) / cpu,
                       faults: Double(minorFaults() - faults))
}

let events = makeEvents(seed: 42)
let laterEvents = (0..<laterPasses).map { makeEvents(seed: 4242 + UInt64($0), pass: $0 + 1) }
let allSets = [("standard", FeatureDefinitionSet.standard), ("wide", wideSet()), ("lean", leanSet())]
let chosen = CommandLine.arguments.count > 2 ? CommandLine.arguments[2].split(separator: ",").map(String.init) : ["standard", "wide", "lean"]
let mode = batchSize > 0 ? "batches of \(batchSize)" : "one call per event"
for (label, set) in allSets where chosen.contains(label) {
    print("== \(label): \(set.definitions.count) definitions, vector length \(try! RealTimeFeatureEngine(definitions: set).vectorLayout.count)")
    var fresh: [PhaseResult] = [], second: [PhaseResult] = []
    var p50s: [Double] = [], p99s: [Double] = [], p999s: [Double] = []
    var lastEngine: RealTimeFeatureEngine?
    var lastStore: BoundedFeatureStateStore?
    for run in 0..<runs {
        let store = BoundedFeatureStateStore(capacity: residentBound)
        let engine = try! RealTimeFeatureEngine(definitions: set, configuration: .init(shardCount: 16, maxResidentUsers: residentBound),
                                                store: store)
        for i in 0..<itemCount {
            engine.upsertItem(CatalogItem(itemID: "item-\(i)", categories: ["cat-\(i % 20)", "top-\(i % 5)"]))
        }
        fresh.append(timedIngest(engine, events, receivedAt: base))
        var now = base + Double(eventCount) * 0.01
        for (pass, later) in laterEvents.enumerated() {
            if pass == laterEvents.count - 1 {
                second.append(timedIngest(engine, later, receivedAt: now))
            } else {
                ingestAll(engine, later, receivedAt: now)
            }
            now += Double(eventCount) * 0.01
        }
        let clock = ContinuousClock()
        var rng = BenchRandom(state: UInt64(run + 7))
        var buffer: [Double] = []
        var samples: [Double] = []
        let context = EventContext(device: "mobile", locale: "en-US", page: "homepage")
        for _ in 0..<20_000 {
            let user = "user-\(rng.below(userCount))"
            let t0 = clock.now
            engine.writeFeatureVector(for: user, context: context, now: now, into: &buffer)
            samples.append(seconds(t0.duration(to: clock.now)) * 1e6)
        }
        samples.sort()
        p50s.append(percentile(samples, 0.5)); p99s.append(percentile(samples, 0.99)); p999s.append(percentile(samples, 0.999))
        lastEngine = engine
        lastStore = store
    }
    let shape = "1 thread, \(mode), \(eventCount) events, \(userCount) users\(residentBound < userCount ? ", \(residentBound) resident" : "")"
    print("ingest events/s (\(shape)): \(stats(fresh.map(\.rate)))")
    print("ingest events per CPU second (thread time): \(stats(fresh.map(\.cpuRate)))")
    print("ingest minor page faults: \(stats(fresh.map(\.faults)))")
    if steady {
        print("steady ingest events/s (pass \(laterPasses + 1), same users and items, later times): \(stats(second.map(\.rate)))")
        print("steady ingest events per CPU second (thread time): \(stats(second.map(\.cpuRate)))")
        print("steady ingest minor page faults: \(stats(second.map(\.faults)))")
    }
    print("vector p50 us: \(stats(p50s))")
    print("vector p99 us: \(stats(p99s))")
    print("vector p99.9 us: \(stats(p999s))")
    if let m = lastEngine?.metrics() {
        print("resident users \(m.residentUsers), resident MB \(String(format: "%.1f", Double(m.residentBytes) / 1e6)), max bytes/user \(m.maxBytesPerUser), hit rate \(String(format: "%.3f", m.hitRate)), store loads \(m.storeLoads), evictions \(m.evictions), evicted states held \(lastStore?.count ?? 0), dropped \(lastStore?.dropped ?? 0)")
    }
}
