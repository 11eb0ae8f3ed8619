// WindowedStats: count, sum, min and max of one event stream over one sliding window, kept as a
// sparse, time-ordered list of buckets. Design: the window of length W is cut into B buckets of
// width ceil(W / B) seconds; an event lands in bucket floor(t / width). Unlike a dense ring of B
// slots, only non-empty buckets are stored, so the many quiet users cost a few entries and a busy
// one at most B (the same bound as a ring). In-order events touch the last bucket (O(1)); expired
// buckets are dropped from the front on append. Invariant: at query time `now`, exactly the events
// whose bucket is in (bucket(now) - B, bucket(now)] are counted, for any `now` at or after the
// newest event; a late event older than the window of the newest event is dropped by this window
// only (long-lived state such as decayed counters still takes it). Reads are O(buckets held).

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

    /// The bucket index of a time in Unix seconds.
    @inline(__always)
    public func bucket(of time: Double) -> Int64 {
        Int64((time / Double(bucketWidth)).rounded(.down))
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

/// The non-empty buckets of one window of one stream, oldest first. Only buckets inside the
/// window of the newest event are kept, so a quiet key holds a few entries and a busy one at most
/// `bucketCount`.
public struct WindowedStats: Hashable, Sendable, Codable {
    /// One non-empty bucket.
    struct Bucket: Hashable, Sendable, Codable {
        var index: Int64
        var count: Double
        var sum: Double
        var min: Double
        var max: Double
    }

    /// Geometry of the buckets.
    public let geometry: WindowGeometry
    private var buckets: [Bucket] = []

    /// Creates an empty window.
    public init(geometry: WindowGeometry) {
        self.geometry = geometry
    }

    /// Adds one event. Returns `false` when the event is older than the window of the newest
    /// event seen, and so outside this window for any query at or after that event.
    @discardableResult
    public mutating func add(time: Double, value: Double) -> Bool {
        let b = geometry.bucket(of: time)
        let n = buckets.count
        if n > 0, buckets[n - 1].index == b {
            buckets[n - 1].absorb(value)
            return true
        }
        if n == 0 || buckets[n - 1].index < b {
            buckets.append(Bucket(index: b, count: 1, sum: value, min: value, max: value))
            let low = b - Int64(geometry.bucketCount)
            if buckets[0].index <= low {
                var expired = 1
                while expired < buckets.count, buckets[expired].index <= low { expired += 1 }
                buckets.removeFirst(expired)
            }
            return true
        }
        // A late event: it lands in its own bucket if that is still inside the window.
        guard b > buckets[n - 1].index - Int64(geometry.bucketCount) else { return false }
        var i = n - 1
        while i > 0, buckets[i - 1].index >= b { i -= 1 }
        if buckets[i].index == b {
            buckets[i].absorb(value)
        } else {
            buckets.insert(Bucket(index: b, count: 1, sum: value, min: value, max: value), at: i)
        }
        return true
    }

    /// The summary of the events inside the window ending at `now`.
    public func summary(at now: Double) -> WindowSummary {
        var result = WindowSummary()
        let nowBucket = geometry.bucket(of: now)
        let low = nowBucket - Int64(geometry.bucketCount)
        for bucket in buckets.reversed() {
            if bucket.index > nowBucket { continue }
            if bucket.index <= low { break }
            result.count += bucket.count
            result.sum += bucket.sum
            if bucket.min < result.min { result.min = bucket.min }
            if bucket.max > result.max { result.max = bucket.max }
        }
        return result
    }

    /// Number of buckets held.
    public var bucketsHeld: Int { buckets.count }

    /// Approximate heap bytes held.
    public var estimatedBytes: Int { 48 + buckets.capacity * 40 }

    /// Upper bound of `estimatedBytes` (every bucket of the window non-empty, array growth slack).
    public static func maxBytes(_ geometry: WindowGeometry) -> Int { 48 + 2 * geometry.bucketCount * 40 }
}

extension WindowedStats.Bucket {
    @inline(__always)
    mutating func absorb(_ value: Double) {
        count += 1
        sum += value
        if value < min { min = value }
        if value > max { max = value }
    }
}
