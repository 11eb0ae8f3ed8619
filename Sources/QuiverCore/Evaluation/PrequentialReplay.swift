// PrequentialReplay: the test-then-train replay protocol. Events are sorted by time (stable); the
// first `trainFraction` are fed to the recommender; each later event first asks for the top
// `cutoff` items for its user, excluding every item that user already interacted with, scores
// HR@cutoff and NDCG@cutoff against the event's item, then is fed to the recommender.
// Invariant: the recommender never sees an event before it is evaluated on it.

import Foundation  // log2

/// One user-item interaction in a replay log.
public struct ReplayInteraction: Sendable, Hashable {
    public var userId: String
    public var itemId: String
    /// Rating, dwell or 1 for implicit feedback.
    public var value: Double
    public var timestamp: Double

    public init(userId: String, itemId: String, value: Double, timestamp: Double) {
        self.userId = userId
        self.itemId = itemId
        self.value = value
        self.timestamp = timestamp
    }
}

/// Something that can be replayed: learns from interactions, recommends top-N lists.
public protocol ReplayRecommender {
    /// Learns from one interaction (after it has been evaluated, if it is in the test part).
    mutating func observe(_ interaction: ReplayInteraction)
    /// Up to `count` item ids for `userId` at `timestamp`, none of them in `excluding`.
    mutating func recommend(userId: String, count: Int, excluding: Set<String>, at timestamp: Double) -> [String]
}

/// Outcome of a replay.
public struct ReplayReport: Sendable, Hashable {
    public var cutoff: Int
    public var trainingEvents: Int
    /// Test events scored.
    public var evaluatedEvents: Int
    /// Test events skipped (repeat interactions, or below the relevance threshold).
    public var skippedEvents: Int
    public var hitRate: Double
    public var ndcg: Double
}

/// The prequential (test-then-train) replay evaluator.
public struct PrequentialReplay: Sendable {
    public var trainFraction: Double
    public var cutoff: Int
    /// When set, only test events with value >= threshold are scored (all are still fed).
    public var relevanceThreshold: Double?

    public init(trainFraction: Double = 0.8, cutoff: Int = 10, relevanceThreshold: Double? = nil) {
        precondition((0...1).contains(trainFraction) && cutoff > 0, "bad replay configuration")
        self.trainFraction = trainFraction
        self.cutoff = cutoff
        self.relevanceThreshold = relevanceThreshold
    }

    /// Replays `interactions` through `recommender`.
    public func run<R: ReplayRecommender>(_ interactions: [ReplayInteraction], recommender: inout R) -> ReplayReport {
        let ordered = interactions.enumerated()
            .sorted { $0.element.timestamp < $1.element.timestamp || ($0.element.timestamp == $1.element.timestamp && $0.offset < $1.offset) }
            .map(\.element)
        let split = Int((Double(ordered.count) * trainFraction).rounded(.down))
        var seen: [String: Set<String>] = [:]
        for event in ordered[..<split] {
            recommender.observe(event)
            seen[event.userId, default: []].insert(event.itemId)
        }
        var hits = 0.0, gain = 0.0, evaluated = 0, skipped = 0
        for event in ordered[split...] {
            let history = seen[event.userId] ?? []
            if history.contains(event.itemId) || relevanceThreshold.map({ event.value < $0 }) == true {
                skipped += 1
            } else {
                let list = recommender.recommend(userId: event.userId, count: cutoff, excluding: history, at: event.timestamp)
                if let rank = list.prefix(cutoff).firstIndex(of: event.itemId) {
                    hits += 1
                    gain += 1 / log2(Double(rank) + 2)
                }
                evaluated += 1
            }
            recommender.observe(event)
            seen[event.userId, default: []].insert(event.itemId)
        }
        let n = Double(max(evaluated, 1))
        return ReplayReport(cutoff: cutoff, trainingEvents: split, evaluatedEvents: evaluated, skippedEvents: skipped,
                            hitRate: hits / n, ndcg: gain / n)
    }

    /// Indices of the `k` largest scores, best first (ties: lower index first), skipping `excluded`.
    public static func topIndices(_ scores: [Double], k: Int, excluded: (Int) -> Bool = { _ in false }) -> [Int] {
        var best: [(index: Int, score: Double)] = []
        best.reserveCapacity(k + 1)
        for (i, s) in scores.enumerated() where !excluded(i) && !s.isNaN {
            if best.count == k, let last = best.last, s <= last.score { continue }
            var position = best.count
            while position > 0 && best[position - 1].score < s { position -= 1 }
            best.insert((i, s), at: position)
            if best.count > k { best.removeLast() }
        }
        return best.map(\.index)
    }
}

/// Replays any `ScoringModel` over a growing catalog: candidates are every item seen so far; each
/// interaction is fed as a positive (reward from `reward`) plus `negativeSamples` random catalog
/// items as reward-0 feedback, drawn from a seeded generator.
public struct ScoringModelRecommender<Model: ScoringModel>: ReplayRecommender {
    public private(set) var model: Model
    public let negativeSamples: Int
    private var generator: SeededRandom
    private var catalog: [ScoringCandidate] = []
    private var catalogIndex: [String: Int] = [:]
    private let makeCandidate: (String) -> ScoringCandidate
    private let makeContext: (String, Double) -> ScoringContext
    private let reward: (ReplayInteraction) -> Double

    public init(model: Model, negativeSamples: Int = 0, seed: UInt64 = 1,
                makeCandidate: @escaping (String) -> ScoringCandidate = { ScoringCandidate(itemId: $0) },
                makeContext: @escaping (String, Double) -> ScoringContext = { ScoringContext(userId: $0, timestamp: $1) },
                reward: @escaping (ReplayInteraction) -> Double = { _ in 1 }) {
        self.model = model
        self.negativeSamples = negativeSamples
        generator = SeededRandom(seed: seed)
        self.makeCandidate = makeCandidate
        self.makeContext = makeContext
        self.reward = reward
    }

    public mutating func observe(_ interaction: ReplayInteraction) {
        if catalogIndex[interaction.itemId] == nil {
            catalogIndex[interaction.itemId] = catalog.count
            catalog.append(makeCandidate(interaction.itemId))
        }
        let context = makeContext(interaction.userId, interaction.timestamp)
        let positive = catalog[catalogIndex[interaction.itemId]!]
        var batch = [ModelFeedback(context: context, candidate: positive, reward: reward(interaction))]
        for _ in 0..<negativeSamples where catalog.count > 1 {
            let negative = catalog[Int(generator.next() % UInt64(catalog.count))]
            if negative.itemId != interaction.itemId {
                batch.append(ModelFeedback(context: context, candidate: negative, reward: 0))
            }
        }
        model.update(batch: batch)
    }

    public mutating func recommend(userId: String, count: Int, excluding: Set<String>, at timestamp: Double) -> [String] {
        let scores = model.score(catalog, context: makeContext(userId, timestamp), using: &generator)
        return PrequentialReplay.topIndices(scores, k: count) { excluding.contains(self.catalog[$0].itemId) }.map { catalog[$0].itemId }
    }
}
