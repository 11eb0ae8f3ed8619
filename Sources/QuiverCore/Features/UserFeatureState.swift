// UserFeatureState: everything the engine knows about one user: its streams (one StreamArena),
// per-category state (affinity and the user x category streams' arena), session and recency
// bookkeeping. Invariant: memory is bounded by the schema (at most B buckets per window, capped
// distinct/last-N, at most `max_categories_per_user` categories, least recently seen evicted first);
// streams that are not live under the current schema are released when the state is migrated; the
// encoded form is the one earlier releases wrote (streams as FeatureAccumulator arrays).

/// The state of one user x category pair.
public struct CategoryFeatureState: Hashable, Sendable, Codable {
    /// Category name.
    public let name: String
    /// Decayed count of the user's events in this category (half-life `affinity_half_life`).
    public internal(set) var affinity: DecayedCounter
    /// Newest event time in this category.
    public internal(set) var lastSeen: Double
    /// `FeatureHash.fnv1a(name)`: lookups compare it before the name.
    let nameHash: UInt64
    /// The user x category streams.
    var arena = StreamArena()
    /// Streams as decoded from a store, until a schema moves them into `arena`.
    var decodedStreams: [FeatureAccumulator]?

    init(name: String, nameHash: UInt64, affinity: DecayedCounter, lastSeen: Double) {
        self.name = name
        self.nameHash = nameHash
        self.affinity = affinity
        self.lastSeen = lastSeen
    }

    /// The streams in their exchange form (indexed by stream id).
    var streams: [FeatureAccumulator] { decodedStreams ?? arena.accumulators() }

    enum CodingKeys: String, CodingKey { case name, affinity, lastSeen, streams }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        nameHash = FeatureHash.fnv1a(name)
        affinity = try c.decode(DecayedCounter.self, forKey: .affinity)
        lastSeen = try c.decode(Double.self, forKey: .lastSeen)
        decodedStreams = try c.decodeIfPresent([FeatureAccumulator].self, forKey: .streams) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(affinity, forKey: .affinity)
        try c.encode(lastSeen, forKey: .lastSeen)
        try c.encode(streams, forKey: .streams)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.affinity == b.affinity && a.lastSeen == b.lastSeen
            && UserFeatureState.trimmed(a.streams) == UserFeatureState.trimmed(b.streams)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(affinity)
        hasher.combine(lastSeen)
    }
}

/// All per-user feature state; Codable so a `FeatureStateStore` can persist it.
///
/// In memory the streams live in a `StreamArena` per key; encoded, they take the exchange form of
/// earlier releases (an array of `FeatureAccumulator` per key), so stored states load either way.
public struct UserFeatureState: Hashable, Sendable, Codable {
    /// Schema generation this state was last migrated to (-1 when new).
    public internal(set) var generation = -1
    /// The user streams.
    var arena = StreamArena()
    /// Streams as decoded from a store, until a schema moves them into `arena`.
    var decodedStreams: [FeatureAccumulator]?
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
    /// Sink of `StreamArena.warm` reads (not state: never encoded or compared).
    var warmth: UInt64 = 0

    /// An empty state.
    public init() {}

    /// The user streams in their exchange form (indexed by stream id).
    var streams: [FeatureAccumulator] { decodedStreams ?? arena.accumulators() }

    enum CodingKeys: String, CodingKey {
        case generation, streams, categories, firstEventTime, newestEventTime, sessionStart, sessionEventCount,
             eventCount, streamSignatures, categoryStreamSignatures
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        generation = try c.decode(Int.self, forKey: .generation)
        decodedStreams = try c.decodeIfPresent([FeatureAccumulator].self, forKey: .streams) ?? []
        categories = try c.decode([CategoryFeatureState].self, forKey: .categories)
        firstEventTime = try c.decode(Double.self, forKey: .firstEventTime)
        newestEventTime = try c.decode(Double.self, forKey: .newestEventTime)
        sessionStart = try c.decode(Double.self, forKey: .sessionStart)
        sessionEventCount = try c.decode(Int.self, forKey: .sessionEventCount)
        eventCount = try c.decode(Int.self, forKey: .eventCount)
        streamSignatures = try c.decodeIfPresent([String].self, forKey: .streamSignatures)
        categoryStreamSignatures = try c.decodeIfPresent([String].self, forKey: .categoryStreamSignatures)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(generation, forKey: .generation)
        try c.encode(streams, forKey: .streams)
        try c.encode(categories, forKey: .categories)
        try c.encode(firstEventTime, forKey: .firstEventTime)
        try c.encode(newestEventTime, forKey: .newestEventTime)
        try c.encode(sessionStart, forKey: .sessionStart)
        try c.encode(sessionEventCount, forKey: .sessionEventCount)
        try c.encode(eventCount, forKey: .eventCount)
        try c.encodeIfPresent(streamSignatures, forKey: .streamSignatures)
        try c.encodeIfPresent(categoryStreamSignatures, forKey: .categoryStreamSignatures)
    }

    /// Accumulators without trailing empty ones: equal states compare equal whatever the arena
    /// layout or the number of stream ids known when they were written.
    static func trimmed(_ streams: [FeatureAccumulator]) -> ArraySlice<FeatureAccumulator> {
        var end = streams.count
        while end > 0, streams[end - 1].isEmpty { end -= 1 }
        return streams[..<end]
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.generation == b.generation && trimmed(a.streams) == trimmed(b.streams) && a.categories == b.categories
            && a.firstEventTime == b.firstEventTime && a.newestEventTime == b.newestEventTime
            && a.sessionStart == b.sessionStart && a.sessionEventCount == b.sessionEventCount
            && a.eventCount == b.eventCount && a.streamSignatures == b.streamSignatures
            && a.categoryStreamSignatures == b.categoryStreamSignatures
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(generation)
        hasher.combine(categories)
        hasher.combine(eventCount)
        hasher.combine(newestEventTime)
    }

    /// Moves decoded streams into arenas, releases streams that are no longer live and trims the
    /// categories to the schema's bound.
    mutating func migrate(to schema: FeatureSchema) {
        guard generation != schema.generation || decodedStreams != nil else { return }
        let userLive = schema.live[FeatureKeyKind.user.index]
        let categoryLive = schema.live[FeatureKeyKind.userCategory.index]
        if let decoded = decodedStreams {
            arena = StreamArena(decoded, specs: schema.specs[FeatureKeyKind.user.index]) { userLive[$0] }
            decodedStreams = nil
        }
        arena.release(live: userLive)
        for i in categories.indices {
            if let decoded = categories[i].decodedStreams {
                categories[i].arena = StreamArena(decoded, specs: schema.specs[FeatureKeyKind.userCategory.index]) {
                    categoryLive[$0]
                }
                categories[i].decodedStreams = nil
            }
            categories[i].arena.release(live: categoryLive)
        }
        let cap = schema.definitions.maxCategoriesPerUser
        if categories.count > cap {
            categories.sort { $0.lastSeen > $1.lastSeen }
            categories.removeLast(categories.count - cap)
        }
        generation = schema.generation
    }

    /// Records the stream signatures of `schema` (before handing the state to a store).
    mutating func stampSignatures(_ schema: FeatureSchema) {
        streamSignatures = schema.signatures[FeatureKeyKind.user.index]
        categoryStreamSignatures = schema.signatures[FeatureKeyKind.userCategory.index]
    }

    /// Moves stored streams to this schema's stream ids by signature (after loading from a store);
    /// streams this schema does not know are dropped.
    mutating func adoptSignatures(_ schema: FeatureSchema) {
        guard let userSignatures = streamSignatures, let categorySignatures = categoryStreamSignatures else { return }
        // Stamped under this schema (the common case: evicted and back): every stream keeps its
        // id, so nothing moves. The arrays share storage with the schema's, so the test is one
        // comparison; a state from a store compares its signatures one by one.
        if userSignatures == schema.signatures[FeatureKeyKind.user.index],
           categorySignatures == schema.signatures[FeatureKeyKind.userCategory.index],
           (decodedStreams?.count ?? userSignatures.count) == userSignatures.count,
           categories.allSatisfy({ ($0.decodedStreams?.count ?? categorySignatures.count) == categorySignatures.count }) {
            streamSignatures = nil
            categoryStreamSignatures = nil
            generation = -1
            return
        }
        func mapping(_ signatures: [String], _ kind: FeatureKeyKind) -> (Int) -> Int? {
            var ids: [String: Int] = [:]
            for (id, spec) in schema.specs[kind.index].enumerated() { ids[spec.signature] = id }
            return { old in old < signatures.count ? ids[signatures[old]] : nil }
        }
        func remap(_ old: [FeatureAccumulator], _ newID: (Int) -> Int?, count: Int) -> [FeatureAccumulator] {
            var fresh = Array(repeating: FeatureAccumulator(), count: count)
            for (oldID, a) in old.enumerated() { if let id = newID(oldID) { fresh[id] = a } }
            return fresh
        }
        let userIDs = mapping(userSignatures, .user), categoryIDs = mapping(categorySignatures, .userCategory)
        let userCount = schema.specs[FeatureKeyKind.user.index].count
        let categoryCount = schema.specs[FeatureKeyKind.userCategory.index].count
        if let decoded = decodedStreams { decodedStreams = remap(decoded, userIDs, count: userCount) }
        arena.remap(userIDs)
        for i in categories.indices {
            if let decoded = categories[i].decodedStreams {
                categories[i].decodedStreams = remap(decoded, categoryIDs, count: categoryCount)
            }
            categories[i].arena.remap(categoryIDs)
        }
        streamSignatures = nil
        categoryStreamSignatures = nil
        generation = -1
    }

    /// Folds one event in. `categories` are the item's categories from the catalog.
    mutating func apply(time: Double, value: Double, itemID: String?, itemHash: UInt64,
                        categories itemCategories: [String], route: EventRoute, schema: FeatureSchema) {
        // Touch what this event will update before updating any of it, in two waves of independent
        // reads (buffers, then what they point to), so that a cold user costs a few overlapping
        // cache misses rather than a chain of them (see StreamArena.warm).
        var touched = arena.words.count &+ categories.count &+ arena.lists.count
        for list in arena.lists { touched &+= list.heldCount }
        var w = arena.warm(route.user, partyHash: itemHash)
        if !route.category.isEmpty {
            for name in itemCategories {
                let hash = FeatureHash.fnv1a(name)
                if let c = categories.firstIndex(where: { $0.nameHash == hash && $0.name == name }) {
                    w &+= categories[c].arena.warm(route.category, partyHash: itemHash)
                }
            }
        }
        warmth = w &+ UInt64(truncatingIfNeeded: touched)
        let userSpecs = schema.specs[FeatureKeyKind.user.index]
        if arena.words.isEmpty { arena.reserve(streams: route.user, specs: userSpecs) }
        for id in route.user {
            arena.add(stream: id, spec: userSpecs[id], time: time, value: value, party: itemID, partyHash: itemHash)
        }
        if !itemCategories.isEmpty {
            let categorySpecs = schema.specs[FeatureKeyKind.userCategory.index]
            for name in itemCategories {
                let c = categoryIndex(name, hash: FeatureHash.fnv1a(name), time: time, schema: schema)
                categories[c].affinity.add(at: time)
                if time > categories[c].lastSeen { categories[c].lastSeen = time }
                if categories[c].arena.words.isEmpty { categories[c].arena.reserve(streams: route.category, specs: categorySpecs) }
                for id in route.category {
                    categories[c].arena.add(stream: id, spec: categorySpecs[id], time: time, value: value, party: itemID,
                                            partyHash: itemHash)
                }
            }
        }
        recordSession(time: time, gap: Double(schema.definitions.sessionGap.seconds))
    }

    private mutating func categoryIndex(_ name: String, hash: UInt64, time: Double, schema: FeatureSchema) -> Int {
        if let i = categories.firstIndex(where: { $0.nameHash == hash && $0.name == name }) { return i }
        let fresh = CategoryFeatureState(
            name: name, nameHash: hash, affinity: DecayedCounter(halfLife: Double(schema.definitions.affinityHalfLife.seconds)),
            lastSeen: time)
        if categories.count < schema.definitions.maxCategoriesPerUser {
            // Room for 8 at once: growing 1, 2, 4, 8 one copy at a time was a third of the mallocs of
            // a new user's events.
            if categories.capacity == 0 { categories.reserveCapacity(min(8, schema.definitions.maxCategoriesPerUser)) }
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
        var bytes = MemoryLayout<UserFeatureState>.stride + Self.bytes(arena, decodedStreams)
        bytes += 32 + categories.capacity * MemoryLayout<CategoryFeatureState>.stride
        for c in categories {
            bytes += (c.name.utf8.count > 15 ? c.name.utf8.count : 0) + Self.bytes(c.arena, c.decodedStreams)
        }
        return bytes
    }

    private static func bytes(_ arena: StreamArena, _ decoded: [FeatureAccumulator]?) -> Int {
        guard let decoded else { return arena.estimatedBytes }
        return decoded.reduce(32 + decoded.capacity * MemoryLayout<FeatureAccumulator>.stride) { $0 + $1.estimatedBytes }
    }
}
