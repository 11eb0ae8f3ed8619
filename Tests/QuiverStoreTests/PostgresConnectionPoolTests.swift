// PostgresConnectionPoolTests: the pool against a real PostgreSQL: prepared statements run and
// keep working across calls, concurrent callers never hold more than the bound, a caller beyond
// it waits and gives up after its timeout, and a connection killed by the server is replaced
// and the read run again.
import Foundation
import QuiverTestSupport
import Synchronization
import Testing
@testable import QuiverStore

@Suite(.enabled(if: TestServers.postgresAvailable, "needs QUIVER_TEST_POSTGRES_URL (scripts/test.sh)"))
struct PostgresConnectionPoolTests {
    @Test func runsPreparedStatementsOnLentConnections() throws {
        let pool = PostgresConnectionPool(conninfo: try TestServers.requirePostgres(), maxConnections: 2)
        defer { pool.closeIdle() }
        for n in 0..<5 {
            let rows = try pool.withConnection { try $0.query(prepared: "SELECT $1::int * 2 AS twice, $2::text[] AS list", [String(n), "{\"a\\\"b\",NULL}"]) }
            #expect(rows.value(0, "twice") == String(2 * n))
            #expect(rows.value(0, "list") == "{\"a\\\"b\",NULL}")
        }
        #expect(pool.openConnections == 1, "sequential calls reuse one connection")
    }

    @Test func neverLendsMoreThanTheBound() async throws {
        let pool = PostgresConnectionPool(conninfo: try TestServers.requirePostgres(), maxConnections: 3)
        defer { pool.closeIdle() }
        let gauge = ConcurrencyGauge()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for _ in 0..<12 {
                tasks.addTask {
                    try await onThread {
                        try pool.withConnection { connection in
                            gauge.enter()
                            defer { gauge.leave() }
                            try connection.query("SELECT pg_sleep(0.02)")
                        }
                    }
                }
            }
            try await tasks.waitForAll()
        }
        #expect(gauge.peak <= 3 && gauge.peak >= 2)
        #expect(pool.openConnections <= 3)
    }

    @Test func aCallerBeyondTheBoundGivesUpAfterItsTimeout() throws {
        let pool = PostgresConnectionPool(conninfo: try TestServers.requirePostgres(), maxConnections: 1, waitTimeoutMs: 100)
        defer { pool.closeIdle() }
        try pool.withConnection { _ in
            #expect(throws: PostgresError.self) { try pool.withConnection { try $0.query("SELECT 1") } }
        }
        #expect(try pool.withConnection { try $0.query("SELECT 1").rows.count } == 1, "free again afterwards")
    }

    @Test func replacesAConnectionTheServerKilledAndRetriesTheRead() throws {
        let url = try TestServers.requirePostgres()
        let pool = PostgresConnectionPool(conninfo: url, maxConnections: 2)
        defer { pool.closeIdle() }
        let pid = try pool.withConnection { try $0.query("SELECT pg_backend_pid()").rows[0][0]! }
        try PostgresConnection(conninfo: url).query("SELECT pg_terminate_backend($1::int)", [pid])
        usleep(100_000)
        let again = try pool.withConnection { try $0.query("SELECT pg_backend_pid()").rows[0][0]! }
        #expect(again != pid)
        #expect(pool.openConnections == 1)
    }
}
