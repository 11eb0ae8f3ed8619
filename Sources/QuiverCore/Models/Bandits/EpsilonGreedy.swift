// EpsilonGreedy: context-free bandit over item ids — exploit the best mean reward, explore
// uniformly with probability epsilon, epsilon decaying with the number of updates and, when
// `adaptive` is set, rising again when the rewards observed fall (PerformanceAdaptiveRate).
// Invariant: choiceProbabilities = epsilon/K everywhere plus (1 - epsilon) on the greedy arm.

/// Epsilon-greedy with a decaying epsilon.
public struct EpsilonGreedy: BanditPolicy {
    public static let modelName = "EpsilonGreedy"
    public static let formatVersion = 2

    /// Exploration probability as a function of the update count.
    public var epsilon: DecaySchedule
    /// Assumed mean of an arm never pulled (optimism encourages trying new arms).
    public var initialValue: Double
    public private(set) var arms: [String: ArmRewardStatistics] = [:]
    public private(set) var updateCount = 0
    /// When set, epsilon follows measured performance too: it replaces `epsilon` as the schedule.
    public var adaptive: PerformanceAdaptiveRate?

    public init(epsilon: DecaySchedule = .inverse(initial: 0.2, scale: 1_000, floor: 0.01), initialValue: Double = 0) {
        self.epsilon = epsilon
        self.initialValue = initialValue
    }

    /// Epsilon from `adaptive`'s schedule, raised when the observed rewards fall (see
    /// PerformanceAdaptiveRate).
    public init(adaptive: PerformanceAdaptiveRate, initialValue: Double = 0) {
        self.init(epsilon: adaptive.schedule, initialValue: initialValue)
        self.adaptive = adaptive
    }

    /// The exploration probability now.
    public var currentEpsilon: Double {
        min(1, max(0, adaptive?.rate(at: Double(updateCount)) ?? epsilon.value(at: Double(updateCount))))
    }

    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        candidates.map { (arms[$0.itemId] ?? ArmRewardStatistics()).mean(fallback: initialValue) }
    }

    public func choiceProbabilities<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        guard !candidates.isEmpty else { return [] }
        let eps = currentEpsilon
        var p = [Double](repeating: eps / Double(candidates.count), count: candidates.count)
        p[BanditMath.argmax(score(candidates, context: context, using: &generator))] += 1 - eps
        return p
    }

    public func choose<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> BanditChoice {
        precondition(!candidates.isEmpty, "choose needs at least one candidate")
        let p = choiceProbabilities(candidates, context: context, using: &generator)
        let index: Int
        if generator.nextUnitDouble() < currentEpsilon {
            index = Int(generator.next() % UInt64(candidates.count))
        } else {
            index = BanditMath.argmax(score(candidates, context: context, using: &generator))
        }
        return BanditChoice(index: index, itemId: candidates[index].itemId, propensity: p[index])
    }

    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        arms[feedback.candidate.itemId, default: ArmRewardStatistics()].pulls += 1
        arms[feedback.candidate.itemId, default: ArmRewardStatistics()].rewardSum += feedback.reward
        adaptive?.observe(reward: feedback.reward)
        updateCount += 1
    }

    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        let stats = arms[candidate.itemId] ?? ArmRewardStatistics()
        return ScoreExplanation(
            itemId: candidate.itemId, model: Self.modelName, score: stats.mean(fallback: initialValue),
            contributions: [ScoreContribution("mean_reward", stats.mean(fallback: initialValue)),
                            ScoreContribution("pulls", stats.pulls)])
    }

    public func describe() -> ModelDescription {
        ModelDescription(
            name: Self.modelName, formatVersion: Self.formatVersion,
            parameters: ["epsilon": adaptive?.summary ?? epsilon.summary, "current_epsilon": "\(currentEpsilon)",
                         "initial_value": "\(initialValue)", "arms": "\(arms.count)"],
            updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(epsilon)
        w.write(initialValue)
        w.write(updateCount)
        w.write(arms)
        w.write(adaptive != nil)
        if let adaptive { w.write(adaptive) }
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        epsilon = try r.readSchedule()
        initialValue = try r.readDouble()
        updateCount = try r.readInt()
        arms = try r.readArms()
        if r.version >= 2, try r.readBool() { adaptive = try r.readAdaptiveRate() }
        try r.finish()
    }
}
