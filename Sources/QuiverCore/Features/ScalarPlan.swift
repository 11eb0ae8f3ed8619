// ScalarPlan: the precompiled list of scalar outputs of one key kind (base outputs in definition
// order, then derived ratios and trends) and the evaluator that fills them from any
// FeatureStreamReading source. Invariant: output i is always names[i]; window summaries are
// computed once per (stream, window) per evaluation, whatever the number of aggregations read.

/// Read access to the accumulators of one key, by stream id.
protocol FeatureStreamReading {
    func summary(stream: Int, window: Int, at now: Double) -> WindowSummary
    func distinctCount(stream: Int, window: Int, at now: Double) -> Double
    func decayedCount(stream: Int, window: Int, at now: Double) -> Double
    func newest(stream: Int) -> Double
}

struct ScalarSlot: Sendable {
    let stream: Int
    let window: Int
    let aggregation: FeatureAggregation
    let windowSeconds: Double
    /// Index into the evaluation's summary table, or -1 when no summary is needed.
    let summaryIndex: Int
}

struct DerivedSlot: Sendable {
    let kind: DerivedFeatureDefinition.Kind
    let first: Int
    let second: Int
    let prior: Double
    let priorStrength: Double
    let firstSeconds: Double
    let secondSeconds: Double
}

/// Recency reported before any event: 30 days, so "never" reads as "long ago".
public let featureRecencyCap: Double = 2_592_000

struct ScalarPlan: Sendable {
    private(set) var names: [String] = []
    private(set) var slots: [ScalarSlot] = []
    private(set) var derived: [DerivedSlot] = []
    private(set) var summaryKeys: [(stream: Int, window: Int)] = []

    var count: Int { names.count }

    init(kind: FeatureKeyKind, set: FeatureDefinitionSet, streamIDs: [Int], specs: [FeatureStreamSpec]) {
        var summaryIndex: [[Int]: Int] = [:]
        var windowOf: [String: Double] = [:]
        for (d, stream) in zip(set.definitions, streamIDs) where d.key == kind {
            for aggregation in d.aggregations where aggregation != .lastN {
                let windows = aggregation.isWindowed ? Array(d.windows.indices) : [0]
                for w in windows {
                    // The spec orders windows as the definition does, so `w` indexes both.
                    var index = -1
                    if [.count, .sum, .mean, .rate, .min, .max].contains(aggregation) {
                        if let known = summaryIndex[[stream, w]] {
                            index = known
                        } else {
                            index = summaryKeys.count
                            summaryIndex[[stream, w]] = index
                            summaryKeys.append((stream, w))
                        }
                    }
                    let seconds = aggregation.isWindowed ? Double(d.windows[w].seconds) : 0
                    let name = aggregation.isWindowed
                        ? "\(d.name).\(aggregation.rawValue).\(d.windows[w].name)" : "\(d.name).recency"
                    windowOf[name] = seconds
                    names.append(name)
                    slots.append(ScalarSlot(stream: stream, window: w, aggregation: aggregation,
                                            windowSeconds: seconds, summaryIndex: index))
                }
            }
        }
        for d in set.derived {
            var position: [String: Int] = [:]
            for (i, n) in names.enumerated() { position[n] = i }
            guard let a = position[d.numerator], let b = position[d.denominator] else { continue }
            derived.append(DerivedSlot(kind: d.kind, first: a, second: b, prior: d.prior, priorStrength: d.priorStrength,
                                       firstSeconds: windowOf[d.numerator] ?? 0, secondSeconds: windowOf[d.denominator] ?? 0))
            names.append(d.name)
        }
    }

    /// Writes the `count` outputs into `out[offset...]`.
    func evaluate<Source: FeatureStreamReading>(_ source: Source, at now: Double,
                                                into out: inout [Double], offset: Int) {
        withUnsafeTemporaryAllocation(of: WindowSummary.self, capacity: max(1, summaryKeys.count)) { table in
            for (i, key) in summaryKeys.enumerated() {
                table.initializeElement(at: i, to: source.summary(stream: key.stream, window: key.window, at: now))
            }
            var o = offset
            for slot in slots {
                let value: Double
                switch slot.aggregation {
                case .count: value = table[slot.summaryIndex].count
                case .sum: value = table[slot.summaryIndex].sum
                case .mean: value = table[slot.summaryIndex].mean
                case .rate: value = table[slot.summaryIndex].count * 3_600 / slot.windowSeconds
                case .min:
                    let s = table[slot.summaryIndex]
                    value = s.count > 0 ? s.min : 0
                case .max:
                    let s = table[slot.summaryIndex]
                    value = s.count > 0 ? s.max : 0
                case .distinct: value = source.distinctCount(stream: slot.stream, window: slot.window, at: now)
                case .decayedCount: value = source.decayedCount(stream: slot.stream, window: slot.window, at: now)
                case .recency:
                    let newest = source.newest(stream: slot.stream)
                    value = newest == -.infinity ? featureRecencyCap : min(featureRecencyCap, max(0, now - newest))
                case .lastN: value = 0
                }
                out[o] = value
                o += 1
            }
            if !summaryKeys.isEmpty { _ = table.deinitialize() }
        }
        var o = offset + slots.count
        for d in derived {
            let a = out[offset + d.first], b = out[offset + d.second]
            switch d.kind {
            case .ratio:
                let denominator = b + d.priorStrength
                out[o] = denominator > 0 ? (a + d.prior * d.priorStrength) / denominator : d.prior
            case .trend:
                out[o] = (a / d.firstSeconds) / ((b + 1) / d.secondSeconds)
            }
            o += 1
        }
    }

    /// The outputs as a dictionary keyed by name.
    func evaluateNamed<Source: FeatureStreamReading>(_ source: Source, at now: Double) -> [String: Double] {
        var values = Array(repeating: 0.0, count: count)
        evaluate(source, at: now, into: &values, offset: 0)
        return Dictionary(uniqueKeysWithValues: zip(names, values))
    }
}

/// Reads one key's streams from its arena (absent streams read as empty).
struct ArenaReader: FeatureStreamReading {
    let arena: StreamArena
    let specs: [FeatureStreamSpec]

    func summary(stream: Int, window: Int, at now: Double) -> WindowSummary {
        arena.summary(stream: stream, window: window, spec: specs[stream], at: now)
    }

    func distinctCount(stream: Int, window: Int, at now: Double) -> Double {
        Double(arena.distinctCount(stream: stream, window: window, spec: specs[stream], at: now))
    }

    func decayedCount(stream: Int, window: Int, at now: Double) -> Double {
        arena.decayedCount(stream: stream, window: window, spec: specs[stream], at: now)
    }

    func newest(stream: Int) -> Double { arena.newest(stream: stream) }
}

/// Reads the merge of several keys' streams (global state held per shard).
struct MergedArenaReader: FeatureStreamReading {
    let parts: [StreamArena]
    let specs: [FeatureStreamSpec]

    func summary(stream: Int, window: Int, at now: Double) -> WindowSummary {
        var s = WindowSummary()
        for part in parts { s.merge(part.summary(stream: stream, window: window, spec: specs[stream], at: now)) }
        return s
    }

    func distinctCount(stream: Int, window: Int, at now: Double) -> Double {
        var union: [UInt64: Double] = [:]
        for part in parts {
            let r = part.region(stream)
            guard r != 0, specs[stream].distinctCap > 0 else { continue }
            part.forEachSighting(region: r) { k, t in if t > (union[k] ?? -.infinity) { union[k] = t } }
        }
        let g = specs[stream].geometry(window)
        let (lower, upper) = g.timeRange(nowBucket: g.bucket(of: now))
        return Double(union.values.filter { $0 >= lower && $0 < upper }.count)
    }

    func decayedCount(stream: Int, window: Int, at now: Double) -> Double {
        parts.reduce(0) { $0 + $1.decayedCount(stream: stream, window: window, spec: specs[stream], at: now) }
    }

    func newest(stream: Int) -> Double {
        parts.reduce(-Double.infinity) { max($0, $1.newest(stream: stream)) }
    }
}
