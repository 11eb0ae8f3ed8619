// UserFeatureState: everything the engine knows about one user: stream accumulators by stream id,
// per-category state (affinity and user x category streams), session and recency bookkeeping.
// Invariant: memory is bounded by the schema (fixed rings, capped distinct/last-N, at most
// `max_categories_per_user` categories, least recently seen evicted first); streams that are not
// live under the current schema are released when the state is migrated.

/// The state of one user x category pair.
public struct CategoryFeatureState: Hashable, Sendable, Codable {
    /// Category name.
    public let name: String
    /// Decayed count of the user's events in this category (half-life `affinity_half_life`).
    public internal(set) var affinity: DecayedCounter
    /// Newest event time in this category.
    public internal(set) var lastSeen: Double
    var streams: [FeatureAccumulator] = []
}

/// All per-user feature state; Codable so a `FeatureStateStore` can persist it.
public struct UserFeatureState: Hashable, Sendable, Codable {
    /// Schema generation this state was last migrated to (-1 when new).
    public internal(set) var generation = -1
    var streams: [FeatureAccumulator] = []
    /// Categories, at most `max_categories_per_user`.
    public internal(set) var categories: [CategoryFeatureState] = []
    /// Time of the oldest event seen.
    public internal(set) var firstEventTime = Double.infinity
    /// Time of the newest event seen.
    public internal(set) var newestEventTime = -Double.infinity
    /// Start of the newest session.
    public internal(set) var sessionStart = -Double.infinity
    /// Events in the newest session.
    public internal(set) var sessionEventCount = 0
    /// Lifetime events.
    public internal(set) var eventCount = 0
    /// Signatures of the user and user x category streams, by stream id, written when the state
    /// leaves the engine for a store so another engine can map them to its own stream ids.
    var streamSignatures: [String]?
    var categoryStreamSignatures: [String]?

    /// An empty state.
    public init() {}

    /// Releases streams that are no longer live and grows arrays to the schema's registry.
    mutating func migrate(to schema: FeatureSchema) {
        guard generation != schema.generation else { return }
        Self.migrate(&streams, live: schema.live[FeatureKeyKind.user.index])
        for i in categories.indices {
            Self.migrate(&categories[i].streams, live: schema.live[FeatureKeyKind.userCategory.index])
        }
        let cap = schema.definitions.maxCategoriesPerUser
        if categories.count > cap {
            categories.sort { $0.lastSeen > $1.lastSeen }
            categories.removeLast(categories.count - cap)
        }
        generation = schema.generation
    }

    static func migrate(_ streams: inout [FeatureAccumulator], live: [Bool]) {
        if streams.count < live.count {
            streams.append(contentsOf: repeatElement(FeatureAccumulator(), count: live.count - streams.count))
        }
        for i in streams.indices where !(i < live.count && live[i]) && !streams[i].isEmpty {
            streams[i] = FeatureAccumulator()
        }
    }

    /// Records the stream signatures of `schema` (before handing the state to a store).
    mutating func stampSignatures(_ schema: FeatureSchema) {
        streamSignatures = schema.specs[FeatureKeyKind.user.index].map(\.signature)
        categoryStreamSignatures = schema.specs[FeatureKeyKind.userCategory.index].map(\.signature)
    }

    /// Moves stored streams to this schema's stream ids by signature (after loading from a store);
    /// streams this schema does not know are dropped.
    mutating func adoptSignatures(_ schema: FeatureSchema) {
        guard let userSignatures = streamSignatures, let categorySignatures = categoryStreamSignatures else { return }
        func remap(_ old: [FeatureAccumulator], _ signatures: [String], _ kind: FeatureKeyKind) -> [FeatureAccumulator] {
            let specs = schema.specs[kind.index]
            var ids: [String: Int] = [:]
            for (id, spec) in specs.enumerated() { ids[spec.signature] = id }
            var fresh = Array(repeating: FeatureAccumulator(), count: specs.count)
            for (oldID, signature) in signatures.enumerated() where oldID < old.count {
                if let id = ids[signature] { fresh[id] = old[oldID] }
            }
            return fresh
        }
        streams = remap(streams, userSignatures, .user)
        for i in categories.indices {
            categories[i].streams = remap(categories[i].streams, categorySignatures, .userCategory)
        }
        streamSignatures = nil
        categoryStreamSignatures = nil
        generation = -1
    }

    /// Folds one event in. `categories` are the item's categories from the catalog.
    mutating func apply(time: Double, value: Double, itemID: String?, itemHash: UInt64,
                        categories itemCategories: [String], route: EventRoute, schema: FeatureSchema) {
        let userSpecs = schema.specs[FeatureKeyKind.user.index]
        for id in route.user {
            streams[id].add(time: time, value: value, party: itemID, partyHash: itemHash, spec: userSpecs[id])
        }
        if !itemCategories.isEmpty {
            let categorySpecs = schema.specs[FeatureKeyKind.userCategory.index]
            let live = schema.live[FeatureKeyKind.userCategory.index]
            for name in itemCategories {
                let c = categoryIndex(name, time: time, schema: schema, live: live)
                categories[c].affinity.add(at: time)
                if time > categories[c].lastSeen { categories[c].lastSeen = time }
                for id in route.category {
                    categories[c].streams[id].add(time: time, value: value, party: itemID, partyHash: itemHash,
                                                  spec: categorySpecs[id])
                }
            }
        }
        recordSession(time: time, gap: Double(schema.definitions.sessionGap.seconds))
    }

    private mutating func categoryIndex(_ name: String, time: Double, schema: FeatureSchema, live: [Bool]) -> Int {
        if let i = categories.firstIndex(where: { $0.name == name }) { return i }
        let fresh = CategoryFeatureState(
            name: name, affinity: DecayedCounter(halfLife: Double(schema.definitions.affinityHalfLife.seconds)),
            lastSeen: time, streams: Array(repeating: FeatureAccumulator(), count: live.count))
        if categories.count < schema.definitions.maxCategoriesPerUser {
            categories.append(fresh)
            return categories.count - 1
        }
        var stalest = 0
        for i in categories.indices where categories[i].lastSeen < categories[stalest].lastSeen { stalest = i }
        categories[stalest] = fresh
        return stalest
    }

    /// Sessions: a gap longer than `gap` after the newest event starts a new one. A late event
    /// within `gap` before the session start extends it backwards; older ones leave it alone.
    private mutating func recordSession(time: Double, gap: Double) {
        eventCount += 1
        if time < firstEventTime { firstEventTime = time }
        if time > newestEventTime + gap || sessionStart == -.infinity {
            if time >= newestEventTime {
                sessionStart = time
                sessionEventCount = 1
            }
        } else if time >= sessionStart - gap {
            if time < sessionStart { sessionStart = time }
            sessionEventCount += 1
        }
        if time > newestEventTime { newestEventTime = time }
    }

    /// Affinities, highest first, as shares of the decayed total at `now`.
    public func categoryAffinities(at now: Double) -> [CategoryAffinity] {
        let scores = categories.map { ($0.name, $0.affinity.value(at: now)) }
        let total = scores.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return [] }
        return scores.map { CategoryAffinity(category: $0.0, score: $0.1 / total) }
            .sorted { $0.score > $1.score || ($0.score == $1.score && $0.category < $1.category) }
    }

    /// Approximate heap bytes held by this state.
    public var estimatedBytes: Int {
        let slot = MemoryLayout<FeatureAccumulator>.stride
        var bytes = MemoryLayout<UserFeatureState>.stride + 32 + streams.capacity * slot
        for s in streams where !s.isEmpty { bytes += s.estimatedBytes }
        bytes += 32 + categories.capacity * MemoryLayout<CategoryFeatureState>.stride
        for c in categories {
            bytes += (c.name.utf8.count > 15 ? c.name.utf8.count : 0) + 32 + c.streams.capacity * slot
            for s in c.streams where !s.isEmpty { bytes += s.estimatedBytes }
        }
        return bytes
    }
}
