// UserFeatureShard and ItemFeatureShard: the units of locking of the engine. A user shard owns its
// resident users (LRU-bounded), its share of the global streams and its cache metrics; an item
// shard owns item streams and the catalog categories that feed user x category state. Each shard
// holds the current FeatureSchema, swapped in under its own lock on load or rollback.
// Invariant: every access goes through the shard's Mutex; nothing here reads a clock.
import Synchronization

/// Cache and ingestion counters of one user shard.
struct FeatureShardCounters: Sendable {
    var lookups = 0
    var hits = 0
    var storeLoads = 0
    var evictions = 0
    var events = 0
}

struct UserFeatureShard: Sendable {
    var schema: FeatureSchema
    var residents: ResidentUserTable
    var global = StreamArena()
    var globalGeneration = -1
    var counters = FeatureShardCounters()
    /// Sink of `StreamArena.warm` reads.
    var warmth: UInt64 = 0

    /// The slot of a user, loading it from the store or creating it; `nil` only when `create` is
    /// false and the user is unknown.
    mutating func slot(for userID: String, hash: UInt64, store: any FeatureStateStore, create: Bool) -> Int? {
        counters.lookups += 1
        if let slot = residents.slot(of: userID, hash: hash) {
            counters.hits += 1
            residents.touch(slot)
            return slot
        }
        var state: UserFeatureState
        if let stored = store.load(userID: userID) {
            counters.storeLoads += 1
            state = stored
            state.adoptSignatures(schema)
        } else if create {
            state = UserFeatureState()
        } else {
            return nil
        }
        state.migrate(to: schema)
        let (slot, evicted) = residents.insert(userID, hash: hash, state: state)
        if let (id, old) = evicted {
            counters.evictions += 1
            var leaving = old
            leaving.stampSignatures(schema)
            store.save(leaving, for: id)
        }
        return slot
    }

    /// Folds one event into the user's state and this shard's share of global state;
    /// `categories` are the item's catalog categories (from its item shard).
    @inline(__always)
    mutating func ingest(userID: String, userHash: UInt64, itemID: String?, itemHash: UInt64, categories: [String],
                         type: EventType, time: Double, value: Double, store: any FeatureStateStore) {
        let route = schema.route(for: type)
        warmth &+= global.warm(route.global, partyHash: userHash)
        let slot = slot(for: userID, hash: userHash, store: store, create: true)!
        residents.slots[slot].state.migrate(to: schema)
        residents.slots[slot].state.apply(time: time, value: value, itemID: itemID, itemHash: itemHash,
                                          categories: categories, route: route, schema: schema)
        applyGlobal(time: time, value: value, userID: userID, userHash: userHash, route: route)
        counters.events += 1
    }

    mutating func applyGlobal(time: Double, value: Double, userID: String, userHash: UInt64, route: EventRoute) {
        guard !route.global.isEmpty else { return }
        migrateGlobal()
        let specs = schema.specs[FeatureKeyKind.global.index]
        if global.words.isEmpty { global.reserve(streams: route.global, specs: specs) }
        for id in route.global {
            global.add(stream: id, spec: specs[id], time: time, value: value, party: userID, partyHash: userHash)
        }
    }

    /// Releases global streams that are no longer live after a definition change.
    mutating func migrateGlobal() {
        if globalGeneration != schema.generation {
            global.release(live: schema.live[FeatureKeyKind.global.index])
            globalGeneration = schema.generation
        }
    }
}

/// Per-item state: catalog categories and item streams.
struct ItemFeatureState: Sendable {
    var categories: [String] = []
    /// `FeatureHash.fnv1a` of each category (parallel to `categories`).
    var categoryHashes: [UInt64] = []
    var available = true
    var generation = -1
    var streams = StreamArena()
}

struct ItemFeatureShard: Sendable {
    var schema: FeatureSchema
    /// Items by the stable hash of their id; `itemIDs[i]` and `states[i]` belong together.
    var index = FeatureKeyIndex()
    var itemIDs: [String] = []
    private(set) var states: [ItemFeatureState] = []
    /// Items an event may create state for; beyond it only catalog items (`upsertItem`) get state,
    /// so events naming arbitrary unknown ids cannot grow memory without bound.
    var capacity = Int.max
    /// Events whose unknown item found the shard full (user state was still updated).
    var skippedUnknownItems = 0
    /// Sink of `StreamArena.warm` reads.
    var warmth: UInt64 = 0

    init(schema: FeatureSchema, capacity: Int) {
        self.schema = schema
        self.capacity = capacity
    }

    /// Items with state.
    var count: Int { itemIDs.count }

    /// The slot of an item whose id hashes to `hash`.
    @inline(__always)
    func slot(of itemID: String, hash: UInt64) -> Int? {
        index.find(hash) { itemIDs[$0] == itemID }
    }

    /// The slot of an item, created (empty) if unknown.
    mutating func slotCreating(_ itemID: String, hash: UInt64) -> Int {
        if let slot = slot(of: itemID, hash: hash) { return slot }
        itemIDs.append(itemID)
        states.append(ItemFeatureState())
        index.insert(hash, slot: itemIDs.count - 1)
        return itemIDs.count - 1
    }

    /// Updates an item's streams for one event and returns its categories.
    mutating func apply(itemID: String, itemHash: UInt64, userID: String, userHash: UInt64, type: EventType,
                        time: Double, value: Double) -> [String] {
        let route = schema.route(for: type)
        let known = slot(of: itemID, hash: itemHash)
        if route.item.isEmpty { return known.map { states[$0].categories } ?? [] }
        if known == nil, count >= capacity {
            skippedUnknownItems += 1
            return []
        }
        let slot = known ?? slotCreating(itemID, hash: itemHash)
        let schema = self.schema
        warmth &+= UInt64(truncatingIfNeeded: states[slot].categories.count)
            &+ states[slot].streams.warm(route.item, partyHash: userHash)
        return update(slot) { state in
            let specs = schema.specs[FeatureKeyKind.item.index]
            if state.streams.words.isEmpty { state.streams.reserve(streams: route.item, specs: specs) }
            for id in route.item {
                state.streams.add(stream: id, spec: specs[id], time: time, value: value, party: userID, partyHash: userHash)
            }
            return state.categories
        }
    }

    /// Runs `body` on the item in `slot`, migrated to the current schema.
    mutating func update<R>(_ slot: Int, _ body: (inout ItemFeatureState) -> R) -> R {
        if states[slot].generation != schema.generation {
            states[slot].streams.release(live: schema.live[FeatureKeyKind.item.index])
            states[slot].generation = schema.generation
        }
        return body(&states[slot])
    }
}

final class UserFeatureShardBox: Sendable {
    let shard: Mutex<UserFeatureShard>
    init(_ shard: sending UserFeatureShard) { self.shard = Mutex(shard) }
}

final class ItemFeatureShardBox: Sendable {
    let shard: Mutex<ItemFeatureShard>
    init(_ shard: sending ItemFeatureShard) { self.shard = Mutex(shard) }
}
