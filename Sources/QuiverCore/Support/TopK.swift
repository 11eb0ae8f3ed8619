// TopK: the best k of n scores without sorting all n: a bounded min-heap, O(n log k). Candidate
// sources use it to take their quota from thousands of scored items, filtering lazily: the best
// 2k are selected and walked in order, and only when the filter rejects too many is the
// selection widened. Ties break by the lower index, so results are deterministic.
public enum TopK {
    /// The indices of the `k` largest `scores` among those passing `include`, best first.
    /// Scores that are NaN or not above `floor` are never selected.
    public static func select(_ scores: [Double], k: Int, floor: Double = -.infinity,
                              include: (Int) -> Bool = { _ in true }) -> [(index: Int, score: Double)] {
        guard k > 0, !scores.isEmpty else { return [] }
        var width = min(scores.count, max(2 * k, 16))
        while true {
            let best = largest(scores, width, floor: floor)
            var result: [(index: Int, score: Double)] = []
            result.reserveCapacity(k)
            for entry in best where include(entry.index) {
                result.append(entry)
                if result.count == k { return result }
            }
            // Every selected entry was walked; if the selection held all eligible scores, done.
            if best.count < width || width == scores.count { return result }
            width = min(scores.count, width * 4)
        }
    }

    /// The `m` largest scores above `floor`, best first (ties: lower index first).
    static func largest(_ scores: [Double], _ m: Int, floor: Double) -> [(index: Int, score: Double)] {
        // A min-heap of the best m so far; the root is the worst kept.
        var heap: [(index: Int, score: Double)] = []
        heap.reserveCapacity(m)
        @inline(__always) func worse(_ a: (index: Int, score: Double), _ b: (index: Int, score: Double)) -> Bool {
            a.score < b.score || (a.score == b.score && a.index > b.index)
        }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && worse(heap[l], heap[m]) { m = l }
                if r < heap.count && worse(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for (i, s) in scores.enumerated() where s > floor {  // NaN compares false: skipped
            let entry = (index: i, score: s)
            if heap.count < m {
                heap.append(entry)
                var c = heap.count - 1
                while c > 0 {
                    let p = (c - 1) / 2
                    guard worse(heap[c], heap[p]) else { break }
                    heap.swapAt(c, p)
                    c = p
                }
            } else if worse(heap[0], entry) {
                heap[0] = entry
                siftDown(0)
            }
        }
        return heap.sorted { worse($1, $0) }
    }
}
