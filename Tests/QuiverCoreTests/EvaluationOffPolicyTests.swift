// Off-policy estimators on simulated logs with known truth: IPS of the logging policy equals the
// empirical reward mean; estimates of a different policy land near its true value; bad logs throw.

import Testing
@testable import QuiverCore

@Suite struct EvaluationOffPolicyTests {
    static let actions = 4
    /// True click probability of action a in context c (c in 0..<2).
    static func clickRate(context c: Int, action a: Int) -> Double { [[0.1, 0.3, 0.5, 0.2], [0.6, 0.2, 0.1, 0.3]][c][a] }
    /// A stochastic logging policy that depends on the context.
    static func logging(context c: Int) -> [Double] { c == 0 ? [0.4, 0.3, 0.2, 0.1] : [0.1, 0.2, 0.3, 0.4] }
    /// The target policy: deterministic, best action per context.
    static func target(context c: Int) -> [Double] { c == 0 ? [0, 0, 1, 0] : [1, 0, 0, 0] }
    static let targetTruth = 0.5 * 0.5 + 0.5 * 0.6

    /// Simulated logs; the reward model is deliberately biased (true rate + 0.05) to exercise DR.
    static func logs(count: Int, seed: UInt64, targetIsLogging: Bool) -> [LoggedDecision] {
        var g = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            let c = Int(g.next() % 2)
            let mu = logging(context: c)
            var u = g.nextUnitDouble()
            var a = 0
            while a < actions - 1 && u >= mu[a] { u -= mu[a]; a += 1 }
            let reward: Double = g.nextUnitDouble() < clickRate(context: c, action: a) ? 1 : 0
            let estimates = (0..<actions).map { clickRate(context: c, action: $0) + 0.05 }
            return LoggedDecision(action: a, reward: reward, loggingPropensity: mu[a],
                                  targetDistribution: targetIsLogging ? mu : target(context: c), rewardEstimates: estimates)
        }
    }

    @Test func ipsOfTheLoggingPolicyIsTheEmpiricalMean() throws {
        let logs = Self.logs(count: 5_000, seed: 1, targetIsLogging: true)
        let mean = logs.reduce(0) { $0 + $1.reward } / Double(logs.count)
        let ips = try OffPolicyEvaluation.ips(logs)
        #expect(abs(ips.value - mean) < 1e-12)
        #expect(abs(try OffPolicyEvaluation.selfNormalizedIPS(logs).value - mean) < 1e-12)
        #expect(abs(ips.effectiveSampleSize - 5_000) < 1e-6)
        #expect(ips.lower < mean && mean < ips.upper)
    }

    @Test func estimatorsRecoverTheValueOfADifferentPolicy() throws {
        let logs = Self.logs(count: 20_000, seed: 2, targetIsLogging: false)
        let ips = try OffPolicyEvaluation.ips(logs)
        let snips = try OffPolicyEvaluation.selfNormalizedIPS(logs)
        let dm = try OffPolicyEvaluation.directMethod(logs)
        let dr = try OffPolicyEvaluation.doublyRobust(logs)
        for estimate in [ips, snips, dr] {
            #expect(abs(estimate.value - Self.targetTruth) < 4 * estimate.standardError, "\(estimate.estimator)")
            #expect(estimate.lower < estimate.upper)
        }
        // The biased reward model shifts DM by exactly +0.05; DR corrects it.
        #expect(abs(dm.value - (Self.targetTruth + 0.05)) < 0.01)
        #expect(abs(dr.value - Self.targetTruth) < abs(dm.value - Self.targetTruth))
        #expect(ips.effectiveSampleSize < Double(logs.count))
    }

    @Test func invalidLogsAreRejected() {
        #expect(throws: OffPolicyError.empty) { try OffPolicyEvaluation.ips([]) }
        let bad = [LoggedDecision(reward: 1, loggingPropensity: 0, targetProbability: 1)]
        #expect(throws: OffPolicyError.invalidPropensity(index: 0)) { try OffPolicyEvaluation.ips(bad) }
        let noModel = [LoggedDecision(reward: 1, loggingPropensity: 0.5, targetProbability: 1)]
        #expect(throws: OffPolicyError.missingRewardModel(index: 0)) { try OffPolicyEvaluation.doublyRobust(noModel) }
    }

    @Test func clippingBoundsTheWeights() throws {
        let logs = [LoggedDecision(reward: 1, loggingPropensity: 0.01, targetProbability: 1),
                    LoggedDecision(reward: 0, loggingPropensity: 0.5, targetProbability: 0.5)]
        #expect(try OffPolicyEvaluation.ips(logs).value == 50)
        #expect(try OffPolicyEvaluation.ips(logs, maxWeight: 10).value == 5)
    }
}
