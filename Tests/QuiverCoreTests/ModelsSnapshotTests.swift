// Snapshots: every model round-trips to bytes and back with identical scores, description and
// bytes; corrupted or foreign bytes throw instead of trapping.

import Testing
@testable import QuiverCore

@Suite struct ModelsSnapshotTests {
    static let context = ScoringContext(userId: "u1", dense: [1, 0.5, -0.3], tokens: ["device=mobile"], timestamp: 1_000)
    static let candidates = (0..<6).map {
        ScoringCandidate(itemId: "i\($0)", dense: [Double($0) / 6, 1 - Double($0) / 6, 0.2], tokens: ["category=c\($0 % 2)"])
    }

    static func trainingFeedback() -> [ModelFeedback] {
        var g = SeededRandom(seed: 31)
        return (0..<300).map { t in
            let c = candidates[Int(g.next() % 6)]
            let ctx = ScoringContext(userId: "u\(g.next() % 4)", dense: [1, g.nextGaussian(), g.nextGaussian()],
                                     tokens: ["device=\(g.next() % 2 == 0 ? "mobile" : "web")"], timestamp: Double(t * 60))
            return ModelFeedback(context: ctx, candidate: c, reward: g.nextUnitDouble() < 0.4 ? 1 : 0)
        }
    }

    func expectRoundTrip<M: ScoringModel>(_ untrained: M) throws {
        var model = untrained
        model.update(batch: Self.trainingFeedback())
        let bytes = model.snapshot()
        let restored = try M(snapshot: bytes)
        var g1 = SeededRandom(seed: 5)
        var g2 = SeededRandom(seed: 5)
        #expect(model.score(Self.candidates, context: Self.context, using: &g1)
            == restored.score(Self.candidates, context: Self.context, using: &g2))
        #expect(restored.snapshot() == bytes)
        #expect(restored.describe() == model.describe())
        #expect(restored.describe().updateCount == 300)
        #expect(restored.explain(Self.candidates[0], context: Self.context) == model.explain(Self.candidates[0], context: Self.context))
        #expect(throws: ModelSnapshotError.self) { try M(snapshot: Array(bytes.dropLast(3))) }
        #expect(throws: ModelSnapshotError.self) { try M(snapshot: Array(bytes.dropFirst(1))) }
    }

    @Test func epsilonGreedyRoundTrips() throws { try expectRoundTrip(EpsilonGreedy()) }
    @Test func ucb1RoundTrips() throws { try expectRoundTrip(UCB1()) }
    @Test func betaThompsonRoundTrips() throws { try expectRoundTrip(BetaThompsonSampling()) }
    @Test func linUCBRoundTrips() throws { try expectRoundTrip(LinUCB(dimension: 6, vectorMap: .contextAndItem)) }
    @Test func sharedLinearThompsonRoundTrips() throws {
        try expectRoundTrip(LinearThompsonSampling(dimension: 9, vectorMap: .crossed, sharing: .shared))
    }
    @Test func hybridLinUCBRoundTrips() throws { try expectRoundTrip(HybridLinUCB(sharedDimension: 9, armDimension: 3)) }
    @Test func ftrlRoundTrips() throws { try expectRoundTrip(FTRLProximal(encoder: HashedCrossEncoder(bits: 14))) }
    @Test func popularityRoundTrips() throws { try expectRoundTrip(DecayedPopularity(halfLife: 3_600)) }
    @Test func coVisitationRoundTrips() throws { try expectRoundTrip(ItemCoVisitation(historyLength: 5)) }
    @Test func matrixFactorizationRoundTrips() throws { try expectRoundTrip(ImplicitMatrixFactorization(factors: 8, seed: 3)) }

    @Test func qLearningAndEnsembleWeightsRoundTrip() throws {
        var agent = SessionStrategyAgent()
        var g = SeededRandom(seed: 1)
        let o = SessionObservation(impressions: 3, clicks: 1, depth: 2, recentReward: 1)
        for _ in 0..<50 {
            let (s, _) = agent.chooseStrategy(for: o, using: &g)
            agent.learn(from: o, strategy: s, reward: g.nextUnitDouble(), next: o)
        }
        let restored = try SessionStrategyAgent(snapshot: agent.snapshot())
        #expect(restored.strategyValues(for: o) == agent.strategyValues(for: o))
        #expect(restored.snapshot() == agent.snapshot())

        var hedge = HedgeWeights(modelCount: 3)
        hedge.update(losses: [0.1, 0.9, 0.5])
        #expect(try HedgeWeights(snapshot: hedge.snapshot()).weights == hedge.weights)
        var exp3 = Exp3Weights(modelCount: 3)
        exp3.update(chosen: 1, reward: 1, propensity: 0.3)
        #expect(try Exp3Weights(snapshot: exp3.snapshot()).probabilities == exp3.probabilities)
    }

    func expectIgnoresNonFiniteFeedback<M: ScoringModel>(_ untrained: M) {
        var model = untrained
        model.update(batch: Array(Self.trainingFeedback().prefix(50)))
        let before = model.snapshot()
        var bad = Self.trainingFeedback()[0]
        bad.reward = .nan
        model.update(bad)
        bad.reward = 1
        bad.context.dense[1] = .infinity
        model.update(bad)
        #expect(model.snapshot() == before)
        #expect(model.score(Self.candidates, context: Self.context).allSatisfy { !$0.isNaN })
    }

    @Test func nonFiniteFeedbackLeavesEveryModelUnchanged() {
        expectIgnoresNonFiniteFeedback(EpsilonGreedy())
        expectIgnoresNonFiniteFeedback(UCB1())
        expectIgnoresNonFiniteFeedback(BetaThompsonSampling())
        expectIgnoresNonFiniteFeedback(LinUCB(dimension: 6, vectorMap: .contextAndItem))
        expectIgnoresNonFiniteFeedback(HybridLinUCB(sharedDimension: 9, armDimension: 3))
        expectIgnoresNonFiniteFeedback(LinearThompsonSampling(dimension: 3))
        expectIgnoresNonFiniteFeedback(FTRLProximal(encoder: HashedCrossEncoder(bits: 12)))
        expectIgnoresNonFiniteFeedback(DecayedPopularity())
        expectIgnoresNonFiniteFeedback(ItemCoVisitation())
        expectIgnoresNonFiniteFeedback(ImplicitMatrixFactorization(factors: 4))
    }

    @Test func foreignSnapshotIsRejectedWithItsName() {
        let bytes = UCB1().snapshot()
        #expect(throws: ModelSnapshotError.wrongModel(expected: "EpsilonGreedy", found: "UCB1")) {
            try EpsilonGreedy(snapshot: bytes)
        }
        #expect(throws: ModelSnapshotError.badMagic) { try UCB1(snapshot: [1, 2, 3]) }
    }
}
