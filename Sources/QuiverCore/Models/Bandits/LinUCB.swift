// LinUCB (Li, Chu, Langford & Schapire 2010), disjoint or shared: score = theta.x + alpha *
// sqrt(x^T A^{-1} x) with ridge posteriors updated by Sherman–Morrison in O(d^2) (see
// LinearArmPosterior). Scoring costs O(d^2/2) per candidate via the symmetric quadratic form; the
// shared arm's item block is evaluated in Float (see `itemQuadraticForm`).
// Invariant: deterministic; the chosen candidate has propensity 1 (ties: lowest index).
// The hybrid model (shared + per-arm coefficients) is HybridLinUCB.

/// Linear upper-confidence-bound bandit.
public struct LinUCB: BanditPolicy {
    public static let modelName = "LinUCB"
    public static let formatVersion = 1

    /// Width of the confidence bonus.
    public var alpha: Double
    public private(set) var state: LinearBanditArms
    public private(set) var updateCount = 0

    /// - Parameters:
    ///   - dimension: length of x (see `ContextualVectorMap`).
    ///   - alpha: exploration width; 1 + sqrt(ln(2/delta)/2) in the paper, 0.1–2 in practice.
    ///   - regularization: ridge prior lambda (A starts as lambda I).
    public init(dimension: Int, alpha: Double = 1, regularization: Double = 1,
                vectorMap: ContextualVectorMap = .context, sharing: LinearArmSharing = .disjoint) {
        self.alpha = alpha
        state = LinearBanditArms(dimension: dimension, regularization: regularization, vectorMap: vectorMap, sharing: sharing)
    }

    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        if state.sharing == .shared && state.vectorMap == .contextAndItem && context.dense.count < state.dimension {
            return scoreSharedSplit(candidates, context: context)
        }
        var x: [Double] = []
        var scores = [Double]()
        scores.reserveCapacity(candidates.count)
        let shared = state.sharing == .shared ? state.sharedArm : nil
        for candidate in candidates {
            state.fill(&x, context: context, candidate: candidate)
            let arm = shared ?? state.posterior(for: candidate.itemId)
            let s = x.withUnsafeBufferPointer { px in arm.mean(px) + alpha * arm.variance(px).squareRoot() }
            scores.append(s)
        }
        return scores
    }

    /// Shared arm with x = [c; i]: the context block is done once per request.
    /// x^T M x = c^T M_cc c + 2 i . (M_ic c) + i^T M_ii i, so each candidate costs O(d_i^2 / 2)
    /// instead of O(d^2 / 2). The item block is evaluated for all candidates at once with the
    /// candidates transposed (feature-major), so every inner loop is a long multiply-add over
    /// candidates with no reduction — it vectorises, where per-candidate row dots would not.
    private func scoreSharedSplit(_ candidates: [ScoringCandidate], context: ScoringContext) -> [Double] {
        let arm = state.sharedArm
        let d = state.dimension
        let dc = context.dense.count
        let di = d - dc
        let n = candidates.count
        guard n > 0 else { return [] }
        var full: [Double] = []
        state.fill(&full, context: context, candidate: ScoringCandidate(itemId: ""))
        let c = Array(full[0..<dc])
        // Item features, feature-major: xt[k * n + j] is feature k of candidate j.
        var xt = [Double](repeating: 0, count: di * n)
        xt.withUnsafeMutableBufferPointer { out in
            for (j, candidate) in candidates.enumerated() {
                candidate.dense.withUnsafeBufferPointer { values in
                    for k in 0..<min(di, values.count) { out[k * n + j] = values[k] }
                }
            }
        }
        var quadratic = [Double](repeating: 0, count: n)
        var mean = [Double](repeating: 0, count: n)
        arm.aInverse.withUnsafeBufferPointer { m in
            let contextTerm = c.withUnsafeBufferPointer {
                DenseLinearAlgebra.symmetricQuadraticForm(m, $0, dimension: dc, rowStride: d, origin: 0)
            }
            let contextMean = DenseLinearAlgebra.dot(Array(arm.theta[0..<dc]), c)
            // 2 (M_ic c)_k for every item feature k.
            let cross = c.withUnsafeBufferPointer { pc in
                (0..<di).map { k in
                    2 * DenseLinearAlgebra.dot(UnsafeBufferPointer(rebasing: m[((dc + k) * d)..<((dc + k) * d + dc)]), pc)
                }
            }
            xt.withUnsafeBufferPointer { x in
                quadratic.withUnsafeMutableBufferPointer { q in
                    mean.withUnsafeMutableBufferPointer { mu in
                        for j in 0..<n {
                            q[j] = contextTerm
                            mu[j] = contextMean
                        }
                        for k in 0..<di {
                            // Cross term 2 i . (M_ic c) and the item part of the mean.
                            let column = x.baseAddress! + k * n
                            DenseLinearAlgebra.axpy(cross[k], column, q.baseAddress!, count: n)
                            DenseLinearAlgebra.axpy(arm.theta[dc + k], column, mu.baseAddress!, count: n)
                        }
                    }
                }
            }
            // i^T M_ii i, the bulk of the work (d_i^2 / 2 multiply-adds per candidate), in Float:
            // twice the lanes per instruction and half the memory of Double. The bonus is a square
            // root of it, so Float's ~1e-7 relative error moves scores by ~1e-7 (the mean stays Double).
            let itemQuadratic = Self.itemQuadraticForm(m, rowStride: d, origin: dc, dimension: di, features: xt, count: n)
            for j in 0..<n { quadratic[j] += Double(itemQuadratic[j]) }
        }
        return (0..<n).map { mean[$0] + alpha * max(0, quadratic[$0]).squareRoot() }
    }

    /// x_j^T B x_j for every candidate j, where B is the symmetric block of `m` at (origin, origin)
    /// of size `dimension` and x_j is column j of the feature-major `features` (features[k * count + j]).
    /// In Float, eight candidates at a time: their features (a 1 KB tile for 32 features) and B
    /// (4 KB) stay in L1 while q_j = sum_k x_k (B_kk x_k + 2 sum_{l>k} B_kl x_l) is accumulated in
    /// registers, so nothing of size n is read or written per (k, l) pair.
    static func itemQuadraticForm(_ m: UnsafeBufferPointer<Double>, rowStride: Int, origin: Int, dimension di: Int,
                                  features: [Double], count n: Int) -> [Float] {
        var q = [Float](repeating: 0, count: n)
        guard di > 0, n > 0 else { return q }
        var block = [Float](repeating: 0, count: di * di)
        for k in 0..<di { for l in 0..<di { block[k * di + l] = Float(m[(origin + k) * rowStride + origin + l]) } }
        let tile = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: di)
        defer { tile.deallocate() }
        block.withUnsafeBufferPointer { b in
            features.withUnsafeBufferPointer { x in
                q.withUnsafeMutableBufferPointer { q in
                    var j = 0
                    while j + 8 <= n {
                        for k in 0..<di {
                            let p = x.baseAddress! + k * n + j
                            tile[k] = SIMD8<Float>(Float(p[0]), Float(p[1]), Float(p[2]), Float(p[3]),
                                                   Float(p[4]), Float(p[5]), Float(p[6]), Float(p[7]))
                        }
                        var acc = SIMD8<Float>()
                        for k in 0..<di {
                            let row = b.baseAddress! + k * di
                            var offDiagonal = SIMD8<Float>()
                            var l = k + 1
                            while l < di {
                                offDiagonal += SIMD8<Float>(repeating: row[l]) * tile[l]
                                l += 1
                            }
                            acc += tile[k] * (SIMD8<Float>(repeating: row[k]) * tile[k] + 2 * offDiagonal)
                        }
                        for lane in 0..<8 { q[j + lane] = acc[lane] }
                        j += 8
                    }
                    while j < n {  // the last few candidates, one at a time
                        var total: Float = 0
                        for k in 0..<di {
                            let xk = Float(x[k * n + j])
                            var offDiagonal: Float = 0
                            for l in (k + 1)..<max(k + 1, di) { offDiagonal += b[k * di + l] * Float(x[l * n + j]) }
                            total += xk * (b[k * di + k] * xk + 2 * offDiagonal)
                        }
                        q[j] = total
                        j += 1
                    }
                }
            }
        }
        return q
    }

    public func choiceProbabilities<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        BanditMath.oneHotArgmax(score(candidates, context: context, using: &generator))
    }

    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        state.update(feedback)
        updateCount += 1
    }

    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        let x = state.vector(context: context, candidate: candidate)
        let arm = state.posterior(for: candidate.itemId)
        var contributions = zip(x, arm.theta).enumerated()
            .filter { $0.element.0 != 0 }
            .map { ScoreContribution("x[\($0.offset)]*theta", $0.element.0 * $0.element.1) }
        let bonus = x.withUnsafeBufferPointer { alpha * arm.variance($0).squareRoot() }
        contributions.append(ScoreContribution("confidence_bonus", bonus))
        let mean = x.withUnsafeBufferPointer { arm.mean($0) }
        return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: mean + bonus,
                                contributions: contributions)
    }

    public func describe() -> ModelDescription {
        var p = state.parameters
        p["alpha"] = "\(alpha)"
        return ModelDescription(name: Self.modelName, formatVersion: Self.formatVersion, parameters: p,
                                updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(alpha)
        w.write(updateCount)
        state.write(to: &w)
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        alpha = try r.readDouble()
        updateCount = try r.readInt()
        state = try LinearBanditArms(from: &r)
        try r.finish()
    }
}
