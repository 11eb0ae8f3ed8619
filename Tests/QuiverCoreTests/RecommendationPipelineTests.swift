// RecommendationPipelineTests: the pure recommendation pipeline: candidate sources and quotas,
// filters (seen, unavailable, blocked, request filters), the ensemble order, the diversity cap,
// exploration propensities that are exact, the deadline degradation, cold start; scenario
// validation naming fields; the models snapshot round trip.
import Testing
@testable import QuiverCore

@Suite struct RecommendationPipelineTests {
    /// Items i0...i19 in categories c0...c3; users engage in pairs so co-visitation is clear.
    static func world() -> (RecommendationModels, ServingCatalog) {
        var catalog = ServingCatalog()
        for i in 0..<20 {
            catalog.upsert(CatalogItem(itemID: "i\(i)", categories: ["c\(i % 4)"], available: i != 13, createdAt: Double(i)))
        }
        var models = RecommendationModels()
        var t = 1_000.0
        for u in 0..<30 {
            // Everyone likes i0..i4 a bit (popularity); user u pairs (i(u%10), i(u%10 + 10)).
            for item in ["i\(u % 5)", "i\(u % 10)", "i\(u % 10 + 10)"] {
                models.observeInteraction(userID: "u\(u)", itemID: item, timestamp: t)
                t += 1
            }
        }
        models.observeInteraction(userID: "me", itemID: "i3", timestamp: t)
        return (models, catalog)
    }

    static func query(_ scenario: Scenario, user: String = "me", count: Int = 5, t: Double = 2_000) -> RecommendationQuery {
        RecommendationQuery(userID: user, count: count, scenario: scenario, context: ScoringContext(userId: user, timestamp: t))
    }

    static var deterministic: Scenario {
        var s = Scenario(name: "test")
        s.exploration = ExplorationSettings(policy: "none", rate: 0, slots: 0)
        s.sessionAgent = false
        return s
    }

    func run(_ query: RecommendationQuery, past deadline: Bool = false, seed: UInt64 = 1) -> RankedList {
        let (models, catalog) = Self.world()
        let index = CandidateIndex.build(catalog: catalog, models: models, at: 2_000)
        var generator = SeededRandom(seed: seed)
        return RecommendationPipeline.recommend(query, models: models, catalog: catalog, index: index,
                                                isPastDeadline: { deadline }, using: &generator)
    }

    @Test func ranksCoVisitedItemsFirstAndLeavesOutSeenAndUnavailable() {
        let list = run(Self.query(Self.deterministic, count: 10))
        let ids = list.items.map(\.itemID)
        // "me" saw i3; i3 is co-visited with i13 (unavailable), i8 and i18.
        #expect(Set(ids.prefix(2)) == ["i8", "i18"], "\(ids)")
        #expect(!ids.contains("i3"), "seen")
        #expect(!ids.contains("i13"), "unavailable")
        #expect(Set(ids).count == ids.count)
        #expect(list.items.allSatisfy { $0.propensity == 1 && !$0.explored })
        #expect(list.degradation == nil && !list.coldStart)
        // Scores are non-increasing without diversity or exploration.
        #expect(zip(list.items, list.items.dropFirst()).allSatisfy { $0.score >= $1.score })
        // Each item explains itself by the ensemble members' shares.
        #expect(list.items.allSatisfy { !$0.contributions.isEmpty })
    }

    /// Availability is kept per position by the catalog: an item withdrawn later leaves the
    /// answers, comes back when available again, and the filter can be turned off.
    @Test func followsAvailabilityChangesAndTheFilterSwitch() {
        var (models, catalog) = Self.world()
        func ids(_ scenario: Scenario) -> [String] {
            let index = CandidateIndex.build(catalog: catalog, models: models, at: 2_000)
            var generator = SeededRandom(seed: 1)
            return RecommendationPipeline.recommend(Self.query(scenario, count: 19), models: models, catalog: catalog,
                                                    index: index, isPastDeadline: { false }, using: &generator).items.map(\.itemID)
        }
        #expect(ids(Self.deterministic).contains("i8"))
        catalog.upsert(CatalogItem(itemID: "i8", categories: ["c0"], available: false))
        #expect(!ids(Self.deterministic).contains("i8"))
        #expect(!ids(Self.deterministic).contains("i13"))
        var unfiltered = Self.deterministic
        unfiltered.filters.requireAvailable = false
        #expect(ids(unfiltered).contains("i8") && ids(unfiltered).contains("i13"))
        catalog.upsert(CatalogItem(itemID: "i8", categories: ["c0"], available: true))
        catalog.noteItem("fromAnEvent")  // positions appended later are available
        models.observeInteraction(userID: "me", itemID: "fromAnEvent", timestamp: 1_999)
        #expect(ids(Self.deterministic).contains("i8"))
        #expect(catalog.unavailable.contains(catalog.position(of: "i13")!))
        #expect(!catalog.unavailable.contains(catalog.position(of: "fromAnEvent")!))
    }

    /// A preferred category adds the scenario's boost times its strength to every candidate in
    /// it, whichever of the item's categories it is (also past the first four), and nothing else.
    @Test func preferenceBoostReachesEveryCategoryOfAnItem() {
        var (models, catalog) = Self.world()
        catalog.upsert(CatalogItem(itemID: "i9", categories: ["x1", "x2", "x3", "x4", "x5", "liked"]))
        catalog.upsert(CatalogItem(itemID: "i10", categories: ["x1", "liked"]))
        catalog.upsert(CatalogItem(itemID: "i11", categories: ["c3"]))  // was c3 already: unchanged
        models.observeInteraction(userID: "me", itemID: "i2", timestamp: 1_999)
        let index = CandidateIndex.build(catalog: catalog, models: models, at: 2_000)
        var q = Self.query(Self.deterministic, count: 19)
        q.preferredCategories = ["liked": 0.5, "c3": 1.0, "unknown": 1.0]
        var generator = SeededRandom(seed: 1)
        let list = RecommendationPipeline.recommend(q, models: models, catalog: catalog, index: index,
                                                    isPastDeadline: { false }, using: &generator)
        func boost(_ id: String) -> Double? {
            list.items.first { $0.itemID == id }.map { $0.contributions.first { $0.name == "preference_boost" }?.value ?? 0 }
        }
        let b = Self.deterministic.preferenceBoost
        #expect(boost("i9") == b * 0.5)
        #expect(boost("i10") == b * 0.5)
        #expect(boost("i11") == b * 1.0)
        #expect(boost("i7") == b * 1.0)   // c3
        #expect(boost("i8") == 0)        // c0
    }

    @Test func appliesRequestFiltersAndBlockedCategories() {
        var q = Self.query(Self.deterministic, count: 10)
        q.includeCategories = ["c0", "c2"]
        q.excludeItems = ["i4"]
        q.blockedCategories = ["c2"]
        let ids = run(q).items.map(\.itemID)
        #expect(!ids.isEmpty)
        #expect(ids.allSatisfy { Int($0.dropFirst())! % 4 == 0 }, "\(ids)")
        #expect(!ids.contains("i4"))
    }

    @Test func capsItemsPerCategory() {
        var s = Self.deterministic
        s.maxPerCategory = 1
        let list = run(Self.query(s, count: 4))
        let categories = list.items.map { Int($0.itemID.dropFirst())! % 4 }
        #expect(Set(categories).count == categories.count, "\(list.items.map(\.itemID))")
    }

    @Test func explorationReportsExactPropensities() {
        var s = Self.deterministic
        s.exploration = ExplorationSettings(policy: "epsilon_greedy", rate: 0.5, slots: 2)
        var exploredSeen = false
        for seed in 1...40 {
            let list = run(Self.query(s, count: 5), seed: UInt64(seed))
            #expect(list.items.prefix(3).allSatisfy { $0.propensity == 1 })
            for item in list.items.suffix(2) {
                #expect(item.propensity > 0 && item.propensity < 1)
                if item.explored {
                    exploredSeen = true
                    #expect(item.propensity < 0.5, "an explored pick has only its share of epsilon")
                } else {
                    #expect(item.propensity > 0.5, "the exploited pick keeps 1 - epsilon plus its share")
                }
            }
        }
        #expect(exploredSeen)
    }

    @Test func degradesToPopularityPastTheDeadline() {
        let list = run(Self.query(Self.deterministic), past: true)
        #expect(list.degradation == "deadline")
        #expect(!list.items.isEmpty)
        #expect(list.items.allSatisfy { $0.contributions.map(\.name) == ["popularity"] })
    }

    @Test func coldStartUsesColdStartSources() {
        let list = run(Self.query(Self.deterministic, user: "nobody"))
        #expect(list.coldStart)
        #expect(list.items.count == 5)
        #expect(Set(list.items.map(\.source)).isSubset(of: [.popular, .trending, .sameCategory, .fresh]))
    }

    /// Per-user score views of a user the models never saw: every score is 0, nothing traps.
    @Test func scoreViewsOfUnknownUsersAreEmptyNotOutOfRange() {
        let (models, _) = Self.world()
        let covisitation = models.coVisitation.scores(forUser: "nobody")
        #expect(covisitation.score("i3") == 0 && covisitation.bySlot.isEmpty)
        #expect(covisitation.top(5) { _ in true }.isEmpty)
        let embedding = models.embeddings.scores(forUser: "nobody")
        #expect(embedding.bySlot.count == models.embeddings.itemCount)
        var everything = Self.deterministic
        everything.coldStartSources = everything.sources
        everything.ensemble = ["popularity": 1, "trending": 1, "co_visitation": 1, "embedding": 1, "ftrl": 1]
        #expect(run(Self.query(everything, user: "nobody")).items.count == 5)
    }

    @Test func theSameInputsGiveTheSameList() {
        var s = Self.deterministic
        s.exploration = ExplorationSettings(policy: "softmax", rate: 0.2, slots: 3)
        #expect(run(Self.query(s), seed: 9).items == run(Self.query(s), seed: 9).items)
    }

    @Test func modelsSurviveASnapshot() throws {
        let (models, _) = Self.world()
        let restored = try RecommendationModels(snapshot: models.snapshot())
        #expect(restored.interactions == models.interactions)
        #expect(restored.seen.items(of: "u7") == models.seen.items(of: "u7"))
        #expect(restored.snapshot() == models.snapshot())
        var corrupt = models.snapshot()
        corrupt.removeLast(5)
        #expect(throws: (any Error).self) { try RecommendationModels(snapshot: corrupt) }
    }

    @Test(arguments: [
        ("""
         {"version": "v", "scenarios": [{"name": "a", "sources": [{"source": "psychic", "count": 5}]}]}
         """, "scenarios[0].sources[0].source"),
        (#"{"version": "v", "scenarios": [{"name": "a"}, {"name": "a"}]}"#, "scenarios[1].name"),
        (#"{"version": "v", "scenarios": [{"name": "a", "exploration": {"policy": "epsilon_greedy", "rate": 2}}]}"#, "scenarios[0].exploration.rate"),
        (#"{"version": "v", "scenarios": [{"name": "a", "ensemble": {"ftrl": -1}}]}"#, "scenarios[0].ensemble.ftrl"),
        (#"{"version": "v", "scenarios": [{"name": "a", "ensemble": {"ftrl": 0}}]}"#, "scenarios[0].ensemble"),
        (#"{"version": "v", "scenarios": [{"name": "a", "experiment": [{"name": "x", "share": 0.5}]}]}"#, "scenarios[0].experiment"),
        (#"{"version": "v", "scenarios": [{"name": "a", "default_count": 500}]}"#, "scenarios[0].default_count"),
        (#"{"version": "", "scenarios": [{"name": "a"}]}"#, "version"),
        (#"{"version": "v", "scenarios": []}"#, "scenarios"),
    ])
    func refusesBadScenariosNamingTheField(json: String, field: String) throws {
        let set = try JSONDecoder().decode(ScenarioSet.self, from: Data(json.utf8))
        #expect(throws: ScenarioError.self) { try set.validate() }
        do { try set.validate() } catch { #expect(error.field == field) }
    }

    @Test func assignsExperimentArmsStablyByShare() {
        var s = Scenario(name: "exp")
        s.experiment = [ExperimentArm(name: "a", share: 0.3), ExperimentArm(name: "b", share: 0.7)]
        var counts: [String: Int] = [:]
        for u in 0..<10_000 { counts[s.arm(for: "user\(u)")!.name, default: 0] += 1 }
        #expect(abs(Double(counts["a"]!) / 10_000 - 0.3) < 0.03)
        #expect(s.arm(for: "user42") == s.arm(for: "user42"))
        #expect(ScenarioSet.standard.scenarios.allSatisfy { (try? ScenarioSet(version: "x", scenarios: [$0]).validate()) != nil })
    }
}

import Foundation
