// FTRLProximal: online logistic regression with per-coordinate FTRL-Proximal (McMahan et al.,
// "Ad Click Prediction: a View from the Trenches", KDD 2013) over hashed feature crosses.
// Per coordinate i it keeps z_i and n_i (sum of squared gradients); the weight is
//   w_i = 0                                               if |z_i| <= l1
//   w_i = -(z_i - sign(z_i) l1) / ((beta + sqrt(n_i)) / alpha + l2)   otherwise,
// and a step with gradient g_i = (p - y) x_i does sigma = (sqrt(n_i + g_i^2) - sqrt(n_i)) / alpha,
// z_i += g_i - sigma w_i, n_i += g_i^2. The effective learning rate alpha / (beta + sqrt(n_i)) is
// thus adaptive per coordinate; its mean over touched coordinates is reported in status.
// Invariant: `weights` always equals the closed form above for the current z and n (it is
// refreshed on each touched coordinate), so scoring is a sparse dot product with no square roots.

import Foundation  // exp, log

/// Online logistic regression (click probability) trained with FTRL-Proximal.
public struct FTRLProximal: ScoringModel {
    public static let modelName = "FTRLProximal"
    public static let formatVersion = 1

    public let alpha: Double
    public let beta: Double
    public let l1: Double
    public let l2: Double
    public let encoder: HashedCrossEncoder
    private var z: [Double]
    private var n: [Double]
    private var weights: [Double]
    public private(set) var updateCount = 0
    /// Sum of log loss over all updates (progressive validation: loss before each update).
    public private(set) var cumulativeLogLoss = 0.0

    /// - Parameters:
    ///   - alpha, beta: per-coordinate rate alpha / (beta + sqrt(n_i)).
    ///   - l1, l2: regularisation; l1 > 0 gives sparse weights.
    ///   - encoder: hashing and crosses (2^bits weights).
    public init(alpha: Double = 0.1, beta: Double = 1, l1: Double = 0.5, l2: Double = 1,
                encoder: HashedCrossEncoder = HashedCrossEncoder()) {
        self.alpha = alpha
        self.beta = beta
        self.l1 = l1
        self.l2 = l2
        self.encoder = encoder
        let size = 1 << encoder.bits
        z = [Double](repeating: 0, count: size)
        n = z
        weights = z
    }

    @inline(__always)
    static func sigmoid(_ t: Double) -> Double {
        1 / (1 + exp(-max(-35, min(35, t))))
    }

    /// Raw margin w . x for pre-hashed sides.
    /// The part of the margin that is the same for every candidate of a request.
    private func contextMargin(_ c: HashedCrossEncoder.ContextSide) -> Double {
        var s = 0.0
        weights.withUnsafeBufferPointer { w in
            encoder.forEachContextTerm(c) { index, value, _, _, _ in s += w[index] * value }
        }
        return s
    }

    /// The part of the margin that involves the item.
    private func itemMargin(_ c: HashedCrossEncoder.ContextSide, _ i: HashedCrossEncoder.ItemSide) -> Double {
        var s = 0.0
        weights.withUnsafeBufferPointer { w in
            encoder.forEachItemTerm(c, i) { index, value, _, _, _ in s += w[index] * value }
        }
        return s
    }

    /// Click probabilities of the candidates (the context's terms summed once for all of them).
    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        let c = encoder.contextSide(context)
        let shared = contextMargin(c)
        return candidates.map { Self.sigmoid(shared + itemMargin(c, encoder.itemSide($0))) }
    }

    /// Click probabilities for candidates whose item sides were encoded in advance (the serving
    /// catalog keeps them), so no item id or token is hashed per request.
    /// The terms of an item token (the token and its crosses with the user, the context tokens and
    /// the dense values) are the same for every item that carries it, so each distinct token is
    /// summed once per request: a candidate costs its id, its id crosses and one lookup per token.
    public func score(itemSides: [HashedCrossEncoder.ItemSide], context: ScoringContext) -> [Double] {
        score(sides: itemSides, context: context)
    }

    /// Click probabilities for the items at `positions` of a flat side table (the serving
    /// catalog's): the terms are read in place, nothing is copied per candidate.
    public func score(positions: [Int32], of table: HashedItemSides, context: ScoringContext) -> [Double] {
        score(sides: HashedItemSides.Selection(sides: table, positions: positions), context: context)
    }

    private func score<S: ItemSideSequence>(sides: S, context: ScoringContext) -> [Double] {
        let c = encoder.contextSide(context)
        let shared = contextMargin(c)
        // Distinct tokens are few (categories, tags): a small open-addressing table keyed by the
        // token hash itself; a token that finds no room is summed without the table.
        let capacity = 256
        return withUnsafeTemporaryAllocation(of: (key: UInt64, margin: Double).self, capacity: capacity) { memo in
            memo.initialize(repeating: (0, 0))
            return weights.withUnsafeBufferPointer { w in
                [Double](unsafeUninitializedCapacity: sides.count) { out, initialized in
                    for n in 0..<sides.count {
                        var s = shared + encoder.itemIdMargin(c, sides.itemHash(n), weights: w)
                        s += sides.withTokens(n) { tokens in
                            var sum = 0.0
                            for t in tokens {
                                var slot = Int(truncatingIfNeeded: t) & (capacity - 1), probes = 0
                                while probes < 8 && memo[slot].key != t && memo[slot].key != 0 {
                                    slot = (slot + 1) & (capacity - 1)
                                    probes += 1
                                }
                                if probes < 8 && memo[slot].key == t && t != 0 {
                                    sum += memo[slot].margin
                                } else {
                                    let m = encoder.itemTokenMargin(c, t, weights: w)
                                    if probes < 8 && t != 0 { memo[slot] = (t, m) }
                                    sum += m
                                }
                            }
                            return sum
                        }
                        out.initializeElement(at: n, to: Self.sigmoid(s))
                    }
                    initialized = sides.count
                }
            }
        }
    }

    /// Predicted probability for one pair.
    public func predict(_ candidate: ScoringCandidate, context: ScoringContext) -> Double {
        let c = encoder.contextSide(context)
        return Self.sigmoid(contextMargin(c) + itemMargin(c, encoder.itemSide(candidate)))
    }

    /// One FTRL step on the logistic loss; the label is the reward clamped to [0, 1].
    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        let c = encoder.contextSide(feedback.context)
        let i = encoder.itemSide(feedback.candidate)
        // Hash the terms once; the margin and the step both walk this list.
        var indices: [Int] = []
        var values: [Double] = []
        indices.reserveCapacity(64)
        values.reserveCapacity(64)
        encoder.forEachTerm(c, i) { index, value, _, _, _ in
            indices.append(index)
            values.append(value)
        }
        var m = 0.0
        weights.withUnsafeBufferPointer { w in
            for k in indices.indices { m += w[indices[k]] * values[k] }
        }
        let p = Self.sigmoid(m)
        let y = min(1, max(0, feedback.reward))
        cumulativeLogLoss -= y * log(max(p, 1e-15)) + (1 - y) * log(max(1 - p, 1e-15))
        let residual = p - y
        let (alpha, beta, l1, l2) = (self.alpha, self.beta, self.l1, self.l2)
        z.withUnsafeMutableBufferPointer { z in
            n.withUnsafeMutableBufferPointer { n in
                weights.withUnsafeMutableBufferPointer { w in
                    for k in indices.indices {
                        let index = indices[k]
                        let g = residual * values[k]
                        let ni = n[index]
                        let nNew = ni + g * g
                        let sqrtNew = nNew.squareRoot()
                        let sigma = (sqrtNew - ni.squareRoot()) / alpha
                        let zi = z[index] + g - sigma * w[index]
                        z[index] = zi
                        n[index] = nNew
                        w[index] = abs(zi) <= l1 ? 0 : -(zi - (zi < 0 ? -l1 : l1)) / ((beta + sqrtNew) / alpha + l2)
                    }
                }
            }
        }
        updateCount += 1
    }

    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        var contributions: [ScoreContribution] = []
        var marginSum = 0.0
        encoder.forEachTerm(encoder.contextSide(context), encoder.itemSide(candidate)) { index, value, kind, a, b in
            let v = weights[index] * value
            marginSum += v
            if v != 0 {
                contributions.append(ScoreContribution(encoder.termName(kind, a, b, context: context, candidate: candidate), v))
            }
        }
        return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: Self.sigmoid(marginSum),
                                contributions: contributions)
    }

    /// Mean per-coordinate learning rate alpha / (beta + sqrt(n_i)) over coordinates touched so far.
    public var meanCoordinateLearningRate: Double {
        var total = 0.0
        var touched = 0
        for ni in n where ni > 0 {
            total += alpha / (beta + ni.squareRoot())
            touched += 1
        }
        return touched == 0 ? alpha / beta : total / Double(touched)
    }

    public func describe() -> ModelDescription {
        let nonZero = weights.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        return ModelDescription(
            name: Self.modelName, formatVersion: Self.formatVersion,
            parameters: ["alpha": "\(alpha)", "beta": "\(beta)", "l1": "\(l1)", "l2": "\(l2)",
                         "hash_bits": "\(encoder.bits)", "nonzero_weights": "\(nonZero)",
                         "learning_rate": "per-coordinate alpha/(beta+sqrt(n_i))",
                         "mean_coordinate_learning_rate": "\(meanCoordinateLearningRate)",
                         "mean_log_loss": "\(updateCount == 0 ? 0 : cumulativeLogLoss / Double(updateCount))"],
            updateCount: updateCount)
    }

    /// Sparse snapshot: only coordinates that have seen a gradient.
    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(alpha); w.write(beta); w.write(l1); w.write(l2)
        w.write(encoder.bits)
        let s = encoder.spec
        for flag in [s.crossUserWithItemAttributes, s.crossContextWithItemAttributes,
                     s.crossContextWithItemId, s.crossDenseWithItemAttributes] { w.write(flag) }
        w.write(updateCount)
        w.write(cumulativeLogLoss)
        let touched = n.indices.filter { n[$0] > 0 }
        w.write(touched.count)
        for i in touched {
            w.write(i)
            w.write(z[i])
            w.write(n[i])
        }
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        let alpha = try r.readDouble(), beta = try r.readDouble(), l1 = try r.readDouble(), l2 = try r.readDouble()
        let bits = try r.readInt()
        guard (4...30).contains(bits), alpha > 0 else { throw ModelSnapshotError.invalid("FTRL header") }
        let spec = HashedCrossSpec(crossUserWithItemAttributes: try r.readBool(), crossContextWithItemAttributes: try r.readBool(),
                                   crossContextWithItemId: try r.readBool(), crossDenseWithItemAttributes: try r.readBool())
        self.init(alpha: alpha, beta: beta, l1: l1, l2: l2, encoder: HashedCrossEncoder(bits: bits, spec: spec))
        updateCount = try r.readInt()
        cumulativeLogLoss = try r.readDouble()
        let count = try r.readCount(elementSize: 24)
        for _ in 0..<count {
            let i = try r.readInt()
            guard i >= 0, i < z.count else { throw ModelSnapshotError.invalid("FTRL index out of range") }
            z[i] = try r.readDouble()
            n[i] = try r.readDouble()
            let zi = z[i]
            weights[i] = abs(zi) <= l1 ? 0 : -(zi - (zi < 0 ? -l1 : l1)) / ((beta + n[i].squareRoot()) / alpha + l2)
        }
        try r.finish()
    }
}
