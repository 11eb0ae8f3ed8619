// SharedResultCache: the second-level result cache in Redis (or a Redis Cluster), shared by every
// quiver process on the same online store. Keys carry everything the in-process key does, and the
// user's state version is derived from the shared log (the last event, feedback and profile change
// of the user), so every process computes the same key for the same state: an entry written by one
// process is valid for the others, and a user's change invalidates it everywhere without messages
// (keyspace versioning). A lookup is GET + PTTL in one pipelined round trip, on the request path;
// stores are SETs with the scenario's TTL, queued after the answer and sent by one background
// writer, every queued SET in one pipeline. Values are a compact binary form of CachedAnswer.
import Foundation
import QuiverCore
import QuiverStore
import Synchronization

final class SharedResultCache: Sendable {
    let store: RedisOnlineStore
    let timeoutMs: Int
    let writer: RedisWriteBehind
    private let lookupCount = Atomic<Int>(0)

    struct Counters: Sendable {
        /// Lookups made (each one round trip on the request path).
        var lookups = 0
        /// Write pipelines sent and the entries they carried; entries dropped when the queue was full.
        var writeRoundTrips = 0
        var entriesWritten = 0
        var writesDropped = 0
    }
    var counters: Counters {
        let w = writer.counters
        return Counters(lookups: lookupCount.load(ordering: .relaxed), writeRoundTrips: w.roundTrips, entriesWritten: w.entries,
                        writesDropped: w.dropped)
    }

    init(store: RedisOnlineStore, timeoutMs: Int) {
        self.store = store
        self.timeoutMs = timeoutMs
        writer = RedisWriteBehind(store: store, label: "quiver.l2-writes")
    }

    /// The Redis key of a result-cache key. The user id is the hash tag: a user's entries share a
    /// cluster slot.
    static func redisKey(_ key: ResultCacheKey) -> String {
        let rest = "\(key.scenario)|\(key.count)|\(key.contextBucket)|\(key.filters)|\(key.configVersion)"
        let digest = String(HashedCrossEncoder.hash(rest, namespace: 29), radix: 16)
        return "quiver:rc:{\(key.userID)}:\(String(key.userVersion, radix: 16)):\(digest)"
    }

    /// What one lookup found: the cached answer and the milliseconds it has left, and the value
    /// of the extra key asked for (the user's shared session).
    struct Found {
        var answer: (answer: CachedAnswer, remainingMs: Int)?
        var extra: [UInt8]?
    }

    /// Looks `key` up (GET and PTTL) and, when given, GETs `extra` too, all in one pipelined round
    /// trip (both keys carry the user's hash tag). Nil parts: absent, unreadable, or the store is down.
    func lookup(_ key: ResultCacheKey?, extra: String? = nil) -> Found {
        var commands: [RedisClusterCommand] = []
        if let key {
            let redisKey = Self.redisKey(key)
            commands += [RedisClusterCommand(["GET", redisKey], key: redisKey), RedisClusterCommand(["PTTL", redisKey], key: redisKey)]
        }
        if let extra { commands.append(RedisClusterCommand(["GET", extra], key: extra)) }
        guard !commands.isEmpty else { return Found() }
        lookupCount.wrappingAdd(1, ordering: .relaxed)
        guard let replies = store.pipeline(commands), replies.count == commands.count else { return Found() }
        var found = Found()
        if key != nil, case .bulk(let bytes) = replies[0], let answer = CachedAnswerCodec.decode(bytes),
           case .integer(let remaining) = replies[1], remaining > 0 {
            found.answer = (answer, remaining)
        }
        if extra != nil, case .bulk(let bytes) = replies[replies.count - 1] { found.extra = bytes }
        return found
    }

    /// Stores `answer` under `key` for `ttl` seconds, in the background.
    func store(_ answer: CachedAnswer, for key: ResultCacheKey, ttl: Double) {
        writer.set(Self.redisKey(key), CachedAnswerCodec.encode(answer), options: ["PX", String(max(1, Int(ttl * 1000)))])
    }
}

/// CachedAnswer <-> bytes: a version byte, then fields in order; strings and byte arrays are a
/// 32-bit length and the bytes; numbers little-endian.
enum CachedAnswerCodec {
    static let version: UInt8 = 2

    static func encode(_ answer: CachedAnswer) -> [UInt8] {
        var w = ByteWriter()
        w.bytes.reserveCapacity(answer.approximateBytes)
        w.u8(version)
        w.blob(answer.recommendationsJSON)
        let s = answer.summary
        w.string(s.scenario); w.string(s.modelVersion); w.string(s.explanation)
        w.optionalString(s.strategy); w.optionalDouble(s.strategyPropensity); w.optionalString(s.arm)
        w.u8(s.coldStart ? 1 : 0); w.optionalString(s.degradation); w.u64(UInt64(max(0, s.candidates)))
        w.u32(UInt32(answer.impressionItems.count))
        for item in answer.impressionItems {
            w.string(item.itemID); w.u32(UInt32(max(0, item.position))); w.double(item.score); w.double(item.propensity)
            w.string(item.source); w.u8(item.explored ? 1 : 0)
        }
        w.u32(UInt32(answer.tokens.count))
        for token in answer.tokens { w.string(token) }
        w.u32(UInt32(answer.dense.count))
        for value in answer.dense { w.u32(value.bitPattern) }
        w.string(answer.impressionTail)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) -> CachedAnswer? {
        var r = ByteReader(bytes: bytes)
        guard r.u8() == version, let json = r.blob(), let scenario = r.string(), let modelVersion = r.string(),
              let explanation = r.string(), let strategy = r.optionalString(), let strategyPropensity = r.optionalDouble(),
              let arm = r.optionalString(), let coldStart = r.u8(), let degradation = r.optionalString(),
              let candidates = r.u64(), let itemCount = r.u32(), itemCount <= 100_000 else { return nil }
        var items: [ImpressionItem] = []
        for _ in 0..<itemCount {
            guard let id = r.string(), let position = r.u32(), let score = r.double(), let propensity = r.double(),
                  let source = r.string(), let explored = r.u8() else { return nil }
            items.append(ImpressionItem(itemID: id, position: Int(position), score: score, propensity: propensity,
                                        source: source, explored: explored == 1))
        }
        guard let tokenCount = r.u32(), tokenCount <= 100_000 else { return nil }
        var tokens: [String] = []
        for _ in 0..<tokenCount { guard let t = r.string() else { return nil }; tokens.append(t) }
        guard let denseCount = r.u32(), denseCount <= 1_000_000 else { return nil }
        var dense: [Float] = []
        for _ in 0..<denseCount { guard let v = r.u32() else { return nil }; dense.append(Float(bitPattern: v)) }
        guard let impressionTail = r.string(), r.atEnd else { return nil }
        let summary = AnswerSummary(scenario: scenario, modelVersion: modelVersion, explanation: explanation, strategy: strategy,
                                    strategyPropensity: strategyPropensity, arm: arm, coldStart: coldStart == 1,
                                    degradation: degradation, candidates: Int(min(candidates, UInt64(Int.max))))
        return CachedAnswer(recommendationsJSON: json, summary: summary, impressionItems: items, tokens: tokens, dense: dense,
                            impressionTail: impressionTail)
    }
}

private struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func double(_ v: Double) { u64(v.bitPattern) }
    mutating func blob(_ b: [UInt8]) { u32(UInt32(b.count)); bytes.append(contentsOf: b) }
    mutating func string(_ s: String) { u32(UInt32(s.utf8.count)); bytes.append(contentsOf: s.utf8) }
    mutating func optionalString(_ s: String?) { if let s { u8(1); string(s) } else { u8(0) } }
    mutating func optionalDouble(_ d: Double?) { if let d { u8(1); double(d) } else { u8(0) } }
}

private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    var atEnd: Bool { offset == bytes.count }

    mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, bytes.count - offset >= n else { return nil }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }
    mutating func u8() -> UInt8? { take(1)?.first }
    mutating func u32() -> UInt32? { take(4).map { $0.reversed().reduce(0) { $0 << 8 | UInt32($1) } } }
    mutating func u64() -> UInt64? { take(8).map { $0.reversed().reduce(0) { $0 << 8 | UInt64($1) } } }
    mutating func double() -> Double? { u64().map(Double.init(bitPattern:)) }
    mutating func blob() -> [UInt8]? { u32().flatMap { take(Int($0)) }.map(Array.init) }
    mutating func string() -> String? { blob().map { String(decoding: $0, as: UTF8.self) } }
    /// nil: malformed; .some(nil): absent.
    mutating func optionalString() -> String?? {
        switch u8() { case 0?: return .some(nil); case 1?: return string().map { .some($0) }; default: return nil }
    }
    mutating func optionalDouble() -> Double?? {
        switch u8() { case 0?: return .some(nil); case 1?: return double().map { .some($0) }; default: return nil }
    }
}
