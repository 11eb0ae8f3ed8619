// TabularQLearning: Watkins Q-learning over a small finite state and action space.
// Update: Q(s,a) += alpha_t(s,a) * (r + gamma * max_a' Q(s',a') - Q(s,a)) (no bootstrap at a
// terminal transition), with alpha_t from a DecaySchedule over the visit count of (s,a) — a
// polynomial schedule with power in (0.5, 1] satisfies the Robbins–Monro conditions. Actions are
// chosen epsilon-greedily, epsilon decaying over the agent's total update count.
// Invariant: the table is dense stateCount x actionCount and every index is range-checked.

/// A tabular Q-learning agent.
public struct TabularQLearning: SnapshottingModel {
    public static let modelName = "TabularQLearning"
    public static let formatVersion = 1

    public let stateCount: Int
    public let actionCount: Int
    /// Discount factor gamma in [0, 1).
    public let discount: Double
    public var learningRate: DecaySchedule
    public var epsilon: DecaySchedule
    public private(set) var q: [Double]
    public private(set) var visits: [Double]
    public private(set) var updateCount = 0

    public init(stateCount: Int, actionCount: Int, discount: Double = 0.9,
                learningRate: DecaySchedule = .polynomial(initial: 1, power: 0.6, floor: 0.01),
                epsilon: DecaySchedule = .inverse(initial: 0.3, scale: 2_000, floor: 0.02),
                initialValue: Double = 0) {
        precondition(stateCount > 0 && actionCount > 0, "need at least one state and one action")
        precondition((0..<1).contains(discount), "discount must be in [0, 1)")
        self.stateCount = stateCount
        self.actionCount = actionCount
        self.discount = discount
        self.learningRate = learningRate
        self.epsilon = epsilon
        q = [Double](repeating: initialValue, count: stateCount * actionCount)
        visits = [Double](repeating: 0, count: stateCount * actionCount)
    }

    /// Current exploration probability.
    public var currentEpsilon: Double { min(1, max(0, epsilon.value(at: Double(updateCount)))) }

    /// Q(s, a).
    public func value(state: Int, action: Int) -> Double { q[state * actionCount + action] }

    /// The greedy action in `state` (ties: lowest index).
    public func greedyAction(state: Int) -> Int {
        precondition((0..<stateCount).contains(state), "state out of range")
        return BanditMath.argmax(Array(q[(state * actionCount)..<(state * actionCount + actionCount)]))
    }

    /// The epsilon-greedy distribution over actions in `state` (sums to 1).
    public func actionProbabilities(state: Int) -> [Double] {
        let eps = currentEpsilon
        var p = [Double](repeating: eps / Double(actionCount), count: actionCount)
        p[greedyAction(state: state)] += 1 - eps
        return p
    }

    /// Chooses an action epsilon-greedily; returns it with its probability.
    public func chooseAction<G: RandomNumberGenerator>(state: Int, using generator: inout G) -> (action: Int, propensity: Double) {
        let p = actionProbabilities(state: state)
        let action = generator.nextUnitDouble() < currentEpsilon
            ? Int(generator.next() % UInt64(actionCount))
            : greedyAction(state: state)
        return (action, p[action])
    }

    /// Applies one transition (s, a, r, s'); `nextState` nil means the episode ended.
    public mutating func update(state: Int, action: Int, reward: Double, nextState: Int?) {
        precondition((0..<stateCount).contains(state) && (0..<actionCount).contains(action), "index out of range")
        let i = state * actionCount + action
        var target = reward
        if let next = nextState {
            precondition((0..<stateCount).contains(next), "next state out of range")
            target += discount * q[(next * actionCount)..<(next * actionCount + actionCount)].max()!
        }
        let rate = learningRate.value(at: visits[i])
        q[i] += rate * (target - q[i])
        visits[i] += 1
        updateCount += 1
    }

    public func describe() -> ModelDescription {
        ModelDescription(name: Self.modelName, formatVersion: Self.formatVersion,
                         parameters: ["states": "\(stateCount)", "actions": "\(actionCount)", "discount": "\(discount)",
                                      "learning_rate": learningRate.summary, "epsilon": epsilon.summary,
                                      "current_epsilon": "\(currentEpsilon)"],
                         updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(stateCount); w.write(actionCount); w.write(discount)
        w.write(learningRate); w.write(epsilon)
        w.write(updateCount)
        w.write(q); w.write(visits)
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        stateCount = try r.readInt()
        actionCount = try r.readInt()
        discount = try r.readDouble()
        learningRate = try r.readSchedule()
        epsilon = try r.readSchedule()
        updateCount = try r.readInt()
        q = try r.readDoubles()
        visits = try r.readDoubles()
        guard stateCount > 0, actionCount > 0, (0..<1).contains(discount),
              q.count == stateCount * actionCount, visits.count == q.count
        else { throw ModelSnapshotError.invalid("Q table shape") }
        try r.finish()
    }
}
