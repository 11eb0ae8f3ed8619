// Tests of batch ingestion (RealTimeFeatureEngine+Batch): on random streams with late, backfilled
// and unstamped events, many users, items and categories, evictions to the store and bounded item
// state, batches of any size give exactly the state and features of one-at-a-time ingestion.
import Testing
@testable import QuiverCore

@Suite struct FeaturesBatchTests {
    static let start = 1_764_000_000.0

    /// The standard set plus a user definition with every aggregation (5-word buckets, distinct,
    /// decay, last-N) and a custom event type.
    static var set: FeatureDefinitionSet {
        var set = FeatureDefinitionSet.standard
        set.version = "batch-test"
        set.maxCategoriesPerUser = 4
        set.definitions.append(FeatureDefinition(
            name: "user_all", key: .user, eventTypes: [],
            aggregations: [.count, .sum, .mean, .rate, .min, .max, .distinct, .decayedCount, .recency, .lastN],
            windows: [.oneMinute, .oneHour, .oneDay], distinctCap: 8, lastN: 5))
        set.definitions.append(FeatureDefinition(
            name: "user_shares", key: .user, eventTypes: [EventType(rawValue: "share")], aggregations: [.count],
            windows: [.oneHour]))
        return set
    }

    static func engine(_ store: InMemoryFeatureStateStore) throws -> RealTimeFeatureEngine {
        let engine = try RealTimeFeatureEngine(definitions: set,
                                               configuration: .init(shardCount: 4, maxResidentUsers: 24, maxItems: 60),
                                               store: store)
        for i in 0..<50 {  // 30 of the 80 items are not in the catalog; item state is bounded at 60
            let categories = (0..<(i % 4)).map { "cat-\((i * 7 + $0 * 5) % 12)" }
            engine.upsertItem(CatalogItem(itemID: "item-\(i)", categories: categories))
        }
        return engine
    }

    static func events(seed: UInt64, count: Int) -> [UserEvent] {
        var rng = FeatureTestRandom(seed: seed)
        let types: [EventType] = [.view, .view, .click, .addToCart, .purchase, .rating, .dwell, EventType(rawValue: "share")]
        var clock = start
        return (0..<count).map { _ in
            clock += rng.unit() * 20
            var t: Double? = clock
            switch rng.below(20) {
            case 0, 1: t = clock - rng.unit() * 900        // late by up to 15 minutes
            case 2: t = clock - rng.unit() * 5 * 86_400    // backfilled up to 5 days
            case 3: t = nil                                // stamped with the receive time
            default: break
            }
            return UserEvent(userID: "user-\(rng.below(60))", itemID: rng.below(12) == 0 ? nil : "item-\(rng.below(80))",
                             type: types[rng.below(types.count)], value: Double(rng.below(11)) - 2, timestamp: t)
        }
    }

    @Test(arguments: [41, 42, 43] as [UInt64])
    func batchesGiveTheStateOfOneAtATimeIngestion(seed: UInt64) throws {
        let oneStore = InMemoryFeatureStateStore(), batchStore = InMemoryFeatureStateStore()
        let one = try Self.engine(oneStore), batched = try Self.engine(batchStore)
        let events = Self.events(seed: seed, count: 6_000)
        var rng = FeatureTestRandom(seed: seed + 100)
        var i = 0
        while i < events.count {
            // Sizes from 1 to 200 cross the engine's chunks (64 events) in every way.
            let end = min(events.count, i + 1 + rng.below(200))
            let receivedAt = events[i..<end].compactMap(\.timestamp).max() ?? Self.start
            for e in events[i..<end] { one.ingest(e, receivedAt: receivedAt) }
            batched.ingest(events[i..<end], receivedAt: receivedAt)
            i = end
        }
        var a = one.metrics(), b = batched.metrics()
        // `residentBytes` counts array capacities, which follow malloc's usable sizes (two engines
        // in one process get different chunks); everything else must be equal.
        #expect(abs(a.residentBytes - b.residentBytes) < a.residentBytes / 100)
        a.residentBytes = 0
        b.residentBytes = 0
        #expect(a == b)
        #expect(a.evictions > 0 && a.storeLoads > 0, "the stream exercises eviction and reloading")
        #expect(a.skippedUnknownItems > 0, "the stream exercises the item bound")

        let now = Self.start + 6_000 * 10 + 60
        for u in 0..<60 {
            let user = "user-\(u)"
            #expect(one.featureVector(for: user, now: now).values == batched.featureVector(for: user, now: now).values, "\(user)")
            #expect(one.features(for: user, now: now) == batched.features(for: user, now: now), "\(user)")
            #expect(one.recentItems(for: user, feature: "user_all") == batched.recentItems(for: user, feature: "user_all"))
            #expect(one.categoryAffinities(for: user, now: now) == batched.categoryAffinities(for: user, now: now))
            for c in 0..<12 {
                #expect(one.userCategoryFeatures(for: user, category: "cat-\(c)", now: now)
                        == batched.userCategoryFeatures(for: user, category: "cat-\(c)", now: now), "\(user) cat-\(c)")
            }
        }
        for k in 0..<80 {
            #expect(one.itemFeatures(for: "item-\(k)", now: now) == batched.itemFeatures(for: "item-\(k)", now: now), "item-\(k)")
        }
        #expect(one.globalFeatures(now: now) == batched.globalFeatures(now: now))
        // The whole user state, through the store.
        one.flushToStore()
        batched.flushToStore()
        for u in 0..<60 {
            #expect(oneStore.load(userID: "user-\(u)") == batchStore.load(userID: "user-\(u)"), "user-\(u)")
        }
    }

    @Test func rawArrayViewsMatchSwiftArrays() {
        // The prefetch stages read arrays through RawArray; its layout must be Swift's.
        func check<T>(_ array: [T]) {
            withUnsafePointer(to: array) { variable in
                let raw = RawArray(at: UnsafeRawPointer(variable))
                #expect(raw.count == array.count)
                array.withUnsafeBufferPointer { buffer in
                    if let base = buffer.baseAddress { #expect(raw.elements == UnsafeRawPointer(base)) }
                }
            }
        }
        check([UInt64](repeating: 7, count: 5))
        check([UInt64]())
        check(["a", "b", "c"])
        check([CategoryFeatureState(name: "x", nameHash: 1, affinity: DecayedCounter(halfLife: 60), lastSeen: 0)])
        check(Array(repeating: UserFeatureState(), count: 3))
    }

    @Test func concurrentBatchesAndSingleEventsDoNotDeadlockAndCountEverything() async throws {
        let engine = try Self.engine(InMemoryFeatureStateStore())
        let sequential = try Self.engine(InMemoryFeatureStateStore())
        let events = Self.events(seed: 7, count: 8_000).map { $0.stamped(at: Self.start) }
        for e in events { sequential.ingest(e, receivedAt: 0) }
        await withTaskGroup(of: Void.self) { group in
            for part in 0..<4 {
                let slice = events.enumerated().filter { $0.offset % 4 == part }.map(\.element)
                group.addTask {
                    var i = 0
                    while i < slice.count {
                        let end = min(slice.count, i + 97)
                        if part == 0 {
                            for e in slice[i..<end] { engine.ingest(e, receivedAt: 0) }
                        } else {
                            engine.ingest(slice[i..<end], receivedAt: 0)
                        }
                        i = end
                    }
                }
            }
        }
        #expect(engine.metrics().events == 8_000)
        let now = Self.start + 8_000 * 10
        let ga = engine.globalFeatures(now: now), gb = sequential.globalFeatures(now: now)
        #expect(ga["global_events.count.24h"] == gb["global_events.count.24h"])
    }
}
