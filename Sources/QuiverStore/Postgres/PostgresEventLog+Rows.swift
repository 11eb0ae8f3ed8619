// PostgresEventLog+Rows: the store's rows and SQL, apart from its threads: the log positions and
// the statements that read the log, one group commit's rows (PendingWrite: one transaction that
// takes the log lock before drawing sequence numbers), and a page of the log read after some
// positions (LogPage), decoded.
import Foundation
import QuiverCore

/// How far a process has applied each part of the shared log: the highest event and feedback
/// `seq`, the highest item and profile `change_seq`.
struct LogPositions: Equatable, Sendable {
    var events = 0
    var feedback = 0
    var items = 0
    var profiles = 0

    /// Whether everything up to `other` is included.
    func covers(_ other: LogPositions) -> Bool {
        events >= other.events && feedback >= other.feedback && items >= other.items && profiles >= other.profiles
    }
}

// MARK: Reading the log

extension PostgresEventLog {
    /// The highest event and feedback `seq`, item and profile `change_seq`, in one statement.
    static let positionsSQL = """
        SELECT (SELECT COALESCE(max(seq), 0) FROM events), (SELECT COALESCE(max(seq), 0) FROM feedback),
               (SELECT COALESCE(max(change_seq), 0) FROM items), (SELECT COALESCE(max(change_seq), 0) FROM profiles)
        """

    static func positions(in rows: PostgresRows) throws -> LogPositions {
        guard let row = rows.rows.first, row.count == 4 else { throw EventLogError(message: "no log positions returned") }
        let values = row.map { $0.flatMap(Int.init) ?? 0 }
        return LogPositions(events: values[0], feedback: values[1], items: values[2], profiles: values[3])
    }

    static func committedPositions(on connection: PostgresConnection) throws -> LogPositions {
        try positions(in: connection.query(positionsSQL))
    }

    /// The log after four positions, in one statement (one snapshot): kind 1 events, 2 feedback,
    /// 3 items, 4 profiles, each in order, at most `$5` rows of each.
    static let tailSQL = """
        (SELECT 1 AS kind, seq, user_id, item_id, type, value, ts, context AS body FROM events WHERE seq > $1 ORDER BY seq LIMIT $5)
        UNION ALL (SELECT 2, seq, NULL, NULL, NULL, NULL, NULL, body FROM feedback WHERE seq > $2 ORDER BY seq LIMIT $5)
        UNION ALL (SELECT 3, change_seq, NULL, NULL, NULL, NULL, NULL, body FROM items WHERE change_seq > $3 ORDER BY change_seq LIMIT $5)
        UNION ALL (SELECT 4, change_seq, NULL, NULL, NULL, NULL, NULL, body FROM profiles WHERE change_seq > $4 ORDER BY change_seq LIMIT $5)
        """

    /// An event from its columns (nil when a required one is missing or unreadable).
    static func event(user: String?, item: String?, type: String?, value: String?, ts: String?, context: String?,
                      decoder: JSONDecoder) -> UserEvent? {
        guard let user, let type, let value = Double(postgresText: value), let ts = Double(postgresText: ts) else { return nil }
        let context = context.flatMap { try? decoder.decode(EventContext.self, from: Data($0.utf8)) } ?? .empty
        return UserEvent(userID: user, itemID: item, type: EventType(rawValue: type), value: value, timestamp: ts, context: context)
    }
}

// MARK: One group commit

/// A transaction that failed before it began: nothing of it reached the server.
struct TransactionNotStarted: Error {
    let error: any Error
}

/// What a committed group wrote: the log positions just before it (read under the lock) and after it.
struct CommittedWrite: Sendable {
    var before = LogPositions()
    var after = LogPositions()
    var batch = CommittedBatch()
}

/// The rows of one group commit, from its jobs in order. An item, profile or impression stored
/// twice in one group is written once, with its last version (one upsert cannot touch a row twice);
/// a prune in the group runs after the group's impressions are stored.
struct PendingWrite {
    var events: [(receivedAt: Double, event: UserEvent, context: String?)] = []
    var feedback: [(record: FeedbackRecord, json: String)] = []
    var items: [(item: CatalogItem, json: String)] = []
    var profiles: [(profile: StoredProfile, json: String)] = []
    var impressions: [EncodedImpression] = []
    var pruneBefore: Double?

    var writesLog: Bool { !events.isEmpty || !feedback.isEmpty || !items.isEmpty || !profiles.isEmpty }

    init(_ jobs: [GroupCommitQueue.Job], encoder: JSONEncoder) throws {
        func json(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        for job in jobs {
            switch job {
            case .events(let events, let receivedAt, let feedback, _):
                for event in events {
                    self.events.append((receivedAt, event, event.context == .empty ? nil : try json(event.context)))
                }
                for record in feedback { self.feedback.append((record, try json(record))) }
            case .items(let items, _):
                for item in items { self.items.append((item, try json(item))) }
            case .impressions(let impressions):
                self.impressions += impressions
            case .profile(let profile, _):
                profiles.append((profile, try json(profile)))
            case .prune(let before, _):
                pruneBefore = max(pruneBefore ?? before, before)
            }
        }
        items = Self.lastOfEach(items) { $0.item.itemID }
        profiles = Self.lastOfEach(profiles) { $0.profile.userID }
        impressions = Self.lastOfEach(impressions) { $0.requestID }
    }

    /// The last occurrence of each key, in the order of those last occurrences.
    static func lastOfEach<T>(_ values: [T], key: (T) -> String) -> [T] {
        var last: [String: Int] = [:]
        for (index, value) in values.enumerated() { last[key(value)] = index }
        guard last.count < values.count else { return values }
        return values.indices.filter { last[key(values[$0])] == $0 }.map { values[$0] }
    }

    /// Writes everything in one transaction. A transaction that writes the log holds the log lock
    /// from its start to its commit and notifies the other processes at commit.
    func write(on connection: PostgresConnection) throws -> CommittedWrite {
        var committed = CommittedWrite()
        do {
            if writesLog {
                committed.before = try PostgresEventLog.positions(in: connection.execute(
                    "BEGIN; SELECT pg_advisory_xact_lock(\(PostgresSchema.logLockKey)); " + PostgresEventLog.positionsSQL))
            } else {
                try connection.execute("BEGIN")
            }
        } catch {
            if connection.isHealthy { _ = try? connection.execute("ROLLBACK") }
            throw TransactionNotStarted(error: error)
        }
        do {
            committed.after = committed.before
            let eventSeqs = try insert(connection, into: "events (received_at, user_id, item_id, type, value, ts, context)",
                                       types: ["float8", "text", "text", "text", "float8", "float8", "text"], rows: events,
                                       suffix: " RETURNING seq") { row in
                [row.receivedAt.postgresText, row.event.userID, row.event.itemID, row.event.type.rawValue,
                 row.event.value.postgresText, row.event.time.postgresText, row.context]
            }
            committed.batch.events = zip(eventSeqs, events).map { ($0, $1.event) }
            let feedbackSeqs = try insert(connection, into: "feedback (request_id, user_id, item_id, joined, ts, body)",
                                          types: ["text", "text", "text", "bool", "float8", "text"], rows: feedback,
                                          suffix: " RETURNING seq") { row in
                [row.record.requestID, row.record.userID, row.record.itemID, row.record.joined ? "true" : "false",
                 row.record.timestamp.postgresText, row.json]
            }
            committed.batch.feedback = zip(feedbackSeqs, feedback).map { ($0, $1.record) }
            let now = Date().timeIntervalSince1970.postgresText
            let itemSeqs = try insert(connection, into: "items (item_id, body, updated_at, change_seq)",
                                      types: ["text", "text", "float8"], rows: items, select: "c1, c2, c3, nextval('change_seq')", suffix: """
                                       ON CONFLICT (item_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at,
                                      change_seq = excluded.change_seq RETURNING change_seq
                                      """) { row in [row.item.itemID, row.json, now] }
            committed.batch.items = items.map(\.item)
            let profileSeqs = try insert(connection, into: "profiles (user_id, body, updated_at, change_seq)",
                                         types: ["text", "text", "float8"], rows: profiles, select: "c1, c2, c3, nextval('change_seq')",
                                         suffix: """
                                          ON CONFLICT (user_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at,
                                         change_seq = excluded.change_seq RETURNING change_seq
                                         """) { row in [row.profile.userID, row.json, row.profile.updatedAt.postgresText] }
            committed.batch.profiles = profiles.map(\.profile)
            _ = try insert(connection, into: "impressions (request_id, user_id, ts, body)", types: ["text", "text", "float8", "text"],
                           rows: impressions,
                           suffix: " ON CONFLICT (request_id) DO UPDATE SET user_id = excluded.user_id, ts = excluded.ts, body = excluded.body") { row in
                [row.requestID, row.userID, row.timestamp.postgresText, row.json]
            }
            if let pruneBefore { try connection.query("DELETE FROM impressions WHERE ts < $1", [pruneBefore.postgresText]) }
            try connection.execute(writesLog ? "NOTIFY \(PostgresSchema.logChannel); COMMIT" : "COMMIT")
            committed.after.events = eventSeqs.last ?? committed.before.events
            committed.after.feedback = feedbackSeqs.last ?? committed.before.feedback
            committed.after.items = itemSeqs.last ?? committed.before.items
            committed.after.profiles = profileSeqs.last ?? committed.before.profiles
            return committed
        } catch {
            if connection.isHealthy { _ = try? connection.execute("ROLLBACK") }
            throw error
        }
    }

    /// Inserts `rows` with one prepared statement whatever their number: each column goes as one
    /// array parameter (`INSERT INTO t (...) SELECT ... FROM unnest($1::type[], ...) AS r(c1, ...)`),
    /// so the text, and with it the prepared plan, never changes. Returns the first column of the
    /// returned rows, ascending (sequence numbers are drawn in row order, so the n-th smallest
    /// belongs to the n-th row).
    private func insert<Row>(_ connection: PostgresConnection, into table: String, types: [String], rows: [Row],
                             select: String = "*", suffix: String, parameters: (Row) -> [String?]) throws -> [Int] {
        guard !rows.isEmpty else { return [] }
        var columns = [[String?]](repeating: [], count: types.count)
        for c in columns.indices { columns[c].reserveCapacity(rows.count) }
        for row in rows {
            let values = parameters(row)
            for c in columns.indices { columns[c].append(values[c]) }
        }
        let arrays = types.indices.map { "$\($0 + 1)::\(types[$0])[]" }.joined(separator: ", ")
        let names = types.indices.map { "c\($0 + 1)" }.joined(separator: ", ")
        let sql = "INSERT INTO \(table) SELECT \(select) FROM unnest(\(arrays)) AS r(\(names))" + suffix
        let result = try connection.query(prepared: sql, columns.map { PostgresArrayLiteral.text($0) })
        let returned = result.rows.compactMap { ($0.first ?? nil).flatMap(Int.init) }.sorted()
        guard returned.isEmpty || returned.count == rows.count else {
            throw EventLogError(message: "expected \(rows.count) rows back, got \(returned.count)")
        }
        return returned
    }
}

/// PostgreSQL's text form of a one-dimensional array: every element double-quoted (backslash
/// before `"` and `\\`), NULL unquoted. Valid input for any element type read from text.
enum PostgresArrayLiteral {
    static func text(_ values: [String?]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let value else { bytes += "NULL".utf8; continue }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

// MARK: One page of the log

/// One page of the log read after some positions (see `PostgresEventLog.tailSQL`).
struct LogPage {
    var events: [(seq: Int, event: UserEvent)] = []
    var feedback: [(seq: Int, record: FeedbackRecord)] = []
    var items: [(seq: Int, item: CatalogItem)] = []
    var profiles: [(seq: Int, profile: StoredProfile)] = []
    /// The highest position read of each part (0 when none), including undecodable rows.
    var last = LogPositions()
    /// Whether some part filled the page (there may be more after it).
    var isFull = false

    init(_ rows: PostgresRows, decoder: JSONDecoder) {
        var counts = [0, 0, 0, 0, 0]
        for row in rows.rows {
            guard row.count == 8, let kind = row[0].flatMap(Int.init), (1...4).contains(kind), let seq = row[1].flatMap(Int.init) else { continue }
            counts[kind] += 1
            let body = row[7].map { Data($0.utf8) }
            switch kind {
            case 1:
                last.events = max(last.events, seq)
                if let event = PostgresEventLog.event(user: row[2], item: row[3], type: row[4], value: row[5], ts: row[6], context: row[7],
                                                      decoder: decoder) {
                    events.append((seq, event))
                }
            case 2:
                last.feedback = max(last.feedback, seq)
                if let record = body.flatMap({ try? decoder.decode(FeedbackRecord.self, from: $0) }) { feedback.append((seq, record)) }
            case 3:
                last.items = max(last.items, seq)
                if let item = body.flatMap({ try? decoder.decode(CatalogItem.self, from: $0) }) { items.append((seq, item)) }
            default:
                last.profiles = max(last.profiles, seq)
                if let profile = body.flatMap({ try? decoder.decode(StoredProfile.self, from: $0) }) { profiles.append((seq, profile)) }
            }
        }
        // UNION ALL keeps each part's order in practice; sorting makes it independent of the plan.
        events.sort { $0.seq < $1.seq }
        feedback.sort { $0.seq < $1.seq }
        items.sort { $0.seq < $1.seq }
        profiles.sort { $0.seq < $1.seq }
        isFull = counts.contains(PostgresEventLog.pageSize)
    }

    /// What of the page comes after `applied`.
    func batch(after applied: LogPositions) -> CommittedBatch {
        var batch = CommittedBatch()
        batch.events = events.filter { $0.seq > applied.events }
        batch.feedback = feedback.filter { $0.seq > applied.feedback }
        batch.items = items.filter { $0.seq > applied.items }.map(\.item)
        batch.profiles = profiles.filter { $0.seq > applied.profiles }.map(\.profile)
        return batch
    }
}

// MARK: Numbers as PostgreSQL text

extension Double {
    /// The value as a `double precision` literal (shortest round-tripping digits; Infinity, NaN).
    var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return "\(self)"
    }

    /// Reads PostgreSQL's text form of a `double precision`.
    init?(postgresText text: String?) {
        guard let text else { return nil }
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { return nil }
            self = value
        }
    }
}
