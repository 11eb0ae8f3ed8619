// TemporaryPostgresDatabase: a PostgreSQL database on the test server, created for one test and
// dropped after it (WITH (FORCE), so connections left open do not keep it alive).
import Foundation
import QuiverStore
import Testing

/// A PostgreSQL database created for one test and dropped after it, so tests never share a log.
public struct TemporaryPostgresDatabase: Sendable {
    public let serverURL: String
    public let name: String
    /// Where the database is, as a libpq URI.
    public let conninfo: String

    public init() throws {
        serverURL = try TestServers.requirePostgres()
        name = "quiver_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        conninfo = Self.uri(serverURL, database: name)
        try PostgresConnection(conninfo: serverURL).execute("CREATE DATABASE \(name)")
    }

    /// A connection of its own, for statements the store does not make.
    public func connect() throws -> PostgresConnection { try PostgresConnection(conninfo: conninfo) }

    public func drop() {
        _ = try? PostgresConnection(conninfo: serverURL).execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// `url` (postgresql://user@host:port/db?options) naming `database` instead.
    public static func uri(_ url: String, database: String) -> String {
        let query = url.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        let base = url.firstIndex(of: "?").map { String(url[..<$0]) } ?? url
        guard let scheme = base.range(of: "://") else { return url + " dbname=\(database)" }
        let authority = base[scheme.upperBound...].prefix { $0 != "/" }
        return base[..<scheme.upperBound] + authority + "/" + database + query
    }
}

