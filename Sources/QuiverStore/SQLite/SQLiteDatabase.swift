// SQLiteDatabase: one SQLite connection for the embedded store, owned by this object and closed
// in deinit. Opened in WAL mode; `durable` (the default) makes every commit reach the disk (synchronous=FULL).
// Statements are parameterised; values come back as text. Not thread-safe: one owner at a time.
import CSQLite

/// A failed SQLite call, with SQLite's message.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public var description: String { "sqlite: \(message) (code \(code))" }
}

/// A connection to an SQLite database file.
public final class SQLiteDatabase {
    private let handle: OpaquePointer
    public let path: String

    /// Opens (creating if needed) the database at `path` in WAL mode.
    /// - Parameter durable: fsync on every commit (`synchronous=FULL`) rather than at checkpoints.
    public init(path: String, durable: Bool = true) throws(SQLiteError) {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: "open \(path): \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, 5000)
        try execute("PRAGMA journal_mode=WAL")
        try execute(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
    }

    deinit { sqlite3_close_v2(handle) }

    var rawHandle: OpaquePointer { handle }

    /// The rowid of the last row inserted on this connection.
    public var lastInsertRowID: Int { Int(sqlite3_last_insert_rowid(handle)) }

    /// Runs one statement, binding `parameters` to `?1, ?2, ...`, and returns its rows as text.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws(SQLiteError) -> [[String?]] {
        var statement: OpaquePointer?
        var rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc) }
        defer { sqlite3_finalize(statement) }
        for (i, value) in parameters.enumerated() {
            if let value {
                rc = sqlite3_bind_text(statement, Int32(i + 1), value, -1, csqlite_transient())
            } else {
                rc = sqlite3_bind_null(statement, Int32(i + 1))
            }
            guard rc == SQLITE_OK else { throw error(rc) }
        }
        var rows: [[String?]] = []
        while true {
            rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else { throw error(rc) }
            let count = sqlite3_column_count(statement)
            rows.append((0..<count).map { c in
                sqlite3_column_text(statement, c).map { String(cString: $0) }
            })
        }
    }

    private func error(_ code: Int32) -> SQLiteError {
        SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)))
    }
}
