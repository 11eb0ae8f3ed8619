// UCB1: context-free optimism in the face of uncertainty (Auer, Cesa-Bianchi & Fischer 2002).
// score(a) = mean(a) + c * sqrt(2 ln N / n_a); an arm never pulled scores +infinity, so every arm
// is tried once. Invariant: deterministic — the chosen arm has propensity 1 (ties: lowest index).

import Foundation  // log

/// UCB1 over item ids, rewards expected in [0, 1].
public struct UCB1: BanditPolicy {
    public static let modelName = "UCB1"
    public static let formatVersion = 1

    /// Multiplier of the confidence bonus (1 = textbook UCB1).
    public var explorationScale: Double
    public private(set) var arms: [String: ArmRewardStatistics] = [:]
    public private(set) var totalPulls: Double = 0
    public private(set) var updateCount = 0

    public init(explorationScale: Double = 1) {
        self.explorationScale = explorationScale
    }

    private func bonus(_ stats: ArmRewardStatistics) -> Double {
        guard stats.pulls > 0 else { return .infinity }
        return explorationScale * (2 * log(max(totalPulls, 1)) / stats.pulls).squareRoot()
    }

    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        candidates.map {
            let stats = arms[$0.itemId] ?? ArmRewardStatistics()
            return stats.pulls > 0 ? stats.mean(fallback: 0) + bonus(stats) : .infinity
        }
    }

    public func choiceProbabilities<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        BanditMath.oneHotArgmax(score(candidates, context: context, using: &generator))
    }

    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        arms[feedback.candidate.itemId, default: ArmRewardStatistics()].pulls += 1
        arms[feedback.candidate.itemId, default: ArmRewardStatistics()].rewardSum += feedback.reward
        totalPulls += 1
        updateCount += 1
    }

    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        let stats = arms[candidate.itemId] ?? ArmRewardStatistics()
        let mean = stats.mean(fallback: 0)
        let b = bonus(stats)
        return ScoreExplanation(
            itemId: candidate.itemId, model: Self.modelName, score: mean + b,
            contributions: [ScoreContribution("mean_reward", mean), ScoreContribution("confidence_bonus", b)])
    }

    public func describe() -> ModelDescription {
        ModelDescription(
            name: Self.modelName, formatVersion: Self.formatVersion,
            parameters: ["exploration_scale": "\(explorationScale)", "arms": "\(arms.count)",
                         "total_pulls": "\(totalPulls)"],
            updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(explorationScale)
        w.write(totalPulls)
        w.write(updateCount)
        w.write(arms)
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        explorationScale = try r.readDouble()
        totalPulls = try r.readDouble()
        updateCount = try r.readInt()
        arms = try r.readArms()
        try r.finish()
    }
}
