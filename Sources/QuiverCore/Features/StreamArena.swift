// StreamArena: the stream state of one key (a user, a user x category, an item, a shard's share of
// global) in one contiguous buffer of 64-bit words, so that an event touches one heap object per
// key instead of one per bucket list, distinct table and counter. Design: a directory (word 0: its
// size S; words 1...S: each stream id's region offset, 0 when absent) followed by one region per
// stream that saw an event. A region holds a fixed header, per window its segment length and
// decayed counter, the sparse bucket lists of all windows (the WindowBucketStore algorithm: segments
// in reverse window order, oldest first; buckets of 2 words - index, count - when the stream only
// counts, 5 words - index, count, sum, min, max - otherwise), then an open-addressing distinct table
// of (item hash, newest time). Regions grow by doubling their bucket or table capacity (later
// regions shift); the last-N lists, which hold Strings, stay in `lists`.
// Invariant: every region is laid out for the spec of its stream id (passed in, never stored), and
// reads give exactly what `FeatureAccumulator` gives for the same events (tested side by side).

struct StreamArena: Sendable {
    /// Directory and regions; empty until the first event.
    var words: [UInt64] = []
    /// Last-N lists, referenced from regions by index.
    var lists: [RecentItems] = []

    init() {}

    // MARK: Region layout

    /// Header words of a region. After them: the segment length of each window (16 bits each, four
    /// to a word), then, with `decayed_count`, each window's decayed counter (value, reference time),
    /// then the buckets, then the distinct table.
    enum Header {
        static let size = 0           // words of the region | (index in `lists` + 1) << 32
        static let shape = 1          // windows | bucketWords << 16 | decay << 24 | distinctCap << 32
        static let buckets = 2        // capacity | used << 32
        static let distinct = 3       // slots | count << 32 | saturated << 63
        static let newest = 4         // Double
        static let lifetime = 5       // Double
        static let distinctNewest = 6 // Double
        static let count = 7
    }

    /// Marks an empty distinct slot (a NaN: event times are finite).
    static let emptyTime = UInt64.max

    @inline(__always) static func windows(_ shape: UInt64) -> Int { Int(shape & 0xFFFF) }
    @inline(__always) static func bucketWords(_ shape: UInt64) -> Int { Int((shape >> 16) & 0xFF) }
    @inline(__always) static func distinctCap(_ shape: UInt64) -> Int { Int(shape >> 32) }
    @inline(__always) static func hasDecay(_ shape: UInt64) -> Bool { (shape >> 24) & 1 != 0 }
    /// Offset of the decayed counters in a region.
    @inline(__always) static func decayOffset(_ shape: UInt64) -> Int { Header.count + (windows(shape) + 3) / 4 }
    /// Offset of the buckets in a region.
    @inline(__always) static func areaOffset(_ shape: UInt64) -> Int {
        decayOffset(shape) + (hasDecay(shape) ? 2 * windows(shape) : 0)
    }
    /// Words before the buckets of a region for `spec`.
    @inline(__always) static func fixedWords(_ spec: FeatureStreamSpec) -> Int {
        Header.count + (spec.arenaWindows + 3) / 4 + (spec.hasDecay ? 2 * spec.arenaWindows : 0)
    }
    @inline(__always) static func segmentLength(_ p: UnsafePointer<UInt64>, _ w: Int) -> Int {
        Int((p[Header.count + w / 4] >> UInt64(16 * (w % 4))) & 0xFFFF)
    }
    @inline(__always) static func segmentLength(_ p: UnsafeMutablePointer<UInt64>, _ w: Int) -> Int {
        segmentLength(UnsafePointer(p), w)
    }
    @inline(__always) static func setSegmentLength(_ p: UnsafeMutablePointer<UInt64>, _ w: Int, _ length: Int) {
        let shift = UInt64(16 * (w % 4))
        p[Header.count + w / 4] = p[Header.count + w / 4] & ~(0xFFFF << shift) | UInt64(length) << shift
    }
    /// Index in `lists` + 1 of the region at `r` (0: none).
    @inline(__always) func listIndex(_ r: Int) -> Int { Int(words[r + Header.size] >> 32) }
    /// Words of the region at `r`.
    @inline(__always) func regionSize(_ r: Int) -> Int { Int(words[r + Header.size] & 0xFFFF_FFFF) }
    @inline(__always) static func low(_ word: UInt64) -> Int { Int(word & 0xFFFF_FFFF) }
    @inline(__always) static func high(_ word: UInt64) -> Int { Int((word >> 32) & 0x7FFF_FFFF) }

    /// Offset of a stream's region, 0 when the stream has none.
    @inline(__always)
    func region(_ stream: Int) -> Int {
        guard !words.isEmpty, stream < Int(words[0]) else { return 0 }
        return Int(words[1 + stream])
    }

    /// Whether any stream saw an event.
    var isEmpty: Bool { streamIDs.isEmpty }

    /// Stream ids with a region.
    var streamIDs: [Int] {
        guard !words.isEmpty else { return [] }
        return (0..<Int(words[0])).filter { words[1 + $0] != 0 }
    }

    // MARK: Ingestion

    /// Reads, for each of `streams`, the words an update will touch first (the region header, the
    /// newest bucket, the distinct slot of `partyHash`), all at once: the cache misses of a cold key
    /// then overlap instead of coming one after the other as the updates reach each region. The
    /// caller keeps the result somewhere (its value means nothing) so the reads are not dropped.
    @inline(__always)
    func warm(_ streams: [Int], partyHash: UInt64) -> UInt64 {
        guard !words.isEmpty else { return 0 }
        return words.withUnsafeBufferPointer { w in
            var x: UInt64 = 0
            let directory = Int(w[0])
            for id in streams where id < directory {
                let r = Int(w[1 + id])
                guard r != 0 else { continue }
                let shape = w[r + Header.shape], b = w[r + Header.buckets]
                let bw = Self.bucketWords(shape), area = r + Self.areaOffset(shape)
                let used = Self.high(b)
                if used > 0 { x &+= w[area + (used - 1) * bw] }
                let slots = Self.low(w[r + Header.distinct])
                if slots > 0 {
                    let i = Int(truncatingIfNeeded: (partyHash ^ (partyHash >> 29)) & UInt64(slots - 1))
                    x &+= w[area + Self.low(b) * bw + 2 * i]
                }
            }
            return x
        }
    }

    /// Folds one event into stream `stream` (laid out for `spec`).
    ///
    /// - Parameters:
    ///   - party: the other side of the event (item for user keys, user for item and global keys).
    ///   - partyHash: `FeatureHash.fnv1a(party)`.
    @inline(__always)
    mutating func add(stream: Int, spec: FeatureStreamSpec, time: Double, value: Double, party: String?,
                      partyHash: UInt64) {
        var r = region(stream)
        if r == 0 { r = createRegion(stream, spec: spec) }
        let w = spec.arenaWindows
        if spec.needsBuckets {
            let b = words[r + Header.buckets]
            if Self.high(b) + w > Self.low(b) { growBuckets(at: r, spec: spec) }
        }
        let trackDistinct = party != nil && spec.distinctCap > 0
        if trackDistinct {
            let d = words[r + Header.distinct]
            let slots = Self.low(d)
            if (Self.high(d) + 1) * 2 > slots, slots < spec.maxDistinctSlots { growDistinct(at: r, spec: spec) }
        }
        words.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress! + r
            if spec.needsBuckets { Self.addBuckets(p, time: time, value: value, spec: spec) }
            if spec.hasDecay {
                let decay = p + Self.decayOffset(p[Header.shape])
                for i in 0..<w {
                    let h = decay + 2 * i
                    var decayed = Double(bitPattern: h[0]), reference = Double(bitPattern: h[1])
                    DecayedCounter.fold(value: &decayed, reference: &reference, weight: 1, time: time,
                                        halfLife: spec.halfLives[i])
                    h[0] = decayed.bitPattern
                    h[1] = reference.bitPattern
                }
            }
            if trackDistinct { Self.insertDistinct(p, hash: partyHash, time: time, horizon: spec.horizon) }
            if time > Double(bitPattern: p[Header.newest]) { p[Header.newest] = time.bitPattern }
            p[Header.lifetime] = (Double(bitPattern: p[Header.lifetime]) + 1).bitPattern
        }
        if let party, spec.lastN > 0 {
            lists[listIndex(r) - 1].insert(itemID: party, time: time)
        }
    }

    /// The WindowBucketStore update over the region at `p` (room for one new bucket per window).
    @inline(__always)
    private static func addBuckets(_ p: UnsafeMutablePointer<UInt64>, time: Double, value: Double,
                                   spec: FeatureStreamSpec) {
        let windowCount = windows(p[Header.shape])
        let bw = bucketWords(p[Header.shape])
        let area = p + areaOffset(p[Header.shape])
        var used = high(p[Header.buckets])
        var start = 0
        for w in stride(from: windowCount - 1, through: 0, by: -1) {
            let length = segmentLength(p, w)
            let g = spec.geometries[w]
            let b = g.bucket(of: time)
            let end = start + length
            if length > 0, Int64(bitPattern: area[(end - 1) * bw]) == b {
                absorb(area + (end - 1) * bw, value: value, words: bw)
                start = end
                continue
            }
            if length == 0 || Int64(bitPattern: area[(end - 1) * bw]) < b {
                let low = b - Int64(g.bucketCount)
                var expired = 0
                while expired < length, Int64(bitPattern: area[(start + expired) * bw]) <= low { expired += 1 }
                if expired == 0 {
                    // Open a slot at `end`: the later segments move up by one bucket.
                    (area + (end + 1) * bw).update(from: area + end * bw, count: (used - end) * bw)
                    used += 1
                } else {
                    // Drop the expired buckets and reuse one of their slots for the new bucket.
                    (area + start * bw).update(from: area + (start + expired) * bw, count: (length - expired) * bw)
                    if expired > 1 {
                        (area + end * bw - (expired - 1) * bw).update(from: area + end * bw, count: (used - end) * bw)
                        used -= expired - 1
                    }
                }
                let slot = area + (start + length - expired) * bw
                fresh(slot, index: b, value: value, words: bw)
                setSegmentLength(p, w, length + 1 - expired)
                start += length + 1 - expired
                continue
            }
            // A late event: it lands in its own bucket if that is still inside the window.
            guard b > Int64(bitPattern: area[(end - 1) * bw]) - Int64(g.bucketCount) else {
                start = end
                continue
            }
            var i = end - 1
            while i > start, Int64(bitPattern: area[(i - 1) * bw]) >= b { i -= 1 }
            if Int64(bitPattern: area[i * bw]) == b {
                absorb(area + i * bw, value: value, words: bw)
                start = end
                continue
            }
            (area + (i + 1) * bw).update(from: area + i * bw, count: (used - i) * bw)
            used += 1
            fresh(area + i * bw, index: b, value: value, words: bw)
            setSegmentLength(p, w, length + 1)
            start = end + 1
        }
        p[Header.buckets] = UInt64(low(p[Header.buckets])) | UInt64(used) << 32
    }

    @inline(__always)
    private static func fresh(_ q: UnsafeMutablePointer<UInt64>, index: Int64, value: Double, words: Int) {
        q[0] = UInt64(bitPattern: index)
        q[1] = (1.0).bitPattern
        if words == 5 {
            q[2] = value.bitPattern
            q[3] = value.bitPattern
            q[4] = value.bitPattern
        }
    }

    @inline(__always)
    private static func absorb(_ q: UnsafeMutablePointer<UInt64>, value: Double, words: Int) {
        q[1] = (Double(bitPattern: q[1]) + 1).bitPattern
        if words == 5 {
            q[2] = (Double(bitPattern: q[2]) + value).bitPattern
            if value < Double(bitPattern: q[3]) { q[3] = value.bitPattern }
            if value > Double(bitPattern: q[4]) { q[4] = value.bitPattern }
        }
    }

    /// The DistinctTracker update over the region at `p` (the table has room for one more item).
    @inline(__always)
    private static func insertDistinct(_ p: UnsafeMutablePointer<UInt64>, hash: UInt64, time: Double, horizon: Double) {
        let cap = distinctCap(p[Header.shape])
        if time > Double(bitPattern: p[Header.distinctNewest]) { p[Header.distinctNewest] = time.bitPattern }
        let table = distinctTable(p)
        let slots = low(p[Header.distinct])
        let mask = slots - 1
        var i = Int(truncatingIfNeeded: (hash ^ (hash >> 29)) & UInt64(mask))
        while table[2 * i + 1] != emptyTime {
            if table[2 * i] == hash {
                if time > Double(bitPattern: table[2 * i + 1]) { table[2 * i + 1] = time.bitPattern }
                return
            }
            i = (i + 1) & mask
        }
        if high(p[Header.distinct]) >= cap {
            evictDistinct(p, horizon: horizon)
            i = Int(truncatingIfNeeded: (hash ^ (hash >> 29)) & UInt64(mask))
            while table[2 * i + 1] != emptyTime { i = (i + 1) & mask }
        }
        table[2 * i] = hash
        table[2 * i + 1] = time.bitPattern
        p[Header.distinct] += 1 << 32
    }

    /// DistinctTracker's eviction: items older than the horizon, then, if still full, the older half.
    private static func evictDistinct(_ p: UnsafeMutablePointer<UInt64>, horizon: Double) {
        let cap = distinctCap(p[Header.shape])
        var held = distinctEntries(p)
        let cutoff = Double(bitPattern: p[Header.distinctNewest]) - horizon
        held.removeAll { !($0.1 >= cutoff) }
        var saturated = p[Header.distinct] >> 63 != 0
        if held.count >= cap {
            let times = held.map(\.1).sorted()
            let median = times[times.count / 2]
            held.removeAll { !($0.1 > median) }
            saturated = true
        }
        fillDistinct(p, held, saturated: saturated)
    }

    @inline(__always)
    static func distinctTable(_ p: UnsafeMutablePointer<UInt64>) -> UnsafeMutablePointer<UInt64> {
        return p + areaOffset(p[Header.shape]) + low(p[Header.buckets]) * bucketWords(p[Header.shape])
    }

    static func distinctEntries(_ p: UnsafeMutablePointer<UInt64>) -> [(UInt64, Double)] {
        let table = distinctTable(p)
        var held: [(UInt64, Double)] = []
        held.reserveCapacity(high(p[Header.distinct]))
        for i in 0..<low(p[Header.distinct]) where table[2 * i + 1] != emptyTime {
            held.append((table[2 * i], Double(bitPattern: table[2 * i + 1])))
        }
        return held
    }

    /// Rewrites the distinct table at `p` (of its current size) with `entries`.
    static func fillDistinct(_ p: UnsafeMutablePointer<UInt64>, _ entries: [(UInt64, Double)], saturated: Bool) {
        let table = distinctTable(p)
        let slots = low(p[Header.distinct])
        let mask = slots - 1
        for i in 0..<slots {
            table[2 * i] = 0
            table[2 * i + 1] = emptyTime
        }
        for (hash, time) in entries {
            var i = Int(truncatingIfNeeded: (hash ^ (hash >> 29)) & UInt64(mask))
            while table[2 * i + 1] != emptyTime { i = (i + 1) & mask }
            table[2 * i] = hash
            table[2 * i + 1] = time.bitPattern
        }
        p[Header.distinct] = UInt64(slots) | UInt64(entries.count) << 32 | (saturated ? 1 << 63 : 0)
    }

    // MARK: Growth

    /// Appends an empty region for `stream`, growing the directory if needed; returns its offset.
    mutating func createRegion(_ stream: Int, spec: FeatureStreamSpec, bucketCapacity: Int? = nil,
                               distinctSlots: Int? = nil) -> Int {
        if words.capacity == 0 { words.reserveCapacity(2 + stream + Self.initialWords(spec) + 8) }
        if words.isEmpty { words.append(0) }
        let directory = Int(words[0])
        if stream >= directory {
            let extra = stream + 1 - directory
            words.insert(contentsOf: repeatElement(0, count: extra), at: 1 + directory)
            words[0] = UInt64(stream + 1)
            for s in 0..<directory where words[1 + s] != 0 { words[1 + s] += UInt64(extra) }
        }
        let w = spec.arenaWindows
        let capacity = bucketCapacity ?? (spec.needsBuckets ? min(2 * w, spec.maxBuckets + w) : 0)
        let slots = distinctSlots ?? (spec.distinctCap > 0 ? min(8, spec.maxDistinctSlots) : 0)
        let fixed = Self.fixedWords(spec)
        let size = fixed + capacity * spec.bucketWords + 2 * slots
        let r = words.count
        words.append(contentsOf: repeatElement(0, count: size))
        words[r + Header.size] = UInt64(size)
        words[r + Header.shape] = UInt64(w) | UInt64(spec.bucketWords) << 16 | (spec.hasDecay ? 1 << 24 : 0)
            | UInt64(spec.distinctCap) << 32
        words[r + Header.buckets] = UInt64(capacity)
        words[r + Header.distinct] = UInt64(slots)
        words[r + Header.newest] = (-Double.infinity).bitPattern
        words[r + Header.distinctNewest] = (-Double.infinity).bitPattern
        if spec.hasDecay {
            let decay = r + Header.count + (w + 3) / 4
            for i in 0..<w { words[decay + 2 * i + 1] = (-Double.infinity).bitPattern }
        }
        let tableStart = r + fixed + capacity * spec.bucketWords
        for i in 0..<slots { words[tableStart + 2 * i + 1] = Self.emptyTime }
        if spec.lastN > 0 {
            lists.append(RecentItems(limit: spec.lastN))
            words[r + Header.size] |= UInt64(lists.count) << 32
        }
        words[1 + stream] = UInt64(r)
        return r
    }

    /// Replaces the last-N list of the region at `r`.
    mutating func replaceList(of r: Int, with list: RecentItems) {
        lists[listIndex(r) - 1] = list
    }

    /// Releases the streams that `live` does not mark live (after a definition change).
    mutating func release(live: [Bool]) {
        guard streamIDs.contains(where: { !($0 < live.count && live[$0]) }) else { return }
        remap { $0 < live.count && live[$0] ? $0 : nil }
    }

    /// Words of a new region for `spec` (before any growth).
    static func initialWords(_ spec: FeatureStreamSpec) -> Int {
        let w = spec.arenaWindows
        let capacity = spec.needsBuckets ? min(2 * w, spec.maxBuckets + w) : 0
        return fixedWords(spec) + capacity * spec.bucketWords + 2 * (spec.distinctCap > 0 ? min(8, spec.maxDistinctSlots) : 0)
    }

    /// Reserves room for the directory and new regions of `streams` plus half as much again, so
    /// that a key's first events allocate once rather than once per region.
    mutating func reserve(streams: [Int], specs: [FeatureStreamSpec]) {
        guard let last = streams.max() else { return }
        let total = 2 + last + streams.reduce(0) { $0 + Self.initialWords(specs[$1]) }
        words.reserveCapacity(words.count + total)
    }

    /// Inserts `count` zero words at `position` inside the region at `r` and moves later regions.
    private mutating func insertWords(_ count: Int, at position: Int, region r: Int) {
        words.insert(contentsOf: repeatElement(0, count: count), at: position)
        words[r + Header.size] += UInt64(count)
        for s in 0..<Int(words[0]) where Int(words[1 + s]) > r { words[1 + s] += UInt64(count) }
    }

    private mutating func growBuckets(at r: Int, spec: FeatureStreamSpec) {
        let b = words[r + Header.buckets]
        let capacity = Self.low(b), used = Self.high(b)
        let w = spec.arenaWindows
        let grown = max(used + w, min(2 * capacity, spec.maxBuckets + w))
        let areaEnd = r + Self.fixedWords(spec) + capacity * spec.bucketWords
        insertWords((grown - capacity) * spec.bucketWords, at: areaEnd, region: r)
        words[r + Header.buckets] = UInt64(grown) | UInt64(used) << 32
    }

    /// Doubles the distinct table of the region at `r`, re-inserting its items in table order
    /// (from a copy of the old table on the stack, not an array of entries).
    private mutating func growDistinct(at r: Int, spec: FeatureStreamSpec) {
        let slots = Self.low(words[r + Header.distinct])
        let grown = min(max(8, 2 * slots), spec.maxDistinctSlots)
        let tableEnd = r + regionSize(r)
        insertWords(2 * (grown - slots), at: tableEnd, region: r)
        words.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress! + r
            let table = Self.distinctTable(p)
            let d = p[Header.distinct]
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * slots) { old in
                let old = old.baseAddress!
                old.update(from: table, count: 2 * slots)
                for i in 0..<grown {
                    table[2 * i] = 0
                    table[2 * i + 1] = Self.emptyTime
                }
                let mask = grown - 1
                for j in 0..<slots where old[2 * j + 1] != Self.emptyTime {
                    let hash = old[2 * j]
                    var i = Int(truncatingIfNeeded: (hash ^ (hash >> 29)) & UInt64(mask))
                    while table[2 * i + 1] != Self.emptyTime { i = (i + 1) & mask }
                    table[2 * i] = hash
                    table[2 * i + 1] = old[2 * j + 1]
                }
            }
            p[Header.distinct] = UInt64(grown) | (d & ~0xFFFF_FFFF)  // count and saturation unchanged
        }
    }

    /// Keeps only the streams `keep` accepts, renumbered by it (`nil`: dropped).
    mutating func remap(_ keep: (Int) -> Int?) {
        guard !words.isEmpty else { return }
        var fresh = StreamArena()
        var regions: [(id: Int, words: ArraySlice<UInt64>, list: RecentItems?)] = []
        for old in streamIDs {
            guard let id = keep(old) else { continue }
            let r = region(old)
            let list = listIndex(r)
            regions.append((id, words[r..<(r + regionSize(r))], list > 0 ? lists[list - 1] : nil))
        }
        guard !regions.isEmpty else {
            self = fresh
            return
        }
        let directory = regions.map(\.id).max()! + 1
        fresh.words = Array(repeating: 0, count: 1 + directory)
        fresh.words[0] = UInt64(directory)
        for region in regions {
            let r = fresh.words.count
            fresh.words.append(contentsOf: region.words)
            fresh.words[1 + region.id] = UInt64(r)
            if let list = region.list {
                fresh.lists.append(list)
                fresh.words[r + Header.size] = fresh.words[r + Header.size] & 0xFFFF_FFFF | UInt64(fresh.lists.count) << 32
            }
        }
        self = fresh
    }

    // MARK: Reads

    /// Summary of window `window` of `stream` at `now` (empty when the stream keeps no buckets).
    func summary(stream: Int, window: Int, spec: FeatureStreamSpec, at now: Double) -> WindowSummary {
        let r = region(stream)
        guard r != 0, spec.needsBuckets else { return WindowSummary() }
        return words.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress! + r
            let windowCount = Self.windows(p[Header.shape])
            let bw = Self.bucketWords(p[Header.shape])
            var start = 0
            for w in (window + 1)..<windowCount { start += Self.segmentLength(p, w) }
            let length = Self.segmentLength(p, window)
            let area = p + Self.areaOffset(p[Header.shape])
            var result = WindowSummary()
            let g = spec.geometries[window]
            let nowBucket = g.bucket(of: now)
            let low = nowBucket - Int64(g.bucketCount)
            var i = start + length - 1
            while i >= start {
                let q = area + i * bw
                i -= 1
                let index = Int64(bitPattern: q[0])
                if index > nowBucket { continue }
                if index <= low { break }
                result.count += Double(bitPattern: q[1])
                if bw == 5 {
                    result.sum += Double(bitPattern: q[2])
                    let lo = Double(bitPattern: q[3]), hi = Double(bitPattern: q[4])
                    if lo < result.min { result.min = lo }
                    if hi > result.max { result.max = hi }
                }
            }
            return result
        }
    }

    /// Distinct items of `stream` in window `window` at `now`.
    func distinctCount(stream: Int, window: Int, spec: FeatureStreamSpec, at now: Double) -> Int {
        let r = region(stream)
        guard r != 0, spec.distinctCap > 0 else { return 0 }
        let (lower, upper) = spec.geometries[window].timeRange(nowBucket: spec.geometries[window].bucket(of: now))
        var n = 0
        forEachSighting(region: r) { _, time in
            if time >= lower, time < upper { n += 1 }
        }
        return n
    }

    /// Calls `body` with every (item hash, newest time) of the distinct table of the region at `r`.
    func forEachSighting(region r: Int, _ body: (UInt64, Double) -> Void) {
        words.withUnsafeBufferPointer { buffer in
            let p = UnsafeMutablePointer(mutating: buffer.baseAddress! + r)
            let table = Self.distinctTable(p)
            for i in 0..<Self.low(p[Header.distinct]) where table[2 * i + 1] != Self.emptyTime {
                body(table[2 * i], Double(bitPattern: table[2 * i + 1]))
            }
        }
    }

    /// Decayed count of `stream` with half-life `windows[window]` at `now`.
    func decayedCount(stream: Int, window: Int, spec: FeatureStreamSpec, at now: Double) -> Double {
        let r = region(stream)
        guard r != 0, spec.hasDecay else { return 0 }
        let h = r + Self.decayOffset(words[r + Header.shape]) + 2 * window
        return DecayedCounter.value(Double(bitPattern: words[h]), reference: Double(bitPattern: words[h + 1]),
                                    halfLife: spec.halfLives[window], at: now)
    }

    /// Newest event time of `stream` (`-infinity` before the first).
    func newest(stream: Int) -> Double {
        let r = region(stream)
        return r == 0 ? -.infinity : Double(bitPattern: words[r + Header.newest])
    }

    /// Newest items of `stream`'s last-N list, newest first.
    func recentItems(stream: Int) -> [RecentItems.Entry] {
        let r = region(stream)
        guard r != 0, listIndex(r) > 0 else { return [] }
        return lists[listIndex(r) - 1].entries
    }

    /// Approximate heap bytes held.
    var estimatedBytes: Int {
        var bytes = words.isEmpty ? 0 : 32 + words.capacity * 8
        if !lists.isEmpty { bytes += 32 + lists.capacity * MemoryLayout<RecentItems>.stride }
        for list in lists { bytes += list.estimatedBytes }
        return bytes
    }

    /// Upper bound of `estimatedBytes` for streams `specs` (every bucket and table full, 2x growth)
    /// with a directory of `directory` stream ids.
    static func maxBytes(_ specs: [FeatureStreamSpec], directory: Int) -> Int {
        var words = 1 + directory
        var bytes = 0
        for spec in specs {
            words += fixedWords(spec) + (spec.maxBuckets + spec.arenaWindows) * spec.bucketWords
                + 2 * spec.maxDistinctSlots
            if spec.lastN > 0 {
                bytes += MemoryLayout<RecentItems>.stride + 32 + 2 * spec.lastN * 32
                    + spec.lastN * EventLimits().maxIdentifierBytes
            }
        }
        return 64 + 2 * words * 8 + 2 * bytes
    }
}
