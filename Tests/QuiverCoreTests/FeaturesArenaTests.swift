// Tests of StreamArena, the contiguous per-key state of the engine: every aggregation against
// FeatureAccumulator (the earlier per-stream structures) on random streams with late events, the
// exchange form round trip, and a state encoded by the previous release still loading.
import Foundation
import Testing
@testable import QuiverCore

@Suite struct FeaturesArenaTests {
    static let windows: [FeatureWindow] = [.oneMinute, .fiveMinutes, .oneHour, .oneDay, FeatureWindow(seconds: 90)]

    /// Streams of several shapes sharing one arena: full buckets with a small distinct cap and
    /// last-N, counting-only buckets, decay only, recency only, sums.
    static let specs: [FeatureStreamSpec] = [
        FeatureDefinition(name: "all", key: .user, eventTypes: [],
                          aggregations: [.count, .sum, .mean, .min, .max, .rate, .distinct, .decayedCount, .recency, .lastN],
                          windows: windows, distinctCap: 12, lastN: 5),
        FeatureDefinition(name: "counts", key: .user, eventTypes: [], aggregations: [.count, .rate],
                          windows: [.oneHour, .oneMinute, .oneDay]),
        FeatureDefinition(name: "decay", key: .user, eventTypes: [], aggregations: [.decayedCount], windows: [.oneHour, .oneWeek]),
        FeatureDefinition(name: "recency", key: .user, eventTypes: [], aggregations: [.recency], windows: [.oneHour]),
        FeatureDefinition(name: "sums", key: .user, eventTypes: [], aggregations: [.sum, .distinct], windows: [.oneWeek, .fiveMinutes],
                          distinctCap: 300),
    ].map { FeatureStreamSpec(definition: $0, bucketsPerWindow: 60) }

    /// The accumulator as the arena gives it back: counting-only buckets carry no sum, min, max.
    func portable(_ a: FeatureAccumulator, spec: FeatureStreamSpec) -> FeatureAccumulator {
        guard spec.bucketWords == 2 else { return a }
        let storage = a.buckets.rawStorage.enumerated().map { i, b in
            i < spec.arenaWindows ? b : WindowBucketStore.Bucket(index: b.index, count: b.count, sum: 0, min: 0, max: 0)
        }
        return FeatureAccumulator(buckets: WindowBucketStore(storage: storage, windowCount: a.buckets.windowCount),
                                  distinct: a.distinct, recent: a.recent, newest: a.newest, lifetimeCount: a.lifetimeCount)
    }

    @Test(arguments: [21, 22, 23, 24] as [UInt64])
    func arenaMatchesTheAccumulatorsOnRandomStreams(seed: UInt64) {
        let specs = Self.specs
        var arena = StreamArena()
        var reference = specs.map { FeatureAccumulator(spec: $0) }
        var touched = Array(repeating: false, count: specs.count)
        var rng = FeatureTestRandom(seed: seed)
        let stream = featureRandomStream(seed: seed, count: 4_000, step: 11, items: 60)
        var newest = -Double.infinity
        for (i, e) in stream.enumerated() {
            // Each event feeds a random subset of the streams, in a random order of first use.
            for id in specs.indices where rng.below(3) > 0 {
                let party: String? = rng.below(10) == 0 ? nil : e.item
                let hash = party.map(FeatureHash.fnv1a) ?? 0
                arena.add(stream: id, spec: specs[id], time: e.time, value: e.value, party: party, partyHash: hash)
                reference[id].add(time: e.time, value: e.value, party: party, partyHash: hash, spec: specs[id])
                touched[id] = true
            }
            newest = max(newest, e.time)
            guard i % 97 == 0 else { continue }
            for now in [newest, newest + rng.unit() * 5_000] {
                for (id, spec) in specs.enumerated() {
                    for w in spec.windows.indices {
                        let a = arena.summary(stream: id, window: w, spec: spec, at: now)
                        let b = reference[id].summary(window: w, spec: spec, at: now)
                        #expect(a.count == b.count, "stream \(id) window \(w)")
                        if spec.bucketWords == 5 { #expect(a == b, "stream \(id) window \(w)") }
                        #expect(arena.distinctCount(stream: id, window: w, spec: spec, at: now)
                                == reference[id].distinctCount(window: w, spec: spec, at: now))
                        #expect(arena.decayedCount(stream: id, window: w, spec: spec, at: now)
                                == reference[id].decayedCount(window: w, spec: spec, at: now))
                    }
                    #expect(arena.newest(stream: id) == reference[id].newest)
                    #expect(arena.recentItems(stream: id) == reference[id].recentItems)
                }
            }
            let exported = arena.accumulators()
            for id in specs.indices where touched[id] {
                #expect(exported[id] == portable(reference[id], spec: specs[id]), "stream \(id) after \(i) events")
            }
        }
        #expect(reference[0].distinct.saturated, "the small distinct cap was exercised")
        // The exchange form comes back into an equal arena.
        let back = StreamArena(arena.accumulators(), specs: specs)
        #expect(back.accumulators() == arena.accumulators())
    }

    @Test func remapMovesRegionsAndDropsTheRest() {
        let specs = Self.specs
        var arena = StreamArena()
        for k in 0..<50 {
            for id in [4, 0, 2] {
                arena.add(stream: id, spec: specs[id], time: 1_000 + Double(k) * 30, value: Double(k), party: "i\(k % 7)",
                          partyHash: FeatureHash.fnv1a("i\(k % 7)"))
            }
        }
        let before = arena.accumulators()
        arena.remap { $0 == 2 ? nil : $0 }
        #expect(arena.streamIDs == [0, 4])
        #expect(arena.accumulators()[0] == before[0])
        #expect(arena.accumulators()[4] == before[4])
        #expect(arena.accumulators()[2].isEmpty)
    }

    // MARK: A state written by the previous release (per-stream FeatureAccumulator arrays)

    static let fixtureSet = FeatureDefinitionSet(version: "fixture-1", definitions: [
        FeatureDefinition(name: "clicks", key: .user, eventTypes: [.click],
                          aggregations: [.count, .sum, .mean, .rate, .min, .max, .distinct, .decayedCount, .recency],
                          windows: [.oneMinute, .oneHour, .oneDay]),
        FeatureDefinition(name: "views", key: .user, eventTypes: [.view], aggregations: [.count, .rate],
                          windows: [.fiveMinutes, .oneDay]),
        FeatureDefinition(name: "events", key: .user, eventTypes: [], aggregations: [.count, .distinct, .lastN],
                          windows: [.oneHour], distinctCap: 4, lastN: 3),
        FeatureDefinition(name: "cat", key: .userCategory, eventTypes: [], aggregations: [.count, .decayedCount],
                          windows: [.oneHour, .oneDay]),
    ])

    /// `UserFeatureState` of user "old" as the previous release encoded it (JSON, sorted keys).
    static let previousReleaseJSON = """
        {"categories":[{"affinity":{"halfLife":604800,"reference":1764003150,"value":2.9929411984454073},"la\
        stSeen":1764003150,"name":"books","streams":[{"buckets":{"storage":[{"count":2.1043278479968697,"ind\
        ex":3,"max":0,"min":0,"sum":1764003150},{"count":2.9511087299509517,"index":2,"max":0,"min":0,"sum":\
        1764003150},{"count":2,"index":1225000,"max":3,"min":1,"sum":4},{"count":1,"index":1225002,"max":2,"\
        min":2,"sum":2},{"count":1,"index":29400000,"max":3,"min":3,"sum":3},{"count":1,"index":29400002,"ma\
        x":1,"min":1,"sum":1},{"count":1,"index":29400052,"max":2,"min":2,"sum":2}],"windowCount":2},"distin\
        ct":{"cap":0,"lastSeen":[],"newest":"-inf","saturated":false},"initialized":true,"lifetimeCount":3,"\
        newest":1764003150,"recent":{"held":[],"limit":0}}]},{"affinity":{"halfLife":604800,"reference":1764\
        003150,"value":2.9929411984454073},"lastSeen":1764003150,"name":"sale","streams":[{"buckets":{"stora\
        ge":[{"count":2.1043278479968697,"index":3,"max":0,"min":0,"sum":1764003150},{"count":2.951108729950\
        9517,"index":2,"max":0,"min":0,"sum":1764003150},{"count":2,"index":1225000,"max":3,"min":1,"sum":4}\
        ,{"count":1,"index":1225002,"max":2,"min":2,"sum":2},{"count":1,"index":29400000,"max":3,"min":3,"su\
        m":3},{"count":1,"index":29400002,"max":1,"min":1,"sum":1},{"count":1,"index":29400052,"max":2,"min"\
        :2,"sum":2}],"windowCount":2},"distinct":{"cap":0,"lastSeen":[],"newest":"-inf","saturated":false},"\
        initialized":true,"lifetimeCount":3,"newest":1764003150,"recent":{"held":[],"limit":0}}]},{"affinity\
        ":{"halfLife":604800,"reference":1764003400,"value":2.995675428433742},"lastSeen":1764003400,"name":\
        "music","streams":[{"buckets":{"storage":[{"count":2.4475091818898713,"index":3,"max":0,"min":0,"sum\
        ":1764003400},{"count":2.970044297070057,"index":2,"max":0,"min":0,"sum":1764003400},{"count":1,"ind\
        ex":1225000,"max":1,"min":1,"sum":1},{"count":2,"index":1225002,"max":9,"min":7,"sum":16},{"count":1\
        ,"index":29400000,"max":1,"min":1,"sum":1},{"count":1,"index":29400050,"max":7,"min":7,"sum":7},{"co\
        unt":1,"index":29400056,"max":9,"min":9,"sum":9}],"windowCount":2},"distinct":{"cap":0,"lastSeen":[]\
        ,"newest":"-inf","saturated":false},"initialized":true,"lifetimeCount":3,"newest":1764003400,"recent\
        ":{"held":[],"limit":0}}]}],"categoryStreamSignatures":["user_category||1h,24h|count,decayed_count|6\
        0|0|0"],"eventCount":10,"firstEventTime":1764000000,"generation":0,"newestEventTime":1764003400,"ses\
        sionEventCount":6,"sessionStart":1764003000,"streamSignatures":["user|click|1m,1h,24h|count,decayed_\
        count,distinct,max,mean,min,rate,recency,sum|60|256|0","user|view|5m,24h|count,rate|60|0|0","user||1\
        h|count,distinct,last_n|60|4|3"],"streams":[{"buckets":{"storage":[{"count":1.738007719451324,"index\
        ":2,"max":0,"min":0,"sum":1764003150},{"count":4.060389721397478,"index":5,"max":0,"min":0,"sum":176\
        4003150},{"count":4.949074444192698,"index":2,"max":0,"min":0,"sum":1764003150},{"count":2,"index":1\
        225000,"max":3,"min":-2,"sum":1},{"count":3,"index":1225002,"max":7,"min":1,"sum":10},{"count":1,"in\
        dex":29400000,"max":3,"min":3,"sum":3},{"count":1,"index":29400001,"max":-2,"min":-2,"sum":-2},{"cou\
        nt":1,"index":29400050,"max":7,"min":7,"sum":7},{"count":1,"index":29400051,"max":1,"min":1,"sum":1}\
        ,{"count":1,"index":29400052,"max":2,"min":2,"sum":2},{"count":1,"index":1764003100,"max":1,"min":1,\
        "sum":1},{"count":1,"index":1764003150,"max":2,"min":2,"sum":2}],"windowCount":3},"distinct":{"cap":\
        256,"lastSeen":[627968507125688624,1764003100,627974004683829679,1764003150,627975104195457890,17640\
        03000,627976203707086101,1764000075],"newest":1764003150,"saturated":false},"initialized":true,"life\
        timeCount":5,"newest":1764003150,"recent":{"held":[],"limit":0}},{"buckets":{"storage":[{"count":0,"\
        index":2,"max":0,"min":0,"sum":"-inf"},{"count":0,"index":2,"max":0,"min":0,"sum":"-inf"},{"count":2\
        ,"index":1225000,"max":1,"min":1,"sum":2},{"count":2,"index":1225002,"max":1,"min":1,"sum":2},{"coun\
        t":1,"index":352800640,"max":1,"min":1,"sum":1},{"count":1,"index":352800660,"max":1,"min":1,"sum":1\
        }],"windowCount":2},"distinct":{"cap":0,"lastSeen":[],"newest":"-inf","saturated":false},"initialize\
        d":true,"lifetimeCount":4,"newest":1764003300,"recent":{"held":[],"limit":0}},{"buckets":{"storage":\
        [{"count":0,"index":9,"max":0,"min":0,"sum":"-inf"},{"count":2,"index":29400000,"max":3,"min":1,"sum\
        ":4},{"count":1,"index":29400001,"max":-2,"min":-2,"sum":-2},{"count":1,"index":29400002,"max":1,"mi\
        n":1,"sum":1},{"count":1,"index":29400050,"max":7,"min":7,"sum":7},{"count":1,"index":29400051,"max"\
        :1,"min":1,"sum":1},{"count":1,"index":29400052,"max":2,"min":2,"sum":2},{"count":1,"index":29400053\
        ,"max":1,"min":1,"sum":1},{"count":1,"index":29400055,"max":1,"min":1,"sum":1},{"count":1,"index":29\
        400056,"max":9,"min":9,"sum":9}],"windowCount":1},"distinct":{"cap":4,"lastSeen":[627970706148945046\
        ,1764003300,627975104195457890,1764003400],"newest":1764003400,"saturated":true},"initialized":true,\
        "lifetimeCount":10,"newest":1764003400,"recent":{"held":[{"itemID":"i1","time":1764003150},{"itemID"\
        :"i5","time":1764003200},{"itemID":"i6","time":1764003300},{"itemID":"i2","time":1764003400}],"limit\
        ":3}}]}
        """

    /// That user's vector at `fixtureNow`, computed by the previous release.
    static let previousReleaseVector: [Double] = [
        17.0, -0.9659258262890681, -0.2588190451025215, 0.0, 0.0, 600.0,
        6.0, 200.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 4.0, 5.0, 0.0,
        8.0, 11.0, 0.0, 2.0, 2.2, 0.0,
        4.0, 0.20833333333333334, 0.0, -2.0, -2.0, 0.0,
        7.0, 7.0, 0.0, 4.0, 4.0, 0.009601226907645297,
        3.7233937915081756, 4.931239797002032, 450.0, 0.0, 4.0, 0.0,
        0.16666666666666666, 8.0, 2.0, 3.0, 0.33359997809784864,
    ]

    static let fixtureNow = 1_764_003_600.0

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                        nan: "nan")
        return decoder
    }

    @Test func aStateEncodedByThePreviousReleaseStillLoads() throws {
        let state = try Self.decoder().decode(UserFeatureState.self, from: Data(Self.previousReleaseJSON.utf8))
        let store = InMemoryFeatureStateStore()
        store.save(state, for: "old")
        let engine = try RealTimeFeatureEngine(definitions: Self.fixtureSet, store: store)
        let vector = engine.featureVector(for: "old", now: Self.fixtureNow).values
        #expect(vector.count == Self.previousReleaseVector.count)
        for (i, (got, want)) in zip(vector, Self.previousReleaseVector).enumerated() {
            #expect(abs(got - want) <= 1e-12 * max(1, abs(want)), "\(engine.vectorLayout.names[i])")
        }
        #expect(engine.features(for: "old", now: Self.fixtureNow).recentItems["events"] == ["i2", "i6", "i5"])
        let books = engine.userCategoryFeatures(for: "old", category: "books", now: Self.fixtureNow)
        #expect(books["cat.count.1h"] == 2)
        #expect(books["cat.count.24h"] == 3)
        #expect(abs(books["cat.decayed_count.24h"]! - 2.9404740176196937) < 1e-12)
        #expect(engine.categoryAffinities(for: "old", now: Self.fixtureNow).map(\.category) == ["music", "books", "sale"])
    }

    @Test func theEncodedFormIsThePreviousReleasesForm() throws {
        // Loaded into arenas and encoded again, the state decodes to the same accumulators (the
        // counting-only `views` stream drops its buckets' sum, min and max, which nothing reads).
        let old = try Self.decoder().decode(UserFeatureState.self, from: Data(Self.previousReleaseJSON.utf8))
        let engine = try RealTimeFeatureEngine(definitions: Self.fixtureSet)
        let schema = engine.history.withLock { $0.current }
        var loaded = old
        loaded.adoptSignatures(schema)
        loaded.migrate(to: schema)
        #expect(loaded.decodedStreams == nil)
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let again = try Self.decoder().decode(UserFeatureState.self, from: encoder.encode(loaded))
        let specs = schema.specs[FeatureKeyKind.user.index]
        for (id, spec) in specs.enumerated() {
            #expect(again.streams[id] == portable(old.streams[id], spec: spec), "stream \(id)")
        }
        #expect(again.categories.map(\.name) == old.categories.map(\.name))
        let categorySpec = schema.specs[FeatureKeyKind.userCategory.index][0]
        #expect(again.categories.map(\.streams) == old.categories.map { [portable($0.streams[0], spec: categorySpec)] })
        #expect(again.eventCount == old.eventCount && again.sessionStart == old.sessionStart)
    }
}

/// User x category streams checked against a brute-force model of the
/// category bound (least recently seen replaced), through eviction to a JSON store, and across a
/// definition change that adds a user stream.
@Suite struct FeaturesCategoryStreamTests {
    static let start = 1_764_000_000.0

    static func set(version: String, extraUserDefinition: Bool = false) -> FeatureDefinitionSet {
        var s = FeatureDefinitionSet(version: version, definitions: [
            FeatureDefinition(name: "views", key: .user, eventTypes: [.view], aggregations: [.count], windows: [.oneHour]),
            FeatureDefinition(name: "cat", key: .userCategory, eventTypes: [],
                              aggregations: [.count, .sum, .decayedCount], windows: [.oneHour, .oneDay, .oneWeek]),
            FeatureDefinition(name: "cat_views", key: .userCategory, eventTypes: [.view], aggregations: [.count],
                              windows: [.oneDay]),
        ])
        if extraUserDefinition {
            s.definitions.insert(FeatureDefinition(name: "buys", key: .user, eventTypes: [.purchase], aggregations: [.sum],
                                                   windows: [.oneDay]), at: 0)
        }
        s.maxCategoriesPerUser = 4
        return s
    }

    struct Model {
        var name: String
        var lastSeen: Double
        var events: [(time: Double, value: Double, view: Bool)]
    }

    @Test(arguments: [31, 32] as [UInt64])
    func categoryStreamsFollowTheBoundedCategoryList(seed: UInt64) throws {
        let json = FeaturesEngineTests.FeatureJSONStateStore()
        let evicting = try RealTimeFeatureEngine(definitions: Self.set(version: "v1"),
                                                 configuration: .init(shardCount: 1, maxResidentUsers: 1), store: json)
        let resident = try RealTimeFeatureEngine(definitions: Self.set(version: "v1"))
        var rng = FeatureTestRandom(seed: seed)
        for i in 0..<30 {
            let item = CatalogItem(itemID: "item-\(i)", categories: ["c\(i % 9)"] + (i % 3 == 0 ? ["c\((i + 4) % 9)"] : []))
            evicting.upsertItem(item)
            resident.upsertItem(item)
        }
        var models: [String: [Model]] = [:]
        var clock = Self.start
        for _ in 0..<1_500 {
            clock += rng.unit() * 120
            let time = rng.below(8) == 0 ? clock - rng.unit() * 7_200 : clock
            let user = "u\(rng.below(3))", i = rng.below(30), view = rng.below(2) == 0
            let value = Double(rng.below(7))
            let event = UserEvent(userID: user, itemID: "item-\(i)", type: view ? .view : .click, value: value, timestamp: time)
            evicting.ingest(event, receivedAt: 0)
            resident.ingest(event, receivedAt: 0)
            for name in ["c\(i % 9)"] + (i % 3 == 0 ? ["c\((i + 4) % 9)"] : []) {
                var list = models[user, default: []]
                if let c = list.firstIndex(where: { $0.name == name }) {
                    list[c].events.append((time, value, view))
                    list[c].lastSeen = max(list[c].lastSeen, time)
                } else if list.count < 4 {
                    list.append(Model(name: name, lastSeen: time, events: [(time, value, view)]))
                } else {
                    var stalest = 0
                    for c in list.indices where list[c].lastSeen < list[stalest].lastSeen { stalest = c }
                    list[stalest] = Model(name: name, lastSeen: time, events: [(time, value, view)])
                }
                models[user] = list
            }
        }
        #expect(evicting.metrics().evictions > 500)
        let now = clock + 60
        for (user, list) in models {
            #expect(Set(resident.categoryAffinities(for: user, now: now, limit: 10).map(\.category)) == Set(list.map(\.name)))
            for name in (0..<9).map({ "c\($0)" }) {
                let model = list.first { $0.name == name }
                let a = resident.userCategoryFeatures(for: user, category: name, now: now)
                let b = evicting.userCategoryFeatures(for: user, category: name, now: now)
                #expect(a == b, "\(user) \(name) after eviction and JSON")
                for window in [FeatureWindow.oneHour, .oneDay, .oneWeek] {
                    let g = WindowGeometry(window: window, bucketCount: 60)
                    let inside = (model?.events ?? []).filter { g.contains(bucket: g.bucket(of: $0.time), nowBucket: g.bucket(of: now)) }
                    #expect(a["cat.count.\(window.name)"] == Double(inside.count), "\(user) \(name) \(window.name)")
                    #expect(a["cat.sum.\(window.name)"] == inside.reduce(0) { $0 + $1.value })
                }
                let g = WindowGeometry(window: .oneDay, bucketCount: 60)
                let views = (model?.events ?? []).filter { $0.view && g.contains(bucket: g.bucket(of: $0.time), nowBucket: g.bucket(of: now)) }
                #expect(a["cat_views.count.24h"] == Double(views.count))
            }
        }
        // A new version adds a user stream; the category streams keep their state.
        let before = models.keys.sorted().map { user in (0..<9).map { resident.userCategoryFeatures(for: user, category: "c\($0)", now: now) } }
        try resident.load(Self.set(version: "v2", extraUserDefinition: true))
        try evicting.load(Self.set(version: "v2", extraUserDefinition: true))
        for (u, user) in models.keys.sorted().enumerated() {
            for c in 0..<9 {
                #expect(resident.userCategoryFeatures(for: user, category: "c\(c)", now: now) == before[u][c])
                #expect(evicting.userCategoryFeatures(for: user, category: "c\(c)", now: now) == before[u][c])
            }
        }
    }

    @Test func categoryStreamsKeepTheirStateWhenCategoryStreamsAreAddedAndTheBoundShrinks() throws {
        // A version that adds a category stream keeps the other category streams' state and starts the
        // new one empty; a smaller category bound keeps the most recently seen categories, state and all.
        let engine = try RealTimeFeatureEngine(definitions: Self.set(version: "v1"))
        for i in 0..<4 { engine.upsertItem(CatalogItem(itemID: "item-\(i)", categories: ["c\(i)"])) }
        for k in 0..<40 {
            let event = UserEvent(userID: "u", itemID: "item-\(k % 4)", type: k % 3 == 0 ? .click : .view,
                                  value: Double(k % 5), timestamp: Self.start + Double(k * 97 + (k % 4) * 500))
            engine.ingest(event, receivedAt: 0)
        }
        let now = Self.start + 6_000
        let before = (0..<4).map { engine.userCategoryFeatures(for: "u", category: "c\($0)", now: now) }
        var v2 = Self.set(version: "v2")
        v2.definitions.insert(FeatureDefinition(name: "cat_clicks", key: .userCategory, eventTypes: [.click],
                                                aggregations: [.count], windows: [.oneDay]), at: 0)
        try engine.load(v2)
        for c in 0..<4 {
            var got = engine.userCategoryFeatures(for: "u", category: "c\(c)", now: now)
            #expect(got.removeValue(forKey: "cat_clicks.count.24h") == 0)
            #expect(got == before[c], "c\(c)")
        }
        engine.ingest(UserEvent(userID: "u", itemID: "item-1", type: .click, value: 2, timestamp: now), receivedAt: 0)
        let c1 = engine.userCategoryFeatures(for: "u", category: "c1", now: now)
        #expect(c1["cat_clicks.count.24h"] == 1)
        #expect(c1["cat.count.24h"] == before[1]["cat.count.24h"]! + 1)
        let after = (0..<4).map { engine.userCategoryFeatures(for: "u", category: "c\($0)", now: now) }
        var v3 = v2
        v3.version = "v3"
        v3.maxCategoriesPerUser = 2
        try engine.load(v3)
        let kept = engine.categoryAffinities(for: "u", now: now).map(\.category)
        #expect(Set(kept) == ["c1", "c3"])  // the two seen last
        for c in 0..<4 {
            let got = engine.userCategoryFeatures(for: "u", category: "c\(c)", now: now)
            if kept.contains("c\(c)") {
                #expect(got.filter { $0.key != "affinity" } == after[c].filter { $0.key != "affinity" }, "c\(c)")
            } else {
                #expect(got["cat.count.7d"] == 0, "c\(c)")
            }
        }
    }
}
