// HashedItemSides: item sides (the hashed id and attribute tokens) by dense position, flat: one id
// hash per position and every token hash in one shared array, so a batch scorer reads a
// candidate's terms in place instead of copying (and retaining) a token array per candidate.
// Invariant: position p's tokens are tokens[start[p] ..< start[p] + count[p]]; replacing a side
// appends its tokens and re-points p (the old run is garbage, compacted when it outweighs the rest).

/// Read access to item sides by candidate number, for `FTRLProximal`'s batch scorer.
protocol ItemSideSequence {
    var count: Int { get }
    func itemHash(_ n: Int) -> UInt64
    func withTokens<R>(_ n: Int, _ body: (UnsafeBufferPointer<UInt64>) -> R) -> R
}

public struct HashedItemSides: Sendable {
    private(set) var itemHashes: [UInt64] = []
    /// Per position: where its tokens start in `tokens`, and how many there are.
    private(set) var runs: [SIMD2<Int32>] = []
    private(set) var tokens: [UInt64] = []
    private var garbage = 0

    public init() {}

    public var count: Int { itemHashes.count }

    /// Sets position `p`'s side; `p` is at most `count` (the next position appends).
    public mutating func set(_ side: HashedCrossEncoder.ItemSide, at p: Int) {
        precondition(p <= itemHashes.count, "positions are dense")
        let run = SIMD2(Int32(tokens.count), Int32(side.tokens.count))
        tokens.append(contentsOf: side.tokens)
        if p == itemHashes.count {
            itemHashes.append(side.item)
            runs.append(run)
        } else {
            garbage += Int(runs[p][1])
            itemHashes[p] = side.item
            runs[p] = run
            if garbage > 1_024 && garbage > tokens.count / 2 { compact() }
        }
    }

    public func side(at p: Int) -> HashedCrossEncoder.ItemSide {
        let run = runs[p]
        return HashedCrossEncoder.ItemSide(item: itemHashes[p], tokens: Array(tokens[Int(run[0])..<Int(run[0] + run[1])]))
    }

    private mutating func compact() {
        var packed: [UInt64] = []
        packed.reserveCapacity(tokens.count - garbage)
        for p in runs.indices {
            let run = runs[p]
            runs[p] = SIMD2(Int32(packed.count), run[1])
            packed.append(contentsOf: tokens[Int(run[0])..<Int(run[0] + run[1])])
        }
        tokens = packed
        garbage = 0
    }

    /// The sides of `positions`, in that order, as the batch scorer reads them.
    struct Selection: ItemSideSequence {
        let sides: HashedItemSides
        let positions: [Int32]
        var count: Int { positions.count }
        func itemHash(_ n: Int) -> UInt64 { sides.itemHashes[Int(positions[n])] }
        func withTokens<R>(_ n: Int, _ body: (UnsafeBufferPointer<UInt64>) -> R) -> R {
            let run = sides.runs[Int(positions[n])]
            return sides.tokens.withUnsafeBufferPointer {
                body(UnsafeBufferPointer(rebasing: $0[Int(run[0])..<Int(run[0] + run[1])]))
            }
        }
    }
}

extension Array: ItemSideSequence where Element == HashedCrossEncoder.ItemSide {
    func itemHash(_ n: Int) -> UInt64 { self[n].item }
    func withTokens<R>(_ n: Int, _ body: (UnsafeBufferPointer<UInt64>) -> R) -> R { self[n].tokens.withUnsafeBufferPointer(body) }
}
