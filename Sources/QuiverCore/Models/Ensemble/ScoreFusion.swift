// ScoreFusion: combining the candidate scores of several models into one ranking — weighted
// blending of normalised scores, and reciprocal rank fusion (Cormack et al. 2009).
// Invariant: pure functions; every model's score list has one entry per candidate, in the same
// candidate order, and the result keeps that order.

/// How one model's scores are made comparable before blending.
public enum ScoreNormalization: Sendable, Hashable {
    /// Use raw scores.
    case none
    /// Map to [0, 1] by (s - min) / (max - min); constant lists become all 0.
    case minMax
    /// (s - mean) / stddev; constant lists become all 0.
    case zScore
    /// 1 - (rank - 1) / n: position only, robust to scale.
    case rank
}

/// Pure combinators over per-model score lists.
public enum ScoreFusion {
    /// 1-based ranks by descending score (ties: lower index ranks first); non-finite scores rank last.
    public static func ranks(_ scores: [Double]) -> [Int] {
        let order = scores.indices.sorted {
            let a = scores[$0].isNaN ? -Double.infinity : scores[$0]
            let b = scores[$1].isNaN ? -Double.infinity : scores[$1]
            return a > b || (a == b && $0 < $1)
        }
        var ranks = [Int](repeating: 0, count: scores.count)
        for (position, index) in order.enumerated() { ranks[index] = position + 1 }
        return ranks
    }

    /// Normalises one model's scores.
    public static func normalize(_ scores: [Double], _ method: ScoreNormalization) -> [Double] {
        let finite = scores.map { $0.isFinite ? $0 : ($0 > 0 ? Double.greatestFiniteMagnitude : 0) }
        switch method {
        case .none:
            return finite
        case .minMax:
            guard let lo = finite.min(), let hi = finite.max(), hi > lo else { return finite.map { _ in 0 } }
            return finite.map { ($0 - lo) / (hi - lo) }
        case .zScore:
            guard !finite.isEmpty else { return [] }
            let mean = finite.reduce(0, +) / Double(finite.count)
            let variance = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(finite.count)
            guard variance > 0 else { return finite.map { _ in 0 } }
            return finite.map { ($0 - mean) / variance.squareRoot() }
        case .rank:
            let n = Double(scores.count)
            return ranks(scores).map { 1 - Double($0 - 1) / n }
        }
    }

    /// sum_m w_m * normalize(scores_m)[i] for each candidate i.
    public static func weightedBlend(_ perModel: [[Double]], weights: [Double],
                                     normalization: ScoreNormalization = .minMax) -> [Double] {
        precondition(perModel.count == weights.count, "one weight per model")
        guard let n = perModel.first?.count else { return [] }
        var blended = [Double](repeating: 0, count: n)
        for (m, scores) in perModel.enumerated() {
            precondition(scores.count == n, "every model scores every candidate")
            for (i, s) in normalize(scores, normalization).enumerated() { blended[i] += weights[m] * s }
        }
        return blended
    }

    /// Weighted reciprocal rank fusion: sum_m w_m / (k + rank_m(i)).
    public static func reciprocalRankFusion(_ perModel: [[Double]], weights: [Double]? = nil, k: Double = 60) -> [Double] {
        guard let n = perModel.first?.count else { return [] }
        var fused = [Double](repeating: 0, count: n)
        for (m, scores) in perModel.enumerated() {
            precondition(scores.count == n, "every model scores every candidate")
            let w = weights?[m] ?? 1
            for (i, r) in ranks(scores).enumerated() { fused[i] += w / (k + Double(r)) }
        }
        return fused
    }

    /// Each model's share of a blended score for one candidate: the explanation of a blend.
    public static func blendContributions(modelNames: [String], perModel: [[Double]], weights: [Double],
                                          normalization: ScoreNormalization, candidate: Int) -> [ScoreContribution] {
        perModel.enumerated().map { m, scores in
            ScoreContribution(modelNames[m], weights[m] * normalize(scores, normalization)[candidate])
        }
    }
}
