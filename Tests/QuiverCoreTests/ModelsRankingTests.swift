// Ranking models: time-decayed popularity, co-visitation and online BPR factorisation learn what
// they should from small hand-made streams.

import Testing
@testable import QuiverCore

@Suite struct ModelsRankingTests {
    static func feedback(_ user: String, _ item: String, at t: Double, reward: Double = 1) -> ModelFeedback {
        ModelFeedback(context: ScoringContext(userId: user, timestamp: t), candidate: ScoringCandidate(itemId: item), reward: reward)
    }

    @Test func popularityHalvesEveryHalfLifeAndAcceptsBackfill() {
        var model = DecayedPopularity(halfLife: 100)
        model.update(Self.feedback("u", "a", at: 0))
        #expect(abs(model.popularity("a", at: 100) - 0.5) < 1e-12)
        #expect(abs(model.popularity("a", at: 200) - 0.25) < 1e-12)
        model.update(Self.feedback("u", "b", at: 200))
        model.update(Self.feedback("u", "b", at: 100)) // out of order: counts as already decayed
        #expect(abs(model.popularity("b", at: 200) - 1.5) < 1e-12)
        #expect(model.top(2, at: 200).map(\.itemId) == ["b", "a"])
    }

    @Test func recentInteractionsOutrankOldOnes() {
        var model = DecayedPopularity(halfLife: 60)
        for t in 0..<10 { model.update(Self.feedback("u\(t)", "old", at: Double(t))) }
        for t in 0..<3 { model.update(Self.feedback("v\(t)", "new", at: 1_000 + Double(t))) }
        let scores = model.score([ScoringCandidate(itemId: "old"), ScoringCandidate(itemId: "new")],
                                 context: ScoringContext(userId: "x", timestamp: 1_010))
        #expect(scores[1] > scores[0])
    }

    @Test func coVisitationRecommendsWhatOthersPairedWithTheUsersHistory() {
        var model = ItemCoVisitation(historyLength: 10)
        for u in 0..<20 {
            model.update(Self.feedback("u\(u)", "camera", at: Double(u)))
            model.update(Self.feedback("u\(u)", "tripod", at: Double(u) + 0.5))
            model.update(Self.feedback("u\(u)", "sock\(u)", at: Double(u) + 0.7))
        }
        model.update(Self.feedback("me", "camera", at: 100))
        model.update(Self.feedback("me", "ignored", at: 101, reward: 0))
        let candidates = ["tripod", "sock3", "unknown"].map { ScoringCandidate(itemId: $0) }
        let scores = model.score(candidates, context: ScoringContext(userId: "me"))
        #expect(scores[0] > scores[1])
        #expect(scores[2] == 0)
        #expect(model.history(of: "me") == ["camera"])
        let why = model.explain(candidates[0], context: ScoringContext(userId: "me"))
        #expect(why.contributions.first?.name == "co-visited with camera")
    }

    /// Scoring reads only the strongest `scoringNeighbours` neighbours of a history item, and the
    /// choice follows the counts as they change; explanations and snapshots keep every pair.
    @Test func coVisitationScoresThroughTheStrongestNeighboursOnly() throws {
        var model = ItemCoVisitation(historyLength: 2, scoringNeighbours: 2)
        var t = 0.0
        func pair(_ a: String, _ b: String, times: Int) {
            for n in 0..<times {
                t += 1
                model.update(Self.feedback("pair-\(a)-\(b)-\(n)", a, at: t))
                model.update(Self.feedback("pair-\(a)-\(b)-\(n)", b, at: t + 0.5))
            }
        }
        pair("a", "b", times: 5)
        pair("a", "c", times: 4)
        pair("a", "d", times: 1)
        model.update(Self.feedback("me", "a", at: 1_000))
        let candidates = ["b", "c", "d"].map { ScoringCandidate(itemId: $0) }
        var scores = model.score(candidates, context: ScoringContext(userId: "me"))
        #expect(scores[0] > 0 && scores[1] > 0 && scores[2] == 0, "d is a's third neighbour: not read \(scores)")
        #expect(model.explain(candidates[2], context: ScoringContext(userId: "me")).contributions.count == 1, "still explained")
        pair("a", "d", times: 70)  // d becomes a's strongest neighbour; a's list is ranked again
        scores = model.score(candidates, context: ScoringContext(userId: "me"))
        #expect(scores[2] > 0 && (scores[0] == 0 || scores[1] == 0), "d is read now, one of b and c is not: \(scores)")
        let restored = try ItemCoVisitation(snapshot: model.snapshot())
        #expect(restored.describe().parameters["pairs"] == model.describe().parameters["pairs"])
    }

    @Test func matrixFactorizationSeparatesTwoTasteGroups() {
        var model = ImplicitMatrixFactorization(factors: 8, learningRate: .constant(0.05), negativeSamples: 3, seed: 4)
        var g = SeededRandom(seed: 10)
        for _ in 0..<20_000 {
            let u = Int(g.next() % 40)
            let group = u % 2
            let item = "g\(group)-\(g.next() % 10)"
            model.update(Self.feedback("u\(u)", item, at: 0))
        }
        let candidates = ["g0-1", "g1-1"].map { ScoringCandidate(itemId: $0) }
        let even = model.score(candidates, context: ScoringContext(userId: "u2"))
        let odd = model.score(candidates, context: ScoringContext(userId: "u3"))
        #expect(even[0] > even[1])
        #expect(odd[1] > odd[0])
    }
}
