// PostgresConfigVersions: the `config_versions` table as the shared history of run-time
// configuration (scenario sets, feature definitions) when several processes share PostgreSQL: a
// process publishes each set it applies, and the others pick up the newest one. One connection,
// opened on first use and reopened after a failure, behind a lock; blocking: call it from the I/O
// pool or a thread of its own.
import Foundation

public final class PostgresConfigVersions: @unchecked Sendable {
    private let conninfo: String
    private var connection: PostgresConnection?
    private let lock = NSLock()

    /// A published configuration: its kind (`scenarios`), version, text and when it was published.
    public struct Entry: Sendable, Equatable {
        public let kind: String
        public let version: String
        public let body: String
        public let createdAt: Double
    }

    public init(conninfo: String) { self.conninfo = conninfo }

    private func run<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try lock.withLock {
            do {
                if connection == nil || connection?.isHealthy == false { connection = try PostgresConnection(conninfo: conninfo) }
                return try body(connection!)
            } catch {
                connection = nil
                throw error
            }
        }
    }

    /// Publishes `body` as `version` of `kind` (publishing a version again makes it the newest);
    /// returns its publication time, from the database's clock so that processes with skewed
    /// clocks still agree on what is newest.
    @discardableResult
    public func publish(kind: String, version: String, body: String) throws -> Double {
        let rows = try run { connection in
            try connection.query("""
                INSERT INTO config_versions (kind, version, body, created_at)
                VALUES ($1, $2, $3, EXTRACT(EPOCH FROM clock_timestamp())::double precision)
                ON CONFLICT (kind, version) DO UPDATE SET body = excluded.body, created_at = excluded.created_at
                RETURNING created_at
                """, [kind, version, body])
        }
        guard !rows.rows.isEmpty, let text = rows.value(0, "created_at"), let createdAt = Double(text) else {
            throw PostgresError(message: "config_versions: no publication time returned", sqlState: nil)
        }
        return createdAt
    }

    /// The newest published entry of `kind`, if any.
    public func newest(kind: String) throws -> Entry? {
        try run { connection in
            let rows = try connection.query(
                "SELECT version, body, created_at FROM config_versions WHERE kind = $1 ORDER BY created_at DESC, version DESC LIMIT 1", [kind])
            guard !rows.rows.isEmpty, let version = rows.value(0, "version"), let body = rows.value(0, "body"),
                  let createdAt = rows.value(0, "created_at").flatMap(Double.init) else { return nil }
            return Entry(kind: kind, version: version, body: body, createdAt: createdAt)
        }
    }
}
