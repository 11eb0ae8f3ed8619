// RecommendationModels: the learned state behind every recommendation, as one value: long and
// short time-decayed popularity (trending is their ratio), item co-visitation, BPR embeddings,
// FTRL click model, the session Q-learning agent, and each user's seen items.
// Invariant: interactions (events) teach the implicit models; joined feedback teaches FTRL only
// (a positive feedback arrives with its own event, which is the interaction). Repeating the
// user's latest item (a click on what was just viewed) is one engagement, not two, for
// co-visitation and embeddings.

/// Every model the recommendation pipeline reads, and how each learns.
public struct RecommendationModels: Sendable {
    public var popularity: DecayedPopularity
    /// Short half-life popularity; trending = short / (long + smoothing).
    public var recentPopularity: DecayedPopularity
    public var coVisitation: ItemCoVisitation
    public var embeddings: ImplicitMatrixFactorization
    public var ftrl: FTRLProximal
    public var agent: SessionStrategyAgent
    public var seen: SeenItems
    /// Interactions and feedback learned (the models' shared version counter).
    public private(set) var interactions = 0
    public private(set) var feedbackUpdates = 0
    /// Timestamp of the last thing learned (event time), 0 before any.
    public private(set) var lastUpdate = 0.0

    /// Smoothing of the trending ratio, in popularity-mass units.
    public static let trendingSmoothing = 5.0

    public init(popularityHalfLife: Double = 7 * 86_400, trendingHalfLife: Double = 6 * 3_600,
                history: Int = 30, factors: Int = 32, seenLimit: Int = 1_000, seed: UInt64 = 7) {
        popularity = DecayedPopularity(halfLife: popularityHalfLife)
        recentPopularity = DecayedPopularity(halfLife: trendingHalfLife)
        coVisitation = ItemCoVisitation(historyLength: history)
        embeddings = ImplicitMatrixFactorization(factors: factors, negativeSamples: 4, seed: seed)
        ftrl = FTRLProximal()
        // Strategy exploration fades fast: a costly strategy tried too often costs every session.
        agent = SessionStrategyAgent(epsilon: .inverse(initial: 0.1, scale: 1_000, floor: 0.01))
        seen = SeenItems(limit: seenLimit)
    }

    /// Learns that `userID` engaged with `itemID` at `timestamp` (a view, click, purchase, rating...).
    public mutating func observeInteraction(userID: String, itemID: String, timestamp: Double, weight: Double = 1) {
        guard timestamp.isFinite, weight.isFinite, weight > 0 else { return }
        interactions += 1
        lastUpdate = max(lastUpdate, timestamp)
        let feedback = ModelFeedback(context: ScoringContext(userId: userID, timestamp: timestamp),
                                     candidate: ScoringCandidate(itemId: itemID), reward: 1)
        popularity.update(feedback)
        recentPopularity.update(feedback)
        let repeated = coVisitation.lastItem(of: userID) == itemID
        seen.insert(itemID, for: userID)
        guard !repeated else { return }
        coVisitation.update(feedback)
        embeddings.update(feedback)
    }

    /// Learns from feedback joined to what was shown: the click model only. The interaction
    /// itself reaches the implicit models as the feedback's event (`observeInteraction`), once.
    public mutating func learn(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        feedbackUpdates += 1
        ftrl.update(feedback)
        lastUpdate = max(lastUpdate, feedback.context.timestamp)
    }

    /// Trending score of an item at `timestamp`.
    public func trending(_ itemID: String, at timestamp: Double) -> Double {
        recentPopularity.popularity(itemID, at: timestamp)
            / (popularity.popularity(itemID, at: timestamp) + Self.trendingSmoothing)
    }

    /// Whether anything is known about `userID` (else the scenario's cold-start sources apply).
    public func knows(user userID: String) -> Bool {
        !seen.items(of: userID).isEmpty || embeddings.knows(user: userID)
    }

    /// Descriptions of every model, for `/api/v1/models/status`.
    public func describe() -> [String: ModelDescription] {
        ["popularity": popularity.describe(), "trending": recentPopularity.describe(),
         "co_visitation": coVisitation.describe(), "embedding": embeddings.describe(),
         "ftrl": ftrl.describe(), "session_agent": agent.describe()]
    }
}

/// The items each user interacted with, most recent last, at most `limit` per user.
public struct SeenItems: Sendable {
    public let limit: Int
    /// One user's items, oldest first, and the same items as a set.
    private struct Seen: Sendable {
        var order: [String] = []
        var set: Set<String> = []

        mutating func insert(_ itemID: String, limit: Int) {
            guard set.insert(itemID).inserted else {
                order.removeAll { $0 == itemID }
                order.append(itemID)
                return
            }
            order.append(itemID)
            if order.count > limit { set.remove(order.removeFirst()) }
        }
    }
    /// Both forms of a user's items in one entry, changed in place: one hash lookup per event.
    /// (Two dictionaries, each copied out and stored back per event, were about an eighth of the
    /// apply thread's time under batched ingestion, in perf.)
    private var lists: [String: Seen] = [:]

    public init(limit: Int) {
        precondition(limit > 0, "limit must be positive")
        self.limit = limit
    }

    public mutating func insert(_ itemID: String, for userID: String) {
        lists[userID, default: Seen()].insert(itemID, limit: limit)
    }

    /// Oldest first.
    public func items(of userID: String) -> [String] { lists[userID]?.order ?? [] }

    public func contains(_ itemID: String, for userID: String) -> Bool { lists[userID]?.set.contains(itemID) ?? false }

    /// The whole set (for filtering many candidates).
    public func set(of userID: String) -> Set<String> { lists[userID]?.set ?? [] }

    public var userCount: Int { lists.count }

    /// Every user with seen items, sorted (deterministic snapshots).
    public var users: [String] { lists.keys.sorted() }
}

extension RecommendationModels {
    static let snapshotName = "RecommendationModels"
    static let snapshotVersion = 1

    /// Every model, counters and seen items in one versioned snapshot.
    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.snapshotName, version: Self.snapshotVersion)
        w.write(interactions); w.write(feedbackUpdates); w.write(lastUpdate)
        for part in [popularity.snapshot(), recentPopularity.snapshot(), coVisitation.snapshot(), embeddings.snapshot(),
                     ftrl.snapshot(), agent.snapshot()] {
            w.write(bytes: part)
        }
        w.write(seen.limit)
        let users = seen.users
        w.write(users.count)
        for user in users {
            w.write(user)
            w.write(seen.items(of: user))
        }
        return w.bytes
    }

    /// Restores `snapshot()` bytes; throws `ModelSnapshotError` on bad input.
    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.snapshotName, supported: 1...Self.snapshotVersion)
        interactions = try r.readInt()
        feedbackUpdates = try r.readInt()
        lastUpdate = try r.readDouble()
        popularity = try DecayedPopularity(snapshot: try r.readBytes())
        recentPopularity = try DecayedPopularity(snapshot: try r.readBytes())
        coVisitation = try ItemCoVisitation(snapshot: try r.readBytes())
        embeddings = try ImplicitMatrixFactorization(snapshot: try r.readBytes())
        ftrl = try FTRLProximal(snapshot: try r.readBytes())
        agent = try SessionStrategyAgent(snapshot: try r.readBytes())
        let limit = try r.readInt()
        guard limit > 0 else { throw ModelSnapshotError.invalid("seen limit \(limit)") }
        seen = SeenItems(limit: limit)
        let users = try r.readCount(elementSize: 16)
        for _ in 0..<users {
            let user = try r.readString()
            for item in try r.readStrings() { seen.insert(item, for: user) }
        }
        try r.finish()
    }
}
