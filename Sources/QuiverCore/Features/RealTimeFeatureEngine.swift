// RealTimeFeatureEngine: the Sendable entry point of the feature engine. Events update per-user,
// per-user x category, per-item and global state incrementally; reads assemble RealTimeFeatures
// and the dense vector from that state without recomputation. Users are sharded by a stable hash
// of their id, each shard behind a Mutex; an event takes at most two locks (its item's shard, then
// its user's shard), never both at once; a batch takes its shards' locks in ascending order (see
// RealTimeFeatureEngine+Batch). Definition versions load and roll back at run time.
// Invariant: time only enters through event timestamps and the `now`/`receivedAt` arguments.
import Synchronization

/// Sizing of a `RealTimeFeatureEngine`.
public struct FeatureEngineConfiguration: Hashable, Sendable {
    /// Number of user shards (and item shards); more shards, less contention.
    public var shardCount: Int
    /// Users kept in memory across all shards; beyond it the least recently used go to the store.
    public var maxResidentUsers: Int
    /// Items whose state events may create; catalog items (`upsertItem`) are always admitted.
    public var maxItems: Int

    /// Creates a configuration.
    public init(shardCount: Int = 16, maxResidentUsers: Int = 100_000, maxItems: Int = 1_000_000) {
        self.shardCount = max(1, shardCount)
        self.maxResidentUsers = max(1, maxResidentUsers)
        self.maxItems = max(1, maxItems)
    }
}

/// Counters and sizes reported by the engine.
public struct FeatureEngineMetrics: Hashable, Sendable, Codable {
    /// Active definition version.
    public var version: String
    /// Events ingested.
    public var events: Int
    /// User lookups (events and reads).
    public var lookups: Int
    /// Lookups that found the user resident.
    public var hits: Int
    /// Users loaded back from the store.
    public var storeLoads: Int
    /// Users evicted to the store.
    public var evictions: Int
    /// Users in memory.
    public var residentUsers: Int
    /// Approximate bytes of resident user state.
    public var residentBytes: Int
    /// Upper bound of one user's state under the active schema.
    public var maxBytesPerUser: Int
    /// Items with state.
    public var items: Int
    /// Events for unknown items refused item state because the item bound was reached.
    public var skippedUnknownItems: Int

    /// `hits / lookups` (1 when nothing was looked up).
    public var hitRate: Double { lookups == 0 ? 1 : Double(hits) / Double(lookups) }

    enum CodingKeys: String, CodingKey {
        case version, events, lookups, hits, storeLoads = "store_loads", evictions
        case residentUsers = "resident_users", residentBytes = "resident_bytes"
        case maxBytesPerUser = "max_bytes_per_user", items, skippedUnknownItems = "skipped_unknown_items"
    }
}

/// The real-time feature engine: ingest events, read features. Safe to call from many threads.
public final class RealTimeFeatureEngine: Sendable {
    let userShards: [UserFeatureShardBox]
    let itemShards: [ItemFeatureShardBox]
    let history: Mutex<FeatureVersionHistory>
    let store: any FeatureStateStore
    /// The sizing this engine was created with.
    public let configuration: FeatureEngineConfiguration

    /// Creates an engine with `definitions` active.
    ///
    /// - Parameters:
    ///   - definitions: the initial definition set (validated).
    ///   - configuration: shard count and resident-user bound.
    ///   - store: where evicted users go.
    public init(definitions: FeatureDefinitionSet, configuration: FeatureEngineConfiguration = .init(),
                store: any FeatureStateStore = InMemoryFeatureStateStore()) throws(FeatureDefinitionError) {
        let history = try FeatureVersionHistory(initial: definitions)
        let schema = history.current
        self.history = Mutex(history)
        self.store = store
        self.configuration = configuration
        let perShard = max(1, configuration.maxResidentUsers / configuration.shardCount)
        userShards = (0..<configuration.shardCount).map { _ in
            UserFeatureShardBox(UserFeatureShard(schema: schema, residents: ResidentUserTable(capacity: perShard)))
        }
        let itemsPerShard = max(1, configuration.maxItems / configuration.shardCount)
        itemShards = (0..<configuration.shardCount).map { _ in
            ItemFeatureShardBox(ItemFeatureShard(schema: schema, capacity: itemsPerShard))
        }
    }

    // MARK: Versions

    /// The active definition version.
    public var activeVersion: String { history.withLock { $0.current.definitions.version } }

    /// The active definition set.
    public var activeDefinitions: FeatureDefinitionSet { history.withLock { $0.current.definitions } }

    /// Remembered versions, oldest first; the last is active.
    public var versionHistory: [String] { history.withLock { $0.stack.map(\.version) } }

    /// A validator accepting the built-in event types and the active set's custom types.
    public func eventValidator(limits: EventLimits = EventLimits()) -> EventValidator {
        EventValidator(limits: limits, customTypes: activeDefinitions.customEventTypes)
    }

    /// The layout of `featureVector(for:context:now:)` under the active version.
    public var vectorLayout: FeatureVectorLayout { history.withLock { $0.current.layout } }

    /// Validates and activates a new definition set without losing state: streams whose spec is
    /// unchanged keep their state, and the replaced version's streams stay live for `rollback()`.
    public func load(_ definitions: FeatureDefinitionSet) throws(FeatureDefinitionError) {
        try history.withLock { (h) throws(FeatureDefinitionError) in
            let schema = try h.load(definitions)
            install(schema)
        }
    }

    /// Returns to the previous definition set, whose state was kept up to date meanwhile.
    public func rollback() throws(FeatureDefinitionError) {
        try history.withLock { (h) throws(FeatureDefinitionError) in
            let schema = try h.rollback()
            install(schema)
        }
    }

    private func install(_ schema: FeatureSchema) {
        for box in userShards { box.shard.withLock { $0.schema = schema } }
        for box in itemShards { box.shard.withLock { $0.schema = schema } }
    }

    // MARK: Catalog and events

    /// Adds or replaces an item's catalog entry (its categories feed user x category state).
    public func upsertItem(_ item: CatalogItem) {
        let hash = FeatureHash.fnv1a(item.itemID)
        itemShards[FeatureHash.shard(hash, count: itemShards.count)].shard.withLock { shard in
            let slot = shard.slotCreating(item.itemID, hash: hash)
            shard.update(slot) { state in
                state.categories = item.categories
                state.categoryHashes = item.categories.map(FeatureHash.fnv1a)
                state.available = item.available
            }
        }
    }

    /// Folds one validated event into all state it feeds.
    ///
    /// - Parameters:
    ///   - event: the event; its own timestamp decides its windows, late or not.
    ///   - receivedAt: server time (Unix seconds) used when the event carries no timestamp.
    public func ingest(_ event: UserEvent, receivedAt: Double) {
        let time = event.timestamp ?? receivedAt
        var categories: [String] = []
        var itemHash: UInt64 = 0
        let userHash = FeatureHash.fnv1a(event.userID)
        if let itemID = event.itemID {
            itemHash = FeatureHash.fnv1a(itemID)
            categories = itemShards[FeatureHash.shard(itemHash, count: itemShards.count)].shard.withLock { shard in
                shard.apply(itemID: itemID, itemHash: itemHash, userID: event.userID, userHash: userHash,
                            type: event.type, time: time, value: event.value)
            }
        }
        let store = self.store
        userShards[FeatureHash.shard(userHash, count: userShards.count)].shard.withLock { shard in
            shard.ingest(userID: event.userID, userHash: userHash, itemID: event.itemID, itemHash: itemHash,
                         categories: categories, type: event.type, time: time, value: event.value, store: store)
        }
    }

    /// Counters and sizes. Walks every shard; meant for metrics endpoints, not the hot path.
    public func metrics() -> FeatureEngineMetrics {
        let schema = history.withLock { $0.current }
        var m = FeatureEngineMetrics(version: schema.definitions.version, events: 0, lookups: 0, hits: 0, storeLoads: 0,
                                     evictions: 0, residentUsers: 0, residentBytes: 0,
                                     maxBytesPerUser: schema.maxBytesPerUser, items: 0, skippedUnknownItems: 0)
        for box in userShards {
            box.shard.withLock { shard in
                m.events += shard.counters.events
                m.lookups += shard.counters.lookups
                m.hits += shard.counters.hits
                m.storeLoads += shard.counters.storeLoads
                m.evictions += shard.counters.evictions
                m.residentUsers += shard.residents.count
                m.residentBytes += shard.residents.estimatedBytes
            }
        }
        for box in itemShards {
            box.shard.withLock { shard in
                m.items += shard.count
                m.skippedUnknownItems += shard.skippedUnknownItems
            }
        }
        return m
    }

    /// Saves every resident user to the store (e.g. before shutdown); they stay resident.
    public func flushToStore() {
        let store = self.store
        for box in userShards {
            box.shard.withLock { shard in
                for (id, state) in shard.residents.residents {
                    var leaving = state
                    leaving.stampSignatures(shard.schema)
                    store.save(leaving, for: id)
                }
            }
        }
    }
}
