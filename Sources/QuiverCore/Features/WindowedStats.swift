// WindowBucketStore and WindowedStats: count, sum, min and max of one event stream over sliding
// windows, kept as sparse, time-ordered buckets. Design: a window of length W is cut into B buckets
// of width ceil(W / B) seconds; an event lands in bucket floor(t / width). Unlike a dense ring of B
// slots, only non-empty buckets are stored (a quiet key costs a few entries, a busy one at most B per
// window, the ring's bound), and all windows of a stream share one array so an event touches one
// heap object. In-order events touch the newest bucket; expired buckets are dropped on append.
// Invariant: at query time `now`, exactly the events whose bucket is in (bucket(now) - B,
// bucket(now)] are counted, for any `now` at or after the newest event; a late event older than the
// window of the newest event is dropped by that window only (decayed counters still take it).

/// Bucket geometry of one window: width and number of buckets.
public struct WindowGeometry: Hashable, Sendable, Codable {
    /// Bucket width in seconds (at least 1).
    public let bucketWidth: Int64
    /// Number of buckets; the window spans `bucketWidth * bucketCount` seconds.
    public let bucketCount: Int

    /// Geometry for `window` cut into `bucketCount` buckets (fewer if the window is shorter).
    public init(window: FeatureWindow, bucketCount: Int) {
        let count = max(1, min(bucketCount, Int(window.seconds)))
        self.bucketCount = count
        self.bucketWidth = (window.seconds + Int64(count) - 1) / Int64(count)
    }

    /// The bucket index of a time in Unix seconds: floor(time / width).
    @inline(__always)
    public func bucket(of time: Double) -> Int64 {
        // floor without a libm call: truncate, then step down for negative non-integers (exact, as
        // the truncated value converts back to Double without rounding).
        let q = time / Double(bucketWidth)
        let t = Int64(q)
        return Double(t) > q ? t - 1 : t
    }

    /// The smallest time whose bucket is at least `k`. As `bucket(of:)` never decreases with time,
    /// `bucket(of: t) >= k` exactly when `t >= firstTime(ofBucket: k)`: a window test becomes two
    /// comparisons instead of a division per item.
    public func firstTime(ofBucket k: Int64) -> Double {
        var t = Double(k) * Double(bucketWidth)
        while bucket(of: t) < k { t = t.nextUp }
        while bucket(of: t.nextDown) >= k { t = t.nextDown }
        return t
    }

    /// Times whose bucket is in the window ending with bucket `nowBucket`: `lower <= t < upper`.
    public func timeRange(nowBucket: Int64) -> (lower: Double, upper: Double) {
        (firstTime(ofBucket: nowBucket - Int64(bucketCount) + 1), firstTime(ofBucket: nowBucket + 1))
    }

    /// Whether bucket `b` is inside the window that ends with bucket `nowBucket`.
    @inline(__always)
    public func contains(bucket b: Int64, nowBucket: Int64) -> Bool {
        b <= nowBucket && b > nowBucket - Int64(bucketCount)
    }
}

/// Count, sum, minimum and maximum of the events inside a window at a given time.
public struct WindowSummary: Hashable, Sendable {
    /// Number of events.
    public var count: Double = 0
    /// Sum of event values.
    public var sum: Double = 0
    /// Smallest value (`+infinity` when empty).
    public var min: Double = .infinity
    /// Largest value (`-infinity` when empty).
    public var max: Double = -.infinity

    /// An empty summary.
    public init() {}

    /// Folds another summary into this one.
    public mutating func merge(_ other: WindowSummary) {
        count += other.count
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }

    /// `sum / count`, or 0 when empty.
    public var mean: Double { count > 0 ? sum / count : 0 }
}

/// The non-empty buckets of every window of one stream in a single array, so that one event
/// touches one heap object whatever the number of windows.
///
/// Layout: slot `w < windowCount` is window w's header: the length of its segment (`index`) and its
/// decayed counter (`count` = value, `sum` = reference time). The segments follow in reverse window
/// order, each oldest first, so with windows listed shortest first the busiest segment is last and
/// a new bucket there is an append rather than a move of the other segments. Only buckets inside
/// the window of the newest event are kept: a quiet key holds a few entries, a busy one at most
/// `bucketCount` per window.
public struct WindowBucketStore: Hashable, Sendable, Codable {
    /// One non-empty bucket (or, in the header slots, a segment length).
    struct Bucket: Hashable, Sendable, Codable {
        var index: Int64
        var count: Double
        var sum: Double
        var min: Double
        var max: Double
    }

    private var storage: [Bucket]
    /// Number of windows (header slots).
    public let windowCount: Int

    /// A store holding `storage` (headers, then segments), as `storage` exposes it.
    init(storage: [Bucket], windowCount: Int) {
        self.storage = storage
        self.windowCount = windowCount
    }

    /// Header slots and buckets, as laid out above (for conversion to and from `StreamArena`).
    var rawStorage: [Bucket] { storage }

    /// Creates an empty store for `windowCount` windows.
    public init(windowCount: Int) {
        self.windowCount = windowCount
        storage = Array(repeating: Bucket(index: 0, count: 0, sum: -.infinity, min: 0, max: 0), count: windowCount)
    }

    /// Adds one event to every window. `geometries[w]` is window w's geometry. Returns the number
    /// of windows that took the event (a late event may be too old for the shorter ones).
    @inline(__always)
    @discardableResult
    public mutating func add(time: Double, value: Double, geometries: [WindowGeometry]) -> Int {
        var start = windowCount
        var accepted = 0
        for w in geometries.indices.reversed() {
            let length = Int(storage[w].index)
            let added = add(time: time, value: value, window: w, start: start, length: length, geometry: geometries[w],
                            accepted: &accepted)
            start += length + added
        }
        return accepted
    }

    /// Adds to window `w` whose segment is `start..<start+length`; returns the change in length.
    private mutating func add(time: Double, value: Double, window w: Int, start: Int, length: Int,
                              geometry g: WindowGeometry, accepted: inout Int) -> Int {
        let b = g.bucket(of: time)
        let end = start + length
        if length > 0, storage[end - 1].index == b {
            storage[end - 1].absorb(value)
            accepted += 1
            return 0
        }
        let fresh = Bucket(index: b, count: 1, sum: value, min: value, max: value)
        if length == 0 || storage[end - 1].index < b {
            storage.insert(fresh, at: end)
            let low = b - Int64(g.bucketCount)
            var expired = 0
            while expired < length, storage[start + expired].index <= low { expired += 1 }
            if expired > 0 { storage.removeSubrange(start..<(start + expired)) }
            storage[w].index = Int64(length + 1 - expired)
            accepted += 1
            return 1 - expired
        }
        // A late event: it lands in its own bucket if that is still inside the window.
        guard b > storage[end - 1].index - Int64(g.bucketCount) else { return 0 }
        accepted += 1
        var i = end - 1
        while i > start, storage[i - 1].index >= b { i -= 1 }
        if storage[i].index == b {
            storage[i].absorb(value)
            return 0
        }
        storage.insert(fresh, at: i)
        storage[w].index = Int64(length + 1)
        return 1
    }

    /// Adds one event to the decayed counter of every window (kept in the header slots: `count` is
    /// the value, `sum` the reference time), the half-life of window w being `halfLives[w]`.
    @inline(__always)
    public mutating func addDecayed(at time: Double, halfLives: [Double]) {
        for w in halfLives.indices {
            var header = storage[w]
            DecayedCounter.fold(value: &header.count, reference: &header.sum, weight: 1, time: time,
                                halfLife: halfLives[w])
            storage[w] = header
        }
    }

    /// The decayed count of window `w` at `now`.
    public func decayedCount(window w: Int, halfLife: Double, at now: Double) -> Double {
        DecayedCounter.value(storage[w].count, reference: storage[w].sum, halfLife: halfLife, at: now)
    }

    /// The summary of window `w` ending at `now`. `geometries` are those passed to `add`.
    public func summary(window w: Int, geometries: [WindowGeometry], at now: Double) -> WindowSummary {
        var start = windowCount
        for header in (w + 1)..<windowCount { start += Int(storage[header].index) }
        return summarize(from: start, length: Int(storage[w].index), geometry: geometries[w], at: now)
    }

    /// Buckets held across all windows.
    public var bucketsHeld: Int { storage.count - windowCount }

    /// Approximate heap bytes held.
    public var estimatedBytes: Int { 32 + storage.capacity * 40 }

    /// Upper bound of `estimatedBytes` (every bucket of every window non-empty, growth slack).
    public static func maxBytes(_ geometries: [WindowGeometry]) -> Int {
        32 + 2 * geometries.reduce(1) { $0 + 1 + $1.bucketCount } * 40
    }

    func summarize(from start: Int, length: Int, geometry: WindowGeometry, at now: Double) -> WindowSummary {
        var result = WindowSummary()
        let nowBucket = geometry.bucket(of: now)
        let low = nowBucket - Int64(geometry.bucketCount)
        var i = start + length - 1
        while i >= start {
            let bucket = storage[i]
            i -= 1
            if bucket.index > nowBucket { continue }
            if bucket.index <= low { break }
            result.count += bucket.count
            result.sum += bucket.sum
            if bucket.min < result.min { result.min = bucket.min }
            if bucket.max > result.max { result.max = bucket.max }
        }
        return result
    }
}

/// One sliding window of one stream: a single-window `WindowBucketStore` with its geometry.
public struct WindowedStats: Hashable, Sendable, Codable {
    /// Geometry of the buckets.
    public let geometry: WindowGeometry
    private var store = WindowBucketStore(windowCount: 1)

    /// Creates an empty window.
    public init(geometry: WindowGeometry) {
        self.geometry = geometry
    }

    /// Adds one event. Returns `false` when the event is older than the window of the newest
    /// event seen, and so outside this window for any query at or after that event.
    @discardableResult
    public mutating func add(time: Double, value: Double) -> Bool {
        store.add(time: time, value: value, geometries: [geometry]) == 1
    }

    /// The summary of the events inside the window ending at `now`.
    public func summary(at now: Double) -> WindowSummary {
        store.summary(window: 0, geometries: [geometry], at: now)
    }

    /// Number of buckets held.
    public var bucketsHeld: Int { store.bucketsHeld }
}

extension WindowBucketStore.Bucket {
    @inline(__always)
    mutating func absorb(_ value: Double) {
        count += 1
        sum += value
        if value < min { min = value }
        if value > max { max = value }
    }
}
