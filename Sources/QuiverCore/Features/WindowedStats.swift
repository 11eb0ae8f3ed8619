// WindowedStats: a time-bucketed ring buffer holding count, sum, min and max of one event stream
// over one sliding window. Design: the window of length W is cut into B buckets of width
// ceil(W / B) seconds; an event lands in bucket floor(t / width) and slot bucket mod B. Each slot
// remembers its bucket index, so no "advance" step exists: a slot holding an older bucket is reset
// on write and ignored on read. Invariant: at query time `now`, exactly the events whose bucket is
// in (bucket(now) - B, bucket(now)] are counted; an event older than the data already in its slot
// (a late event outside the window) is dropped by this window only. Writes are O(1), reads O(B).

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

/// Which columns a `WindowedStats` keeps besides the count.
public struct WindowColumns: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Sum of values (needed by sum and mean).
    public static let sum = WindowColumns(rawValue: 1)
    /// Minimum value.
    public static let min = WindowColumns(rawValue: 2)
    /// Maximum value.
    public static let max = WindowColumns(rawValue: 4)
}

/// A ring of time buckets for one window of one stream. Only the requested columns are stored.
public struct WindowedStats: Hashable, Sendable, Codable {
    /// Geometry of the buckets.
    public let geometry: WindowGeometry
    private var epochs: [Int64]
    private var counts: [UInt32]
    private var sums: [Double]
    private var mins: [Double]
    private var maxs: [Double]

    /// Creates an empty ring keeping `columns` besides the count.
    public init(geometry: WindowGeometry, columns: WindowColumns) {
        self.geometry = geometry
        let n = geometry.bucketCount
        epochs = Array(repeating: Int64.min, count: n)
        counts = Array(repeating: 0, count: n)
        sums = columns.contains(.sum) ? Array(repeating: 0, count: n) : []
        mins = columns.contains(.min) ? Array(repeating: .infinity, count: n) : []
        maxs = columns.contains(.max) ? Array(repeating: -.infinity, count: n) : []
    }

    /// Adds one event. Returns `false` when the event is older than the data in its slot and so
    /// outside this window for any query at or after the newest event seen.
    @discardableResult
    public mutating func add(time: Double, value: Double) -> Bool {
        let b = geometry.bucket(of: time)
        var slot = Int(b % Int64(geometry.bucketCount))
        if slot < 0 { slot += geometry.bucketCount }
        let held = epochs[slot]
        if held != b {
            if held > b { return false }
            epochs[slot] = b
            counts[slot] = 0
            if !sums.isEmpty { sums[slot] = 0 }
            if !mins.isEmpty { mins[slot] = .infinity }
            if !maxs.isEmpty { maxs[slot] = -.infinity }
        }
        counts[slot] &+= 1
        if !sums.isEmpty { sums[slot] += value }
        if !mins.isEmpty, value < mins[slot] { mins[slot] = value }
        if !maxs.isEmpty, value > maxs[slot] { maxs[slot] = value }
        return true
    }

    /// The summary of the events inside the window ending at `now`.
    public func summary(at now: Double) -> WindowSummary {
        var result = WindowSummary()
        let nowBucket = geometry.bucket(of: now)
        let low = nowBucket - Int64(geometry.bucketCount)
        let hasSum = !sums.isEmpty, hasMin = !mins.isEmpty, hasMax = !maxs.isEmpty
        for slot in 0..<epochs.count {
            let e = epochs[slot]
            guard e > low, e <= nowBucket else { continue }
            result.count += Double(counts[slot])
            if hasSum { result.sum += sums[slot] }
            if hasMin, mins[slot] < result.min { result.min = mins[slot] }
            if hasMax, maxs[slot] > result.max { result.max = maxs[slot] }
        }
        return result
    }

    /// Approximate heap bytes held.
    public var estimatedBytes: Int {
        epochs.count * 8 + counts.count * 4 + (sums.count + mins.count + maxs.count) * 8 + 5 * 32
    }
}
