// StreamArena+Prefetch: the stages in which batch ingestion asks the CPU for an arena's cache lines
// before an event updates them (CQuiverIntrinsics' prefetch, which never faults and never waits).
// Each stage reads only what the previous stage prefetched: the buffer head, then the directory
// (region headers), then the headers (newest bucket of each window, decayed counters, distinct slot).
// The stages see state through raw addresses (`RawArray`): a Swift access to an array would retain
// it, and a retain writes the array's first cache line, i.e. waits for exactly the miss being hidden.
// Invariant: nothing here writes state; a stale or wrong address costs a useless prefetch, never a result.
import CQuiverIntrinsics

/// A Swift array seen through the address of the variable that holds it, without retaining it:
/// for the prefetch stages of batch ingestion, which only read, under the lock of the state's shard.
///
/// A native Swift array is one reference to a heap object laid out as: object header (2 words),
/// count, capacity and flags, then the elements (a test checks this against `withUnsafeBufferPointer`).
struct RawArray {
    /// The array's storage object.
    let storage: UnsafeRawPointer

    /// Bytes before the first element.
    static let headerBytes = 32

    /// The array held by the variable at `variable`.
    @inline(__always)
    init(at variable: UnsafeRawPointer) {
        storage = UnsafeRawPointer(bitPattern: variable.load(as: UInt.self)).unsafelyUnwrapped
    }

    /// The first element (valid when `count > 0`).
    @inline(__always) var elements: UnsafeRawPointer { storage + Self.headerBytes }

    /// Number of elements (reads the storage's first line).
    @inline(__always) var count: Int { storage.load(fromByteOffset: 16, as: Int.self) }

    /// Prefetches the line holding the count and the line of the first element.
    @inline(__always)
    func prefetchHead() {
        quiver_prefetch(storage)
        quiver_prefetch(storage + Self.headerBytes)
    }

    /// Prefetches the lines of `bytes` bytes of elements from byte `offset` (at most `maxLines`).
    @inline(__always)
    func prefetchElements(byteOffset offset: Int, bytes: Int, maxLines: Int) {
        guard bytes > 0 else { return }
        let start = elements + offset
        var o = 0
        let end = min(bytes, maxLines * 64)
        while o < end {
            quiver_prefetch(start + o)
            o += 64
        }
        quiver_prefetch(start + end - 1)
    }
}

// Field offsets are computed properties, not `static let`s: the optimizer folds them to constants,
// whereas a `static let` is initialised lazily and costs a `swift_once` call at every use (1.4% of
// batch ingestion).
extension StreamArena {
    @inline(__always) static var wordsOffset: Int { MemoryLayout<StreamArena>.offset(of: \StreamArena.words)! }
    @inline(__always) static var listsOffset: Int { MemoryLayout<StreamArena>.offset(of: \StreamArena.lists)! }

    /// Stage 1: the heads of the words buffer (directory, usually the first region header) and of
    /// the last-N lists, of the arena at `arena`.
    @inline(__always)
    static func prefetchBuffer(_ arena: UnsafeRawPointer) {
        RawArray(at: arena + wordsOffset).prefetchHead()
        RawArray(at: arena + listsOffset).prefetchHead()
    }

    /// Stage 2 (buffer heads cached): the header lines of the regions of `streams`, and the storage
    /// of the last-N lists.
    @inline(__always)
    static func prefetchHeaders(_ arena: UnsafeRawPointer, _ streams: [Int]) {
        let words = RawArray(at: arena + wordsOffset)
        guard words.count > 0 else { return }
        let w = words.elements.assumingMemoryBound(to: UInt64.self)
        let directory = Int(w[0])
        for id in streams where id < directory {
            let r = Int(w[1 + id])
            guard r != 0 else { continue }
            quiver_prefetch(w + r)
            quiver_prefetch(w + r + 8)
        }
        let lists = RawArray(at: arena + listsOffset)
        for i in 0..<lists.count {
            RawArray(at: lists.elements + i * MemoryLayout<RecentItems>.stride + RecentItems.heldOffset).prefetchHead()
        }
    }

    /// Stage 3 (headers cached): the newest bucket of each window segment, the decayed counters and
    /// the distinct slot of `partyHash` of the regions of `streams`, and the tail of the last-N lists.
    @inline(__always)
    static func prefetchTouched(_ arena: UnsafeRawPointer, _ streams: [Int], partyHash: UInt64) {
        let words = RawArray(at: arena + wordsOffset)
        guard words.count > 0 else { return }
        let base = UnsafeMutablePointer(mutating: words.elements.assumingMemoryBound(to: UInt64.self))
        let directory = Int(base[0])
        for id in streams where id < directory {
            let r = Int(base[1 + id])
            guard r != 0 else { continue }
            let p = base + r
            let shape = p[Header.shape], b = p[Header.buckets]
            let bw = bucketWords(shape)
            let area = p + areaOffset(shape)
            if hasDecay(shape) { quiver_prefetch(p + decayOffset(shape) + 2 * windows(shape) - 1) }
            var end = 0
            for window in stride(from: windows(shape) - 1, through: 0, by: -1) {
                end += segmentLength(p, window)
                if end > 0 { quiver_prefetch(area + (end - 1) * bw) }
            }
            let slots = low(p[Header.distinct])
            if slots > 0 {
                let i = Int(truncatingIfNeeded: (partyHash ^ (partyHash >> 29)) & UInt64(slots - 1))
                quiver_prefetch(area + low(b) * bw + 2 * i)
            }
        }
        let lists = RawArray(at: arena + listsOffset)
        let entry = MemoryLayout<RecentItems.Entry>.stride
        for i in 0..<lists.count {
            let held = RawArray(at: lists.elements + i * MemoryLayout<RecentItems>.stride + RecentItems.heldOffset)
            let n = held.count
            if n > 0 { held.prefetchElements(byteOffset: (n - 1) * entry, bytes: entry, maxLines: 1) }
        }
    }
}

extension RecentItems {
    @inline(__always) static var heldOffset: Int { MemoryLayout<RecentItems>.offset(of: \RecentItems.held)! }
}
