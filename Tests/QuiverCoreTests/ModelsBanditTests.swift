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

    @Test func sharedLinUCBFastPathMatchesTheGenericScore() {
        var model = LinUCB(dimension: 7, alpha: 0.7, vectorMap: .contextAndItem, sharing: .shared)
        var g = SeededRandom(seed: 21)
        let items = (0..<23).map { i in ScoringCandidate(itemId: "i\(i)", dense: (0..<(i == 5 ? 2 : 4)).map { _ in g.nextGaussian() }) }
        for _ in 0..<200 {
            let ctx = ScoringContext(userId: "u", dense: (0..<3).map { _ in g.nextGaussian() })
            model.update(ModelFeedback(context: ctx, candidate: items[Int(g.next() % 20)], reward: g.nextGaussian()))
        }
        let ctx = ScoringContext(userId: "u", dense: [0.3, -1, 2])
        let fast = model.score(items, context: ctx)
        for (i, item) in items.enumerated() {
            // The item block of the fast path is in Float: equal to ~1e-7 of the bonus.
            #expect(abs(fast[i] - model.explain(item, context: ctx).score) < 1e-5)
        }
    }

    @Test func sharedLinearThompsonFastPathMatchesThetaDotX() {
        // With no exploration the draw is the posterior mean: the score must be theta . x with x
        // built the generic way (context then item features, cut or zero-padded to d).
        var model = LinearThompsonSampling(dimension: 7, explorationScale: 0, vectorMap: .contextAndItem, sharing: .shared)
        var g = SeededRandom(seed: 8)
        let items = (0..<15).map { i in ScoringCandidate(itemId: "i\(i)", dense: (0..<(i % 6)).map { _ in g.nextGaussian() }) }
        for _ in 0..<100 {
            let ctx = ScoringContext(userId: "u", dense: (0..<3).map { _ in g.nextGaussian() })
            model.update(ModelFeedback(context: ctx, candidate: items[Int(g.next() % 15)], reward: g.nextGaussian()))
        }
        for contextLength in [0, 3, 7, 9] {
            let ctx = ScoringContext(userId: "u", dense: (0..<contextLength).map { Double($0) - 1.5 })
            let fast = model.score(items, context: ctx, seed: 1)
            let theta = model.state.sharedArm.theta
            for (i, item) in items.enumerated() {
                let x = model.state.vector(context: ctx, candidate: item)
                let expected = zip(theta, x).reduce(0) { $0 + $1.0 * $1.1 }
                #expect(abs(fast[i] - expected) < 1e-9, "context \(contextLength), item \(i)")
            }
        }
    }

    @Test func hybridLinUCBEqualsRidgeRegressionOnTheJointFeatures() throws {
        // Hybrid LinUCB is ridge regression on phi = [z ; x placed in arm a's block]: mean and bonus
        // must equal the direct solution with the joint (k + K d) x (k + K d) matrix.
        let (k, d, arms) = (2, 2, 3)
        var model = HybridLinUCB(sharedDimension: k, armDimension: d, alpha: 0.8, regularization: 1.5,
                                 sharedMap: .crossed, armMap: .context)
        let n = k + arms * d
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { a[i * n + i] = 1.5 }
        var b = [Double](repeating: 0, count: n)
        var g = SeededRandom(seed: 77)
        func phi(_ ctx: [Double], _ item: [Double], arm: Int) -> [Double] {
            var v = [Double](repeating: 0, count: n)
            v[0] = ctx[0] * item[0]; v[1] = ctx[1] * item[0]   // z = context (outer) item
            v[k + arm * d] = ctx[0]; v[k + arm * d + 1] = ctx[1]
            return v
        }
        let items = (0..<arms).map { ScoringCandidate(itemId: "a\($0)", dense: [g.nextGaussian()]) }
        for _ in 0..<60 {
            let ctx = [g.nextGaussian(), g.nextGaussian()]
            let arm = Int(g.next() % UInt64(arms))
            let r = g.nextGaussian()
            model.update(ModelFeedback(context: ScoringContext(userId: "u", dense: ctx), candidate: items[arm], reward: r))
            let f = phi(ctx, items[arm].dense, arm: arm)
            for i in 0..<n {
                b[i] += r * f[i]
                for j in 0..<n { a[i * n + j] += f[i] * f[j] }
            }
        }
        let inverse = try #require(DenseLinearAlgebra.inverse(a, dimension: n))
        let theta = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + inverse[i * n + $1] * b[$1] } }
        let ctx = [0.4, -1.2]
        for arm in 0..<arms {
            let f = phi(ctx, items[arm].dense, arm: arm)
            let mean = DenseLinearAlgebra.dot(theta, f)
            let variance = (0..<n).reduce(0.0) { acc, i in acc + f[i] * (0..<n).reduce(0.0) { $0 + inverse[i * n + $1] * f[$1] } }
            let e = model.explain(items[arm], context: ScoringContext(userId: "u", dense: ctx))
            let parts = Dictionary(uniqueKeysWithValues: e.contributions.map { ($0.name, $0.value) })
            #expect(abs(parts["shared z.beta"]! + parts["arm x.theta"]! - mean) < 1e-9)
            #expect(abs(parts["confidence_bonus"]! - 0.8 * variance.squareRoot()) < 1e-9)
        }
    }

    @Test func hybridLinUCBBeatsEpsilonGreedyWithSublinearRegret() {
        let env = SyntheticContextualBandit(arms: 5, dimension: 6, noise: 0.3, seed: 42)
        var hybrid = HybridLinUCB(sharedDimension: 6, armDimension: 6, alpha: 0.5, sharedMap: .context, armMap: .context)
        var greedy = EpsilonGreedy()
        let regret = env.run(&hybrid, steps: 1_500, seed: 99)
        let greedyRegret = env.run(&greedy, steps: 1_500, seed: 99)
        #expect(regret.reduce(0, +) < greedyRegret.reduce(0, +))
        #expect(regret[750...].reduce(0, +) < 0.5 * regret[..<750].reduce(0, +))
    }

    @Test(arguments: [SlateExplorer.Strategy.epsilonGreedy(epsilon: 0.3), .softmax(temperature: 0.5)])
    func slateExplorerPropensitiesMatchObservedFrequencies(strategy: SlateExplorer.Strategy) {
        let explorer = SlateExplorer(strategy: strategy)
        let scores = [0.9, 0.1, 0.5, 0.7]
        let candidates = scores.indices.map { ScoringCandidate(itemId: "i\($0)") }
        let first = explorer.positionProbabilities(scores: scores, remaining: [0, 1, 2, 3])
        #expect(abs(first.reduce(0, +) - 1) < 1e-12)
        var g = SeededRandom(seed: 13)
        var counts = [Double](repeating: 0, count: 4)
        let trials = 20_000
        for _ in 0..<trials {
            let slate = explorer.rank(candidates, scores: scores, count: 2, using: &g)
            #expect(abs(slate[0].propensity - first[slate[0].index]) < 1e-12)
            counts[slate[0].index] += 1
        }
        for i in 0..<4 { #expect(abs(counts[i] / Double(trials) - first[i]) < 0.015) }
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
