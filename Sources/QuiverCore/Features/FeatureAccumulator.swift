// FeatureStreamSpec and FeatureAccumulator: the state of one event stream for one key (a user, a
// user x category, an item, or a shard's share of global), holding only the structures its
// aggregations need: bucket rings, a distinct tracker, the last N items, decayed counters and the
// newest event time. Invariant: an accumulator is only ever updated and read with the spec it was
// made from (the spec is passed in, not stored, to keep per-key memory small).

/// Identity and shape of one stream's state. Definitions with equal specs share state, which is
/// what keeps state across a version change or a rollback. A class so that the hot path passes one
/// reference instead of retaining each array.
public final class FeatureStreamSpec: Hashable, Sendable {
    /// What the state is keyed by.
    public let key: FeatureKeyKind
    /// Source event types, sorted; empty means every type.
    public let eventTypes: [EventType]
    /// Windows, as listed in the definition.
    public let windows: [FeatureWindow]
    /// Aggregations, sorted by raw value.
    public let aggregations: [FeatureAggregation]
    /// Buckets per window.
    public let bucketsPerWindow: Int
    /// Distinct cap (0 when no distinct).
    public let distinctCap: Int
    /// Last-N limit (0 when no last_n).
    public let lastN: Int

    /// The spec of a definition's stream within a set.
    public init(definition d: FeatureDefinition, bucketsPerWindow: Int) {
        key = d.key
        eventTypes = Array(Set(d.eventTypes)).sorted()
        windows = d.windows
        aggregations = Array(Set(d.aggregations)).sorted { $0.rawValue < $1.rawValue }
        self.bucketsPerWindow = bucketsPerWindow
        distinctCap = d.aggregations.contains(.distinct) ? (d.distinctCap ?? 256) : 0
        lastN = d.aggregations.contains(.lastN) ? (d.lastN ?? 20) : 0
        geometries = d.windows.map { WindowGeometry(window: $0, bucketCount: bucketsPerWindow) }
        horizon = Double(d.windows.map(\.seconds).max() ?? 0)
        needsBuckets = d.aggregations.contains { [.count, .rate, .sum, .mean, .min, .max].contains($0) }
    }

    public static func == (a: FeatureStreamSpec, b: FeatureStreamSpec) -> Bool {
        a.key == b.key && a.eventTypes == b.eventTypes && a.windows == b.windows && a.aggregations == b.aggregations
            && a.bucketsPerWindow == b.bucketsPerWindow && a.distinctCap == b.distinctCap && a.lastN == b.lastN
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(eventTypes)
        hasher.combine(windows)
        hasher.combine(aggregations)
        hasher.combine(bucketsPerWindow)
        hasher.combine(distinctCap)
        hasher.combine(lastN)
    }

    /// Geometry of every window, in window order.
    public let geometries: [WindowGeometry]

    /// Geometry of window `index`.
    public func geometry(_ index: Int) -> WindowGeometry { geometries[index] }

    /// Whether count/sum/mean/rate/min/max need window buckets.
    let needsBuckets: Bool
    /// Longest window in seconds.
    let horizon: Double
}

/// The aggregation state of one stream for one key.
public struct FeatureAccumulator: Hashable, Sendable, Codable {
    var buckets = WindowBucketStore(windowCount: 0)
    var distinct = DistinctTracker(cap: 0)
    var recent = RecentItems(limit: 0)
    var decayed: [DecayedCounter] = []
    private var initialized = false
    /// Time of the newest event seen (`-infinity` before the first).
    public private(set) var newest: Double = -.infinity
    /// Lifetime event count, late events included.
    public private(set) var lifetimeCount: Double = 0

    /// An unused slot: reads as empty, allocates nothing, takes its shape on the first `add`.
    /// Accumulators are stored unwrapped (not as optionals) so that updates happen in place.
    public init() {}

    /// An empty accumulator for `spec`.
    public init(spec: FeatureStreamSpec) {
        initialize(spec)
    }

    private mutating func initialize(_ spec: FeatureStreamSpec) {
        initialized = true
        if spec.needsBuckets { buckets = WindowBucketStore(windowCount: spec.windows.count) }
        if spec.distinctCap > 0 { distinct = DistinctTracker(cap: spec.distinctCap) }
        if spec.lastN > 0 { recent = RecentItems(limit: spec.lastN) }
        if spec.aggregations.contains(.decayedCount) {
            decayed = spec.windows.map { DecayedCounter(halfLife: Double($0.seconds)) }
        }
    }

    /// Whether any event was added.
    public var isEmpty: Bool { !initialized }

    /// Folds in one event.
    ///
    /// - Parameters:
    ///   - party: the other side of the event, counted by `distinct` and listed by `last_n`: the
    ///     item for user and user x category keys, the user for item and global keys.
    ///   - partyHash: `FeatureHash.fnv1a(party)`.
    @inline(__always)
    public mutating func add(time: Double, value: Double, party: String?, partyHash: UInt64, spec: FeatureStreamSpec) {
        if !initialized { initialize(spec) }
        if buckets.windowCount > 0 { buckets.add(time: time, value: value, geometries: spec.geometries) }
        if let party {
            if distinct.cap > 0 { distinct.insert(partyHash, time: time, horizon: spec.horizon) }
            if recent.limit > 0 { recent.insert(itemID: party, time: time) }
        }
        for i in decayed.indices { decayed[i].add(at: time) }
        if time > newest { newest = time }
        lifetimeCount += 1
    }

    /// Summary of window `index` at `now` (empty if no buckets are kept).
    @inline(__always)
    public func summary(window index: Int, spec: FeatureStreamSpec, at now: Double) -> WindowSummary {
        buckets.windowCount == 0 ? WindowSummary() : buckets.summary(window: index, geometries: spec.geometries, at: now)
    }

    /// Distinct items in window `index` at `now`.
    public func distinctCount(window index: Int, spec: FeatureStreamSpec, at now: Double) -> Int {
        distinct.cap == 0 ? 0 : distinct.count(geometry: spec.geometry(index), at: now)
    }

    /// Decayed count with half-life `windows[index]` at `now`.
    public func decayedCount(window index: Int, at now: Double) -> Double {
        decayed.isEmpty ? 0 : decayed[index].value(at: now)
    }

    /// Newest items, newest first.
    public var recentItems: [RecentItems.Entry] { recent.entries }

    /// Approximate heap bytes held.
    public var estimatedBytes: Int {
        var bytes = 96
        bytes += buckets.windowCount == 0 ? 0 : buckets.estimatedBytes
        bytes += distinct.cap == 0 ? 0 : distinct.estimatedBytes
        bytes += recent.limit == 0 ? 0 : recent.estimatedBytes
        bytes += decayed.count * 16
        return bytes
    }

    /// Upper bound of `estimatedBytes` for `spec` (distinct and last-N full).
    public static func maxBytes(spec: FeatureStreamSpec) -> Int {
        var bytes = 96
        if spec.needsBuckets {
            bytes += WindowBucketStore.maxBytes(spec.geometries)
        }
        if spec.distinctCap > 0 { bytes += 64 + 2 * spec.distinctCap * 24 }
        if spec.lastN > 0 { bytes += 32 + 2 * spec.lastN * 32 + spec.lastN * EventLimits().maxIdentifierBytes }
        if spec.aggregations.contains(.decayedCount) { bytes += spec.windows.count * 16 }
        return bytes
    }
}
