// PostgresConnection: one libpq connection, owned by this object and closed in deinit. Queries
// with values are always parameterised (PQexecParams, text format), and `prepared` ones are
// prepared once per connection (PQprepare, then PQexecPrepared); only fixed scripts without
// values go through the simple protocol (PQexec). Values come back as text; LISTEN notifications
// are read without blocking. Blocking: call it from a BlockingIOPool thread, never from an event
// loop. Not thread-safe.
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
    /// The statements prepared on this connection: SQL text -> statement name.
    private var preparedNames: [String: String] = [:]

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
        // Notices (and the server's goodbye when it ends the session) would go to stderr: errors
        // that matter come back from the call that met them.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
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
        return try rows(of: result)
    }

    /// Runs one statement like `query`, prepared on this connection the first time its text is
    /// seen (parsed and planned once; later calls send only the parameters). For the fixed
    /// statements of the hot paths; the connection keeps every text it prepared.
    @discardableResult
    public func query(prepared sql: String, _ parameters: [String?]) throws(PostgresError) -> PostgresRows {
        let name: String
        if let known = preparedNames[sql] {
            name = known
        } else {
            name = "quiver_\(preparedNames.count + 1)"
            let result = PQprepare(connection, name, sql, Int32(parameters.count), nil)
            _ = try rows(of: result)
            preparedNames[sql] = name
        }
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0)! } }
        defer { copies.forEach { free($0) } }
        let values: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let result = values.withUnsafeBufferPointer { buffer in
            PQexecPrepared(connection, name, Int32(parameters.count), buffer.baseAddress, nil, nil, 0)
        }
        return try rows(of: result)
    }

    /// The rows of `result` (which it frees), or its error.
    private func rows(of result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
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

    /// The server as `host:port/database`, for logs (never the password).
    public var serverDescription: String {
        let host = PQhost(connection).map { String(cString: $0) } ?? "?"
        let port = PQport(connection).map { String(cString: $0) } ?? "?"
        let database = PQdb(connection).map { String(cString: $0) } ?? "?"
        return "\(host):\(port)/\(database)"
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

// MARK: Scripts and notifications

extension PostgresConnection {
    /// Runs statements without parameters, separated by semicolons, in one round trip (the simple
    /// query protocol); returns the last statement's rows. Only for fixed SQL: values go through
    /// `query`, never into a script.
    @discardableResult
    public func execute(_ script: String) throws(PostgresError) -> PostgresRows {
        try rows(of: PQexec(connection, script))
    }

    /// The connection's socket, to wait on with poll() for notifications.
    var socket: Int32 { PQsocket(connection) }

    /// The process id of the server backend serving this connection (notifications carry the
    /// sender's).
    var backendPID: Int32 { PQbackendPID(connection) }

    /// Reads what the server sent (without blocking) and returns the notifications received since
    /// the last call (after `LISTEN`), oldest first; throws when the connection broke.
    func notifications() throws(PostgresError) -> [(channel: String, senderPID: Int32)] {
        guard PQconsumeInput(connection) == 1 else {
            throw PostgresError(message: Self.errorText(connection), sqlState: nil)
        }
        var received: [(channel: String, senderPID: Int32)] = []
        while let notification = PQnotifies(connection) {
            received.append((String(cString: notification.pointee.relname), notification.pointee.be_pid))
            PQfreemem(notification)
        }
        return received
    }
}
