// RecommendBench: the recommendation pipeline alone (QuiverCore, no HTTP, no store), on the
// synthetic data of scripts/bench-data.py (10,000 items in 50 categories, users with 1-3 favourite
// categories, 20 events each, Zipf-like popularity; seed 7), scenario homepage, n = 10. It reports
// CPU time per recommendation on one thread, so that a change to the miss path can be compared
// side by side without the noise of a loaded HTTP benchmark:
//   RecommendBench [USERS] [REQUESTS] [ROUNDS]       (defaults 100000 20000 5)
// Only public API, so the same file builds against an older checkout for a before/after run.
import Foundation
import QuiverCore

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let userCount = arguments.count > 0 ? arguments[0] : 100_000
let requests = arguments.count > 1 ? arguments[1] : 20_000
let rounds = arguments.count > 2 ? arguments[2] : 5
let itemCount = 10_000, eventsPerUser = 20

var rng = SeededRandom(seed: 7)
@MainActor func uniform() -> Double { Double(rng.next() >> 11) * 0x1p-53 }
/// Pareto(1.2) like Python's random.paretovariate: 1 / U^(1/alpha).
@MainActor func pareto() -> Double { 1 / pow(1 - uniform(), 1 / 1.2) }

let categories = (0..<50).map { "cat\($0)" }
var byCategory = [[String]](repeating: [], count: 50)
var catalog = ServingCatalog()
let now = 1_760_000_000.0
for i in 0..<itemCount {
    let id = "item\(i)"
    byCategory[i % 50].append(id)
    catalog.upsert(CatalogItem(itemID: id, categories: [categories[i % 50]], tags: ["t\(i % 7)"],
                               attributes: ["price": Double(5 + i % 100)], createdAt: now - 86_400 * 60 + Double(i) * 10))
}
var models = RecommendationModels()
var favouritesOf: [[Int]] = []
var events: [(user: String, item: String, time: Double)] = []
events.reserveCapacity(userCount * eventsPerUser)
for user in 0..<userCount {
    var favourites: [Int] = []
    let wanted = 1 + Int(rng.next() % 3)
    while favourites.count < wanted {
        let c = Int(rng.next() % 50)
        if !favourites.contains(c) { favourites.append(c) }
    }
    favouritesOf.append(favourites)
    for _ in 0..<eventsPerUser {
        let item: String
        if uniform() < 0.8 {
            let list = byCategory[favourites[Int(rng.next() % UInt64(favourites.count))]]
            item = list[min(list.count - 1, Int(pareto()) - 1)]
        } else {
            item = "item\(rng.next() % UInt64(itemCount))"
        }
        events.append(("user\(user)", item, now - 86_400 * 30 + uniform() * 86_400 * 30))
    }
}
events.sort { $0.time < $1.time }
let clock = ContinuousClock()
let learning = clock.measure {
    for e in events { models.observeInteraction(userID: e.user, itemID: e.item, timestamp: e.time) }
}
let index = CandidateIndex.build(catalog: catalog, models: models, at: now)
print("RecommendBench: \(itemCount) items, \(userCount) users, \(events.count) events learned in \(learning)")

let scenario = Scenario(name: "homepage", sessionAgent: false)
var picker = SeededRandom(seed: 11)
var checksum = 0.0
for round in 1...rounds {
    var latencies: [Double] = []
    latencies.reserveCapacity(requests)
    var candidates = 0
    let total = clock.measure {
        for _ in 0..<requests {
            let user = Int(picker.next() % UInt64(userCount))
            let dense = (0..<12).map { _ in Double(picker.next() % 1000) / 1000 }
            var preferred: [String: Double] = [:]
            for c in favouritesOf[user] { preferred[categories[c]] = 0.5 }
            let query = RecommendationQuery(
                userID: "user\(user)", count: 10, scenario: scenario,
                context: ScoringContext(userId: "user\(user)", dense: dense, tokens: ["device=mobile", "page=home"], timestamp: now),
                preferredCategories: preferred)
            var generator = SeededRandom(seed: picker.next())
            let started = clock.now
            let list = RecommendationPipeline.recommend(query, models: models, catalog: catalog, index: index,
                                                        isPastDeadline: { false }, using: &generator)
            let elapsed = clock.now - started
            latencies.append(Double(elapsed.components.attoseconds) * 1e-12 + Double(elapsed.components.seconds) * 1e6)
            candidates += list.candidateCount
            checksum += list.items.first?.score ?? 0
        }
    }
    latencies.sort()
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    let perSecond = Double(requests) / (Double(total.components.seconds) + Double(total.components.attoseconds) * 1e-18)
    print(String(format: "round %d: %.0f recommendations/s, p50 %.1f us, p99 %.1f us, %.0f candidates/request",
                 round, perSecond, percentile(0.5), percentile(0.99), Double(candidates) / Double(requests)))
}
// The largest per-request costs on their own: the embedding scan over the catalog, the top 100 of
// its scores (one in 50 filtered out, as seen items are), and the click model over 400 candidates.
do {
    var scan: [Double] = [], top: [Double] = [], click: [Double] = []
    let encoder = HashedCrossEncoder()
    let sides = catalog.items.prefix(400).map { encoder.itemSide($0.candidate) }
    for u in 0..<min(3_000, userCount) {
        var started = clock.now
        let scores = models.embeddings.scores(forUser: "user\(u)").bySlot
        var elapsed = clock.now - started
        scan.append(Double(elapsed.components.attoseconds) * 1e-12)
        started = clock.now
        checksum += TopK.select(scores, k: 100) { $0 % 50 != 0 }.first?.score ?? 0
        elapsed = clock.now - started
        top.append(Double(elapsed.components.attoseconds) * 1e-12)
        let context = ScoringContext(userId: "user\(u)", dense: (0..<12).map { Double($0) / 12 },
                                     tokens: ["device=mobile", "page=home"], timestamp: now)
        started = clock.now
        checksum += models.ftrl.score(itemSides: sides, context: context)[0]
        elapsed = clock.now - started
        click.append(Double(elapsed.components.attoseconds) * 1e-12)
    }
    scan.sort(); top.sort(); click.sort()
    print(String(format: "embedding scan (10,000 items): p50 %.1f us; top 100 of its scores: p50 %.1f us; click model (400 candidates): p50 %.1f us",
                 scan[scan.count / 2], top[top.count / 2], click[click.count / 2]))
}
print(String(format: "checksum %.6f", checksum))
