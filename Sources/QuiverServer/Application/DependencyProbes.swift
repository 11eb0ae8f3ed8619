// DependencyProbes: readiness checks of every configured dependency (the embedded SQLite store
// when it is the system of record, Redis, PostgreSQL, and the online store: Redis or a Redis
// Cluster, through the same client the server uses). Each check runs on the blocking I/O pool, reuses a cached connection and
// reconnects when it broke, so /ready never blocks an event loop and never leaks connections.
import Foundation
import QuiverStore
import Synchronization

/// The result of checking one dependency.
struct DependencyCheck: Encodable, Sendable {
    let name: String
    let kind: String
    let target: String
    let ok: Bool
    let latency_ms: Double
    let error: String?
}

struct ProbeFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Checks the dependencies a configuration names.
final class DependencyProbes: Sendable {
    private let pool: BlockingIOPool
    private let dataDirectory: String
    private let redis: RedisEndpoint?
    private let redisTarget: String?
    private let postgresURL: String?
    private let timeoutMs: Int
    private let redisConnection = Mutex<RedisConnection?>(nil)
    private let postgresConnection = Mutex<PostgresConnection?>(nil)
    private let sqlite = Mutex<SQLiteDatabase?>(nil)
    private let embedded: Bool
    private let online: RedisOnlineStore?

    init(configuration: QuiverConfiguration, pool: BlockingIOPool, online: RedisOnlineStore? = nil) throws(ConfigurationError) {
        self.pool = pool
        self.online = online
        embedded = configuration.storageBackend == "embedded"
        dataDirectory = configuration.dataDirectory
        timeoutMs = configuration.probeTimeoutMs
        if let url = configuration.redisURL {
            guard let endpoint = RedisEndpoint(url: url) else {
                throw ConfigurationError("redis.url must look like redis://host:port/db, got '\(url)'")
            }
            redis = endpoint
            redisTarget = "redis://\(endpoint.host):\(endpoint.port)/\(endpoint.database)"
        } else {
            redis = nil
            redisTarget = nil
        }
        postgresURL = configuration.postgresURL
    }

    /// The path of the embedded store's database file.
    var embeddedDatabasePath: String { dataDirectory + "/quiver.db" }

    /// Checks every dependency concurrently.
    func checkAll() async -> [DependencyCheck] {
        async let embeddedCheck = checkEmbeddedStore()
        async let redisCheck = checkRedis()
        async let postgresCheck = checkPostgres()
        async let onlineCheck = checkOnlineStore()
        return [await embeddedCheck, await redisCheck, await postgresCheck, await onlineCheck].compactMap { $0 }
    }

    private func checkOnlineStore() async -> DependencyCheck? {
        guard let online else { return nil }
        return await check(name: "online_store", kind: online.target.hasPrefix("redis-cluster") ? "redis_cluster" : "redis",
                           target: online.target) { try online.ping() }
    }

    private func checkEmbeddedStore() async -> DependencyCheck? {
        guard embedded else { return nil }
        return await check(name: "embedded_store", kind: "sqlite", target: embeddedDatabasePath) { [self] in
            try sqlite.withLock { db in
                if db == nil {
                    try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
                    db = try SQLiteDatabase(path: embeddedDatabasePath)
                }
                _ = try db!.execute("SELECT 1")
            }
        }
    }

    private func checkRedis() async -> DependencyCheck? {
        guard let endpoint = redis, let target = redisTarget else { return nil }
        let timeoutMs = timeoutMs
        return await check(name: "redis", kind: "redis", target: target) { [self] in
            try redisConnection.withLock { connection in
                if connection == nil || connection!.isBroken {
                    connection = nil
                    connection = try RedisConnection(endpoint: endpoint, timeoutMs: timeoutMs)
                }
                let reply = try connection!.command(["PING"])
                guard reply == .simple("PONG") else { throw ProbeFailure(message: "PING answered \(reply)") }
            }
        }
    }

    private func checkPostgres() async -> DependencyCheck? {
        guard let url = postgresURL else { return nil }
        let timeoutMs = timeoutMs
        return await check(name: "postgres", kind: "postgres", target: Self.redacted(url)) { [self] in
            try postgresConnection.withLock { connection in
                if connection == nil || !connection!.isHealthy {
                    connection = nil
                    connection = try PostgresConnection(conninfo: Self.withConnectTimeout(url, timeoutMs),
                                                        statementTimeoutMs: timeoutMs)
                }
                do {
                    let rows = try connection!.query("SELECT $1::int AS ok", ["1"])
                    guard rows.value(0, "ok") == "1" else { throw ProbeFailure(message: "SELECT returned \(rows.rows)") }
                } catch {
                    connection = nil
                    throw error
                }
            }
        }
    }

    private func check(name: String, kind: String, target: String,
                       _ body: @escaping @Sendable () throws -> Void) async -> DependencyCheck {
        let start = ContinuousClock.now
        var failure: String?
        do { try await pool.run(body) } catch { failure = "\(error)" }
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return DependencyCheck(name: name, kind: kind, target: target, ok: failure == nil,
                               latency_ms: (ms * 1000).rounded() / 1000, error: failure)
    }

    /// The URL without its password.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        let userInfo = url[scheme.upperBound..<at]
        let user = userInfo.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return String(url[..<scheme.upperBound]) + user + (userInfo.contains(":") ? ":***" : "") + String(url[at...])
    }

    /// Adds `connect_timeout` (whole seconds, at least 1) unless the URL sets one.
    static func withConnectTimeout(_ url: String, _ timeoutMs: Int) -> String {
        if url.contains("connect_timeout") { return url }
        let seconds = max(1, (timeoutMs + 999) / 1000)
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return url + (url.contains("?") ? "&" : "?") + "connect_timeout=\(seconds)"
        }
        return url + " connect_timeout=\(seconds)"
    }
}
