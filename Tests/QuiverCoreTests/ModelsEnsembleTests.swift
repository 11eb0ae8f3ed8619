// Ensembles: normalised weighted blends, reciprocal rank fusion, and online weights (Hedge follows
// the better model under full information, Exp3 under bandit information).

import Testing
@testable import QuiverCore

@Suite struct ModelsEnsembleTests {
    @Test(arguments: [ScoreNormalization.none, .minMax, .zScore, .rank])
    func normalisationPreservesOrder(method: ScoreNormalization) {
        let scores = [3.0, -1.0, 10.0, 0.5]
        let n = ScoreFusion.normalize(scores, method)
        #expect(ScoreFusion.ranks(n) == ScoreFusion.ranks(scores))
        #expect(ScoreFusion.ranks(scores) == [2, 4, 1, 3])
    }

    @Test func minMaxOfAConstantListIsZeroAndInfinityIsTamed() {
        #expect(ScoreFusion.normalize([2, 2, 2], .minMax) == [0, 0, 0])
        let n = ScoreFusion.normalize([.infinity, 1, 0], .minMax)
        #expect(n[0] == 1 && n.allSatisfy(\.isFinite))
    }

    @Test func weightedBlendFollowsTheHeavierModel() {
        let a = [1.0, 0.0, 0.5]
        let b = [0.0, 1.0, 0.5]
        let blended = ScoreFusion.weightedBlend([a, b], weights: [0.8, 0.2])
        #expect(ScoreFusion.ranks(blended) == [1, 3, 2])
        let parts = ScoreFusion.blendContributions(modelNames: ["a", "b"], perModel: [a, b], weights: [0.8, 0.2],
                                                   normalization: .minMax, candidate: 0)
        #expect(abs(parts.reduce(0) { $0 + $1.value } - blended[0]) < 1e-12)
    }

    @Test func reciprocalRankFusionRewardsConsensus() {
        // Item 2 is second for both models; items 0 and 1 are each first for one and last for the other.
        let m1 = [0.9, 0.1, 0.5]
        let m2 = [0.1, 0.9, 0.5]
        let fused = ScoreFusion.reciprocalRankFusion([m1, m2], k: 1)
        #expect(abs(fused[2] - (2.0 / 3.0)) < 1e-12)
        #expect(abs(fused[0] - (0.5 + 0.25)) < 1e-12)
        #expect(ScoreFusion.reciprocalRankFusion([m1, m2], weights: [3, 1], k: 60)[0] > ScoreFusion.reciprocalRankFusion([m1, m2], weights: [3, 1], k: 60)[1])
    }

    @Test func hedgeShiftsWeightToTheModelWithLowerLoss() {
        var hedge = HedgeWeights(modelCount: 3, learningRate: 0.2)
        var g = SeededRandom(seed: 6)
        for _ in 0..<200 {
            hedge.update(losses: [g.nextUnitDouble() < 0.2 ? 1 : 0, g.nextUnitDouble() < 0.5 ? 1 : 0, g.nextUnitDouble() < 0.8 ? 1 : 0])
        }
        let w = hedge.weights
        #expect(abs(w.reduce(0, +) - 1) < 1e-12)
        #expect(w[0] > 0.9)
    }

    @Test func exp3LearnsTheBestModelFromBanditFeedback() {
        var exp3 = Exp3Weights(modelCount: 3, gamma: 0.1)
        var g = SeededRandom(seed: 12)
        let clickRate = [0.1, 0.6, 0.3]
        var picks = [0, 0, 0]
        for t in 0..<5_000 {
            let (i, p) = exp3.choose(using: &g)
            if t >= 2_500 { picks[i] += 1 }
            exp3.update(chosen: i, reward: g.nextUnitDouble() < clickRate[i] ? 1 : 0, propensity: p)
        }
        #expect(abs(exp3.probabilities.reduce(0, +) - 1) < 1e-12)
        #expect(exp3.probabilities.min()! >= 0.1 / 3 - 1e-12)
        #expect(picks[1] > picks[0] + picks[2])
    }
}
