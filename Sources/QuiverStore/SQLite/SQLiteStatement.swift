// SQLiteStatement: a prepared statement reused across executions (bulk inserts of the event log),
// and transactions on SQLiteDatabase. Owned by whoever owns the database connection.
import CSQLite

/// A compiled statement; finalised in deinit.
public final class SQLiteStatement {
    private let handle: OpaquePointer
    private let database: OpaquePointer

    init(database: OpaquePointer, sql: String) throws(SQLiteError) {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(database, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(database)))
        }
        handle = statement
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to `?1, ?2, ...` (text, double, or NULL), runs the statement to completion,
    /// and resets it for the next use.
    public func run(_ values: [SQLiteValue]) throws(SQLiteError) {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .text(let text): rc = sqlite3_bind_text(handle, index, text, -1, csqlite_transient())
            case .real(let number): rc = sqlite3_bind_double(handle, index, number)
            case .integer(let number): rc = sqlite3_bind_int64(handle, index, sqlite3_int64(number))
            case .null: rc = sqlite3_bind_null(handle, index)
            }
            guard rc == SQLITE_OK else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(database))) }
        }
        var rc = sqlite3_step(handle)
        while rc == SQLITE_ROW { rc = sqlite3_step(handle) }
        guard rc == SQLITE_DONE else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(database))) }
    }
}

/// A value bound to a statement parameter.
public enum SQLiteValue: Sendable, Equatable {
    case text(String)
    case real(Double)
    case integer(Int)
    case null
}

extension SQLiteDatabase {
    /// Compiles `sql` for repeated use.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try SQLiteStatement(database: rawHandle, sql: sql)
    }

    /// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it throws.
    public func transaction(_ body: () throws -> Void) throws {
        try execute("BEGIN IMMEDIATE")
        do {
            try body()
            try execute("COMMIT")
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }
}
