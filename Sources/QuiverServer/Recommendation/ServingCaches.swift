// ServingCaches: the in-process state that sits beside the models while serving: the result cache
// (L1: LRU + TTL, keyed by user, scenario, list length, context bucket, filters and the user's
// state version, so any event of the user invalidates their entries), the index of served
// impressions that feedback joins to, and per-user state versions. All sharded behind mutexes.
import QuiverCore
import QuiverStore
import Synchronization

/// A cached answer: everything needed to serve it again under a new request id. The list and its
/// renderings sit in one shared, immutable box: a lookup copies one reference (and the origin),
/// not a dozen.
struct CachedAnswer: Sendable {
    private final class Body: Sendable {
        let recommendationsJSON: [UInt8]
        let summary: AnswerSummary
        let impressionItems: [ImpressionItem]
        let tokens: [String]
        let dense: [Float]
        let impressionTail: String
        let hitHead: [UInt8]
        let hitTail: [UInt8]

        init(recommendationsJSON: [UInt8], summary: AnswerSummary, impressionItems: [ImpressionItem], tokens: [String],
             dense: [Float], impressionTail: String) {
            self.recommendationsJSON = recommendationsJSON
            self.summary = summary
            self.impressionItems = impressionItems
            self.tokens = tokens
            self.dense = dense
            self.impressionTail = impressionTail
            (hitHead, hitTail) = RecommendationRendering.hitParts(summary: summary)
        }
    }
    private let body: Body

    var recommendationsJSON: [UInt8] { body.recommendationsJSON }
    var summary: AnswerSummary { body.summary }
    var impressionItems: [ImpressionItem] { body.impressionItems }
    var tokens: [String] { body.tokens }
    var dense: [Float] { body.dense }
    /// The impression's JSON but for the request id and time (`ImpressionRecord.jsonTail`): each
    /// serving of the answer logs its impression without encoding the list again.
    var impressionTail: String { body.impressionTail }
    /// The response of a cache hit, pre-rendered around what changes per serving
    /// (`RecommendationRendering.response` with `cached: true` and no new degradation): from
    /// `,"scenario"` to `"recommendations":`, and from after the latency to the closing brace.
    var hitHead: [UInt8] { body.hitHead }
    var hitTail: [UInt8] { body.hitTail }
    /// The request whose logged impression holds this list in this process's store: serving the
    /// answer again logs a reference to it. Nil until one serving of it is logged in full (an answer
    /// computed in the background, or copied from the shared cache).
    var origin: String?

    init(recommendationsJSON: [UInt8], summary: AnswerSummary, impressionItems: [ImpressionItem], tokens: [String],
         dense: [Float], impressionTail: String, origin: String? = nil) {
        body = Body(recommendationsJSON: recommendationsJSON, summary: summary, impressionItems: impressionItems,
                    tokens: tokens, dense: dense, impressionTail: impressionTail)
        self.origin = origin
    }

    /// Bytes this entry holds, roughly (its key and the fixed overheads included).
    var approximateBytes: Int {
        recommendationsJSON.count + summary.explanation.utf8.count + summary.modelVersion.utf8.count
            + impressionItems.reduce(0) { $0 + 64 + $1.itemID.utf8.count + $1.source.utf8.count }
            + tokens.reduce(0) { $0 + 16 + $1.utf8.count } + dense.count * 4 + impressionTail.utf8.count
            + hitHead.count + hitTail.count + 512
    }
}

/// The parts of a response besides the list itself.
struct AnswerSummary: Sendable {
    var scenario: String
    var modelVersion: String
    var explanation: String
    var strategy: String?
    var strategyPropensity: Double?
    var arm: String?
    var coldStart: Bool
    var degradation: String?
    var candidates: Int
}

struct ResultCacheKey: Hashable, Sendable {
    var userID: String
    var scenario: String
    var count: Int
    var contextBucket: String
    var filters: String
    var userVersion: UInt64
    var configVersion: String
}

/// Hit and miss counts of one scenario.
struct CacheCounts: Sendable, Codable {
    var hits = 0
    var misses = 0
    var hitRate: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }
    enum CodingKeys: String, CodingKey { case hits, misses }
}

final class ResultCache: Sendable {
    /// One shard: its entries and the hit and miss counts of the lookups that landed on it (under
    /// the same lock: a lookup takes one lock, not a second, process-wide one for the counts).
    struct Shard {
        var lru: BoundedLRU<ResultCacheKey, CachedAnswer>
        var counts: [String: CacheCounts] = [:]
    }
    private let shards: [LockedShard<Shard>]

    init(capacity: Int, maxBytes: Int = .max, shardCount: Int = 16) {
        let perShard = max(1, capacity / shardCount)
        let bytesPerShard = max(1, maxBytes / shardCount)
        shards = (0..<shardCount).map { _ in LockedShard(Shard(lru: BoundedLRU(capacity: perShard, maxCost: bytesPerShard))) }
    }

    private func shard(_ key: ResultCacheKey) -> LockedShard<Shard> {
        shards[Int(UInt(bitPattern: key.userID.hashValue) % UInt(shards.count))]
    }

    func lookup(_ key: ResultCacheKey, now: Double) -> CachedAnswer? {
        shard(key).withLock { shard in
            let answer = shard.lru.value(for: key, now: now)
            if answer == nil { shard.counts[key.scenario, default: CacheCounts()].misses += 1 } else { shard.counts[key.scenario, default: CacheCounts()].hits += 1 }
            return answer
        }
    }

    /// An expired entry still present: the fallback when the models cannot answer in time.
    func stale(_ key: ResultCacheKey) -> CachedAnswer? {
        shard(key).withLock { $0.lru.staleValue(for: key) }
    }

    /// Records that `requestID` logged the entry's list in full (if the entry is still the same list).
    func adopt(origin requestID: String, for key: ResultCacheKey, tail: String) {
        _ = shard(key).withLock { shard in
            shard.lru.update(key) { if $0.origin == nil && $0.impressionTail == tail { $0.origin = requestID } }
        }
    }

    func store(_ answer: CachedAnswer, for key: ResultCacheKey, expiresAt: Double) {
        shard(key).withLock { $0.lru.set(answer, for: key, expiresAt: expiresAt, cost: answer.approximateBytes) }
    }

    func statistics() -> (entries: Int, evictions: Int, bytes: Int, perScenario: [String: CacheCounts]) {
        var entries = 0, evictions = 0, bytes = 0
        var perScenario: [String: CacheCounts] = [:]
        for shard in shards {
            shard.withLock { shard in
                entries += shard.lru.count; evictions += shard.lru.evictions; bytes += shard.lru.totalCost
                for (scenario, counts) in shard.counts {
                    perScenario[scenario, default: CacheCounts()].hits += counts.hits
                    perScenario[scenario, default: CacheCounts()].misses += counts.misses
                }
            }
        }
        return (entries, evictions, bytes, perScenario)
    }
}

/// A served list, kept so feedback can be joined to it.
struct ServedImpression: Sendable {
    var userID: String
    var scenario: String
    var timestamp: Double
    var items: [ImpressionItem]
    var tokens: [String]
    var dense: [Float]
    /// `item|feedback_type` of every feedback already joined: duplicates are idempotent.
    var feedbackKeys: Set<String> = []
}

final class ImpressionIndex: Sendable {
    private let shards: [LockedShard<BoundedLRU<String, ServedImpression>>]
    let ttl: Double

    init(capacity: Int, ttl: Double, shardCount: Int = 16) {
        self.ttl = ttl
        let perShard = max(1, capacity / shardCount)
        shards = (0..<shardCount).map { _ in LockedShard(BoundedLRU(capacity: perShard)) }
    }

    private func shard(_ requestID: String) -> LockedShard<BoundedLRU<String, ServedImpression>> {
        shards[Int(UInt(bitPattern: requestID.hashValue) % UInt(shards.count))]
    }

    func remember(_ requestID: String, _ impression: ServedImpression) {
        shard(requestID).withLock { $0.set(impression, for: requestID, expiresAt: impression.timestamp + ttl) }
    }

    func lookup(_ requestID: String, now: Double) -> ServedImpression? {
        shard(requestID).withLock { $0.value(for: requestID, now: now) }
    }

    /// Records a joined feedback key; false when it was already there (a duplicate).
    func markFeedback(_ requestID: String, key: String) -> Bool {
        var inserted = false
        _ = shard(requestID).withLock { lru in lru.update(requestID) { inserted = $0.feedbackKeys.insert(key).inserted } }
        return inserted
    }

    /// Forgets a feedback key (its write failed, so a retry must not count as a duplicate).
    func unmarkFeedback(_ requestID: String, key: String) {
        _ = shard(requestID).withLock { lru in lru.update(requestID) { $0.feedbackKeys.remove(key) } }
    }

    var count: Int { shards.reduce(0) { total, shard in total + shard.withLock { $0.count } } }
}

/// Per-user state versions, derived from the log: the sequence numbers of the user's last event
/// and last feedback and the time of their last profile change. Every process applying the same
/// log computes the same version, so result-cache keys agree across processes (the shared L2
/// cache relies on it), and any change of the user moves the version.
final class UserVersions: Sendable {
    struct Marks: Sendable {
        var event = 0
        var feedback = 0
        var profile = 0.0
    }
    private let shards: [LockedShard<[String: Marks]>] = (0..<16).map { _ in LockedShard([:]) }
    private func shard(_ userID: String) -> LockedShard<[String: Marks]> {
        shards[Int(UInt(bitPattern: userID.hashValue) % UInt(shards.count))]
    }

    func version(of userID: String) -> UInt64 {
        guard let marks = shard(userID).withLock({ $0[userID] }) else { return 0 }
        var h = UInt64(truncatingIfNeeded: marks.event) &* 0x9E37_79B9_7F4A_7C15
            ^ UInt64(truncatingIfNeeded: marks.feedback) &* 0xC2B2_AE3D_27D4_EB4F ^ marks.profile.bitPattern
        return SeededRandom.splitMix64(&h)
    }

    func noteEvent(_ userID: String, seq: Int) { shard(userID).withLock { $0[userID, default: Marks()].event = seq } }
    func noteFeedback(_ userID: String, seq: Int) { shard(userID).withLock { $0[userID, default: Marks()].feedback = seq } }
    func noteProfile(_ userID: String, updatedAt: Double) { shard(userID).withLock { $0[userID, default: Marks()].profile = updatedAt } }
}
