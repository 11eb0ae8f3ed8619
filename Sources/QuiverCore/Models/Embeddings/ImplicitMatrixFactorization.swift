// ImplicitMatrixFactorization: incremental user and item embeddings from implicit feedback, learned
// online with Bayesian Personalised Ranking (Rendle et al. 2009). Each positive (u, i) samples
// `negativeSamples` items j from the items seen so far and takes one SGD step on
// -ln sigma(x_ui - x_uj) + reg (|p_u|^2 + |q_i|^2 + |q_j|^2 + b_i^2 + b_j^2), x_ui = b_i + p_u . q_i,
// with the learning rate from a DecaySchedule over the update count. New users and items get small
// random vectors from the model's own seeded generator, whose state is part of the snapshot, so a
// restored model continues the exact same stream. Non-positive feedback is counted, not learned.

import Foundation  // exp

/// Online BPR matrix factorisation with item biases.
public struct ImplicitMatrixFactorization: ScoringModel {
    public static let modelName = "ImplicitMatrixFactorization"
    public static let formatVersion = 1

    public let factors: Int
    public let learningRate: DecaySchedule
    public let regularization: Double
    public let negativeSamples: Int
    private var generator: SeededRandom
    private var userIndex: [String: Int] = [:]
    private var userIds: [String] = []
    private var itemIndex: [String: Int] = [:]
    private var itemIds: [String] = []
    private var userFactors: [Double] = []
    private var itemFactors: [Double] = []
    private var itemBias: [Double] = []
    public private(set) var updateCount = 0

    public init(factors: Int = 32, learningRate: DecaySchedule = .inverse(initial: 0.05, scale: 200_000, floor: 0.005),
                regularization: Double = 0.01, negativeSamples: Int = 4, seed: UInt64 = 1) {
        precondition(factors > 0 && negativeSamples >= 0, "bad factorisation settings")
        self.factors = factors
        self.learningRate = learningRate
        self.regularization = regularization
        self.negativeSamples = negativeSamples
        generator = SeededRandom(seed: seed)
    }

    private mutating func randomVector() -> [Double] {
        (0..<factors).map { _ in generator.nextGaussian() * 0.1 }
    }

    private mutating func user(_ id: String) -> Int {
        if let u = userIndex[id] { return u }
        userIndex[id] = userIds.count
        userIds.append(id)
        userFactors.append(contentsOf: randomVector())
        return userIds.count - 1
    }

    private mutating func item(_ id: String) -> Int {
        if let i = itemIndex[id] { return i }
        itemIndex[id] = itemIds.count
        itemIds.append(id)
        itemFactors.append(contentsOf: randomVector())
        itemBias.append(0)
        return itemIds.count - 1
    }

    private func affinity(user u: Int?, item i: Int) -> Double {
        guard let u else { return itemBias[i] }
        var s = itemBias[i]
        for f in 0..<factors { s += userFactors[u * factors + f] * itemFactors[i * factors + f] }
        return s
    }

    /// b_i + p_u . q_i (just b_i for an unknown user; 0 for an unknown item).
    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        let u = userIndex[context.userId]
        return candidates.map { c in itemIndex[c.itemId].map { affinity(user: u, item: $0) } ?? 0 }
    }

    /// Every item's b_i + p_u . q_i for one user, computed once (O(items x factors)): the
    /// embedding candidate source takes its top items, the ensemble reads candidates' scores.
    public struct UserScores: Sendable {
        let scores: [Double]
        let itemIndex: [String: Int]
        let itemIds: [String]

        public func score(_ itemId: String) -> Double {
            guard let i = itemIndex[itemId], i < scores.count else { return 0 }
            return scores[i]
        }
        /// Scores by model slot.
        public var bySlot: [Double] { scores }
        public func itemId(atSlot slot: Int) -> String { itemIds[slot] }

        public func top(_ limit: Int, allowed: (String) -> Bool) -> [(itemId: String, score: Double)] {
            TopK.select(scores, k: limit) { allowed(itemIds[$0]) }.map { (itemIds[$0.index], $0.score) }
        }
    }

    /// Scores for `userId` (item biases alone for an unknown user).
    public func scores(forUser userId: String) -> UserScores {
        let u = userIndex[userId]
        var scores = [Double](repeating: 0, count: itemIds.count)
        if let u {
            let k = factors
            userFactors.withUnsafeBufferPointer { p in
                itemFactors.withUnsafeBufferPointer { q in
                    let pu = p.baseAddress! + u * k
                    let lanes = k / 8 * 8
                    for i in itemIds.indices {
                        let qi = q.baseAddress! + i * k
                        // Eight lanes at a time (SIMD), then the remainder.
                        var acc = SIMD8<Double>()
                        var f = 0
                        while f < lanes {
                            acc += UnsafeRawPointer(pu + f).loadUnaligned(as: SIMD8<Double>.self)
                                * UnsafeRawPointer(qi + f).loadUnaligned(as: SIMD8<Double>.self)
                            f += 8
                        }
                        var s = itemBias[i] + acc.sum()
                        while f < k { s += pu[f] * qi[f]; f += 1 }
                        scores[i] = s
                    }
                }
            }
        } else {
            for i in itemIds.indices { scores[i] = itemBias[i] }
        }
        return UserScores(scores: scores, itemIndex: itemIndex, itemIds: itemIds)
    }

    /// The user's embedding (nil for an unknown user).
    public func userEmbedding(_ userId: String) -> [Double]? {
        guard let u = userIndex[userId] else { return nil }
        return Array(userFactors[u * factors..<(u + 1) * factors])
    }

    /// The model's internal slot of an item (stable for the model's life), if it knows it.
    public func slot(of itemId: String) -> Int32? { itemIndex[itemId].map(Int32.init) }
    /// Number of items the model knows.
    public var itemCount: Int { itemIds.count }

    /// Whether the model has learned anything about `userId`.
    public func knows(user userId: String) -> Bool { userIndex[userId] != nil }

    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        updateCount += 1
        guard feedback.reward > 0 else { return }
        let u = user(feedback.context.userId)
        let i = item(feedback.candidate.itemId)
        guard itemIds.count > 1 else { return }
        let rate = learningRate.value(at: Double(updateCount))
        let reg = regularization
        let k = factors
        for _ in 0..<negativeSamples {
            let j = Int(generator.next() % UInt64(itemIds.count))
            if j == i { continue }
            let x = affinity(user: u, item: i) - affinity(user: u, item: j)
            let sigma = 1 / (1 + exp(max(-35, min(35, x))))
            for f in 0..<k {
                let pu = userFactors[u * k + f], qi = itemFactors[i * k + f], qj = itemFactors[j * k + f]
                userFactors[u * k + f] += rate * (sigma * (qi - qj) - reg * pu)
                itemFactors[i * k + f] += rate * (sigma * pu - reg * qi)
                itemFactors[j * k + f] += rate * (-sigma * pu - reg * qj)
            }
            itemBias[i] += rate * (sigma - reg * itemBias[i])
            itemBias[j] += rate * (-sigma - reg * itemBias[j])
        }
    }

    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        guard let i = itemIndex[candidate.itemId] else {
            return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: 0,
                                    contributions: [ScoreContribution("unknown_item", 0)])
        }
        let u = userIndex[context.userId]
        let bias = itemBias[i]
        return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: affinity(user: u, item: i),
                                contributions: [ScoreContribution("item_bias", bias),
                                                ScoreContribution("user_item_affinity", affinity(user: u, item: i) - bias)])
    }

    public func describe() -> ModelDescription {
        ModelDescription(name: Self.modelName, formatVersion: Self.formatVersion,
                         parameters: ["factors": "\(factors)", "learning_rate": learningRate.summary,
                                      "current_learning_rate": "\(learningRate.value(at: Double(updateCount)))",
                                      "regularization": "\(regularization)", "negative_samples": "\(negativeSamples)",
                                      "users": "\(userIds.count)", "items": "\(itemIds.count)"],
                         updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(factors); w.write(learningRate); w.write(regularization); w.write(negativeSamples)
        for word in generator.stateWords { w.write(word) }
        w.write(updateCount)
        w.write(userIds); w.write(itemIds)
        w.write(userFactors); w.write(itemFactors); w.write(itemBias)
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        factors = try r.readInt()
        learningRate = try r.readSchedule()
        regularization = try r.readDouble()
        negativeSamples = try r.readInt()
        let words = try (0..<4).map { _ in try r.readUInt64() }
        guard factors > 0, negativeSamples >= 0, let g = SeededRandom(stateWords: words) else {
            throw ModelSnapshotError.invalid("factorisation header")
        }
        generator = g
        updateCount = try r.readInt()
        userIds = try r.readStrings()
        itemIds = try r.readStrings()
        userFactors = try r.readDoubles()
        itemFactors = try r.readDoubles()
        itemBias = try r.readDoubles()
        guard userFactors.count == userIds.count * factors, itemFactors.count == itemIds.count * factors,
              itemBias.count == itemIds.count else { throw ModelSnapshotError.invalid("factor shapes") }
        for (i, id) in userIds.enumerated() { userIndex[id] = i }
        for (i, id) in itemIds.enumerated() { itemIndex[id] = i }
        try r.finish()
    }
}
