// Bandit behaviour: best-arm identification, contextual regret against baselines, and the
// propensity contract (choice probabilities form a distribution; the reported propensity is one).

import Testing
@testable import QuiverCore

@Suite struct ModelsBanditTests {
    static let bernoulli = [0.2, 0.35, 0.5, 0.7, 0.4]

    @Test func ucb1FindsTheBestBernoulliArm() {
        var policy = UCB1()
        let pulls = runBernoulli(&policy, probabilities: Self.bernoulli, steps: 5_000, seed: 7)
        #expect(pulls.firstIndex(of: pulls.max()!) == 3)
        #expect(Double(pulls[3]) > 0.6 * 5_000)
    }

    @Test func betaThompsonFindsTheBestBernoulliArm() {
        var policy = BetaThompsonSampling(propensitySamples: 20)
        let pulls = runBernoulli(&policy, probabilities: Self.bernoulli, steps: 3_000, seed: 11)
        #expect(pulls.firstIndex(of: pulls.max()!) == 3)
        #expect(Double(pulls[3]) > 0.8 * 3_000)
        let mean = policy.explain(ScoringCandidate(itemId: "arm3"), context: ScoringContext(userId: "u")).score
        #expect(abs(mean - 0.7) < 0.05)
    }

    @Test func epsilonGreedyDecaysAndFindsTheBestArm() {
        var policy = EpsilonGreedy(epsilon: .inverse(initial: 0.3, scale: 500, floor: 0.02))
        let pulls = runBernoulli(&policy, probabilities: Self.bernoulli, steps: 4_000, seed: 3)
        #expect(pulls.firstIndex(of: pulls.max()!) == 3)
        #expect(policy.currentEpsilon < 0.3 * 500 / 4_000 + 1e-9)
    }

    @Test func linearBanditsBeatEpsilonGreedyAndRandomWithSublinearRegret() {
        let env = SyntheticContextualBandit(arms: 5, dimension: 6, noise: 0.3, seed: 42)
        let steps = 3_000
        var linUCB = LinUCB(dimension: 6, alpha: 0.5)
        var linTS = LinearThompsonSampling(dimension: 6, explorationScale: 0.3, propensitySamples: 10)
        var greedy = EpsilonGreedy()
        let ucbRegret = env.run(&linUCB, steps: steps, seed: 99)
        let tsRegret = env.run(&linTS, steps: steps, seed: 99)
        let greedyRegret = env.run(&greedy, steps: steps, seed: 99)
        let randomRegret = env.runRandom(steps: steps, seed: 99)
        let total = { (r: [Double]) in r.reduce(0, +) }
        #expect(total(ucbRegret) < total(greedyRegret))
        #expect(total(tsRegret) < total(greedyRegret))
        #expect(total(greedyRegret) < total(randomRegret))
        for regret in [ucbRegret, tsRegret] {
            let firstHalf = total(Array(regret[..<(steps / 2)]))
            let secondHalf = total(Array(regret[(steps / 2)...]))
            #expect(secondHalf < firstHalf)
            #expect(secondHalf < 0.5 * firstHalf)
        }
    }

    @Test func sharedLinUCBRanksByLearnedItemAffinity() {
        var model = LinUCB(dimension: 4, alpha: 0.1, vectorMap: .crossed, sharing: .shared)
        let ctx = ScoringContext(userId: "u", dense: [1, 0])
        let liked = ScoringCandidate(itemId: "liked", dense: [1, 0])
        let other = ScoringCandidate(itemId: "other", dense: [0, 1])
        for _ in 0..<50 {
            model.update(ModelFeedback(context: ctx, candidate: liked, reward: 1))
            model.update(ModelFeedback(context: ctx, candidate: other, reward: 0))
        }
        let scores = model.score([other, liked], context: ctx)
        #expect(scores[1] > scores[0])
        let explanation = model.explain(liked, context: ctx)
        #expect(explanation.contributions.contains { $0.name == "confidence_bonus" })
    }

    static func trainedPolicies() -> [any BanditPolicy] {
        let env = SyntheticContextualBandit(arms: 4, dimension: 3, noise: 0.1, seed: 5)
        var eg = EpsilonGreedy()
        var ucb = UCB1()
        var ts = BetaThompsonSampling(propensitySamples: 200)
        var lin = LinUCB(dimension: 3)
        var lts = LinearThompsonSampling(dimension: 3, propensitySamples: 200)
        _ = env.run(&eg, steps: 200, seed: 1)
        _ = env.run(&ucb, steps: 200, seed: 1)
        _ = env.run(&ts, steps: 200, seed: 1)
        _ = env.run(&lin, steps: 200, seed: 1)
        _ = env.run(&lts, steps: 200, seed: 1)
        return [eg, ucb, ts, lin, lts]
    }

    @Test(arguments: 0..<5)
    func choiceProbabilitiesSumToOneAndMatchThePropensity(policyIndex: Int) {
        let policy = Self.trainedPolicies()[policyIndex]
        let env = SyntheticContextualBandit(arms: 4, dimension: 3, noise: 0.1, seed: 5)
        var g = SeededRandom(seed: 17)
        let ctx = ScoringContext(userId: "u", dense: env.context(&g))
        let p = policy.choiceProbabilities(env.candidates, context: ctx, using: &g)
        #expect(p.count == 4)
        #expect(abs(p.reduce(0, +) - 1) < 1e-9)
        #expect(p.allSatisfy { $0 >= 0 && $0 <= 1 })
        let choice = policy.choose(env.candidates, context: ctx, using: &g)
        #expect(choice.propensity > 0)
        #expect(abs(choice.propensity - p[choice.index]) < 0.1)
    }

    @Test func epsilonGreedyPropensityIsExact() {
        var policy = EpsilonGreedy(epsilon: .constant(0.2))
        let c = [ScoringCandidate(itemId: "a"), ScoringCandidate(itemId: "b"), ScoringCandidate(itemId: "c"),
                 ScoringCandidate(itemId: "d")]
        policy.update(ModelFeedback(context: ScoringContext(userId: "u"), candidate: c[2], reward: 1))
        var g = SeededRandom(seed: 1)
        let p = policy.choiceProbabilities(c, context: ScoringContext(userId: "u"), using: &g)
        for (got, want) in zip(p, [0.05, 0.05, 0.85, 0.05]) { #expect(abs(got - want) < 1e-12) }
    }

    @Test func rankedSlateHasDistinctItemsAndValidPropensities() {
        let policies = Self.trainedPolicies()
        let env = SyntheticContextualBandit(arms: 4, dimension: 3, noise: 0.1, seed: 5)
        var g = SeededRandom(seed: 23)
        let ctx = ScoringContext(userId: "u", dense: env.context(&g))
        for policy in policies {
            let slate = policy.rank(env.candidates, context: ctx, count: 3, using: &g)
            #expect(slate.count == 3)
            #expect(Set(slate.map(\.itemId)).count == 3)
            #expect(slate.allSatisfy { $0.propensity >= 0 && $0.propensity <= 1 })
        }
        var lts = LinearThompsonSampling(dimension: 3, propensitySamples: 100)
        _ = env.run(&lts, steps: 100, seed: 2)
        let slate = lts.rank(env.candidates, context: ctx, count: 4, using: &g)
        #expect(Set(slate.map(\.index)) == Set(0..<4))
        #expect(slate.last?.propensity == 1)
    }
}
