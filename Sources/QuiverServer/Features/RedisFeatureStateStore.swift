// RedisFeatureStateStore: where the feature engine's evicted users go when an online store is
// configured: the bounded in-memory tier first, and every evicted state also written to Redis
// (zlib-compressed JSON, with a TTL), so a user dropped from the in-memory tier keeps their
// windows instead of starting from empty. Keys carry this process's id: each process rebuilds its
// features from the shared log and keeps its own evicted states (a state is only valid for the
// log position of the process that saved it), so Redis is a memory tier here, not shared truth.
// Writes are queued and sent by one background writer, every queued SET in one pipeline. What
// this process keeps in Redis is bounded by `maxBytes` (OnlineStateBudget: value, key and a fixed
// per-key overhead); beyond it the oldest states are deleted, as the TTL would later. A load
// that misses memory asks Redis (one round trip), except on an event loop, which must not wait:
// there the user reads as absent until the log's writer (which may wait) brings them back.
import Foundation
import QuiverCore
import QuiverStore
import Synchronization

final class RedisFeatureStateStore: FeatureStateStore {
    let memory: BoundedFeatureStateStore
    let redis: RedisOnlineStore
    let ttlSeconds: Int
    private let prefix: String
    private let writer: RedisWriteBehind
    /// Keys this process has written to Redis and not loaded back, with their sizes: only these
    /// are worth a round trip (a user never evicted, the common case for a new user, costs none).
    private let inRedis: LockedShard<OnlineStateBudget>

    struct Counters: Sendable {
        var written = 0
        var writeRoundTrips = 0
        var loadedFromRedis = 0
        var missing = 0
        /// Loads on an event loop that missed memory: answered "absent" without asking Redis.
        var skippedOnLoop = 0
        var writesDropped = 0
        /// Bytes this process holds in Redis now (approximate), and states deleted to stay within
        /// the budget.
        var bytesHeld = 0
        var evictedForBudget = 0
    }
    private let counts = Mutex(Counters())
    var counters: Counters {
        var c = counts.withLock { $0 }
        let w = writer.counters
        (c.written, c.writeRoundTrips, c.writesDropped) = (w.entries, w.roundTrips, c.writesDropped + w.dropped)
        (c.bytesHeld, c.evictedForBudget) = inRedis.withLock { ($0.bytes, $0.evicted) }
        return c
    }

    /// - Parameter maxBytes: the most this process keeps in Redis (approximate bytes).
    init(memory: BoundedFeatureStateStore, redis: RedisOnlineStore, ttlSeconds: Int, maxBytes: Int) {
        self.memory = memory
        self.redis = redis
        self.ttlSeconds = ttlSeconds
        var random = SystemRandomNumberGenerator()
        prefix = "quiver:fs:\(String(random.next() & 0xFFFF_FFFF_FFFF, radix: 16)):"
        let inRedis = LockedShard(OnlineStateBudget(maxBytes: maxBytes, ttlSeconds: Double(ttlSeconds)))
        self.inRedis = inRedis
        // Set once below; the writer's callback runs on its queue, after `writer` exists.
        let deleter = LockedShard<RedisWriteBehind?>(nil)
        writer = RedisWriteBehind(store: redis, label: "quiver.feature-state-writes") { keys in
            let over = inRedis.withLock { $0.written(keys, now: Date().timeIntervalSince1970) }
            deleter.withLock { writer in for key in over { writer?.delete(key) } }
        }
        deleter.withLock { $0 = writer }
    }

    func key(_ userID: String) -> String { prefix + "{" + userID + "}" }

    func save(_ state: UserFeatureState, for userID: String) {
        memory.save(state, for: userID)
        guard let json = try? Self.encoder().encode(state) else { counts.withLock { $0.writesDropped += 1 }; return }
        let key = key(userID), value = ZlibCodec.compress(Array(json))
        inRedis.withLock { $0.queued(key, bytes: value.count) }
        if !writer.set(key, value, options: ["EX", String(ttlSeconds)]) { inRedis.withLock { $0.unqueued(key) } }
    }

    func load(userID: String) -> UserFeatureState? {
        if let state = memory.load(userID: userID) { return state }
        let key = key(userID)
        // A state still waiting to be written is the newest one.
        if let queued = writer.takePending(key) {
            inRedis.withLock { $0.unqueued(key) }
            return Self.decode(queued)
        }
        guard inRedis.withLock({ $0.holds(key) }) else { return nil }
        if Thread.current.name?.hasPrefix("quiver-loop") == true {
            counts.withLock { $0.skippedOnLoop += 1 }
            return nil
        }
        guard let replies = redis.pipeline([RedisClusterCommand(["GET", key], key: key), RedisClusterCommand(["DEL", key], key: key)]),
              case .bulk(let bytes)? = replies.first, let state = Self.decode(bytes) else {
            counts.withLock { $0.missing += 1 }
            return nil
        }
        inRedis.withLock { $0.removed(key) }
        counts.withLock { $0.loadedFromRedis += 1 }
        return state
    }

    private static func decode(_ bytes: [UInt8]) -> UserFeatureState? {
        guard let json = try? ZlibCodec.decompress(bytes) else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "+inf", negativeInfinity: "-inf", nan: "nan")
        return try? decoder.decode(UserFeatureState.self, from: Data(json))
    }

    /// Window minima and maxima start at +/- infinity: JSON has no such numbers, so they are strings.
    private static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "+inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }
}

/// What one process holds in Redis, for the memory budget: each written key's approximate size
/// (value + key + `perKeyOverhead`) and expiry, oldest first. Past `maxBytes` the oldest keys are
/// handed back for deletion; keys past their TTL (Redis dropped them) stop counting.
struct OnlineStateBudget: Sendable {
    /// Redis's own bookkeeping per key (dictionary entry, object headers, expiry), roughly.
    static let perKeyOverhead = 64

    let maxBytes: Int
    let ttlSeconds: Double
    private(set) var bytes = 0
    private(set) var evicted = 0
    /// Sizes of values queued for writing (known at save, counted once written).
    private var queuedSizes: [String: Int] = [:]
    private var held: [String: (bytes: Int, expires: Double, generation: Int)] = [:]
    /// Writes in order; an entry whose generation is no longer the key's is stale.
    private var order: [(key: String, generation: Int)] = []
    private var head = 0
    private var generation = 0

    init(maxBytes: Int, ttlSeconds: Double) {
        self.maxBytes = maxBytes
        self.ttlSeconds = ttlSeconds
    }

    func holds(_ key: String) -> Bool { held[key] != nil }

    mutating func queued(_ key: String, bytes: Int) {
        queuedSizes[key] = bytes + key.utf8.count + Self.perKeyOverhead
    }

    /// A queued value will not be written (taken back, or dropped).
    mutating func unqueued(_ key: String) { queuedSizes[key] = nil }

    /// `keys` were written at `now`; returns the keys to delete to get back within the budget.
    mutating func written(_ keys: [String], now: Double) -> [String] {
        for key in keys {
            let size = queuedSizes.removeValue(forKey: key) ?? key.utf8.count + Self.perKeyOverhead
            removed(key)
            generation += 1
            held[key] = (size, now + ttlSeconds, generation)
            order.append((key, generation))
            bytes += size
        }
        var over: [String] = []
        while head < order.count {
            let (key, generation) = order[head]
            guard let entry = held[key], entry.generation == generation else { head += 1; continue }  // stale
            let expired = entry.expires <= now
            guard expired || bytes > maxBytes else { break }
            head += 1
            removed(key)
            if !expired {
                over.append(key)
                evicted += 1
            }
        }
        if head > 1_024 && head * 2 > order.count {  // drop the consumed prefix now and then
            order.removeFirst(head)
            head = 0
        }
        return over
    }

    /// `key` left Redis (loaded back and deleted, expired or evicted).
    mutating func removed(_ key: String) {
        if let entry = held.removeValue(forKey: key) { bytes -= entry.bytes }
    }
}
