// DecayedPopularity: time-decayed item popularity, the fallback ranker when nothing personal is
// known. Each item keeps (mass, lastTimestamp); mass decays by 2^(-dt / halfLife). Time comes from
// event and request timestamps only. Invariant: an event older than the item's last timestamp adds
// its already-decayed weight without moving the clock backwards, so out-of-order backfills count.

import Foundation  // pow

/// Exponentially time-decayed popularity per item.
public struct DecayedPopularity: ScoringModel {
    public static let modelName = "DecayedPopularity"
    public static let formatVersion = 1

    /// Seconds after which an interaction counts half.
    public let halfLife: Double
    /// Decayed mass of an item as of its last event.
    public struct ItemMass: Sendable, Hashable {
        public var mass: Double
        public var timestamp: Double
    }

    public private(set) var items: [String: ItemMass] = [:]
    public private(set) var updateCount = 0

    public init(halfLife: Double = 86_400) {
        precondition(halfLife > 0, "halfLife must be positive")
        self.halfLife = halfLife
    }

    private func decay(_ dt: Double) -> Double { dt <= 0 ? 1 : pow(2, -dt / halfLife) }

    /// Popularity of `itemId` as seen at `timestamp`.
    public func popularity(_ itemId: String, at timestamp: Double) -> Double {
        guard let s = items[itemId] else { return 0 }
        return s.mass * decay(timestamp - s.timestamp)
    }

    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        candidates.map { popularity($0.itemId, at: context.timestamp) }
    }

    /// Adds max(reward, 0) at the feedback's timestamp.
    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        let weight = max(0, feedback.reward)
        let t = feedback.context.timestamp
        let id = feedback.candidate.itemId
        if let s = items[id] {
            if t >= s.timestamp {
                items[id] = ItemMass(mass: s.mass * decay(t - s.timestamp) + weight, timestamp: t)
            } else {
                items[id] = ItemMass(mass: s.mass + weight * decay(s.timestamp - t), timestamp: s.timestamp)
            }
        } else {
            items[id] = ItemMass(mass: weight, timestamp: t)
        }
        updateCount += 1
    }

    /// The `count` most popular items at `timestamp` (ties by item id, for determinism).
    public func top(_ count: Int, at timestamp: Double) -> [(itemId: String, score: Double)] {
        let scored: [(itemId: String, score: Double)] = items.keys.map { (itemId: $0, score: popularity($0, at: timestamp)) }
        let sorted = scored.sorted { a, b in a.score > b.score || (a.score == b.score && a.itemId < b.itemId) }
        return Array(sorted.prefix(count))
    }

    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        let s = items[candidate.itemId] ?? ItemMass(mass: 0, timestamp: context.timestamp)
        let factor = decay(context.timestamp - s.timestamp)
        return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: s.mass * factor,
                                contributions: [ScoreContribution("mass_at_last_event", s.mass),
                                                ScoreContribution("decay_factor", factor)])
    }

    public func describe() -> ModelDescription {
        ModelDescription(name: Self.modelName, formatVersion: Self.formatVersion,
                         parameters: ["half_life_seconds": "\(halfLife)", "items": "\(items.count)"],
                         updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(halfLife)
        w.write(updateCount)
        w.write(items.count)
        for key in items.keys.sorted() {
            w.write(key)
            w.write(items[key]!.mass)
            w.write(items[key]!.timestamp)
        }
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        halfLife = try r.readDouble()
        guard halfLife > 0 else { throw ModelSnapshotError.invalid("halfLife") }
        updateCount = try r.readInt()
        let n = try r.readCount(elementSize: 24)
        for _ in 0..<n {
            let key = try r.readString()
            items[key] = ItemMass(mass: try r.readDouble(), timestamp: try r.readDouble())
        }
        try r.finish()
    }
}
