// RedisFeatureStateStore: where the feature engine's evicted users go when an online store is
// configured: the bounded in-memory tier first, and every evicted state also written to Redis
// (zlib-compressed JSON, with a TTL), so a user dropped from the in-memory tier keeps their
// windows instead of starting from empty. Keys carry this process's id: each process rebuilds its
// features from the shared log and keeps its own evicted states (a state is only valid for the
// log position of the process that saved it), so Redis is a memory tier here, not shared truth.
// Writes are queued and sent by one background writer, every queued SET in one pipeline. A load
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
    /// Keys this process has written to Redis and not loaded back: only these are worth a round
    /// trip (a user never evicted, the common case for a new user, costs none).
    private let inRedis: LockedShard<Set<String>>

    struct Counters: Sendable {
        var written = 0
        var writeRoundTrips = 0
        var loadedFromRedis = 0
        var missing = 0
        /// Loads on an event loop that missed memory: answered "absent" without asking Redis.
        var skippedOnLoop = 0
        var writesDropped = 0
    }
    private let counts = Mutex(Counters())
    var counters: Counters {
        var c = counts.withLock { $0 }
        let w = writer.counters
        (c.written, c.writeRoundTrips, c.writesDropped) = (w.entries, w.roundTrips, c.writesDropped + w.dropped)
        return c
    }

    init(memory: BoundedFeatureStateStore, redis: RedisOnlineStore, ttlSeconds: Int) {
        self.memory = memory
        self.redis = redis
        self.ttlSeconds = ttlSeconds
        var random = SystemRandomNumberGenerator()
        prefix = "quiver:fs:\(String(random.next() & 0xFFFF_FFFF_FFFF, radix: 16)):"
        let inRedis = LockedShard(Set<String>())
        self.inRedis = inRedis
        writer = RedisWriteBehind(store: redis, label: "quiver.feature-state-writes") { keys in
            inRedis.withLock { $0.formUnion(keys) }
        }
    }

    func key(_ userID: String) -> String { prefix + "{" + userID + "}" }

    func save(_ state: UserFeatureState, for userID: String) {
        memory.save(state, for: userID)
        guard let json = try? Self.encoder().encode(state) else { counts.withLock { $0.writesDropped += 1 }; return }
        writer.set(key(userID), ZlibCodec.compress(Array(json)), options: ["EX", String(ttlSeconds)])
    }

    func load(userID: String) -> UserFeatureState? {
        if let state = memory.load(userID: userID) { return state }
        let key = key(userID)
        // A state still waiting to be written is the newest one.
        if let queued = writer.takePending(key) { return Self.decode(queued) }
        guard inRedis.withLock({ $0.contains(key) }) else { return nil }
        if Thread.current.name?.hasPrefix("quiver-loop") == true {
            counts.withLock { $0.skippedOnLoop += 1 }
            return nil
        }
        guard let replies = redis.pipeline([RedisClusterCommand(["GET", key], key: key), RedisClusterCommand(["DEL", key], key: key)]),
              case .bulk(let bytes)? = replies.first, let state = Self.decode(bytes) else {
            counts.withLock { $0.missing += 1 }
            return nil
        }
        inRedis.withLock { _ = $0.remove(key) }
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
