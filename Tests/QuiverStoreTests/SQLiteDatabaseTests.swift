// SQLiteDatabaseTests: the embedded store's SQLite wrapper on a temporary file: WAL mode,
// parameter binding, NULLs, errors, and data that survives closing and reopening.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverStore

@Suite struct SQLiteDatabaseTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("quiver-\(UUID().uuidString).db").path
    }

    @Test func storesAndReadsBackAcrossReopen() throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let db = try SQLiteDatabase(path: path)
            #expect(try db.execute("PRAGMA journal_mode") == [["wal"]])
            try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
            try db.execute("INSERT INTO t VALUES (?1, ?2), (?3, ?4)", ["a", "1'); DROP TABLE t; --", "b", nil])
        }
        let reopened = try SQLiteDatabase(path: path)
        #expect(try reopened.execute("SELECT k, v FROM t ORDER BY k") == [["a", "1'); DROP TABLE t; --"], ["b", nil]])
    }

    @Test func reportsErrors() throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let db = try SQLiteDatabase(path: path)
        #expect(throws: SQLiteError.self) { try db.execute("SELECT * FROM nowhere") }
        #expect(throws: SQLiteError.self) { try SQLiteDatabase(path: "/nonexistent-dir/x.db") }
    }
}
