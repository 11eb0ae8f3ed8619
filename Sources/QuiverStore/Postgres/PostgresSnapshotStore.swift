// PostgresSnapshotStore: model snapshots in the `model_snapshots` table, shared by every process on
// the database: the zlib-compressed bytes (bytea, sent and read as hex text), the log position they
// cover and JSON metadata (model version, sizes). Each save runs in one transaction that also drops
// all but the newest `keep` (by log position); `latest()` skips a row that does not decompress and
// takes the one before it. One short-lived connection per call: snapshots are rare and large.
import Foundation

public struct PostgresSnapshotStore: SnapshotStore {
    public let conninfo: String
    /// How many snapshots to keep.
    public let keep: Int
    /// Statements move whole snapshots: a longer bound than the log's.
    let statementTimeoutMs = 120_000

    /// Opens the store at `conninfo`, bringing the schema up to date.
    public init(conninfo: String, keep: Int = 3) throws {
        self.conninfo = conninfo
        self.keep = max(1, keep)
        _ = try PostgresSchema.migrate(conninfo: conninfo)
    }

    private func connect() throws -> PostgresConnection {
        let connection = try PostgresConnection(conninfo: conninfo, statementTimeoutMs: statementTimeoutMs)
        try connection.execute("SET bytea_output = 'hex'")
        return connection
    }

    static let newestFirst = "ORDER BY event_seq DESC, feedback_seq DESC, id DESC"

    /// The newest readable snapshot (an undecodable one is skipped for the one before it).
    public func latest() throws -> StoredSnapshot? {
        let connection = try connect()
        let candidates = try connection.query("SELECT id, event_seq, feedback_seq, created_at FROM model_snapshots \(Self.newestFirst)").rows
        for candidate in candidates {
            guard let id = candidate[0], let eventSeq = candidate[1].flatMap(Int.init), let feedbackSeq = candidate[2].flatMap(Int.init)
            else { continue }
            // One row's bytes at a time: a skipped snapshot is not loaded with the good one.
            guard let hex = try connection.query("SELECT bytes FROM model_snapshots WHERE id = $1", [id]).rows.first?[0],
                  let compressed = Self.bytes(fromHex: hex),
                  let bytes = try? ZlibCodec.decompress(compressed) else { continue }
            return StoredSnapshot(eventSeq: eventSeq, feedbackSeq: feedbackSeq,
                                  createdAt: Double(postgresText: candidate[3]) ?? 0, bytes: bytes)
        }
        return nil
    }

    /// Stores `snapshot` and keeps the newest `keep`. Blocking: call it off the event loops.
    public func save(_ snapshot: StoredSnapshot) throws {
        try save(snapshot, modelVersion: "\(snapshot.eventSeq)-\(snapshot.feedbackSeq)")
    }

    /// Stores `snapshot`, recording `modelVersion` in its metadata, and keeps the newest `keep`.
    public func save(_ snapshot: StoredSnapshot, modelVersion: String) throws {
        let compressed = ZlibCodec.compress(snapshot.bytes)
        let metadata = SnapshotMetadata(modelVersion: modelVersion, bytes: snapshot.bytes.count, compressedBytes: compressed.count)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let metadataJSON = String(decoding: try encoder.encode(metadata), as: UTF8.self)
        let connection = try connect()
        try connection.execute("BEGIN")
        do {
            try connection.query("""
                INSERT INTO model_snapshots (event_seq, feedback_seq, created_at, bytes, metadata) VALUES ($1, $2, $3, $4, $5)
                """, [String(snapshot.eventSeq), String(snapshot.feedbackSeq), snapshot.createdAt.postgresText,
                      Self.hex(compressed), metadataJSON])
            try connection.query("""
                DELETE FROM model_snapshots WHERE id NOT IN (SELECT id FROM model_snapshots \(Self.newestFirst) LIMIT $1)
                """, [String(keep)])
            try connection.execute("COMMIT")
        } catch {
            if connection.isHealthy { _ = try? connection.execute("ROLLBACK") }
            throw error
        }
    }

    /// What the metadata column says about a snapshot.
    struct SnapshotMetadata: Codable {
        var modelVersion: String
        var bytes: Int
        var compressedBytes: Int
    }

    // MARK: bytea as hex text

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `bytes` in bytea's hex input format: `\x` and two digits a byte.
    static func hex(_ bytes: [UInt8]) -> String {
        var text = [UInt8](repeating: 0, count: 2 + 2 * bytes.count)
        text[0] = UInt8(ascii: "\\")
        text[1] = UInt8(ascii: "x")
        for (i, byte) in bytes.enumerated() {
            text[2 + 2 * i] = hexDigits[Int(byte >> 4)]
            text[3 + 2 * i] = hexDigits[Int(byte & 0x0f)]
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of bytea's hex output format, or nil when `text` is not in it.
    static func bytes(fromHex text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes = [UInt8](repeating: 0, count: (utf8.count - 2) / 2)
        for i in bytes.indices {
            guard let high = nibble(utf8[2 + 2 * i]), let low = nibble(utf8[3 + 2 * i]) else { return nil }
            bytes[i] = high << 4 | low
        }
        return bytes
    }
}
