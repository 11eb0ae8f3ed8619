// SessionStrategyAgent: picks a recommendation strategy per session step with Q-learning.
// State discretisation (documented contract, 4 x 4 x 3 = 48 states):
//   engagement = clicks / impressions in the session: [0, 0.05) [0.05, 0.15) [0.15, 0.35) [0.35, 1]
//   depth      = requests served in the session:      0-1, 2-4, 5-9, 10+
//   recent     = reward of the previous step:        none (first step), <= 0, > 0
// state = engagementBin * 12 + depthBin * 3 + recentBin. Reward is whatever the server credits to
// the step (e.g. clicks in the served slate); the session end is a terminal transition.

/// The per-session strategies the agent chooses between.
public enum SessionStrategy: Int, Sendable, Hashable, CaseIterable, Codable {
    case exploit = 0, explore, diversify, trending, similarToLast
}

/// What the server knows about a session when it asks for a strategy.
public struct SessionObservation: Sendable, Hashable, Codable {
    public var impressions: Int
    public var clicks: Int
    public var depth: Int
    /// Reward of the previous step; nil on the first step.
    public var recentReward: Double?

    public init(impressions: Int, clicks: Int, depth: Int, recentReward: Double?) {
        self.impressions = impressions
        self.clicks = clicks
        self.depth = depth
        self.recentReward = recentReward
    }

    /// The discrete state index in 0..<48 (see the file header).
    public var stateIndex: Int {
        let rate = impressions > 0 ? Double(clicks) / Double(impressions) : 0
        let engagement = rate < 0.05 ? 0 : rate < 0.15 ? 1 : rate < 0.35 ? 2 : 3
        let depthBin = depth <= 1 ? 0 : depth <= 4 ? 1 : depth <= 9 ? 2 : 3
        let recent = recentReward.map { $0 > 0 ? 2 : 1 } ?? 0
        return engagement * 12 + depthBin * 3 + recent
    }

    /// Number of discrete states.
    public static let stateCount = 48
}

/// Q-learning over session observations and `SessionStrategy` actions.
public struct SessionStrategyAgent: SnapshottingModel {
    public static let modelName = "SessionStrategyAgent"
    public static let formatVersion = 1

    public private(set) var learner: TabularQLearning

    public init(discount: Double = 0.8,
                learningRate: DecaySchedule = .polynomial(initial: 0.5, power: 0.6, floor: 0.02),
                epsilon: DecaySchedule = .inverse(initial: 0.2, scale: 5_000, floor: 0.02)) {
        learner = TabularQLearning(stateCount: SessionObservation.stateCount, actionCount: SessionStrategy.allCases.count,
                                   discount: discount, learningRate: learningRate, epsilon: epsilon)
    }

    /// Chooses a strategy for the session's next step, with its probability.
    public func chooseStrategy<G: RandomNumberGenerator>(
        for observation: SessionObservation, using generator: inout G
    ) -> (strategy: SessionStrategy, propensity: Double) {
        let (action, p) = learner.chooseAction(state: observation.stateIndex, using: &generator)
        return (SessionStrategy(rawValue: action)!, p)
    }

    /// The strategy the agent currently believes best for `observation`.
    public func bestStrategy(for observation: SessionObservation) -> SessionStrategy {
        SessionStrategy(rawValue: learner.greedyAction(state: observation.stateIndex))!
    }

    /// Learns from one step; `next` nil ends the session.
    public mutating func learn(from observation: SessionObservation, strategy: SessionStrategy,
                               reward: Double, next: SessionObservation?) {
        learner.update(state: observation.stateIndex, action: strategy.rawValue, reward: reward,
                       nextState: next?.stateIndex)
    }

    /// Q values of every strategy in a state: the explanation of a choice.
    public func strategyValues(for observation: SessionObservation) -> [SessionStrategy: Double] {
        Dictionary(uniqueKeysWithValues: SessionStrategy.allCases.map {
            ($0, learner.value(state: observation.stateIndex, action: $0.rawValue))
        })
    }

    public func describe() -> ModelDescription {
        var d = learner.describe()
        d.name = Self.modelName
        d.formatVersion = Self.formatVersion
        d.parameters["discretisation"] = "engagement(4) x depth(4) x recent_reward(3)"
        return d
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(bytes: learner.snapshot())
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        learner = try TabularQLearning(snapshot: try r.readBytes())
        try r.finish()
        guard learner.stateCount == SessionObservation.stateCount,
              learner.actionCount == SessionStrategy.allCases.count
        else { throw ModelSnapshotError.invalid("session agent shape") }
    }
}
