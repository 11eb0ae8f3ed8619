// PostgresConnectionTests: the libpq wrapper against a real PostgreSQL: parameterised queries
// (values never spliced into SQL), NULLs, affected rows, errors with SQLSTATE, refused connects.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverStore

@Suite(.enabled(if: TestServers.postgresAvailable, "needs QUIVER_TEST_POSTGRES_URL (scripts/test.sh)"))
struct PostgresConnectionTests {
    func connect() throws -> PostgresConnection {
        try PostgresConnection(conninfo: try TestServers.requirePostgres())
    }

    @Test func runsParameterisedQueries() throws {
        let pg = try connect()
        let rows = try pg.query("SELECT $1::int + $2::int AS sum, $3::text AS name, $4::text AS missing", ["40", "2", "quiver", nil])
        #expect(rows.columns == ["sum", "name", "missing"])
        #expect(rows.value(0, "sum") == "42")
        #expect(rows.value(0, "name") == "quiver")
        #expect(rows.rows[0][2] == nil)
    }

    @Test func keepsHostileValuesOutOfTheSQL() throws {
        let pg = try connect()
        let table = "quiver_test_\(UUID().uuidString.prefix(8).lowercased())"
        try pg.query("CREATE TABLE \(table) (id serial PRIMARY KEY, name text NOT NULL)")
        defer { _ = try? pg.query("DROP TABLE \(table)") }
        let hostile = "x'); DROP TABLE \(table); --"
        let insert = try pg.query("INSERT INTO \(table) (name) VALUES ($1), ($2)", [hostile, "ünïcode ✓"])
        #expect(insert.affectedRows == 2)
        let rows = try pg.query("SELECT name FROM \(table) ORDER BY id")
        #expect(rows.rows.map { $0[0] } == [hostile, "ünïcode ✓"])
    }

    @Test func reportsErrorsWithSQLState() throws {
        let pg = try connect()
        do {
            try pg.query("SELECT * FROM table_that_does_not_exist_\(UUID().uuidString.prefix(6))")
            Issue.record("expected an error")
        } catch {
            #expect(error.sqlState == "42P01")
            #expect(error.message.contains("does not exist"))
        }
        #expect(try pg.query("SELECT 1 AS one").value(0, "one") == "1")  // still usable after an error
    }

    @Test func failsClearlyWhenNothingListens() {
        #expect(throws: PostgresError.self) {
            try PostgresConnection(conninfo: "postgresql://postgres@127.0.0.1:1/quiver?connect_timeout=1")
        }
    }
}
