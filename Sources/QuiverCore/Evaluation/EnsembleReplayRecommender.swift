// EnsembleReplayRecommender: the replay-side ensemble of time-decayed popularity, item
// co-visitation and BPR embeddings, blended after min-max normalisation with fixed weights
// (default 0.1 / 1.0 / 2.0, the best blend on a MovieLens-100k validation split; docs/learning.md).
// Every member learns from every interaction, in order, exactly as the single models do.

public struct EnsembleReplayRecommender: ReplayRecommender {
    public var popularity: DecayedPopularity
    public var coVisitation: ItemCoVisitation
    public var embeddings: ImplicitMatrixFactorization
    /// Weights of popularity, co-visitation and embeddings.
    public var weights: [Double]
    private var catalog: [ScoringCandidate] = []
    private var index: [String: Int] = [:]

    public init(weights: [Double] = [0.1, 1.0, 2.0], popularityHalfLife: Double = 7 * 86_400, history: Int = 30, seed: UInt64 = 7) {
        precondition(weights.count == 3, "three weights: popularity, co-visitation, embeddings")
        self.weights = weights
        popularity = DecayedPopularity(halfLife: popularityHalfLife)
        coVisitation = ItemCoVisitation(historyLength: history)
        embeddings = ImplicitMatrixFactorization(factors: 32, negativeSamples: 4, seed: seed)
    }

    public mutating func observe(_ interaction: ReplayInteraction) {
        if index[interaction.itemId] == nil {
            index[interaction.itemId] = catalog.count
            catalog.append(ScoringCandidate(itemId: interaction.itemId))
        }
        let feedback = ModelFeedback(context: ScoringContext(userId: interaction.userId, timestamp: interaction.timestamp),
                                     candidate: ScoringCandidate(itemId: interaction.itemId), reward: 1)
        popularity.update(feedback)
        coVisitation.update(feedback)
        if weights[2] != 0 { embeddings.update(feedback) }
    }

    public mutating func recommend(userId: String, count: Int, excluding: Set<String>, at timestamp: Double) -> [String] {
        let context = ScoringContext(userId: userId, timestamp: timestamp)
        var members = [popularity.score(catalog, context: context), coVisitation.score(catalog, context: context)]
        members.append(weights[2] != 0 ? embeddings.score(catalog, context: context) : [Double](repeating: 0, count: catalog.count))
        let blended = ScoreFusion.weightedBlend(members, weights: weights, normalization: .minMax)
        let catalog = catalog
        return PrequentialReplay.topIndices(blended, k: count) { excluding.contains(catalog[$0].itemId) }.map { catalog[$0].itemId }
    }
}
