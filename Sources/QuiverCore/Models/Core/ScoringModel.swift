// ScoringModel: the contract every learning model in Quiver fulfils, and the value types that cross it.
// Invariant: models are values (Sendable structs); scoring never mutates, updating never reads the
// clock or a global generator — time comes in on contexts and feedback, randomness as a parameter.

/// What the request knows about the user and the moment: dense features and categorical tokens.
public struct ScoringContext: Sendable, Hashable {
    /// The user being served.
    public var userId: String
    /// Dense features from the feature engine, in the engine's fixed order.
    public var dense: [Double]
    /// Categorical user/context features as `key=value` tokens (e.g. `device=mobile`).
    public var tokens: [String]
    /// Unix seconds of the request or event; models use it instead of a clock.
    public var timestamp: Double

    public init(userId: String, dense: [Double] = [], tokens: [String] = [], timestamp: Double = 0) {
        self.userId = userId
        self.dense = dense
        self.tokens = tokens
        self.timestamp = timestamp
    }
}

/// One item that may be recommended, with its own features.
public struct ScoringCandidate: Sendable, Hashable {
    /// Catalog id of the item.
    public var itemId: String
    /// Dense item features (e.g. an embedding), possibly empty.
    public var dense: [Double]
    /// Categorical item attributes as `key=value` tokens (e.g. `category=shoes`).
    public var tokens: [String]

    public init(itemId: String, dense: [Double] = [], tokens: [String] = []) {
        self.itemId = itemId
        self.dense = dense
        self.tokens = tokens
    }
}

/// The observed outcome of showing `candidate` in `context`.
public struct ModelFeedback: Sendable, Hashable {
    public var context: ScoringContext
    public var candidate: ScoringCandidate
    /// Reward, usually in [0, 1] (click = 1, no click = 0); ratings may be rescaled by the caller.
    public var reward: Double
    /// Probability with which the serving policy chose this candidate, when known.
    public var propensity: Double?

    public init(context: ScoringContext, candidate: ScoringCandidate, reward: Double, propensity: Double? = nil) {
        self.context = context
        self.candidate = candidate
        self.reward = reward
        self.propensity = propensity
    }

    /// True when reward, timestamp and every dense feature are finite. Models ignore feedback that
    /// is not: one NaN would poison a posterior or a weight vector for good.
    public var isFinite: Bool {
        reward.isFinite && context.timestamp.isFinite
            && context.dense.allSatisfy(\.isFinite) && candidate.dense.allSatisfy(\.isFinite)
    }
}

/// A self-description for `/api/v1/models/status`.
public struct ModelDescription: Sendable, Hashable {
    /// Algorithm name, e.g. `LinUCB`.
    public var name: String
    /// Snapshot format version the model writes.
    public var formatVersion: Int
    /// Hyper-parameters and schedules, rendered as text.
    public var parameters: [String: String]
    /// Number of feedback updates applied since creation (survives snapshots).
    public var updateCount: Int

    public init(name: String, formatVersion: Int, parameters: [String: String], updateCount: Int) {
        self.name = name
        self.formatVersion = formatVersion
        self.parameters = parameters
        self.updateCount = updateCount
    }
}

/// One named term of a score.
public struct ScoreContribution: Sendable, Hashable {
    public var name: String
    public var value: Double

    public init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }
}

/// Why a candidate got its score: the terms behind it, largest magnitude first.
public struct ScoreExplanation: Sendable, Hashable {
    public var itemId: String
    public var model: String
    /// The deterministic score explained (posterior mean for sampling models).
    public var score: Double
    public var contributions: [ScoreContribution]

    public init(itemId: String, model: String, score: Double, contributions: [ScoreContribution]) {
        self.itemId = itemId
        self.model = model
        self.score = score
        self.contributions = contributions.sorted { abs($0.value) > abs($1.value) }
    }
}

/// A model that can describe itself and be saved to and restored from uncompressed bytes.
public protocol SnapshottingModel: Sendable {
    /// Describes the model: name, format version, parameters, update count.
    func describe() -> ModelDescription
    /// Serialises the full learned state into a versioned binary snapshot.
    func snapshot() -> [UInt8]
    /// Restores a model from `snapshot()` bytes; throws `ModelSnapshotError` on bad input.
    init(snapshot: [UInt8]) throws
}

/// A model that scores candidates for a user and learns from feedback.
public protocol ScoringModel: SnapshottingModel {
    /// Scores `candidates` (one score per candidate, same order); higher is better.
    ///
    /// Sampling models (Thompson) draw from `generator`; deterministic models ignore it.
    func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double]
    /// Learns from one observed outcome; feedback that is not `isFinite` is ignored.
    mutating func update(_ feedback: ModelFeedback)
    /// Learns from a batch, in order. The default applies `update(_:)` to each.
    mutating func update(batch: [ModelFeedback])
    /// Explains the (deterministic) score of one candidate.
    func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation
    /// Whether a candidate's score depends on that candidate alone (given the model and the
    /// context), so a long list may be scored in parts (`ParallelEnsembleScoring`). False for
    /// models that draw one sample per call for all candidates (Thompson sampling).
    var scoresCandidatesIndependently: Bool { get }
    /// Scores with a generator seeded by `seed`. The form to call through `any ScoringModel` (an
    /// ensemble's members): its witness is specialised for each model, where the generic form
    /// called through an existential runs unspecialised code.
    func score(_ candidates: [ScoringCandidate], context: ScoringContext, seed: UInt64) -> [Double]
}

extension ScoringModel {
    public var scoresCandidatesIndependently: Bool { true }

    public func score(_ candidates: [ScoringCandidate], context: ScoringContext, seed: UInt64) -> [Double] {
        var generator = SeededRandom(seed: seed)
        return score(candidates, context: context, using: &generator)
    }

    public mutating func update(batch: [ModelFeedback]) {
        for feedback in batch { update(feedback) }
    }

    /// Scores with a fixed-seed generator: convenient for deterministic models.
    public func score(_ candidates: [ScoringCandidate], context: ScoringContext) -> [Double] {
        var generator = SeededRandom(seed: 0)
        return score(candidates, context: context, using: &generator)
    }
}
