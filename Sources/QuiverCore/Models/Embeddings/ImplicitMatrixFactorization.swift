// ImplicitMatrixFactorization: incremental user and item embeddings from implicit feedback, learned
// online, one interaction at a time, with Bayesian Personalised Ranking (Rendle et al. 2009).
// The user's vector is a long-term part plus a session part (an SVD++/FISM-style sum over the
// user's recent items, Koren 2008, Kabbur et al. 2013):
//   z_u = p_u + sum_a w_a y_{h_a},  w_a = decay^a / sqrt(sum_a decay^2a)  (a = 0 for the newest of
//   the user's last `historyLength` items),   x_ui = b_i + z_u . q_i.
// Each positive (u, i) takes `negativeSamples` BPR steps on -ln sigma(x_ui - x_uj) + L2, with z_u
// built from the user's recent items other than i; each negative j is the highest-scored of
// `negativeCandidates` uniformly drawn items that are not among the user's recent ones (dynamic
// negative sampling, Zhang et al. 2013: the few steps an online model gets go to items it ranks
// wrongly; recent items are positives, not negatives). The gradient on z_u reaches p_u and every
// y_h of the history; then i becomes the user's newest item. Each event also replays
// `replaySteps` past positives drawn uniformly from a window of the last `replayWindow` ones
// (experience replay: `replayNegatives` steps each at `replayRate` times the learning rate), so an
// event is learned from more than once. All randomness comes from the model's own seeded
// generator, whose state is in the snapshot (format 2; format 1, the history-free model, still
// loads), so a restored model continues the exact same stream. Non-positive feedback is counted,
// not learned. Defaults tuned on a validation split of MovieLens-100k (docs/learning.md).

import Foundation  // exp, pow

/// Online BPR matrix factorisation with item biases and a recent-items session vector.
public struct ImplicitMatrixFactorization: ScoringModel {
    public static let modelName = "ImplicitMatrixFactorization"
    public static let formatVersion = 2

    public let factors: Int
    public let learningRate: DecaySchedule
    public let regularization: Double
    public let negativeSamples: Int
    /// Items drawn per negative; the highest-scored one is used (1 = uniform sampling).
    public let negativeCandidates: Int
    /// Recent items per user in the session vector (0 = plain BPR-MF).
    public let historyLength: Int
    /// Weight ratio between consecutive recent items (newest weighs most).
    public let historyDecay: Double
    /// Past positives replayed per event, negatives per replayed positive, and their rate factor.
    public let replaySteps: Int
    public let replayNegatives: Int
    public let replayRate: Double
    var generator: SeededRandom
    var userIndex: [String: Int] = [:]
    var userIds: [String] = []
    var itemIndex: [String: Int] = [:]
    var itemIds: [String] = []
    var userFactors: [Double] = []
    var itemFactors: [Double] = []
    /// y_i: what having engaged with item i recently adds to the user's vector.
    var historyFactors: [Double] = []
    var itemBias: [Double] = []
    /// q in single precision, in the blocked layout of `EmbeddingKernels` (16 items per block,
    /// factor-major): what serving scans for a user's scores over the whole catalog (half the
    /// memory traffic of the Double rows, no per-item horizontal sum). Kept in step by every
    /// write to q; derived, not stored in snapshots.
    var servingItemFactors: [Float] = []
    var history: RecentItemHistory
    var replayWindow: InteractionReplayWindow
    /// w_a for a history of n items is weightTable[n * (n - 1) / 2 + a] (derived, not stored).
    let weightTable: [Double]
    public internal(set) var updateCount = 0

    /// - Parameters:
    ///   - factors: embedding dimension.
    ///   - learningRate: SGD step size over the update count.
    ///   - regularization: L2 on every factor and bias a step touches.
    ///   - negativeSamples: BPR steps per positive.
    ///   - negativeCandidates: uniform draws per negative, the highest-scored taken.
    ///   - historyLength: recent items in the user's vector, 0...255 (0 = plain BPR-MF).
    ///   - historyDecay: weight ratio of each recent item to the next newer one, in (0, 1].
    ///   - replaySteps: past positives replayed per event (0 = none).
    ///   - replayNegatives: BPR steps per replayed positive.
    ///   - replayRate: the replayed steps' learning rate as a fraction of the current one.
    ///   - replayWindow: how many of the latest positives replays draw from.
    ///   - seed: the model's generator (initial vectors, negatives, replays).
    public init(factors: Int = 32, learningRate: DecaySchedule = .inverse(initial: 0.05, scale: 200_000, floor: 0.01),
                regularization: Double = 0.003, negativeSamples: Int = 4, negativeCandidates: Int = 5,
                historyLength: Int = 16, historyDecay: Double = 0.8,
                replaySteps: Int = 1, replayNegatives: Int = 3, replayRate: Double = 0.3, replayWindow: Int = 50_000,
                seed: UInt64 = 1) {
        precondition(factors > 0 && negativeSamples >= 0 && negativeCandidates >= 1, "bad factorisation settings")
        precondition((0...255).contains(historyLength) && historyDecay > 0 && historyDecay <= 1, "bad history settings")
        precondition(replaySteps >= 0 && replayNegatives >= 0 && replayRate >= 0 && replayWindow >= 0, "bad replay settings")
        self.factors = factors
        self.learningRate = learningRate
        self.regularization = regularization
        self.negativeSamples = negativeSamples
        self.negativeCandidates = negativeCandidates
        self.historyLength = historyLength
        self.historyDecay = historyDecay
        self.replaySteps = replaySteps
        self.replayNegatives = replayNegatives
        self.replayRate = replayRate
        generator = SeededRandom(seed: seed)
        history = RecentItemHistory(capacity: historyLength)
        self.replayWindow = InteractionReplayWindow(capacity: replayWindow)
        weightTable = Self.weights(length: historyLength, decay: historyDecay)
    }

    /// Row n holds w_0...w_{n-1} for a history of n items, newest first.
    static func weights(length: Int, decay: Double) -> [Double] {
        var table: [Double] = []
        for n in stride(from: 1, through: max(length, 0), by: 1) {
            let raw = (0..<n).map { pow(decay, Double($0)) }
            let norm = 1 / raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
            table.append(contentsOf: raw.map { $0 * norm })
        }
        return table
    }

    private mutating func randomVector() -> [Double] {
        (0..<factors).map { _ in generator.nextGaussian() * 0.1 }
    }

    private mutating func user(_ id: String) -> Int {
        if let u = userIndex[id] { return u }
        userIndex[id] = userIds.count
        userIds.append(id)
        userFactors.append(contentsOf: randomVector())
        history.appendUser()
        return userIds.count - 1
    }

    private mutating func item(_ id: String) -> Int {
        if let i = itemIndex[id] { return i }
        itemIndex[id] = itemIds.count
        itemIds.append(id)
        let q = randomVector()
        itemFactors.append(contentsOf: q)
        let i = itemIds.count - 1
        if i % EmbeddingKernels.blockWidth == 0 {
            servingItemFactors.append(contentsOf: repeatElement(0, count: EmbeddingKernels.blockWidth * factors))
        }
        q.withUnsafeBufferPointer { row in
            servingItemFactors.withUnsafeMutableBufferPointer {
                EmbeddingKernels.narrowBlocked(row.baseAddress!, item: i, into: $0.baseAddress!, count: factors)
            }
        }
        historyFactors.append(contentsOf: repeatElement(0, count: factors))
        itemBias.append(0)
        return itemIds.count - 1
    }

    // MARK: scoring

    /// z_u = p_u + sum_a w_a y_{h_a} over the user's recent items.
    func userVector(_ u: Int) -> [Double] {
        var z = Array(userFactors[u * factors..<(u + 1) * factors])
        let recent = history.items(of: u)
        let n = recent.count
        guard n > 0 else { return z }
        let row = n * (n - 1) / 2
        z.withUnsafeMutableBufferPointer { zp in
            historyFactors.withUnsafeBufferPointer { y in
                for (offset, slot) in recent.enumerated() {
                    EmbeddingKernels.axpy(weightTable[row + n - 1 - offset], y.baseAddress! + Int(slot) * factors,
                                          into: zp.baseAddress!, count: factors)
                }
            }
        }
        return z
    }

    private func affinity(_ z: [Double]?, item i: Int) -> Double {
        guard let z else { return itemBias[i] }
        return z.withUnsafeBufferPointer { zp in
            itemFactors.withUnsafeBufferPointer { q in
                itemBias[i] + EmbeddingKernels.dot(zp.baseAddress!, q.baseAddress! + i * factors, count: factors)
            }
        }
    }

    /// b_i + z_u . q_i (just b_i for an unknown user; 0 for an unknown item).
    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        let z = userIndex[context.userId].map(userVector)
        return candidates.map { c in itemIndex[c.itemId].map { affinity(z, item: $0) } ?? 0 }
    }

    /// Every item's b_i + z_u . q_i for one user, computed once (O(items x factors)): the
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

    /// Scores for `userId` (item biases alone for an unknown user). The scan over the catalog reads
    /// the single-precision rows with z_u rounded to Float (relative error about 1e-6 per score).
    public func scores(forUser userId: String) -> UserScores {
        var scores = itemBias
        if let u = userIndex[userId] {
            let z = userVector(u).map(Float.init)
            z.withUnsafeBufferPointer { zp in
                servingItemFactors.withUnsafeBufferPointer { q in
                    scores.withUnsafeMutableBufferPointer { s in
                        EmbeddingKernels.addBlockedDots(zp.baseAddress!, q.baseAddress!, count: factors, into: s)
                    }
                }
            }
        }
        return UserScores(scores: scores, itemIndex: itemIndex, itemIds: itemIds)
    }

    /// The user's embedding z_u, long-term and recent parts together (nil for an unknown user).
    public func userEmbedding(_ userId: String) -> [Double]? {
        userIndex[userId].map(userVector)
    }

    /// The model's internal slot of an item (stable for the model's life), if it knows it.
    public func slot(of itemId: String) -> Int32? { itemIndex[itemId].map(Int32.init) }
    /// Number of items the model knows.
    public var itemCount: Int { itemIds.count }

    /// Whether the model has learned anything about `userId`.
    public func knows(user userId: String) -> Bool { userIndex[userId] != nil }

    // MARK: learning

    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        updateCount += 1
        guard feedback.reward > 0 else { return }
        let u = user(feedback.context.userId)
        let i = item(feedback.candidate.itemId)
        if itemIds.count > 1 {
            let rate = learningRate.value(at: Double(updateCount))
            learn(user: u, item: i, rate: rate, negatives: negativeSamples)
            for _ in 0..<replaySteps where replayWindow.count > 0 {
                let past = replayWindow[Int(generator.next() % UInt64(replayWindow.count))]
                learn(user: past.user, item: past.item, rate: rate * replayRate, negatives: replayNegatives)
            }
        }
        replayWindow.append(user: u, item: i)
        history.record(Int32(i), for: u)
    }

    /// `negatives` BPR steps for the positive (u, i), with the user's recent items but i as context.
    private mutating func learn(user u: Int, item i: Int, rate: Double, negatives: Int) {
        let k = factors, reg = regularization, items = UInt64(itemIds.count)
        // The context: the user's recent items other than i, newest first, and their weights.
        var g = generator
        var p = userFactors, q = itemFactors, y = historyFactors, b = itemBias, f = servingItemFactors
        userFactors = []; itemFactors = []; historyFactors = []; itemBias = []; servingItemFactors = []
        // The context: the user's recent items other than i, newest first, padded with -1 to whole
        // SIMD16 chunks so "is c a recent item" is one vector compare per 16 items.
        let chunks = max(1, (historyLength + 15) / 16)
        withUnsafeTemporaryAllocation(of: SIMD16<Int32>.self, capacity: chunks) { packed in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * k) { scratch in
            packed.initialize(repeating: SIMD16(repeating: -1))
            let context = UnsafeMutableRawPointer(packed.baseAddress!).assumingMemoryBound(to: Int32.self)
            var n = 0
            for slot in history.items(of: u).reversed() where slot != Int32(i) {
                context[n] = slot
                n += 1
            }
            let used = (n + 15) / 16
            @inline(__always) func isRecent(_ c: Int) -> Bool {
                let probe = SIMD16(repeating: Int32(truncatingIfNeeded: c))
                for chunk in 0..<used where any(packed[chunk] .== probe) { return true }
                return false
            }
            let row = n * (n - 1) / 2
            let z = scratch.baseAddress!, gz = z + k
            p.withUnsafeMutableBufferPointer { pb in
            q.withUnsafeMutableBufferPointer { qb in
            y.withUnsafeMutableBufferPointer { yb in
            b.withUnsafeMutableBufferPointer { bias in
            f.withUnsafeMutableBufferPointer { fb in
            weightTable.withUnsafeBufferPointer { weights in
                let pu = pb.baseAddress! + u * k, qi = qb.baseAddress! + i * k
                z.initialize(from: pu, count: k)
                gz.initialize(repeating: 0, count: k)
                for a in 0..<n {
                    EmbeddingKernels.axpy(weights[row + a], yb.baseAddress! + Int(context[a]) * k, into: z, count: k)
                }
                for _ in 0..<negatives {
                    // The hardest of `negativeCandidates` uniform draws (any draw when there is one),
                    // never one of the user's recent items: those are positives too.
                    var j = -1, xj = -Double.infinity
                    for _ in 0..<negativeCandidates {
                        let c = Int(g.next() % items)
                        if c == i || isRecent(c) { continue }
                        if negativeCandidates == 1 { j = c; break }
                        let s = bias[c] + EmbeddingKernels.dot(z, qb.baseAddress! + c * k, count: k)
                        if s > xj { j = c; xj = s }
                    }
                    guard j >= 0 else { continue }
                    let qj = qb.baseAddress! + j * k
                    let x = bias[i] - bias[j] + EmbeddingKernels.dotDifference(z, qi, qj, count: k)
                    let sigma = 1 / (1 + exp(max(-35, min(35, x))))
                    EmbeddingKernels.bprItemStep(z: z, gradient: gz, positive: qi, negative: qj, sigma: sigma,
                                                 rate: rate, regularization: reg, count: k)
                    bias[i] += rate * (sigma - reg * bias[i])
                    bias[j] += rate * (-sigma - reg * bias[j])
                    EmbeddingKernels.narrowBlocked(qj, item: j, into: fb.baseAddress!, count: k)
                }
                EmbeddingKernels.narrowBlocked(qi, item: i, into: fb.baseAddress!, count: k)
                // d(-ln sigma)/dz summed over the steps reaches p_u and each recent y_h.
                let shrink = 1 - rate * reg
                EmbeddingKernels.decayAndAdd(rate, gz, into: pu, shrink: shrink, count: k)
                for a in 0..<n {
                    EmbeddingKernels.decayAndAdd(rate * weights[row + a], gz, into: yb.baseAddress! + Int(context[a]) * k,
                                                 shrink: shrink, count: k)
                }
            }
            }
            }
            }
            }
            }
        }
        }
        userFactors = p; itemFactors = q; historyFactors = y; itemBias = b; servingItemFactors = f
        generator = g
    }

    // MARK: explanation and description

    /// b_i, p_u . q_i, and each recent item's w_a y_h . q_i, largest magnitude first.
    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        explain(candidate, context: context, limit: .max)
    }

    /// The explanation with its `limit` largest terms only (names are built for those alone).
    public func explain(_ candidate: ScoringCandidate, context: ScoringContext, limit: Int) -> ScoreExplanation {
        guard let i = itemIndex[candidate.itemId] else {
            return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: 0,
                                    contributions: [ScoreContribution("unknown_item", 0)])
        }
        let bias = itemBias[i]
        guard let u = userIndex[context.userId] else {
            return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: bias,
                                    contributions: [ScoreContribution("item_bias", bias)])
        }
        let k = factors
        // Terms as (value, what): what = -2 item bias, -1 long-term affinity, h >= 0 recent item h.
        var terms: [(value: Double, what: Int)] = []
        let recent = history.items(of: u)
        terms.reserveCapacity(recent.count + 2)
        terms.append((bias, -2))
        itemFactors.withUnsafeBufferPointer { q in
            let qi = q.baseAddress! + i * k
            userFactors.withUnsafeBufferPointer { p in
                terms.append((EmbeddingKernels.dot(p.baseAddress! + u * k, qi, count: k), -1))
            }
            historyFactors.withUnsafeBufferPointer { y in
                let row = recent.count * (recent.count - 1) / 2
                for (offset, slot) in recent.enumerated() {
                    let w = weightTable[row + recent.count - 1 - offset]
                    terms.append((w * EmbeddingKernels.dot(y.baseAddress! + Int(slot) * k, qi, count: k), Int(slot)))
                }
            }
        }
        let score = affinity(userVector(u), item: i)
        terms.sort { abs($0.value) > abs($1.value) }
        let contributions = terms.prefix(max(0, limit)).map { term -> ScoreContribution in
            switch term.what {
            case -2: return ScoreContribution("item_bias", term.value)
            case -1: return ScoreContribution("user_item_affinity", term.value)
            default: return ScoreContribution("recently engaged with \(itemIds[term.what])", term.value)
            }
        }
        return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: score, contributions: contributions)
    }

    public func describe() -> ModelDescription {
        ModelDescription(name: Self.modelName, formatVersion: Self.formatVersion,
                         parameters: ["factors": "\(factors)", "learning_rate": learningRate.summary,
                                      "current_learning_rate": "\(learningRate.value(at: Double(updateCount)))",
                                      "regularization": "\(regularization)", "negative_samples": "\(negativeSamples)",
                                      "negative_candidates": "\(negativeCandidates)",
                                      "history_length": "\(historyLength)", "history_decay": "\(historyDecay)",
                                      "replay_steps": "\(replaySteps)", "replay_negatives": "\(replayNegatives)",
                                      "replay_rate": "\(replayRate)", "replay_window": "\(replayWindow.capacity)",
                                      "users": "\(userIds.count)", "items": "\(itemIds.count)"],
                         updateCount: updateCount)
    }
}
