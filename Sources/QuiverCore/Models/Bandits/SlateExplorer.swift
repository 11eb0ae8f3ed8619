// SlateExplorer: the exploration layer over any ranker's scores (FTRL, an ensemble, ...). It fills
// a slate position by position from the candidates not yet placed, exploiting the best score or
// exploring (epsilon-greedy, or a softmax over scores), and logs each position's propensity.
// Invariant: at every position the distribution over remaining candidates sums to 1, and the
// reported propensity is exactly the probability the placed candidate had at that position.

import Foundation  // exp

/// Explores around externally computed scores, with exact propensities.
public struct SlateExplorer: Sendable, Hashable {
    /// How a position is filled.
    public enum Strategy: Sendable, Hashable {
        /// Best remaining with probability 1 - epsilon (+ its share of epsilon), else uniform.
        case epsilonGreedy(epsilon: Double)
        /// P(i) proportional to exp(score_i / temperature) over the remaining candidates.
        case softmax(temperature: Double)
    }

    public var strategy: Strategy

    public init(strategy: Strategy) {
        self.strategy = strategy
    }

    /// The distribution over `remaining` (indices into `scores`) for the next position; sums to 1.
    public func positionProbabilities(scores: [Double], remaining: [Int]) -> [Double] {
        guard !remaining.isEmpty else { return [] }
        let clean = remaining.map { scores[$0].isNaN ? -Double.infinity : scores[$0] }
        switch strategy {
        case .epsilonGreedy(let epsilon):
            let eps = min(1, max(0, epsilon))
            var p = [Double](repeating: eps / Double(remaining.count), count: remaining.count)
            p[BanditMath.argmax(clean)] += 1 - eps
            return p
        case .softmax(let temperature):
            let t = max(temperature, 1e-12)
            let top = clean.max() ?? 0
            guard top.isFinite else { return [Double](repeating: 1 / Double(remaining.count), count: remaining.count) }
            let e = clean.map { exp(($0 - top) / t) }
            let total = e.reduce(0, +)
            return e.map { $0 / total }
        }
    }

    /// Fills up to `count` positions; each choice carries its conditional propensity.
    public func rank<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], scores: [Double], count: Int, using generator: inout G
    ) -> [BanditChoice] {
        precondition(candidates.count == scores.count, "one score per candidate")
        return rank(scores: scores, count: count, using: &generator).map {
            BanditChoice(index: $0.index, itemId: candidates[$0.index].itemId, propensity: $0.propensity)
        }
    }

    /// The same choices as indices into `scores`, for callers that name the candidates themselves.
    public func rank<G: RandomNumberGenerator>(
        scores: [Double], count: Int, using generator: inout G
    ) -> [(index: Int, propensity: Double)] {
        var remaining = Array(scores.indices)
        var slate: [(index: Int, propensity: Double)] = []
        while slate.count < count, !remaining.isEmpty {
            let p = positionProbabilities(scores: scores, remaining: remaining)
            var u = generator.nextUnitDouble()
            var pick = p.count - 1
            for (k, pk) in p.enumerated() {
                if u < pk { pick = k; break }
                u -= pk
            }
            slate.append((remaining.remove(at: pick), p[pick]))
        }
        return slate
    }
}
