// BanditPolicy: bandits as choosers — pick one candidate (or rank a slate) and say with what
// probability it was picked. Invariant: choiceProbabilities sums to 1 over the candidates, and the
// propensity reported with a choice is that probability (exact, or a Monte Carlo estimate for
// sampling policies, as each policy documents).

/// A candidate chosen by a bandit, with the probability the policy had of choosing it.
public struct BanditChoice: Sendable, Hashable {
    /// Index into the candidate array passed to `choose`/`rank`.
    public var index: Int
    public var itemId: String
    /// P(policy picks this candidate | context, the candidates still available).
    public var propensity: Double

    public init(index: Int, itemId: String, propensity: Double) {
        self.index = index
        self.itemId = itemId
        self.propensity = propensity
    }
}

/// A scoring model that explores: it chooses, and knows its choice probabilities.
public protocol BanditPolicy: ScoringModel {
    /// The probability of each candidate being chosen by `choose` (sums to 1).
    func choiceProbabilities<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double]

    /// Chooses one candidate. The default takes the argmax of `score` (ties: lowest index).
    func choose<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> BanditChoice
}

extension BanditPolicy {
    public func choose<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> BanditChoice {
        precondition(!candidates.isEmpty, "choose needs at least one candidate")
        let scores = score(candidates, context: context, using: &generator)
        let best = BanditMath.argmax(scores)
        let probabilities = choiceProbabilities(candidates, context: context, using: &generator)
        return BanditChoice(index: best, itemId: candidates[best].itemId, propensity: probabilities[best])
    }

    /// Ranks up to `count` candidates as the exploration layer over a candidate list: each position
    /// is a `choose` among the candidates not yet placed, so each propensity is conditional on the
    /// positions above it.
    public func rank<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, count: Int, using generator: inout G
    ) -> [BanditChoice] {
        var remaining = Array(candidates.indices)
        var slate: [BanditChoice] = []
        while slate.count < count, !remaining.isEmpty {
            let pick = choose(remaining.map { candidates[$0] }, context: context, using: &generator)
            let original = remaining.remove(at: pick.index)
            slate.append(BanditChoice(index: original, itemId: pick.itemId, propensity: pick.propensity))
        }
        return slate
    }
}

/// Small numeric helpers shared by the bandits.
public enum BanditMath {
    /// Index of the largest value; ties go to the lowest index. Empty input returns 0.
    @inlinable
    public static func argmax(_ values: [Double]) -> Int {
        var best = 0
        var bestValue = -Double.infinity
        for i in values.indices where values[i] > bestValue {
            best = i
            bestValue = values[i]
        }
        return best
    }

    /// One-hot distribution at the argmax: the choice probabilities of a deterministic policy.
    public static func oneHotArgmax(_ values: [Double]) -> [Double] {
        var p = [Double](repeating: 0, count: values.count)
        if !values.isEmpty { p[argmax(values)] = 1 }
        return p
    }

    /// Estimates P(argmax = i) from `draws` independent score vectors from `drawScores`.
    public static func monteCarloArgmaxFrequencies<G: RandomNumberGenerator>(
        count: Int, draws: Int, using generator: inout G, drawScores: (inout G) -> [Double]
    ) -> [Double] {
        var counts = [Double](repeating: 0, count: count)
        guard count > 0 else { return counts }
        let n = max(draws, 1)
        for _ in 0..<n { counts[argmax(drawScores(&generator))] += 1 }
        return counts.map { $0 / Double(n) }
    }
}

/// Pull count and reward sum of one arm (context-free bandits).
public struct ArmRewardStatistics: Sendable, Hashable {
    public var pulls: Double = 0
    public var rewardSum: Double = 0

    public init(pulls: Double = 0, rewardSum: Double = 0) {
        self.pulls = pulls
        self.rewardSum = rewardSum
    }

    /// Mean reward, or `fallback` for an arm never pulled.
    public func mean(fallback: Double) -> Double { pulls > 0 ? rewardSum / pulls : fallback }
}

extension ModelSnapshotWriter {
    /// Writes arm statistics sorted by arm id, so equal models give equal bytes.
    public mutating func write(_ arms: [String: ArmRewardStatistics]) {
        write(arms.count)
        for key in arms.keys.sorted() {
            write(key)
            write(arms[key]!.pulls)
            write(arms[key]!.rewardSum)
        }
    }
}

extension ModelSnapshotReader {
    /// Reads what `write(_: [String: ArmRewardStatistics])` wrote.
    public mutating func readArms() throws -> [String: ArmRewardStatistics] {
        let n = try readCount(elementSize: 24)
        var arms: [String: ArmRewardStatistics] = [:]
        for _ in 0..<n {
            let key = try readString()
            arms[key] = ArmRewardStatistics(pulls: try readDouble(), rewardSum: try readDouble())
        }
        return arms
    }
}
