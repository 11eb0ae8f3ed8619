// PostgresConnection: one libpq connection, owned by this object and closed in deinit. Queries
// are always parameterised (PQexecParams, text format); values come back as text. Blocking:
// call it from a BlockingIOPool thread, never from an event loop. Not thread-safe.
import CLibpq
#if canImport(Glibc)
import Glibc
#endif

/// A failed connection or statement, with libpq's message and the SQLSTATE when there is one.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let sqlState: String?
    public var description: String { "postgres: \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "") }
}

/// The rows of a statement, as text (NULL is nil), with column names.
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows affected by INSERT/UPDATE/DELETE, when the command reports it.
    public let affectedRows: Int?

    /// The value of `column` in row `row`.
    public func value(_ row: Int, _ column: String) -> String? {
        guard let c = columns.firstIndex(of: column) else { return nil }
        return rows[row][c]
    }
}

/// A synchronous connection to PostgreSQL.
public final class PostgresConnection {
    private let connection: OpaquePointer

    /// Connects with a libpq connection string: a `postgresql://` URI or `key=value` pairs.
    /// `connect_timeout` in the string bounds the connect; statements are bounded by the server's
    /// `statement_timeout`, set here to `statementTimeoutMs`.
    public init(conninfo: String, statementTimeoutMs: Int = 5000) throws(PostgresError) {
        guard let connection = PQconnectdb(conninfo) else {
            throw PostgresError(message: "cannot allocate a libpq connection", sqlState: nil)
        }
        self.connection = connection
        guard PQstatus(connection) == CONNECTION_OK else {
            // Every stored property is set: throwing runs deinit, which calls PQfinish.
            let message = Self.errorText(connection)
            throw PostgresError(message: "connect: \(message)", sqlState: nil)
        }
        _ = try query("SELECT set_config('statement_timeout', $1, false)", [String(statementTimeoutMs)])
    }

    deinit { PQfinish(connection) }

    /// Whether the connection is still usable.
    public var isHealthy: Bool { PQstatus(connection) == CONNECTION_OK }

    /// Runs one statement with `$1, $2, ...` parameters passed separately from the SQL text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> PostgresRows {
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0)! } }
        defer { copies.forEach { free($0) } }
        let values: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let result = values.withUnsafeBufferPointer { buffer in
            PQexecParams(connection, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        guard let result else { throw PostgresError(message: Self.errorText(connection), sqlState: nil) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? "unknown error"
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PostgresError(message: message.trimmingNewlines(), sqlState: state)
        }
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        let rowCount = Int(PQntuples(result))
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            rows.append((0..<columnCount).map { c in
                PQgetisnull(result, Int32(r), Int32(c)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(r), Int32(c)))
            })
        }
        let affected = Int(String(cString: PQcmdTuples(result)))
        return PostgresRows(columns: columns, rows: rows, affectedRows: affected)
    }

    static func errorText(_ connection: OpaquePointer) -> String {
        PQerrorMessage(connection).map { String(cString: $0).trimmingNewlines() } ?? "unknown error"
    }
}

extension String {
    func trimmingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
