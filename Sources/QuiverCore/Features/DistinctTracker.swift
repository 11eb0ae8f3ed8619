// DistinctTracker: exact distinct-item counts over several windows, with a cap on memory.
// It keeps each item's (64-bit hash's) newest timestamp; the distinct count of a window is the
// number of items whose newest bucket lies inside it, which equals "items seen in the window" for
// queries at or after the newest event. Invariant: at most `cap` items are held; when full, items
// older than the longest window go first, then the oldest half, and `saturated` records that
// counts may since be lower bounds.

/// Exact-with-a-cap distinct counter keyed by item hash.
public struct DistinctTracker: Hashable, Sendable, Codable {
    /// Maximum items held.
    public let cap: Int
    /// Whether an item still inside the longest window was ever evicted (counts are lower bounds).
    public private(set) var saturated = false
    private var lastSeen: [UInt64: Double] = [:]
    private var newest = -Double.infinity

    /// Creates a tracker holding at most `cap` items (0: disabled, holds nothing).
    public init(cap: Int) {
        self.cap = max(0, cap)
    }

    /// A tracker holding `lastSeen` (for conversion from `StreamArena`).
    init(cap: Int, saturated: Bool, lastSeen: [UInt64: Double], newest: Double) {
        self.cap = max(0, cap)
        self.saturated = saturated
        self.lastSeen = lastSeen
        self.newest = newest
    }

    /// Newest time inserted (`-infinity` before the first).
    var newestSighting: Double { newest }

    /// Records item `hash` seen at `time`. `horizon` is the longest window in seconds.
    public mutating func insert(_ hash: UInt64, time: Double, horizon: Double) {
        guard cap > 0 else { return }
        if time > newest { newest = time }
        if let seen = lastSeen[hash] {
            if time > seen { lastSeen[hash] = time }
            return
        }
        if lastSeen.count >= cap { evict(horizon: horizon) }
        lastSeen[hash] = time
    }

    private mutating func evict(horizon: Double) {
        let cutoff = newest - horizon
        lastSeen = lastSeen.filter { $0.value >= cutoff }
        guard lastSeen.count >= cap else { return }
        let times = lastSeen.values.sorted()
        let median = times[times.count / 2]
        lastSeen = lastSeen.filter { $0.value > median }
        saturated = true
    }

    /// Number of distinct items whose newest sighting is inside the window `geometry` ending at `now`.
    public func count(geometry: WindowGeometry, at now: Double) -> Int {
        let nowBucket = geometry.bucket(of: now)
        var n = 0
        for time in lastSeen.values where geometry.contains(bucket: geometry.bucket(of: time), nowBucket: nowBucket) {
            n += 1
        }
        return n
    }

    /// Items and newest sightings, for merging trackers (e.g. global state held per shard).
    public var sightings: [UInt64: Double] { lastSeen }

    /// Number of items held.
    public var heldCount: Int { lastSeen.count }

    /// Approximate heap bytes held (dictionary storage with load factor).
    public var estimatedBytes: Int { 64 + lastSeen.capacity * 24 }
}
