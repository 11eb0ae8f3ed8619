// StreamArena <-> [FeatureAccumulator]: the arena's exchange form. State leaves the engine (Codable,
// to a store, to Redis as JSON) as the accumulators earlier releases encoded, so stored state stays
// readable in both directions; it comes back into an arena once a schema gives each stream's spec.
// Invariant: accumulators(from: arena(from: a)) == a for accumulators made under their spec, except
// that a counting-only stream's buckets carry no sum, min or max (written as 0; never read).

extension StreamArena {
    /// The arena as accumulators indexed by stream id (absent streams are empty accumulators).
    func accumulators() -> [FeatureAccumulator] {
        guard !words.isEmpty else { return [] }
        return (0..<Int(words[0])).map { accumulator(region: region($0)) }
    }

    private func accumulator(region r: Int) -> FeatureAccumulator {
        guard r != 0 else { return FeatureAccumulator() }
        let shape = words[r + Header.shape]
        let windowCount = Self.windows(shape), bw = Self.bucketWords(shape), cap = Self.distinctCap(shape)
        var buckets = WindowBucketStore(windowCount: 0)
        if windowCount > 0 {
            var storage: [WindowBucketStore.Bucket] = []
            let decay = r + Self.decayOffset(shape)
            for w in 0..<windowCount {
                let length = Int((words[r + Header.count + w / 4] >> UInt64(16 * (w % 4))) & 0xFFFF)
                let value = Self.hasDecay(shape) ? Double(bitPattern: words[decay + 2 * w]) : 0
                let reference = Self.hasDecay(shape) ? Double(bitPattern: words[decay + 2 * w + 1]) : -.infinity
                storage.append(.init(index: Int64(length), count: value, sum: reference, min: 0, max: 0))
            }
            let area = r + Self.areaOffset(shape)
            for i in 0..<Self.high(words[r + Header.buckets]) {
                let q = area + i * bw
                storage.append(.init(index: Int64(bitPattern: words[q]), count: Double(bitPattern: words[q + 1]),
                                     sum: bw == 5 ? Double(bitPattern: words[q + 2]) : 0,
                                     min: bw == 5 ? Double(bitPattern: words[q + 3]) : 0,
                                     max: bw == 5 ? Double(bitPattern: words[q + 4]) : 0))
            }
            buckets = WindowBucketStore(storage: storage, windowCount: windowCount)
        }
        var distinct = DistinctTracker(cap: 0)
        if cap > 0 {
            var lastSeen: [UInt64: Double] = [:]
            forEachSighting(region: r) { lastSeen[$0] = $1 }
            distinct = DistinctTracker(cap: cap, saturated: words[r + Header.distinct] >> 63 != 0, lastSeen: lastSeen,
                                       newest: Double(bitPattern: words[r + Header.distinctNewest]))
        }
        let list = listIndex(r)
        return FeatureAccumulator(buckets: buckets, distinct: distinct,
                                  recent: list > 0 ? lists[list - 1] : RecentItems(limit: 0),
                                  newest: Double(bitPattern: words[r + Header.newest]),
                                  lifetimeCount: Double(bitPattern: words[r + Header.lifetime]))
    }

    /// An arena holding `accumulators[id]` for every id with a spec; `keep` filters ids (e.g. live).
    init(_ accumulators: [FeatureAccumulator], specs: [FeatureStreamSpec], keep: (Int) -> Bool = { _ in true }) {
        self.init()
        for (id, a) in accumulators.enumerated() where id < specs.count && !a.isEmpty && keep(id) {
            adopt(a, stream: id, spec: specs[id])
        }
    }

    /// Copies one accumulator made under `spec` into a new region for `stream`.
    private mutating func adopt(_ a: FeatureAccumulator, stream: Int, spec: FeatureStreamSpec) {
        let windowCount = spec.arenaWindows
        let storage = a.buckets.windowCount == windowCount ? a.buckets.rawStorage : []
        let held = spec.needsBuckets ? max(0, storage.count - windowCount) : 0
        let sightings = spec.distinctCap > 0 ? a.distinct.sightings.map { ($0.key, $0.value) } : []
        var slots = spec.distinctCap > 0 ? min(8, spec.maxDistinctSlots) : 0
        while (sightings.count + 1) * 2 > slots, slots < spec.maxDistinctSlots { slots *= 2 }
        let capacity = spec.needsBuckets ? min(max(2 * windowCount, held + windowCount), spec.maxBuckets + windowCount) : 0
        let r = createRegion(stream, spec: spec, bucketCapacity: max(capacity, held), distinctSlots: slots)
        var words = self.words
        self.words = []
        words.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress! + r
            if !storage.isEmpty {
                for w in 0..<windowCount {
                    Self.setSegmentLength(p, w, Int(storage[w].index))
                    if spec.hasDecay {
                        let h = p + Self.decayOffset(p[Header.shape]) + 2 * w
                        h[0] = storage[w].count.bitPattern
                        h[1] = storage[w].sum.bitPattern
                    }
                }
                let bw = spec.bucketWords
                let area = p + Self.areaOffset(p[Header.shape])
                for i in 0..<held {
                    let b = storage[windowCount + i], q = area + i * bw
                    q[0] = UInt64(bitPattern: b.index)
                    q[1] = b.count.bitPattern
                    if bw == 5 {
                        q[2] = b.sum.bitPattern
                        q[3] = b.min.bitPattern
                        q[4] = b.max.bitPattern
                    }
                }
                p[Header.buckets] = UInt64(Self.low(p[Header.buckets])) | UInt64(held) << 32
            }
            if spec.distinctCap > 0 {
                Self.fillDistinct(p, sightings, saturated: a.distinct.saturated)
                p[Header.distinctNewest] = a.distinct.newestSighting.bitPattern
            }
            p[Header.newest] = a.newest.bitPattern
            p[Header.lifetime] = a.lifetimeCount.bitPattern
        }
        self.words = words
        if spec.lastN > 0 { replaceList(of: r, with: a.recent) }
    }
}
