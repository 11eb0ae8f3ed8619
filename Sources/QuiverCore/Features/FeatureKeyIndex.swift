// FeatureKeyIndex: an open-addressing table from a key's stable 64-bit hash (FeatureHash.fnv1a) to
// its slot in a shard's arrays, with linear probing and backward-shift deletion. It replaces a
// String-keyed Dictionary on the ingestion path: the hash is computed once per event anyway, and a
// probe reads one 16-byte entry. Invariant: at most half the entries are used; equal hashes of
// different keys are resolved by the caller's `matches` check on the slot, never assumed equal.
import CQuiverIntrinsics

struct FeatureKeyIndex: Sendable {
    private struct Entry: Sendable {
        var hash: UInt64
        /// Slot + 1; 0 marks an empty entry.
        var slot: Int32
    }

    private var entries: [Entry] = []
    private var mask = -1
    private(set) var count = 0

    init() {}

    @inline(__always)
    private func start(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: (hash ^ (hash >> 32)) & UInt64(mask)) }

    /// The slot of the key with `hash` for which `matches(slot)` holds.
    @inline(__always)
    func find(_ hash: UInt64, matches: (Int) -> Bool) -> Int? {
        guard count > 0 else { return nil }
        return entries.withUnsafeBufferPointer { e in
            var i = start(hash)
            while true {
                let entry = e[i]
                if entry.slot == 0 { return nil }
                if entry.hash == hash, matches(Int(entry.slot) - 1) { return Int(entry.slot) - 1 }
                i = (i + 1) & mask
            }
        }
    }

    @inline(__always) private static var entriesOffset: Int { MemoryLayout<FeatureKeyIndex>.offset(of: \FeatureKeyIndex.entries)! }
    @inline(__always) private static var maskOffset: Int { MemoryLayout<FeatureKeyIndex>.offset(of: \FeatureKeyIndex.mask)! }
    @inline(__always) private static var countOffset: Int { MemoryLayout<FeatureKeyIndex>.offset(of: \FeatureKeyIndex.count)! }

    /// Batch ingestion: prefetches the entry where a probe for `hash` starts in the index at `index`
    /// (seen through its address, see `RawArray`).
    @inline(__always)
    static func prefetch(_ index: UnsafeRawPointer, hash: UInt64) {
        guard index.load(fromByteOffset: countOffset, as: Int.self) > 0 else { return }
        let mask = index.load(fromByteOffset: maskOffset, as: Int.self)
        let start = Int(truncatingIfNeeded: (hash ^ (hash >> 32)) & UInt64(mask))
        quiver_prefetch(RawArray(at: index + entriesOffset).elements + start * MemoryLayout<Entry>.stride)
    }

    /// The slot of the first entry stored under `hash` in the index at `index`, not checked against
    /// the key: a guess at what `find` will return, for prefetching the slot.
    @inline(__always)
    static func candidate(_ index: UnsafeRawPointer, hash: UInt64) -> Int? {
        guard index.load(fromByteOffset: countOffset, as: Int.self) > 0 else { return nil }
        let mask = index.load(fromByteOffset: maskOffset, as: Int.self)
        let e = RawArray(at: index + entriesOffset).elements.assumingMemoryBound(to: Entry.self)
        var i = Int(truncatingIfNeeded: (hash ^ (hash >> 32)) & UInt64(mask))
        while true {
            let entry = e[i]
            if entry.slot == 0 { return nil }
            if entry.hash == hash { return Int(entry.slot) - 1 }
            i = (i + 1) & mask
        }
    }

    /// Records `slot` under `hash` (the key must not be present).
    mutating func insert(_ hash: UInt64, slot: Int) {
        if (count + 1) * 2 > entries.count { grow() }
        count += 1
        let m = mask
        entries.withUnsafeMutableBufferPointer { e in
            var i = Int(truncatingIfNeeded: (hash ^ (hash >> 32)) & UInt64(m))
            while e[i].slot != 0 { i = (i + 1) & m }
            e[i] = Entry(hash: hash, slot: Int32(slot + 1))
        }
    }

    /// Removes the entry of `slot` (stored under `hash`).
    mutating func remove(_ hash: UInt64, slot: Int) {
        let m = mask
        let removed = entries.withUnsafeMutableBufferPointer { e -> Bool in
            var i = Int(truncatingIfNeeded: (hash ^ (hash >> 32)) & UInt64(m))
            while e[i].slot != 0, e[i].slot != Int32(slot + 1) { i = (i + 1) & m }
            guard e[i].slot != 0 else { return false }
            // Backward-shift deletion: move later entries of the run into the hole when their home
            // position allows it, so lookups never need tombstones.
            var hole = i
            var j = (i + 1) & m
            while e[j].slot != 0 {
                let home = Int(truncatingIfNeeded: (e[j].hash ^ (e[j].hash >> 32)) & UInt64(m))
                // Entry j may fill the hole if its home is not in (hole, j] cyclically.
                let distanceToJ = (j - home) & m
                let distanceToHole = (j - hole) & m
                if distanceToHole <= distanceToJ {
                    e[hole] = e[j]
                    hole = j
                }
                j = (j + 1) & m
            }
            e[hole] = Entry(hash: 0, slot: 0)
            return true
        }
        if removed { count -= 1 }
    }

    private mutating func grow() {
        let old = entries
        let size = max(16, entries.count * 2)
        entries = Array(repeating: Entry(hash: 0, slot: 0), count: size)
        mask = size - 1
        count = 0
        for entry in old where entry.slot != 0 { insert(entry.hash, slot: Int(entry.slot) - 1) }
    }

    /// Approximate heap bytes held.
    var estimatedBytes: Int { 32 + entries.capacity * MemoryLayout<Entry>.stride }
}
