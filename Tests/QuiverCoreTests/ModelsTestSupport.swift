// Shared fixtures for the model tests: a synthetic contextual bandit with a known optimum and a
// Bernoulli bandit, both driven by SeededRandom so every run is identical.

@testable import QuiverCore

/// A linear contextual bandit: x = [1, g1..g(d-1)], g ~ N(0, 1); mean reward of arm a is theta_a . x,
/// observed with Gaussian noise. The best arm depends on x, so a context-free policy cannot reach it.
struct SyntheticContextualBandit {
    let arms: Int
    let dimension: Int
    let thetas: [[Double]]
    let noise: Double

    init(arms: Int, dimension: Int, noise: Double, seed: UInt64) {
        var g = SeededRandom(seed: seed)
        self.arms = arms
        self.dimension = dimension
        self.noise = noise
        thetas = (0..<arms).map { _ in (0..<dimension).map { _ in g.nextGaussian() * 0.5 } }
    }

    var candidates: [ScoringCandidate] { (0..<arms).map { ScoringCandidate(itemId: "arm\($0)") } }

    func context(_ g: inout SeededRandom) -> [Double] {
        [1] + (1..<dimension).map { _ in g.nextGaussian() }
    }

    func mean(arm: Int, x: [Double]) -> Double { zip(thetas[arm], x).reduce(0) { $0 + $1.0 * $1.1 } }

    /// Runs `policy` for `steps` rounds; returns per-step regret.
    func run<P: BanditPolicy>(_ policy: inout P, steps: Int, seed: UInt64) -> [Double] {
        var env = SeededRandom(seed: seed)
        var agent = SeededRandom(seed: seed &+ 1)
        var regret: [Double] = []
        for t in 0..<steps {
            let x = context(&env)
            let ctx = ScoringContext(userId: "u", dense: x, timestamp: Double(t))
            let choice = policy.choose(candidates, context: ctx, using: &agent)
            let means = (0..<arms).map { mean(arm: $0, x: x) }
            regret.append(means.max()! - means[choice.index])
            let reward = means[choice.index] + noise * env.nextGaussian()
            policy.update(ModelFeedback(context: ctx, candidate: candidates[choice.index], reward: reward,
                                        propensity: choice.propensity))
        }
        return regret
    }

    /// Regret of choosing uniformly at random.
    func runRandom(steps: Int, seed: UInt64) -> [Double] {
        var env = SeededRandom(seed: seed)
        var agent = SeededRandom(seed: seed &+ 1)
        return (0..<steps).map { _ in
            let x = context(&env)
            let means = (0..<arms).map { mean(arm: $0, x: x) }
            _ = env.nextGaussian()
            return means.max()! - means[Int(agent.next() % UInt64(arms))]
        }
    }
}

/// Runs a context-free policy on Bernoulli arms; returns pull counts per arm.
func runBernoulli<P: BanditPolicy>(_ policy: inout P, probabilities: [Double], steps: Int, seed: UInt64) -> [Int] {
    var g = SeededRandom(seed: seed)
    let candidates = probabilities.indices.map { ScoringCandidate(itemId: "arm\($0)") }
    let context = ScoringContext(userId: "u")
    var pulls = [Int](repeating: 0, count: probabilities.count)
    for _ in 0..<steps {
        let choice = policy.choose(candidates, context: context, using: &g)
        pulls[choice.index] += 1
        let reward: Double = g.nextUnitDouble() < probabilities[choice.index] ? 1 : 0
        policy.update(ModelFeedback(context: context, candidate: candidates[choice.index], reward: reward))
    }
    return pulls
}
