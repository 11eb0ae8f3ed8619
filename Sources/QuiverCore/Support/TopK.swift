// TopK: the best k of n scores without sorting all n: a bounded min-heap in raw buffers, one pass,
// O(n log k), runs of eight scores below the heap's root skipped with one vector test.
// Candidate sources use it to take their quota from thousands of scored items with a filter (seen,
// already placed, unavailable): the filter is asked only about a score that would enter the heap
// (at most k + k ln(n/k) times for scores in random order), never about the rest.
// Ties break by the lower index, so results are deterministic.
public enum TopK {
    /// The indices of the `k` largest `scores` among those passing `include`, best first.
    /// Scores that are NaN or not above `floor` are never selected.
    public static func select(_ scores: [Double], k: Int, floor: Double = -.infinity,
                              include: (Int) -> Bool = { _ in true }) -> [(index: Int, score: Double)] {
        guard k > 0, !scores.isEmpty else { return [] }
        return largest(scores, min(k, scores.count), floor: floor, include: include)
    }

    /// The `m` largest scores above `floor` passing `include`, best first (ties: lower index first).
    static func largest(_ scores: [Double], _ m: Int, floor: Double,
                        include: (Int) -> Bool = { _ in true }) -> [(index: Int, score: Double)] {
        guard m > 0 else { return [] }
        // A min-heap of the best m so far, in raw buffers (no exclusivity checks per access);
        // the root is the worst kept.
        let heapScores = UnsafeMutablePointer<Double>.allocate(capacity: m)
        let heapIndices = UnsafeMutablePointer<Int>.allocate(capacity: m)
        defer { heapScores.deallocate(); heapIndices.deallocate() }
        var count = 0
        @inline(__always) func worse(_ a: Int, _ b: Int) -> Bool {
            heapScores[a] < heapScores[b] || (heapScores[a] == heapScores[b] && heapIndices[a] > heapIndices[b])
        }
        @inline(__always) func swap(_ a: Int, _ b: Int) {
            (heapScores[a], heapScores[b]) = (heapScores[b], heapScores[a])
            (heapIndices[a], heapIndices[b]) = (heapIndices[b], heapIndices[a])
        }
        scores.withUnsafeBufferPointer { scores in
            let n = scores.count
            var i = 0
            while i < n && count < m {
                let s = scores[i]
                if s > floor && include(i) {  // NaN compares false: skipped
                    heapScores[count] = s
                    heapIndices[count] = i
                    var c = count
                    count += 1
                    while c > 0 {
                        let p = (c - 1) / 2
                        guard worse(c, p) else { break }
                        swap(c, p)
                        c = p
                    }
                }
                i += 1
            }
            guard count == m else { return }
            /// Offers score i: it replaces the root and sifts down if it beats it and passes `include`.
            /// Scores arrive in index order, so a later score ties with a kept one only by losing
            /// (its index is higher): a score enters only if above the root's.
            @inline(__always) func offer(_ i: Int) {
                let s = scores[i]
                guard s > heapScores[0] && include(i) else { return }
                heapScores[0] = s
                heapIndices[0] = i
                var j = 0
                while true {
                    let l = 2 * j + 1, r = l + 1
                    var w = j
                    if l < m && worse(l, w) { w = l }
                    if r < m && worse(r, w) { w = r }
                    if w == j { break }
                    swap(j, w)
                    j = w
                }
            }
            // Runs of eight: two vector compares with the root and one branch skip a run that
            // cannot enter (most runs, once the heap is full); a run that may is offered score by
            // score (the root rises as they enter). NaN never compares above the root.
            while i + 8 <= n {
                let root = SIMD4(repeating: heapScores[0])
                let raw = UnsafeRawPointer(scores.baseAddress! + i)
                let a = raw.loadUnaligned(as: SIMD4<Double>.self)
                let b = raw.loadUnaligned(fromByteOffset: 32, as: SIMD4<Double>.self)
                if any((a .> root) .| (b .> root)) {
                    for k in i..<(i + 8) { offer(k) }
                }
                i += 8
            }
            while i < n { offer(i); i += 1 }
        }
        var result = (0..<count).map { (index: heapIndices[$0], score: heapScores[$0]) }
        result.sort { $0.score > $1.score || ($0.score == $1.score && $0.index < $1.index) }
        return result
    }
}
