// FeatureStreamSpec and FeatureAccumulator: the state of one event stream for one key (a user, a
// user x category, an item, or a shard's share of global), holding only the structures its
// aggregations need: one sparse bucket store for all windows, a distinct tracker, the last N items,
// decayed counters and the newest event time. An unused slot is an empty accumulator (not an
// optional) so that updates mutate in place. Invariant: an accumulator is only ever updated and
// read with the spec it was made from (passed in, not stored, to keep per-key memory small).

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
        halfLives = d.windows.map { Double($0.seconds) }
        hasDecay = d.aggregations.contains(.decayedCount)
        needsBuckets = d.aggregations.contains { [.count, .rate, .sum, .mean, .min, .max].contains($0) }
        arenaWindows = needsBuckets || hasDecay ? d.windows.count : 0
        let needsValues = d.aggregations.contains { [.sum, .mean, .min, .max].contains($0) }
        bucketWords = needsBuckets ? (needsValues ? 5 : 2) : 0
        maxBuckets = needsBuckets ? geometries.reduce(0) { $0 + $1.bucketCount } : 0
        var slots = 8
        while slots < 2 * distinctCap { slots *= 2 }
        maxDistinctSlots = distinctCap > 0 ? slots : 0
        signature = [key.rawValue, eventTypes.map(\.rawValue).joined(separator: ","), windows.map(\.name).joined(separator: ","),
                     aggregations.map(\.rawValue).joined(separator: ","), "\(bucketsPerWindow)", "\(distinctCap)", "\(lastN)"]
            .joined(separator: "|")
    }

    /// A stable text naming the spec, e.g. `user|click,view|1h,24h|count,sum|60|0|0`: how stored
    /// state finds its streams again in another process or under another definition history.
    /// Computed once in `init`: evictions and loads read it for every stream.
    public let signature: String

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
    /// Window lengths in seconds, the half-lives of `decayed_count`.
    let halfLives: [Double]
    /// Whether `decayed_count` is computed.
    let hasDecay: Bool
    /// Windows with a header in a `StreamArena` region (segment length, decayed counter).
    let arenaWindows: Int
    /// Words per bucket in a `StreamArena` region: 2 (index, count) for streams that only count,
    /// 5 (index, count, sum, min, max) when sum, mean, min or max is read, 0 without buckets.
    let bucketWords: Int
    /// Most buckets held across all windows (each window holds at most its bucket count).
    let maxBuckets: Int
    /// Largest distinct table of a `StreamArena` region (a power of two, at least twice the cap).
    let maxDistinctSlots: Int
}

/// The aggregation state of one stream for one key.
public struct FeatureAccumulator: Hashable, Sendable, Codable {
    var buckets = WindowBucketStore(windowCount: 0)
    var distinct = DistinctTracker(cap: 0)
    var recent = RecentItems(limit: 0)
    private var initialized = false
    /// Time of the newest event seen (`-infinity` before the first).
    public private(set) var newest: Double = -.infinity
    /// Lifetime event count, late events included.
    public private(set) var lifetimeCount: Double = 0

    /// An unused slot: reads as empty, allocates nothing, takes its shape on the first `add`.
    /// Accumulators are stored unwrapped (not as optionals) so that updates happen in place.
    public init() {}

    /// An accumulator that saw events, from its parts (for conversion from `StreamArena`).
    init(buckets: WindowBucketStore, distinct: DistinctTracker, recent: RecentItems, newest: Double, lifetimeCount: Double) {
        self.buckets = buckets
        self.distinct = distinct
        self.recent = recent
        self.newest = newest
        self.lifetimeCount = lifetimeCount
        initialized = true
    }

    /// An empty accumulator for `spec`.
    public init(spec: FeatureStreamSpec) {
        initialize(spec)
    }

    private mutating func initialize(_ spec: FeatureStreamSpec) {
        initialized = true
        if spec.needsBuckets || spec.hasDecay { buckets = WindowBucketStore(windowCount: spec.windows.count) }
        if spec.distinctCap > 0 { distinct = DistinctTracker(cap: spec.distinctCap) }
        if spec.lastN > 0 { recent = RecentItems(limit: spec.lastN) }
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
        if spec.needsBuckets { buckets.add(time: time, value: value, geometries: spec.geometries) }
        if spec.hasDecay { buckets.addDecayed(at: time, halfLives: spec.halfLives) }
        if let party {
            if distinct.cap > 0 { distinct.insert(partyHash, time: time, horizon: spec.horizon) }
            if recent.limit > 0 { recent.insert(itemID: party, time: time) }
        }
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
    public func decayedCount(window index: Int, spec: FeatureStreamSpec, at now: Double) -> Double {
        spec.hasDecay && buckets.windowCount > 0
            ? buckets.decayedCount(window: index, halfLife: spec.halfLives[index], at: now) : 0
    }

    /// Newest items, newest first.
    public var recentItems: [RecentItems.Entry] { recent.entries }

    /// Approximate heap bytes held outside the accumulator's own inline storage.
    public var estimatedBytes: Int {
        var bytes = 0
        bytes += buckets.windowCount == 0 ? 0 : buckets.estimatedBytes
        bytes += distinct.cap == 0 ? 0 : distinct.estimatedBytes
        bytes += recent.limit == 0 ? 0 : recent.estimatedBytes
        return bytes
    }

    /// Upper bound of `estimatedBytes` for `spec` (distinct and last-N full).
    public static func maxBytes(spec: FeatureStreamSpec) -> Int {
        var bytes = 0
        if spec.needsBuckets || spec.hasDecay {
            bytes += WindowBucketStore.maxBytes(spec.geometries)
        }
        if spec.distinctCap > 0 { bytes += 64 + 2 * spec.distinctCap * 24 }
        if spec.lastN > 0 { bytes += 32 + 2 * spec.lastN * 32 + spec.lastN * EventLimits().maxIdentifierBytes }
        return bytes
    }
}
