// PostgresConnectionPool: up to `maxConnections` connections to one database, opened on demand and
// lent to one caller at a time. A caller beyond the bound waits (at most `waitTimeoutMs`) for one to
// come back; a connection that broke is dropped on return instead of being lent again, and a read
// that failed because its connection broke is run once more on a fresh one. Blocking: use it from
// BlockingIOPool threads or a store's own threads, never from an event loop.
import Foundation

public final class PostgresConnectionPool: @unchecked Sendable {
    public let conninfo: String
    public let statementTimeoutMs: Int
    public let maxConnections: Int
    public let waitTimeoutMs: Int
    /// Guards `idle` and `opened`; signalled when a connection comes back or is dropped.
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    /// Connections that exist: idle, lent, or being opened.
    private var opened = 0

    public init(conninfo: String, statementTimeoutMs: Int = 5000, maxConnections: Int = 4, waitTimeoutMs: Int = 5000) {
        precondition(maxConnections > 0, "maxConnections must be positive")
        self.conninfo = conninfo
        self.statementTimeoutMs = statementTimeoutMs
        self.maxConnections = maxConnections
        self.waitTimeoutMs = waitTimeoutMs
    }

    /// Connections open now (idle or lent).
    public var openConnections: Int { condition.withLock { opened } }

    /// Runs `body` on a connection of the pool. When `body` throws and its connection is no longer
    /// healthy, the connection is dropped and, if `retryOnBrokenConnection` (for idempotent reads),
    /// `body` runs once more on a fresh one.
    @discardableResult
    public func withConnection<T>(retryOnBrokenConnection: Bool = true, _ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire()
        do {
            let result = try body(connection)
            release(connection)
            return result
        } catch {
            let broken = !connection.isHealthy
            release(connection)
            guard broken && retryOnBrokenConnection else { throw error }
        }
        let fresh = try acquire(fresh: true)
        defer { release(fresh) }
        return try body(fresh)
    }

    /// Closes the idle connections (a later call opens a new one).
    public func closeIdle() {
        condition.withLock {
            opened -= idle.count
            idle.removeAll()
            condition.broadcast()
        }
    }

    private func acquire(fresh: Bool = false) throws -> PostgresConnection {
        let deadline = Date().addingTimeInterval(Double(waitTimeoutMs) / 1000)
        condition.lock()
        while true {
            // A retry after a broken connection opens a new one: the idle ones may be as stale.
            if !fresh, let connection = idle.popLast() {
                condition.unlock()
                if connection.isHealthy { return connection }
                condition.withLock { opened -= 1; condition.signal() }
                condition.lock()
                continue
            }
            if opened < maxConnections { break }
            guard condition.wait(until: deadline) else {
                condition.unlock()
                throw PostgresError(message: "no PostgreSQL connection free within \(waitTimeoutMs) ms (\(maxConnections) in use)",
                                    sqlState: nil)
            }
        }
        opened += 1
        condition.unlock()
        do {
            return try PostgresConnection(conninfo: conninfo, statementTimeoutMs: statementTimeoutMs)
        } catch {
            condition.withLock { opened -= 1; condition.signal() }
            throw error
        }
    }

    private func release(_ connection: PostgresConnection) {
        condition.withLock {
            if connection.isHealthy {
                idle.append(connection)
            } else {
                opened -= 1
            }
            condition.signal()
        }
    }
}
