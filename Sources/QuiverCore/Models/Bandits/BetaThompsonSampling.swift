// BetaThompsonSampling: Beta-Bernoulli Thompson sampling over item ids.
// Posterior per arm: Beta(alpha0 + sum r, beta0 + sum (1 - r)); rewards are clamped to [0, 1] and a
// fractional reward counts fractionally. Scoring draws one sample per arm from the generator.
// Propensity: P(arm is the argmax of a draw) has no closed form for K > 2, so it is estimated with
// `propensitySamples` Monte Carlo draws (standard error <= 0.5 / sqrt(samples)).

/// Thompson sampling with Beta posteriors.
public struct BetaThompsonSampling: BanditPolicy {
    public static let modelName = "BetaThompsonSampling"
    public static let formatVersion = 1

    public var priorAlpha: Double
    public var priorBeta: Double
    /// Monte Carlo draws used to estimate choice probabilities.
    public var propensitySamples: Int
    public private(set) var arms: [String: ArmRewardStatistics] = [:]
    public private(set) var updateCount = 0

    public init(priorAlpha: Double = 1, priorBeta: Double = 1, propensitySamples: Int = 1_000) {
        precondition(priorAlpha > 0 && priorBeta > 0, "Beta priors must be positive")
        self.priorAlpha = priorAlpha
        self.priorBeta = priorBeta
        self.propensitySamples = propensitySamples
    }

    /// Posterior (alpha, beta) of an arm.
    public func posterior(_ itemId: String) -> (alpha: Double, beta: Double) {
        let s = arms[itemId] ?? ArmRewardStatistics()
        return (priorAlpha + s.rewardSum, priorBeta + s.pulls - s.rewardSum)
    }

    /// One posterior draw serves every candidate of a call: a list is never scored in parts.
    public var scoresCandidatesIndependently: Bool { false }

    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        candidates.map {
            let p = posterior($0.itemId)
            return generator.nextBeta(alpha: p.alpha, beta: p.beta)
        }
    }

    public func choiceProbabilities<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        let posteriors = candidates.map { posterior($0.itemId) }
        return BanditMath.monteCarloArgmaxFrequencies(
            count: candidates.count, draws: propensitySamples, using: &generator
        ) { g in posteriors.map { g.nextBeta(alpha: $0.alpha, beta: $0.beta) } }
    }

    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        let r = min(1, max(0, feedback.reward))
        arms[feedback.candidate.itemId, default: ArmRewardStatistics()].pulls += 1
        arms[feedback.candidate.itemId, default: ArmRewardStatistics()].rewardSum += r
        updateCount += 1
    }

    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        let p = posterior(candidate.itemId)
        let mean = p.alpha / (p.alpha + p.beta)
        let variance = p.alpha * p.beta / ((p.alpha + p.beta) * (p.alpha + p.beta) * (p.alpha + p.beta + 1))
        return ScoreExplanation(
            itemId: candidate.itemId, model: Self.modelName, score: mean,
            contributions: [ScoreContribution("posterior_mean", mean),
                            ScoreContribution("posterior_stddev", variance.squareRoot())])
    }

    public func describe() -> ModelDescription {
        ModelDescription(
            name: Self.modelName, formatVersion: Self.formatVersion,
            parameters: ["prior_alpha": "\(priorAlpha)", "prior_beta": "\(priorBeta)",
                         "propensity_samples": "\(propensitySamples)", "arms": "\(arms.count)"],
            updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(priorAlpha)
        w.write(priorBeta)
        w.write(propensitySamples)
        w.write(updateCount)
        w.write(arms)
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        priorAlpha = try r.readDouble()
        priorBeta = try r.readDouble()
        propensitySamples = try r.readInt()
        updateCount = try r.readInt()
        arms = try r.readArms()
        guard priorAlpha > 0, priorBeta > 0 else { throw ModelSnapshotError.invalid("non-positive prior") }
        try r.finish()
    }
}
