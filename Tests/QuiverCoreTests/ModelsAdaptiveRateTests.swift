// PerformanceAdaptiveRate: epsilon that also follows measured performance. In a two-armed world
// whose better arm turns bad halfway (a fixed seed), the adaptive epsilon-greedy notices the fall
// in reward, explores again and finds the new best arm far sooner than the same schedule without
// adaptation; in a stationary world it stays at its schedule. The state survives a snapshot.
import Testing
@testable import QuiverCore

@Suite struct ModelsAdaptiveRateTests {
    /// Total reward over the `steps` after the swap, and the highest epsilon seen after it.
    static func run(_ policy: EpsilonGreedy, steps: Int, swapAt: Int?, seed: UInt64) -> (reward: Double, peakEpsilon: Double, policy: EpsilonGreedy) {
        var policy = policy
        var g = SeededRandom(seed: seed)
        let arms = [ScoringCandidate(itemId: "a"), ScoringCandidate(itemId: "b")]
        let context = ScoringContext(userId: "u")
        var reward = 0.0
        var peak = 0.0
        for t in 0..<steps {
            let swapped = swapAt.map { t >= $0 } ?? false
            let p = swapped ? ["a": 0.1, "b": 0.7] : ["a": 0.7, "b": 0.1]
            let choice = policy.choose(arms, context: context, using: &g)
            let r: Double = g.nextUnitDouble() < p[choice.itemId]! ? 1 : 0
            policy.update(ModelFeedback(context: context, candidate: arms[choice.index], reward: r))
            if swapped { reward += r; peak = max(peak, policy.currentEpsilon) }
        }
        return (reward, peak, policy)
    }

    @Test func exploresAgainWhenTheRewardFalls() throws {
        let schedule = DecaySchedule.inverse(initial: 0.2, scale: 200, floor: 0.01)
        var adaptiveTotal = 0.0, fixedTotal = 0.0
        for seed in UInt64(1)...5 {
            let adaptive = Self.run(EpsilonGreedy(adaptive: PerformanceAdaptiveRate(schedule: schedule)), steps: 8_000, swapAt: 4_000, seed: seed)
            let fixed = Self.run(EpsilonGreedy(epsilon: schedule), steps: 8_000, swapAt: 4_000, seed: seed)
            adaptiveTotal += adaptive.reward
            fixedTotal += fixed.reward
            #expect(adaptive.peakEpsilon > 0.1, "epsilon rose after the swap (seed \(seed)): \(adaptive.peakEpsilon)")
            #expect(fixed.peakEpsilon < 0.02)
        }
        // The fixed schedule keeps pulling the arm that turned bad (its mean is dragged down only
        // slowly by thousands of good pulls); the adaptive one switches within a few hundred steps.
        #expect(adaptiveTotal > fixedTotal * 3, "adaptive \(adaptiveTotal) vs fixed \(fixedTotal)")
    }

    @Test func staysOnItsScheduleWhenNothingChangesAndSurvivesASnapshot() throws {
        let schedule = DecaySchedule.inverse(initial: 0.2, scale: 200, floor: 0.01)
        let run = Self.run(EpsilonGreedy(adaptive: PerformanceAdaptiveRate(schedule: schedule)), steps: 6_000, swapAt: nil, seed: 3)
        let policy = run.policy
        #expect(policy.currentEpsilon < 0.05, "no fall in reward, no boost: \(policy.currentEpsilon)")
        #expect(policy.describe().parameters["epsilon"]?.hasPrefix("adaptive(") == true)
        let restored = try EpsilonGreedy(snapshot: policy.snapshot())
        #expect(restored.adaptive == policy.adaptive && restored.currentEpsilon == policy.currentEpsilon)
        // A policy without adaptation round-trips without it.
        #expect(try EpsilonGreedy(snapshot: EpsilonGreedy(epsilon: schedule).snapshot()).adaptive == nil)
    }
}
