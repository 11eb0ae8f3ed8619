// RedisOnlineStore: the shared online store as the server uses it: batches of binary-safe commands
// sent in one pipelined round trip, to one Redis server (a small pool of RedisConnection) or to a
// Redis Cluster (RedisClusterClient routes each command by its key's slot). It fails fast: after a
// failure it stays "down" for `retryAfterMs` and callers go on without it (the server degrades to
// its in-process cache), then it reconnects. Blocking: call it from BlockingIOPool threads.
import Synchronization

/// One Redis server or one Redis Cluster behind the same pipelined interface.
public final class RedisOnlineStore: Sendable {
    private enum Backend: Sendable {
        case single(RedisConnectionPool)
        case cluster(RedisClusterClient)
    }

    /// What the store has done, for metrics and tests.
    public struct Counters: Sendable, Equatable {
        /// Pipelines sent (each one network round trip per node it touches).
        public var roundTrips = 0
        /// Commands sent in them.
        public var commands = 0
        /// Pipelines that failed (connection refused, timeout, broken connection).
        public var failures = 0
        /// Calls skipped because the store was marked down.
        public var skipped = 0
    }

    private let backend: Backend
    private let retryAfterMs: Int
    private let state = Mutex<(counters: Counters, downUntil: ContinuousClock.Instant?)>((Counters(), nil))
    /// `redis://host:port/db` or the cluster's seeds, for readiness and logs.
    public let target: String

    /// A store on one Redis server (`redis://[:password@]host:port/db`).
    public init(url: String, timeoutMs: Int, poolSize: Int = 16, retryAfterMs: Int = 1_000) throws(RedisError) {
        guard let endpoint = RedisEndpoint(url: url) else { throw RedisError(message: "not a Redis URL: \(url)") }
        backend = .single(RedisConnectionPool(endpoint: endpoint, timeoutMs: timeoutMs, idle: poolSize))
        self.retryAfterMs = retryAfterMs
        target = "redis://\(endpoint.host):\(endpoint.port)/\(endpoint.database)"
    }

    /// A store on a Redis Cluster (`redis://host:port,host:port,...`); reads the slot map now.
    public init(clusterURL: String, timeoutMs: Int, poolSize: Int = 16, retryAfterMs: Int = 1_000) throws(RedisError) {
        guard var configuration = RedisClusterClient.Configuration(url: clusterURL) else {
            throw RedisError(message: "not a Redis Cluster URL: \(clusterURL)")
        }
        configuration.timeoutMs = timeoutMs
        configuration.idleConnectionsPerNode = poolSize
        backend = .cluster(try RedisClusterClient(configuration))
        self.retryAfterMs = retryAfterMs
        target = "redis-cluster://" + configuration.seeds.map { "\($0.host):\($0.port)" }.joined(separator: ",")
    }

    public var counters: Counters { state.withLock { $0.counters } }

    /// Whether the store is marked down after a recent failure.
    public var isDown: Bool {
        state.withLock { s in s.downUntil.map { ContinuousClock.now < $0 } ?? false }
    }

    /// Sends `commands` in one pipelined round trip (per node, on a cluster) and returns their
    /// replies in order; nil when the store is down or the call failed (it is then marked down).
    public func pipeline(_ commands: [RedisClusterCommand]) -> [RedisValue]? {
        guard !commands.isEmpty else { return [] }
        let skip = state.withLock { s -> Bool in
            if let until = s.downUntil, ContinuousClock.now < until { s.counters.skipped += 1; return true }
            return false
        }
        if skip { return nil }
        do throws(RedisError) {
            let replies: [RedisValue]
            switch backend {
            case .single(let pool): replies = try pool.pipeline(commands.map(\.arguments))
            case .cluster(let client): replies = try client.pipeline(commands)
            }
            state.withLock { s in
                s.counters.roundTrips += 1
                s.counters.commands += commands.count
                s.downUntil = nil
            }
            return replies
        } catch {
            let retryAfterMs = retryAfterMs
            state.withLock { s in
                s.counters.failures += 1
                s.downUntil = ContinuousClock.now + .milliseconds(retryAfterMs)
            }
            return nil
        }
    }

    /// PING through the store, ignoring the down mark (readiness).
    public func ping() throws(RedisError) {
        let reply: RedisValue
        switch backend {
        case .single(let pool): reply = try pool.pipeline([[Array("PING".utf8)]])[0]
        case .cluster(let client): reply = try client.command(["PING"], key: "quiver")
        }
        guard reply == .simple("PONG") else { throw RedisError(message: "PING answered \(reply)") }
        state.withLock { $0.downUntil = nil }
    }
}

/// Connections to one Redis server, each used by one caller at a time; a broken connection is
/// dropped and a new one opened by the next caller.
final class RedisConnectionPool: Sendable {
    /// Unchecked: a connection is either in the pool (touched only under the lock) or checked out
    /// by exactly one caller.
    private struct Idle: @unchecked Sendable { let connection: RedisConnection }
    private let endpoint: RedisEndpoint
    private let timeoutMs: Int
    private let idleLimit: Int
    private let idle = Mutex<[Idle]>([])

    init(endpoint: RedisEndpoint, timeoutMs: Int, idle: Int) {
        self.endpoint = endpoint
        self.timeoutMs = timeoutMs
        idleLimit = idle
    }

    func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisValue] {
        let pooled = idle.withLock { $0.popLast() }
        if let pooled {
            // An idle connection may have been closed by the server: one retry on a fresh one.
            if let replies = try? pooled.connection.pipeline(commands) {
                checkin(pooled.connection)
                return replies
            }
        }
        let connection = try RedisConnection(endpoint: endpoint, timeoutMs: timeoutMs)
        let replies = try connection.pipeline(commands)
        checkin(connection)
        return replies
    }

    private func checkin(_ connection: RedisConnection) {
        guard !connection.isBroken else { return }
        idle.withLock { pool in if pool.count < idleLimit { pool.append(Idle(connection: connection)) } }
    }
}
