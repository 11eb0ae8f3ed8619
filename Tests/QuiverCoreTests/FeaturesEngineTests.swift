// Tests of RealTimeFeatureEngine: outputs against a brute-force reference over random streams,
// late and backfilled events, version load and rollback without state loss, the resident-user
// bound with eviction to the store, item/global/category features, and concurrent ingestion.
import Foundation
import Testing
@testable import QuiverCore

@Suite struct FeaturesEngineTests {
    static let start = 1_764_000_000.0
    static let windows: [FeatureWindow] = [.oneMinute, .oneHour, .oneDay, .oneWeek]

    static func clickSet(version: String = "v1") -> FeatureDefinitionSet {
        FeatureDefinitionSet(version: version, definitions: [
            FeatureDefinition(name: "clicks", key: .user, eventTypes: [.click],
                              aggregations: [.count, .sum, .mean, .rate, .min, .max, .distinct, .decayedCount, .recency],
                              windows: windows),
            FeatureDefinition(name: "views", key: .user, eventTypes: [.view], aggregations: [.count], windows: [.oneHour]),
        ])
    }

    func value(_ engine: RealTimeFeatureEngine, _ user: String, _ name: String, now: Double) throws -> Double {
        let index = try #require(engine.vectorLayout.index(of: name), "no slot \(name)")
        return engine.featureVector(for: user, now: now).values[index]
    }

    /// Reference values of the `clicks` outputs from the raw events.
    func reference(_ events: [FeatureTestEvent], now: Double, buckets: Int = 60) -> [String: Double] {
        var out: [String: Double] = [:]
        for w in Self.windows {
            let g = WindowGeometry(window: w, bucketCount: buckets)
            let nb = g.bucket(of: now)
            let inside = events.filter { g.contains(bucket: g.bucket(of: $0.time), nowBucket: nb) }
            let sum = inside.reduce(0) { $0 + $1.value }
            out["clicks.count.\(w.name)"] = Double(inside.count)
            out["clicks.sum.\(w.name)"] = sum
            out["clicks.mean.\(w.name)"] = inside.isEmpty ? 0 : sum / Double(inside.count)
            out["clicks.rate.\(w.name)"] = Double(inside.count) * 3_600 / Double(w.seconds)
            out["clicks.min.\(w.name)"] = inside.map(\.value).min() ?? 0
            out["clicks.max.\(w.name)"] = inside.map(\.value).max() ?? 0
            out["clicks.distinct.\(w.name)"] = Double(Set(inside.map(\.item)).count)
            out["clicks.decayed_count.\(w.name)"] = events.reduce(0) { $0 + pow(2, -(now - $1.time) / Double(w.seconds)) }
        }
        out["clicks.recency"] = max(0, now - (events.map(\.time).max() ?? now))
        return out
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func userOutputsMatchBruteForce(seed: UInt64) throws {
        let engine = try RealTimeFeatureEngine(definitions: Self.clickSet(), configuration: .init(shardCount: 4))
        let users = ["alice", "bob", "carol"]
        var perUser: [String: [FeatureTestEvent]] = [:]
        let stream = featureRandomStream(seed: seed, count: 1_500, step: 30)
        var rng = FeatureTestRandom(seed: seed)
        for (i, e) in stream.enumerated() {
            let user = users[rng.below(users.count)]
            engine.ingest(UserEvent(userID: user, itemID: e.item, type: .click, value: e.value, timestamp: e.time),
                          receivedAt: 0)
            perUser[user, default: []].append(e)
            guard i % 250 == 249 else { continue }
            let now = stream.prefix(i + 1).map(\.time).max()! + rng.unit() * 7_200
            for user in users {
                let expected = reference(perUser[user] ?? [], now: now)
                let vector = engine.featureVector(for: user, now: now)
                for (name, want) in expected {
                    let got = vector.values[try #require(engine.vectorLayout.index(of: name))]
                    #expect(abs(got - want) <= 1e-9 * max(1, abs(want)), "\(user) \(name) at \(now)")
                }
            }
        }
    }

    @Test func lateEventsMoveLongWindowsAndDecayButNotExpiredWindows() throws {
        let engine = try RealTimeFeatureEngine(definitions: Self.clickSet())
        let now = Self.start
        engine.ingest(UserEvent(userID: "u", itemID: "a", type: .click, timestamp: now), receivedAt: now)
        let decayedBefore = try value(engine, "u", "clicks.decayed_count.7d", now: now)
        engine.ingest(UserEvent(userID: "u", itemID: "b", type: .click, timestamp: now - 2 * 86_400), receivedAt: now)
        #expect(try value(engine, "u", "clicks.count.1h", now: now) == 1)
        #expect(try value(engine, "u", "clicks.count.24h", now: now) == 1)
        #expect(try value(engine, "u", "clicks.count.7d", now: now) == 2)
        #expect(try value(engine, "u", "clicks.distinct.7d", now: now) == 2)
        #expect(try value(engine, "u", "clicks.decayed_count.7d", now: now) > decayedBefore)
        #expect(try value(engine, "u", "clicks.recency", now: now + 10) == 10, "recency follows the newest event")
    }

    @Test func missingTimestampIsStampedWithReceiveTime() throws {
        let engine = try RealTimeFeatureEngine(definitions: Self.clickSet())
        engine.ingest(UserEvent(userID: "u", itemID: "a", type: .click), receivedAt: Self.start)
        #expect(try value(engine, "u", "clicks.recency", now: Self.start + 5) == 5)
    }

    @Test func backfillOfMonthsLandsInWindowsByItsOwnTime() throws {
        let engine = try RealTimeFeatureEngine(definitions: Self.clickSet())
        var events: [FeatureTestEvent] = []
        var t = Self.start - 120 * 86_400
        var i = 0
        while t < Self.start {
            events.append(FeatureTestEvent(time: t, value: Double(i % 5), item: "item-\(i % 97)"))
            engine.ingest(UserEvent(userID: "u", itemID: "item-\(i % 97)", type: .click, value: Double(i % 5), timestamp: t),
                          receivedAt: Self.start)
            t += 3_000
            i += 1
        }
        #expect(i > 3_000)
        let expected = reference(events, now: Self.start)
        for name in ["clicks.count.24h", "clicks.count.7d", "clicks.sum.7d", "clicks.distinct.7d", "clicks.decayed_count.24h"] {
            let got = try value(engine, "u", name, now: Self.start)
            #expect(abs(got - expected[name]!) <= 1e-9 * max(1, expected[name]!), "\(name)")
        }
    }

    @Test func loadAndRollbackKeepStateWithoutRestart() throws {
        let engine = try RealTimeFeatureEngine(definitions: Self.clickSet(version: "v1"))
        let t = Self.start
        engine.ingest(UserEvent(userID: "u", itemID: "a", type: .click, timestamp: t), receivedAt: t)
        engine.ingest(UserEvent(userID: "u", itemID: "a", type: .view, timestamp: t), receivedAt: t)

        var v2 = Self.clickSet(version: "v2")
        v2.definitions.removeLast()  // drop `views`
        v2.definitions.append(FeatureDefinition(name: "buys", key: .user, eventTypes: [.purchase], aggregations: [.sum],
                                                windows: [.oneDay]))
        v2.definitions[0].name = "taps"  // renamed, same stream: keeps its state
        try engine.load(v2)
        #expect(engine.activeVersion == "v2")
        #expect(engine.versionHistory == ["v1", "v2"])
        #expect(engine.vectorLayout.index(of: "views.count.1h") == nil)
        #expect(try value(engine, "u", "taps.count.1h", now: t) == 1)

        engine.ingest(UserEvent(userID: "u", itemID: "b", type: .view, timestamp: t + 1), receivedAt: t)
        engine.ingest(UserEvent(userID: "u", itemID: "b", type: .purchase, value: 30, timestamp: t + 2), receivedAt: t)
        #expect(try value(engine, "u", "buys.sum.24h", now: t + 2) == 30)

        try engine.rollback()
        #expect(engine.activeVersion == "v1")
        #expect(try value(engine, "u", "views.count.1h", now: t + 2) == 2, "v1 streams stayed live under v2")
        #expect(try value(engine, "u", "clicks.count.1h", now: t + 2) == 1)
        #expect(throws: FeatureDefinitionError.self) { try engine.rollback() }
    }

    @Test func validatorFollowsTheActiveCustomTypes() throws {
        let engine = try RealTimeFeatureEngine(definitions: .standard)
        try engine.eventValidator().validate(UserEvent(userID: "u", type: "share"))
        var v2 = FeatureDefinitionSet.standard
        v2.version = "no-share"
        v2.customEventTypes = []
        try engine.load(v2)
        #expect(throws: EventValidationError.self) { try engine.eventValidator().validate(UserEvent(userID: "u", type: "share")) }
    }

    @Test func invalidOrRepeatedVersionsAreRefusedAndTheActiveOneStays() throws {
        let engine = try RealTimeFeatureEngine(definitions: Self.clickSet(version: "v1"))
        var bad = Self.clickSet(version: "v2")
        bad.definitions[0].windows = []
        #expect(throws: FeatureDefinitionError.self) { try engine.load(bad) }
        #expect(throws: FeatureDefinitionError(field: "version", message: "version v1 is already active")) {
            try engine.load(Self.clickSet(version: "v1"))
        }
        #expect(engine.activeVersion == "v1")
    }

    @Test func residentUsersStayBoundedAndEvictedStateComesBack() throws {
        let store = InMemoryFeatureStateStore()
        let engine = try RealTimeFeatureEngine(definitions: .standard,
                                               configuration: .init(shardCount: 2, maxResidentUsers: 8), store: store)
        for u in 0..<100 {
            for k in 0..<5 {
                engine.ingest(UserEvent(userID: "user-\(u)", itemID: "item-\(k)", type: .click,
                                        timestamp: Self.start + Double(u * 10 + k)), receivedAt: 0)
            }
        }
        let m = engine.metrics()
        #expect(m.residentUsers <= 8)
        #expect(m.evictions >= 92)
        #expect(store.count >= 92)
        #expect(m.residentBytes <= m.residentUsers * m.maxBytesPerUser)
        let clicks = try #require(engine.vectorLayout.index(of: "user_clicks.count.24h"))
        #expect(engine.featureVector(for: "user-0", now: Self.start + 1_000).values[clicks] == 5, "reloaded from the store")
        #expect(engine.metrics().storeLoads >= 1)
        #expect(engine.metrics().residentUsers <= 8)
    }

    @Test func aHeavyUserStaysWithinTheReportedBound() throws {
        let engine = try RealTimeFeatureEngine(definitions: .standard)
        for c in 0..<100 { engine.upsertItem(CatalogItem(itemID: "item-\(c)", categories: ["c\(c)", "g\(c % 3)"])) }
        var rng = FeatureTestRandom(seed: 77)
        let types: [EventType] = [.view, .click, .addToCart, .purchase, .rating, .dwell]
        for i in 0..<20_000 {
            engine.ingest(UserEvent(userID: "heavy", itemID: "item-\(rng.below(100))", type: types[rng.below(6)],
                                    value: Double(rng.below(5)), timestamp: Self.start + Double(i) * 30), receivedAt: 0)
        }
        let m = engine.metrics()
        #expect(m.residentUsers == 1)
        #expect(m.residentBytes > 10_000)
        #expect(m.residentBytes <= m.maxBytesPerUser)
        #expect(engine.categoryAffinities(for: "heavy", now: Self.start + 600_000, limit: 100).count == 32)
    }

    /// A store that keeps JSON bytes, as a persistent adapter would.
    final class FeatureJSONStateStore: FeatureStateStore, @unchecked Sendable {
        private let lock = NSLock()
        private var blobs: [String: Data] = [:]

        // State uses +-infinity as "none yet" sentinels, so JSON needs a non-conforming float strategy.
        static let strategy = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

        func save(_ state: UserFeatureState, for userID: String) {
            let encoder = JSONEncoder()
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: Self.strategy.positiveInfinity, negativeInfinity: Self.strategy.negativeInfinity,
                nan: Self.strategy.nan)
            let data = try! encoder.encode(state)
            lock.withLock { blobs[userID] = data }
        }

        func load(userID: String) -> UserFeatureState? {
            guard let data = lock.withLock({ blobs[userID] }) else { return nil }
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(
                positiveInfinity: Self.strategy.positiveInfinity, negativeInfinity: Self.strategy.negativeInfinity,
                nan: Self.strategy.nan)
            return try! decoder.decode(UserFeatureState.self, from: data)
        }
    }

    @Test func evictedStateSurvivesAJSONRoundTrip() throws {
        let engine = try RealTimeFeatureEngine(definitions: .standard, configuration: .init(shardCount: 1, maxResidentUsers: 1),
                                               store: FeatureJSONStateStore())
        let reference = try RealTimeFeatureEngine(definitions: .standard)
        engine.upsertItem(CatalogItem(itemID: "i1", categories: ["books"]))
        reference.upsertItem(CatalogItem(itemID: "i1", categories: ["books"]))
        var rng = FeatureTestRandom(seed: 3)
        for k in 0..<300 {
            let e = UserEvent(userID: "user-\(rng.below(3))", itemID: rng.below(2) == 0 ? "i1" : "i\(rng.below(9))",
                              type: [.view, .click, .purchase][rng.below(3)], value: Double(rng.below(4)),
                              timestamp: Self.start + Double(k) * 13)
            engine.ingest(e, receivedAt: 0)
            reference.ingest(e, receivedAt: 0)
        }
        #expect(engine.metrics().evictions > 100)
        let now = Self.start + 4_000
        for u in 0..<3 {
            let a = engine.features(for: "user-\(u)", now: now)
            let b = reference.features(for: "user-\(u)", now: now)
            #expect(a == b)
        }
    }

    @Test func storedStateFindsItsStreamsUnderAnotherDefinitionHistory() throws {
        // A restart with a changed config: same streams, other order, a new one in front.
        let store = InMemoryFeatureStateStore()
        let before = try RealTimeFeatureEngine(definitions: Self.clickSet(version: "v1"), store: store)
        for k in 0..<20 {
            before.ingest(UserEvent(userID: "u", itemID: "i\(k % 4)", type: k % 3 == 0 ? .view : .click, value: Double(k),
                                    timestamp: Self.start + Double(k)), receivedAt: 0)
        }
        before.flushToStore()
        var changed = Self.clickSet(version: "v9")
        changed.definitions.reverse()
        changed.definitions.insert(FeatureDefinition(name: "buys", key: .user, eventTypes: [.purchase], aggregations: [.count],
                                                     windows: [.oneDay]), at: 0)
        let after = try RealTimeFeatureEngine(definitions: changed, store: store)
        let now = Self.start + 30
        for name in ["clicks.count.1h", "clicks.sum.24h", "clicks.distinct.7d", "clicks.decayed_count.1h", "views.count.1h"] {
            #expect(try value(after, "u", name, now: now) == value(before, "u", name, now: now), "\(name)")
        }
        #expect(try value(after, "u", "buys.count.24h", now: now) == 0)
        #expect(try value(after, "u", "clicks.count.1h", now: now) > 0)
    }

    @Test func unknownItemsCannotGrowItemStateBeyondTheBound() throws {
        let engine = try RealTimeFeatureEngine(definitions: .standard,
                                               configuration: .init(shardCount: 2, maxItems: 10))
        engine.upsertItem(CatalogItem(itemID: "catalog", categories: ["x"]))
        for k in 0..<100 {
            engine.ingest(UserEvent(userID: "u", itemID: "junk-\(k)", type: .view, timestamp: Self.start + Double(k)),
                          receivedAt: 0)
        }
        engine.ingest(UserEvent(userID: "u", itemID: "catalog", type: .view, timestamp: Self.start + 100), receivedAt: 0)
        let m = engine.metrics()
        #expect(m.items <= 11)
        #expect(m.skippedUnknownItems >= 89)
        #expect(engine.itemFeatures(for: "catalog", now: Self.start + 100)["item_views.count.1h"] == 1)
        #expect(try value(engine, "u", "user_views.count.1h", now: Self.start + 100) == 101, "users still count them")
    }

    @Test func hitRateCountsResidentLookups() throws {
        let engine = try RealTimeFeatureEngine(definitions: .standard)
        for k in 0..<10 {
            engine.ingest(UserEvent(userID: "u", itemID: "i", type: .view, timestamp: Self.start + Double(k)), receivedAt: 0)
        }
        _ = engine.features(for: "u", now: Self.start + 10)
        let m = engine.metrics()
        #expect(m.lookups == 11)
        #expect(m.hits == 10)
        #expect(abs(m.hitRate - 10.0 / 11) < 1e-12)
        #expect(m.events == 10)
    }

    @Test func itemPopularitySmoothedCtrAndTrending() throws {
        let engine = try RealTimeFeatureEngine(definitions: .standard)
        let t = Self.start
        for k in 0..<40 {
            engine.ingest(UserEvent(userID: "u\(k % 7)", itemID: "hot", type: .view, timestamp: t - Double(k) * 60), receivedAt: t)
        }
        for k in 0..<10 {
            engine.ingest(UserEvent(userID: "u\(k)", itemID: "hot", type: .click, timestamp: t - Double(k) * 60), receivedAt: t)
        }
        let f = engine.itemFeatures(for: "hot", now: t)
        #expect(f["item_views.count.24h"] == 40)
        #expect(f["item_clicks.count.24h"] == 10)
        #expect(abs(f["item_ctr_24h"]! - (10 + 0.05 * 50) / (40 + 50)) < 1e-12)
        #expect(f["item_events.distinct.24h"] == 10, "distinct counts users for item keys")
        let shortRate = 50.0 / 3_600, longRate = 51.0 / 604_800
        #expect(abs(f["item_trending"]! - shortRate / longRate) < 1e-9)
        #expect(engine.itemFeatures(for: "unknown", now: t)["item_ctr_24h"] == 0.05, "no data reads as the prior")
    }

    @Test func globalFeaturesMergeEveryShard() throws {
        let engine = try RealTimeFeatureEngine(definitions: .standard, configuration: .init(shardCount: 8))
        for u in 0..<50 {
            engine.ingest(UserEvent(userID: "user-\(u)", itemID: "i", type: u % 5 == 0 ? .click : .view,
                                    timestamp: Self.start), receivedAt: 0)
        }
        let g = engine.globalFeatures(now: Self.start)
        #expect(g["global_events.count.24h"] == 50)
        #expect(g["global_events.distinct.1h"] == 50)
        #expect(g["global_clicks.count.24h"] == 10)
        #expect(abs(g["global_ctr_24h"]! - (10 + 5) / (40 + 100)) < 1e-12)
    }

    @Test func categoryAffinitiesFollowTheCatalog() throws {
        var set = FeatureDefinitionSet.standard
        set.maxCategoriesPerUser = 3
        let engine = try RealTimeFeatureEngine(definitions: set)
        engine.upsertItem(CatalogItem(itemID: "boot", categories: ["shoes", "outdoor"]))
        engine.upsertItem(CatalogItem(itemID: "tent", categories: ["outdoor"]))
        for k in 0..<3 { engine.ingest(UserEvent(userID: "u", itemID: "tent", type: .view, timestamp: Self.start + Double(k)), receivedAt: 0) }
        engine.ingest(UserEvent(userID: "u", itemID: "boot", type: .click, timestamp: Self.start + 5), receivedAt: 0)
        let affinities = engine.categoryAffinities(for: "u", now: Self.start + 5)
        #expect(affinities.map(\.category) == ["outdoor", "shoes"])
        #expect(abs(affinities.reduce(0) { $0 + $1.score } - 1) < 1e-12)
        let outdoor = engine.userCategoryFeatures(for: "u", category: "outdoor", now: Self.start + 5)
        #expect(outdoor["user_category_events.count.1h"] == 4)
        #expect(engine.userCategoryFeatures(for: "u", category: "shoes", now: Self.start + 5)["user_category_events.count.24h"] == 1)
        for c in ["a", "b", "c", "d"] {
            engine.upsertItem(CatalogItem(itemID: "x-\(c)", categories: [c]))
            engine.ingest(UserEvent(userID: "u", itemID: "x-\(c)", type: .view, timestamp: Self.start + 10), receivedAt: 0)
        }
        #expect(engine.categoryAffinities(for: "u", now: Self.start + 10).count == 3, "capped per user")
    }

    @Test func temporalAndContextualFeaturesComeFromNowAndTheRequest() throws {
        let engine = try RealTimeFeatureEngine(definitions: .standard)
        // 2025-11-24 16:00:00 UTC is a Monday.
        let monday4pm = 1_764_000_000.0
        engine.ingest(UserEvent(userID: "u", itemID: "i", type: .view, timestamp: monday4pm - 600), receivedAt: 0)
        engine.ingest(UserEvent(userID: "u", itemID: "i", type: .view, timestamp: monday4pm - 60), receivedAt: 0)
        let context = EventContext(device: "Mobile", locale: "de-DE", page: nil,
                                   attributes: ["utc_offset_minutes": "60", "cart_value": "12.5", "ab": "red"])
        let f = engine.features(for: "u", context: context, now: monday4pm)
        #expect(f.temporal["hour_of_day"] == 17)
        #expect(f.temporal["day_of_week"] == 0)
        #expect(f.temporal["is_weekend"] == 0)
        #expect(f.temporal["session_age_seconds"] == 600)
        #expect(f.temporal["session_event_count"] == 2)
        #expect(f.temporal["time_since_last_event_seconds"] == 60)
        #expect(f.contextual["device_mobile"] == 1)
        #expect(f.contextual["has_locale"] == 1)
        #expect(f.contextual["has_page"] == 0)
        #expect(f.contextual["ctx.cart_value"] == 12.5)
        #expect(f.contextual["ctx.ab"] == nil)
        #expect(f.behavioral["user_views.count.1h"] == 2)
        #expect(f.aggregated["user_ctr_24h"] != nil)
        #expect(f.recentItems["user_events"] == ["i", "i"])
        #expect(f.version == "2026-11-25.1")
        let later = engine.features(for: "u", now: monday4pm + 3_600)
        #expect(later.temporal["session_age_seconds"] == 0, "a 30-minute gap ends the session")
    }

    @Test func vectorLayoutIsStableAndEveryGroupIsPresent() throws {
        let a = try RealTimeFeatureEngine(definitions: .standard).vectorLayout
        let b = try RealTimeFeatureEngine(definitions: .standard).vectorLayout
        #expect(a == b)
        #expect(a.names.prefix(8) == ArraySlice(FeatureVectorLayout.temporalNames))
        #expect(a.names[FeatureVectorLayout.userOutputOffset] == "user_views.count.5m")
        #expect(a.names.suffix(2) == ArraySlice(FeatureVectorLayout.categorySummaryNames))
        #expect(Set(a.groups) == [.temporal, .contextual, .behavioral, .aggregated])
        #expect(Set(a.names).count == a.count)
        let unknown = try RealTimeFeatureEngine(definitions: .standard).featureVector(for: "nobody", now: Self.start)
        #expect(unknown.values.count == a.count)
        #expect(unknown.values[a.index(of: "time_since_last_event_seconds")!] == featureRecencyCap)
    }

    @Test func concurrentIngestionMatchesSequential() async throws {
        let set = FeatureDefinitionSet.standard
        let concurrent = try RealTimeFeatureEngine(definitions: set, configuration: .init(shardCount: 4))
        let sequential = try RealTimeFeatureEngine(definitions: set, configuration: .init(shardCount: 1))
        var rng = FeatureTestRandom(seed: 5)
        let types: [EventType] = [.view, .click, .purchase, .addToCart]
        let events = (0..<4_000).map { i in
            UserEvent(userID: "user-\(rng.below(40))", itemID: "item-\(rng.below(60))", type: types[rng.below(4)],
                      value: Double(rng.below(9)), timestamp: Self.start + Double(i) - Double(rng.below(100)))
        }
        for e in events { sequential.ingest(e, receivedAt: 0) }
        await withTaskGroup(of: Void.self) { group in
            for part in 0..<4 {
                let slice = events.enumerated().filter { $0.offset % 4 == part }.map(\.element)
                group.addTask { for e in slice { concurrent.ingest(e, receivedAt: 0) } }
            }
        }
        let now = Self.start + 4_000
        #expect(concurrent.metrics().events == 4_000)
        for u in 0..<40 {
            let a = concurrent.featureVector(for: "user-\(u)", now: now).values
            let b = sequential.featureVector(for: "user-\(u)", now: now).values
            for i in a.indices { #expect(abs(a[i] - b[i]) <= 1e-9 * max(1, abs(b[i]))) }
        }
        let ga = concurrent.globalFeatures(now: now), gb = sequential.globalFeatures(now: now)
        #expect(ga["global_events.count.24h"] == gb["global_events.count.24h"])
        #expect(ga["global_events.distinct.1h"] == 40)
    }
}

@Suite struct BoundedFeatureStateStoreTests {
    @Test func keepsAtMostItsCapacityAndDropsTheOldest() throws {
        let store = BoundedFeatureStateStore(capacity: 3)
        let engine = try RealTimeFeatureEngine(definitions: .standard,
                                               configuration: FeatureEngineConfiguration(shardCount: 1, maxResidentUsers: 2),
                                               store: store)
        for i in 0..<10 {
            engine.ingest(UserEvent(userID: "u\(i)", itemID: "i", type: .view, timestamp: 1_000 + Double(i)), receivedAt: 1_000 + Double(i))
        }
        #expect(store.count <= 3)
        #expect(store.dropped >= 10 - 2 - 3)
        // A user still in the store comes back with its state; the store then forgets it.
        let kept = (0..<10).map { "u\($0)" }.filter { store.load(userID: $0) != nil }
        #expect(!kept.isEmpty)
        #expect(store.count == 0)
    }
}
