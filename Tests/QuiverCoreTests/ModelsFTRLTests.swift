// FTRL-Proximal: learns a problem only feature crosses can separate; explanations add up;
// hashing is stable across processes.

import Foundation
import Testing
@testable import QuiverCore

@Suite struct ModelsFTRLTests {
    /// Label is 1 exactly when the user's segment matches the item's category: an XOR of tokens
    /// that no single-token weight can fit, but the context x item-attribute cross can.
    static func sample(_ g: inout SeededRandom) -> ModelFeedback {
        let segment = g.next() % 2 == 0 ? "a" : "b"
        let category = g.next() % 2 == 0 ? "a" : "b"
        let context = ScoringContext(userId: "u\(g.next() % 200)", tokens: ["segment=\(segment)"])
        let item = ScoringCandidate(itemId: "i\(g.next() % 50)", tokens: ["category=\(category)"])
        return ModelFeedback(context: context, candidate: item, reward: segment == category ? 1 : 0)
    }

    @Test func learnsASeparableCrossedProblem() {
        var model = FTRLProximal(alpha: 0.2, l1: 0.1, encoder: HashedCrossEncoder(bits: 16))
        var g = SeededRandom(seed: 8)
        for _ in 0..<5_000 { model.update(Self.sample(&g)) }
        var correct = 0
        for _ in 0..<1_000 {
            let f = Self.sample(&g)
            let p = model.predict(f.candidate, context: f.context)
            if (p > 0.5) == (f.reward > 0.5) { correct += 1 }
        }
        #expect(correct >= 980)
        let d = model.describe()
        #expect(d.updateCount == 5_000)
        #expect(Double(d.parameters["mean_coordinate_learning_rate"]!)! < 0.2)
    }

    /// Scoring pre-hashed candidates sums each distinct item token once per request; the result
    /// equals the per-pair prediction, also past the memo's room (more distinct tokens than slots).
    @Test func batchScoringMatchesPerPairPrediction() {
        var model = FTRLProximal(encoder: HashedCrossEncoder(bits: 16))
        var g = SeededRandom(seed: 4)
        func candidate(_ n: Int) -> ScoringCandidate {
            ScoringCandidate(itemId: "i\(n)", tokens: ["category=c\(n % 7)", "tag=t\(n % 600)", "category=c\(n % 7)"])
        }
        let context = ScoringContext(userId: "u1", dense: [0.5, 0, 2, -1], tokens: ["device=mobile", "page=home"])
        for _ in 0..<3_000 {
            let n = Int(g.next() % 900)
            model.update(ModelFeedback(context: g.next() % 2 == 0 ? context : ScoringContext(userId: "u\(n % 5)", tokens: ["page=home"]),
                                       candidate: candidate(n), reward: n % 3 == 0 ? 1 : 0))
        }
        let candidates = (0..<900).map(candidate)
        let batch = model.score(itemSides: candidates.map(model.encoder.itemSide), context: context)
        for (c, p) in zip(candidates, batch) {
            #expect(abs(p - model.predict(c, context: context)) < 1e-12, "\(c.itemId)")
        }
        #expect(Set(batch).count > 10)  // the model learned something that tells items apart
    }

    /// The flat side table (the serving catalog's) scores a selection of positions exactly as the
    /// per-pair prediction does, after sides were replaced often enough to compact the table.
    @Test func flatSideTableScoringMatchesPerPairPrediction() {
        var model = FTRLProximal(encoder: HashedCrossEncoder(bits: 16))
        var g = SeededRandom(seed: 9)
        func candidate(_ n: Int, _ version: Int) -> ScoringCandidate {
            ScoringCandidate(itemId: "i\(n)", tokens: (0..<(n + version) % 5).map { "tag=t\((n * 7 + $0 + version) % 90)" })
        }
        let context = ScoringContext(userId: "u1", dense: [0.25, 1], tokens: ["device=mobile"])
        for _ in 0..<2_000 {
            let n = Int(g.next() % 300)
            model.update(ModelFeedback(context: context, candidate: candidate(n, 0), reward: n % 4 == 0 ? 1 : 0))
        }
        var table = HashedItemSides()
        var current = (0..<300).map { candidate($0, 0) }
        for (p, c) in current.enumerated() { table.set(model.encoder.itemSide(c), at: p) }
        for round in 1...20 {  // ~ 20 x 100 x 2 replaced tokens: past the compaction threshold
            for _ in 0..<100 {
                let p = Int(g.next() % 300)
                current[p] = candidate(p, round)
                table.set(model.encoder.itemSide(current[p]), at: p)
            }
        }
        for p in 0..<300 { #expect(table.side(at: p) == model.encoder.itemSide(current[p])) }
        let positions = (0..<400).map { _ in Int32(g.next() % 300) }
        let flat = model.score(positions: positions, of: table, context: context)
        for (p, score) in zip(positions, flat) {
            #expect(abs(score - model.predict(current[Int(p)], context: context)) < 1e-12, "position \(p)")
        }
        #expect(Set(flat).count > 10)
    }

    @Test func explanationContributionsSumToTheMargin() {
        var model = FTRLProximal(encoder: HashedCrossEncoder(bits: 12))
        var g = SeededRandom(seed: 2)
        for _ in 0..<500 { model.update(Self.sample(&g)) }
        let f = Self.sample(&g)
        let e = model.explain(f.candidate, context: f.context)
        let margin = e.contributions.reduce(0) { $0 + $1.value }
        #expect(abs(1 / (1 + exp(-margin)) - e.score) < 1e-9)
        #expect(abs(e.score - model.predict(f.candidate, context: f.context)) < 1e-12)
        #expect(e.contributions.contains { $0.name.contains(" x item:category=") })
    }

    @Test func hashingIsStableAcrossProcesses() {
        // Fixed value: changing it silently invalidates every stored FTRL snapshot.
        #expect(HashedCrossEncoder.hash("category=shoes", namespace: 5) == 0x9862_38D3_C10B_1F45)
        #expect(HashedCrossEncoder.cross(1, 2) == 0xC9FF_3692_C775_38AD)
        #expect(HashedCrossEncoder.hash("a", namespace: 1) != HashedCrossEncoder.hash("a", namespace: 2))
    }
}
