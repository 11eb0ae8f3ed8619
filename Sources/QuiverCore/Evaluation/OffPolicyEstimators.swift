// OffPolicyEstimators: counterfactual value of a target policy from logs of another (the logging
// policy), before the target takes traffic. IPS, self-normalised IPS, the direct method and doubly
// robust, each with a normal-approximation confidence interval (mean of per-decision terms +/- z
// standard errors; SNIPS uses the delta method). Invariant: a log with non-positive propensity is
// rejected (returned as an error), never silently dropped.

/// One logged decision, with what the target policy and (optionally) a reward model say about it.
public struct LoggedDecision: Sendable, Hashable {
    /// Observed reward of the logged action.
    public var reward: Double
    /// P(logging policy chose the logged action | context).
    public var loggingPropensity: Double
    /// P(target policy would choose the logged action | context).
    public var targetProbability: Double
    /// Reward model's estimate for the logged action, q(x, a_logged) (DM/DR only).
    public var loggedActionEstimate: Double?
    /// Reward model's value of the target policy, sum_a pi(a|x) q(x, a) (DM/DR only).
    public var targetValueEstimate: Double?

    public init(reward: Double, loggingPropensity: Double, targetProbability: Double,
                loggedActionEstimate: Double? = nil, targetValueEstimate: Double? = nil) {
        self.reward = reward
        self.loggingPropensity = loggingPropensity
        self.targetProbability = targetProbability
        self.loggedActionEstimate = loggedActionEstimate
        self.targetValueEstimate = targetValueEstimate
    }

    /// Builds a decision from full distributions over actions (index `action` was logged).
    public init(action: Int, reward: Double, loggingPropensity: Double, targetDistribution: [Double],
                rewardEstimates: [Double]? = nil) {
        self.init(reward: reward, loggingPropensity: loggingPropensity,
                  targetProbability: targetDistribution[action],
                  loggedActionEstimate: rewardEstimates?[action],
                  targetValueEstimate: rewardEstimates.map { zip($0, targetDistribution).reduce(0) { $0 + $1.0 * $1.1 } })
    }
}

/// An estimated policy value with its uncertainty.
public struct OffPolicyEstimate: Sendable, Hashable {
    public var estimator: String
    public var value: Double
    public var standardError: Double
    public var lower: Double
    public var upper: Double
    public var sampleCount: Int
    /// (sum w)^2 / sum w^2 of the importance weights; small means high variance.
    public var effectiveSampleSize: Double
}

/// Why an estimate could not be computed.
public enum OffPolicyError: Error, Sendable, Equatable {
    case empty
    case invalidPropensity(index: Int)
    case missingRewardModel(index: Int)
}

/// The off-policy estimators.
public enum OffPolicyEvaluation {
    /// Inverse propensity scoring: mean of (pi/mu) r. Unbiased; `maxWeight` clips weights (biased,
    /// lower variance).
    public static func ips(_ logs: [LoggedDecision], z: Double = 1.96, maxWeight: Double? = nil) throws -> OffPolicyEstimate {
        let w = try weights(logs, maxWeight: maxWeight)
        return summarise("IPS", terms: logs.indices.map { w[$0] * logs[$0].reward }, weights: w, z: z)
    }

    /// Self-normalised IPS: sum w r / sum w. Bounded by the reward range; slightly biased.
    public static func selfNormalizedIPS(_ logs: [LoggedDecision], z: Double = 1.96) throws -> OffPolicyEstimate {
        let w = try weights(logs, maxWeight: nil)
        let total = w.reduce(0, +)
        let value = total > 0 ? zip(w, logs).reduce(0) { $0 + $1.0 * $1.1.reward } / total : 0
        let se = total > 0 ? zip(w, logs).reduce(0) { acc, p in
            let d = p.0 * (p.1.reward - value)
            return acc + d * d
        }.squareRoot() / total : 0
        return OffPolicyEstimate(estimator: "SNIPS", value: value, standardError: se, lower: value - z * se,
                                 upper: value + z * se, sampleCount: logs.count, effectiveSampleSize: ess(w))
    }

    /// Direct method: mean of the reward model's value of the target policy. Low variance, biased by
    /// the reward model.
    public static func directMethod(_ logs: [LoggedDecision], z: Double = 1.96) throws -> OffPolicyEstimate {
        guard !logs.isEmpty else { throw OffPolicyError.empty }
        let terms = try logs.enumerated().map { i, log in
            guard let v = log.targetValueEstimate else { throw OffPolicyError.missingRewardModel(index: i) }
            return v
        }
        return summarise("DM", terms: terms, weights: [Double](repeating: 1, count: logs.count), z: z)
    }

    /// Doubly robust (Dudík et al. 2011): DM plus the importance-weighted residual of the logged action.
    public static func doublyRobust(_ logs: [LoggedDecision], z: Double = 1.96, maxWeight: Double? = nil) throws -> OffPolicyEstimate {
        let w = try weights(logs, maxWeight: maxWeight)
        let terms = try logs.enumerated().map { i, log in
            guard let v = log.targetValueEstimate, let q = log.loggedActionEstimate else {
                throw OffPolicyError.missingRewardModel(index: i)
            }
            return v + w[i] * (log.reward - q)
        }
        return summarise("DR", terms: terms, weights: w, z: z)
    }

    static func weights(_ logs: [LoggedDecision], maxWeight: Double?) throws -> [Double] {
        guard !logs.isEmpty else { throw OffPolicyError.empty }
        return try logs.enumerated().map { i, log in
            guard log.loggingPropensity > 0, log.loggingPropensity.isFinite, log.targetProbability >= 0 else {
                throw OffPolicyError.invalidPropensity(index: i)
            }
            let w = log.targetProbability / log.loggingPropensity
            return maxWeight.map { min(w, $0) } ?? w
        }
    }

    static func ess(_ w: [Double]) -> Double {
        let s = w.reduce(0, +)
        let s2 = w.reduce(0) { $0 + $1 * $1 }
        return s2 > 0 ? s * s / s2 : 0
    }

    static func summarise(_ name: String, terms: [Double], weights: [Double], z: Double) -> OffPolicyEstimate {
        let n = Double(terms.count)
        let mean = terms.reduce(0, +) / n
        let variance = terms.count > 1 ? terms.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        let se = (variance / n).squareRoot()
        return OffPolicyEstimate(estimator: name, value: mean, standardError: se, lower: mean - z * se,
                                 upper: mean + z * se, sampleCount: terms.count, effectiveSampleSize: ess(weights))
    }
}
