// OnlineExpertWeights: learning ensemble weights online. Hedge (multiplicative weights, full
// information: every model's loss is seen) and Exp3 (bandit information: only the model that was
// followed gets a reward, importance-weighted by its probability).
// Invariant: weights are kept as log-weights shifted so the max is 0, so they never overflow;
// `weights`/`probabilities` always sum to 1.

import Foundation  // exp

/// Hedge / multiplicative weights over a fixed set of models.
public struct HedgeWeights: SnapshottingModel {
    public static let modelName = "HedgeWeights"
    public static let formatVersion = 1

    public let learningRate: Double
    public private(set) var logWeights: [Double]
    public private(set) var updateCount = 0

    public init(modelCount: Int, learningRate: Double = 0.1) {
        precondition(modelCount > 0 && learningRate > 0, "need models and a positive learning rate")
        self.learningRate = learningRate
        logWeights = [Double](repeating: 0, count: modelCount)
    }

    /// Normalised weights (sum to 1).
    public var weights: [Double] { OnlineWeightMath.softmax(logWeights) }

    /// Multiplies each weight by exp(-eta * loss); losses should lie in [0, 1].
    public mutating func update(losses: [Double]) {
        precondition(losses.count == logWeights.count, "one loss per model")
        for i in logWeights.indices { logWeights[i] -= learningRate * losses[i] }
        OnlineWeightMath.shift(&logWeights)
        updateCount += 1
    }

    public func describe() -> ModelDescription {
        ModelDescription(name: Self.modelName, formatVersion: Self.formatVersion,
                         parameters: ["learning_rate": "\(learningRate)", "weights": "\(weights)"],
                         updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(learningRate); w.write(updateCount); w.write(logWeights)
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        learningRate = try r.readDouble()
        updateCount = try r.readInt()
        logWeights = try r.readDoubles()
        guard !logWeights.isEmpty, learningRate > 0 else { throw ModelSnapshotError.invalid("hedge weights") }
        try r.finish()
    }
}

/// Exp3 (Auer et al. 2002): choose one model per request; learn from that model's reward only.
public struct Exp3Weights: SnapshottingModel {
    public static let modelName = "Exp3Weights"
    public static let formatVersion = 1

    /// Exploration mix gamma in (0, 1].
    public let gamma: Double
    public private(set) var logWeights: [Double]
    public private(set) var updateCount = 0

    public init(modelCount: Int, gamma: Double = 0.1) {
        precondition(modelCount > 0 && gamma > 0 && gamma <= 1, "need models and gamma in (0, 1]")
        self.gamma = gamma
        logWeights = [Double](repeating: 0, count: modelCount)
    }

    /// p_i = (1 - gamma) w_i / sum w + gamma / K.
    public var probabilities: [Double] {
        let k = Double(logWeights.count)
        return OnlineWeightMath.softmax(logWeights).map { (1 - gamma) * $0 + gamma / k }
    }

    /// Samples a model index with its probability.
    public func choose<G: RandomNumberGenerator>(using generator: inout G) -> (index: Int, propensity: Double) {
        let p = probabilities
        var u = generator.nextUnitDouble()
        for (i, pi) in p.enumerated() {
            if u < pi { return (i, pi) }
            u -= pi
        }
        return (p.count - 1, p[p.count - 1])
    }

    /// Credits `reward` in [0, 1] to the model that was chosen with probability `propensity`.
    public mutating func update(chosen: Int, reward: Double, propensity: Double) {
        precondition(logWeights.indices.contains(chosen), "model index out of range")
        let estimate = min(1, max(0, reward)) / max(propensity, 1e-12)
        logWeights[chosen] += gamma * estimate / Double(logWeights.count)
        OnlineWeightMath.shift(&logWeights)
        updateCount += 1
    }

    public func describe() -> ModelDescription {
        ModelDescription(name: Self.modelName, formatVersion: Self.formatVersion,
                         parameters: ["gamma": "\(gamma)", "probabilities": "\(probabilities)"],
                         updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(gamma); w.write(updateCount); w.write(logWeights)
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        gamma = try r.readDouble()
        updateCount = try r.readInt()
        logWeights = try r.readDoubles()
        guard !logWeights.isEmpty, gamma > 0, gamma <= 1 else { throw ModelSnapshotError.invalid("exp3 weights") }
        try r.finish()
    }
}

enum OnlineWeightMath {
    static func softmax(_ logWeights: [Double]) -> [Double] {
        let top = logWeights.max() ?? 0
        let e = logWeights.map { exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    static func shift(_ logWeights: inout [Double]) {
        let top = logWeights.max() ?? 0
        for i in logWeights.indices { logWeights[i] -= top }
    }
}
