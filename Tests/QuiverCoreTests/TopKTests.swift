// TopKTests: TopK.select against a full sort on random score arrays with a fixed seed: ties (few
// distinct values), NaNs, floors, filters that reject most entries (asked only about scores that would enter the heap), k larger
// than what is eligible, and empty input.
import Testing
@testable import QuiverCore

@Suite struct TopKTests {
    /// The reference: every eligible entry, sorted best first, ties by lower index.
    static func reference(_ scores: [Double], k: Int, floor: Double, include: (Int) -> Bool) -> [(index: Int, score: Double)] {
        let eligible = scores.enumerated().filter { $0.element > floor && include($0.offset) }.map { (index: $0.offset, score: $0.element) }
        let sorted = eligible.sorted { $0.score > $1.score || ($0.score == $1.score && $0.index < $1.index) }
        return Array(sorted.prefix(max(0, k)))
    }

    @Test func matchesAFullSort() {
        var g = SeededRandom(seed: 11)
        for round in 0..<400 {
            let n = Int(g.next() % 3_000)
            let distinct = [3, 50, 1_000_000][round % 3]  // many ties, some ties, almost none
            let scores = (0..<n).map { _ -> Double in
                if g.next() % 50 == 0 { return .nan }
                return Double(g.next() % UInt64(distinct)) - Double(distinct / 4)
            }
            let k = Int(g.next() % 300)
            let floor: Double = round % 4 == 0 ? 0 : -.infinity
            let modulus = Int(g.next() % 7) + 1  // 1: everything passes; 7: most entries are rejected
            let include = { (i: Int) in i % modulus == 0 }
            let got = TopK.select(scores, k: k, floor: floor, include: include)
            let want = Self.reference(scores, k: k, floor: floor, include: include)
            #expect(got.map(\.index) == want.map(\.index), "round \(round): n \(n) k \(k) modulus \(modulus)")
            #expect(got.map(\.score) == want.map(\.score))
            // The heap selection itself, whose boundary `select` usually hides behind its 2k width.
            let largest = TopK.largest(scores, k, floor: floor)
            let all = Self.reference(scores, k: k, floor: floor) { _ in true }
            #expect(largest.map(\.index) == all.map(\.index), "largest, round \(round): n \(n) k \(k)")
        }
        #expect(TopK.select([], k: 3).isEmpty)
        #expect(TopK.select([1, 2, 3], k: 0).isEmpty)
        #expect(TopK.select([.nan, .nan], k: 2).isEmpty)
    }
}
