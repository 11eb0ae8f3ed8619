// RealTimeFeatureEngine reads: the user's RealTimeFeatures and dense vector, category affinities,
// user x category, item and global features. Reads of a non-resident user load it from the store
// (a cache miss) and keep it resident; an unknown user reads as empty state without being created.
// Invariant: reads never mutate aggregates, only residency and cache counters.

extension RealTimeFeatureEngine {
    /// Runs `body` on a user's state (nil when unknown) and the schema, under the user's shard lock.
    func withUser<R>(_ userID: String, _ body: (UserFeatureState?, FeatureSchema) -> R) -> R {
        let store = self.store
        let hash = FeatureHash.fnv1a(userID)
        let box = userShards[FeatureHash.shard(hash, count: userShards.count)]
        return box.shard.withLock { shard in
            guard let slot = shard.slot(for: userID, hash: hash, store: store, create: false) else {
                return body(nil, shard.schema)
            }
            shard.residents.slots[slot].state.migrate(to: shard.schema)
            return body(shard.residents.slots[slot].state, shard.schema)
        }
    }

    /// The user's dense feature vector at `now` in the active layout (`vectorLayout`).
    public func featureVector(for userID: String, context: EventContext = .empty, now: Double) -> FeatureVector {
        var values: [Double] = []
        let version = writeFeatureVector(for: userID, context: context, now: now, into: &values)
        return FeatureVector(version: version, values: values)
    }

    /// Writes the user's vector into `buffer` (reused when it already has the layout's size) and
    /// returns the layout version. The allocation-free form for hot paths.
    @discardableResult
    public func writeFeatureVector(for userID: String, context: EventContext = .empty, now: Double,
                                   into buffer: inout [Double]) -> String {
        withUser(userID) { state, schema in
            FeatureExtraction.fillVector(state: state, schema: schema, context: context, now: now, into: &buffer)
            return schema.definitions.version
        }
    }

    /// The seed's `RealTimeFeatures` for a user at `now` in a request context.
    public func features(for userID: String, context: EventContext = .empty, now: Double) -> RealTimeFeatures {
        withUser(userID) { state, schema in
            FeatureExtraction.features(userID: userID, state: state, schema: schema, context: context, now: now)
        }
    }

    /// The user's category affinities at `now`, highest first.
    public func categoryAffinities(for userID: String, now: Double, limit: Int = 10) -> [CategoryAffinity] {
        withUser(userID) { state, _ in Array((state?.categoryAffinities(at: now) ?? []).prefix(limit)) }
    }

    /// The user x category outputs (definitions keyed `user_category`) plus `affinity`.
    public func userCategoryFeatures(for userID: String, category: String, now: Double) -> [String: Double] {
        withUser(userID) { state, schema in
            let c = state?.categories.first { $0.name == category }
            let specs = schema.specs[FeatureKeyKind.userCategory.index]
            var values = schema.categoryPlan.evaluateNamed(ArenaReader(arena: c?.arena ?? StreamArena(), specs: specs),
                                                           at: now)
            let shares = state?.categoryAffinities(at: now) ?? []
            values["affinity"] = shares.first { $0.category == category }?.score ?? 0
            return values
        }
    }

    /// Newest items of a user's `last_n` feature, newest first.
    public func recentItems(for userID: String, feature: String) -> [RecentItems.Entry] {
        withUser(userID) { state, schema in
            guard let state, let i = schema.definitions.definitions.firstIndex(where: { $0.name == feature }) else {
                return []
            }
            return state.arena.recentItems(stream: schema.activeStreamIDs[i])
        }
    }

    /// Item outputs (definitions keyed `item`, plus derived such as smoothed CTR and trending).
    public func itemFeatures(for itemID: String, now: Double) -> [String: Double] {
        let hash = FeatureHash.fnv1a(itemID)
        let box = itemShards[FeatureHash.shard(hash, count: itemShards.count)]
        return box.shard.withLock { shard in
            let schema = shard.schema
            var streams = StreamArena()
            if let slot = shard.slot(of: itemID, hash: hash) {
                streams = shard.update(slot) { $0.streams }
            }
            let reader = ArenaReader(arena: streams, specs: schema.specs[FeatureKeyKind.item.index])
            return schema.itemPlan.evaluateNamed(reader, at: now)
        }
    }

    /// Global outputs (definitions keyed `global`), merged across shards.
    public func globalFeatures(now: Double) -> [String: Double] {
        var parts: [StreamArena] = []
        var schema: FeatureSchema?
        for box in userShards {
            box.shard.withLock { shard in
                shard.migrateGlobal()
                parts.append(shard.global)
                schema = shard.schema
            }
        }
        guard let schema else { return [:] }
        let reader = MergedArenaReader(parts: parts, specs: schema.specs[FeatureKeyKind.global.index])
        return schema.globalPlan.evaluateNamed(reader, at: now)
    }
}
