// DurableEventLog: the embedded store, in SQLite (WAL, synchronous=FULL): the append-only logs of
// events and feedback, the catalog, impressions and user profiles (model snapshots are files:
// SnapshotDirectory). Writes from many requests are group-committed by one writer thread draining
// a GroupCommitQueue: every job waiting when a transaction starts goes into it; the commit observer
// sees the committed events and feedback in log order (on a CommitApplyStage, overlapping the next
// commit), and only then is each caller resumed, so an acknowledged write is on disk (and applied).
import Foundation
import QuiverCore
import Synchronization

/// A write the log could not make durable.
public struct EventLogError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { "event log: \(message)" }
    public init(message: String) { self.message = message }
}

public final class DurableEventLog: GroupCommitStore, @unchecked Sendable {
    // `database` and the statements are touched only by the writer thread once `start()` ran,
    // and only by the caller of `init`/the loaders before that. A connection serves one thread at
    // a time (SQLite's multi-thread mode): reads while serving go to `reader`, under `readerLock`
    // (WAL: a reader never blocks the writer, nor the writer it).
    private let database: SQLiteDatabase
    private let reader: SQLiteDatabase
    private let readerLock = NSLock()
    private let insertEvent: SQLiteStatement
    /// `eventsPerInsert` events in one statement: a statement's fixed cost (running the program,
    /// resetting it, updating the AUTOINCREMENT counter) is paid once for them.
    private let insertEvents: SQLiteStatement
    static let eventsPerInsert = 16
    private let upsertItem: SQLiteStatement
    private let insertFeedback: SQLiteStatement
    private let upsertImpression: SQLiteStatement
    private let upsertProfile: SQLiteStatement
    private typealias Job = GroupCommitQueue.Job
    /// Where the write calls (from GroupCommitStore) wait for the writer thread.
    let writes: GroupCommitQueue
    private let started = Atomic<Bool>(false)
    private let observer = Mutex<(@Sendable (CommittedBatch) -> Void)?>(nil)
    private let encoder = JSONEncoder()
    public let path: String
    public var summary: String { "sqlite \(path)" }

    /// Opens (creating) the log at `path`. Impressions alone wait up to `impressionLingerMs` for
    /// more to share their commit (0: committed at once).
    public init(path: String, impressionLingerMs: Int = 0) throws {
        self.path = path
        writes = GroupCommitQueue(impressionLingerMilliseconds: impressionLingerMs)
        database = try SQLiteDatabase(path: path, durable: true)
        try database.execute("""
            CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL, user_id TEXT NOT NULL,
                item_id TEXT, type TEXT NOT NULL, value REAL NOT NULL, ts REAL NOT NULL, context TEXT)
            """)
        try database.execute("CREATE TABLE IF NOT EXISTS items (item_id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at REAL NOT NULL)")
        try database.execute("""
            CREATE TABLE IF NOT EXISTS feedback (seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT, user_id TEXT NOT NULL,
                item_id TEXT NOT NULL, joined INTEGER NOT NULL, ts REAL NOT NULL, body TEXT NOT NULL)
            """)
        try database.execute("""
            CREATE TABLE IF NOT EXISTS impressions (request_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, ts REAL NOT NULL, body TEXT NOT NULL)
            """)
        try database.execute("CREATE INDEX IF NOT EXISTS impressions_ts ON impressions (ts)")
        try database.execute("CREATE TABLE IF NOT EXISTS profiles (user_id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at REAL NOT NULL)")
        reader = try SQLiteDatabase(path: path, durable: true)
        let insertEventsSQL = "INSERT INTO events (received_at, user_id, item_id, type, value, ts, context) VALUES "
        let eventRow = "(?, ?, ?, ?, ?, ?, ?)"
        insertEvent = try database.prepare(insertEventsSQL + eventRow)
        insertEvents = try database.prepare(
            insertEventsSQL + Array(repeating: eventRow, count: Self.eventsPerInsert).joined(separator: ", "))
        upsertItem = try database.prepare(
            "INSERT INTO items (item_id, body, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT(item_id) DO UPDATE SET body = ?2, updated_at = ?3")
        insertFeedback = try database.prepare(
            "INSERT INTO feedback (request_id, user_id, item_id, joined, ts, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        upsertImpression = try database.prepare(
            "INSERT OR REPLACE INTO impressions (request_id, user_id, ts, body) VALUES (?1, ?2, ?3, ?4)")
        upsertProfile = try database.prepare(
            "INSERT INTO profiles (user_id, body, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT(user_id) DO UPDATE SET body = ?2, updated_at = ?3")
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    // MARK: Loading (before `start()`)

    /// Calls `body` for every stored catalog item; returns how many.
    public func replayItems(_ body: (CatalogItem) -> Void) throws -> Int {
        let decoder = JSONDecoder()
        var count = 0
        for row in try database.execute("SELECT body FROM items") {
            guard let text = row[0], let decoded = try? decoder.decode(CatalogItem.self, from: Data(text.utf8)) else { continue }
            body(decoded)
            count += 1
        }
        return count
    }

    /// Calls `body` with every event whose sequence number is above `seq`, in order.
    @discardableResult
    public func replayEvents(after seq: Int, _ body: (Int, UserEvent) -> Void) throws -> Int {
        let decoder = JSONDecoder()
        var count = 0
        for row in try database.execute("SELECT seq, user_id, item_id, type, value, ts, context FROM events WHERE seq > ?1 ORDER BY seq", ["\(seq)"]) {
            guard let seq = row[0].flatMap(Int.init), let user = row[1], let type = row[3], let value = row[4].flatMap(Double.init),
                  let ts = row[5].flatMap(Double.init) else { continue }
            let context = row[6].flatMap { try? decoder.decode(EventContext.self, from: Data($0.utf8)) } ?? .empty
            body(seq, UserEvent(userID: user, itemID: row[2], type: EventType(rawValue: type), value: value, timestamp: ts, context: context))
            count += 1
        }
        return count
    }

    /// Calls `body` with every feedback record above `seq`, in order.
    @discardableResult
    public func replayFeedback(after seq: Int, _ body: (Int, FeedbackRecord) -> Void) throws -> Int {
        let decoder = JSONDecoder()
        var count = 0
        for row in try database.execute("SELECT seq, body FROM feedback WHERE seq > ?1 ORDER BY seq", ["\(seq)"]) {
            guard let seq = row[0].flatMap(Int.init), let text = row[1],
                  let record = try? decoder.decode(FeedbackRecord.self, from: Data(text.utf8)) else { continue }
            body(seq, record)
            count += 1
        }
        return count
    }

    /// The impressions logged at or after `timestamp`.
    public func impressions(since timestamp: Double) throws -> [ImpressionRecord] {
        let decoder = JSONDecoder()
        return try database.execute("SELECT body FROM impressions WHERE ts >= ?1 ORDER BY ts", ["\(timestamp)"]).compactMap { row in
            row[0].flatMap { try? decoder.decode(ImpressionRecord.self, from: Data($0.utf8)) }
        }
    }

    /// The impression logged for `requestID`, if any.
    /// The impression logged for `requestID`, if any. Safe while the writer runs (its own connection).
    public func impression(requestID: String) throws -> ImpressionRecord? {
        let body = try readerLock.withLock {
            try reader.execute("SELECT body FROM impressions WHERE request_id = ?1", [requestID]).first?[0]
        }
        return body.flatMap { try? JSONDecoder().decode(ImpressionRecord.self, from: Data($0.utf8)) }
    }

    /// Every stored profile.
    public func profiles() throws -> [StoredProfile] {
        let decoder = JSONDecoder()
        return try database.execute("SELECT body FROM profiles").compactMap { row in
            row[0].flatMap { try? decoder.decode(StoredProfile.self, from: Data($0.utf8)) }
        }
    }

    /// The highest event and feedback sequence numbers logged so far.
    public func positions() throws -> (events: Int, feedback: Int) {
        let e = try database.execute("SELECT COALESCE(MAX(seq), 0) FROM events").first?[0].flatMap(Int.init) ?? 0
        let f = try database.execute("SELECT COALESCE(MAX(seq), 0) FROM feedback").first?[0].flatMap(Int.init) ?? 0
        return (e, f)
    }

    // MARK: Writing

    /// Sets the function that sees every committed batch of events and feedback, on the writer
    /// thread, in log order, before the writers are acknowledged. Set it before `start()`.
    public func observeCommits(_ body: @escaping @Sendable (CommittedBatch) -> Void) {
        observer.withLock { $0 = body }
    }

    /// Starts the writer thread.
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let stage = CommitApplyStage(name: "quiver-apply")
        NamedThread.start("quiver-log") { [self] in
            writes.drain({ commit($0, applying: stage) }, finish: stage.finish)
        }
    }

    /// Lets queued writes finish, then stops the writer.
    public func shutdown() {
        guard writes.close(), started.load(ordering: .acquiring) else { return }  // a log never started has no writer to wait for
        writes.waitForWriter()
    }

    private func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// One transaction for every job that was waiting; then, on the apply stage's thread (while
    /// the next transaction commits), the observer and then every caller.
    private func commit(_ jobs: [Job], applying stage: CommitApplyStage) {
        let continuations = jobs.compactMap(\.continuation)
        var batch = CommittedBatch()
        do {
            try database.transaction {
                for job in jobs {
                    switch job {
                    case .events(let events, let receivedAt, let feedback, _):
                        func columns(_ event: UserEvent) throws -> [SQLiteValue] {
                            let context = event.context == .empty ? nil : try json(event.context)
                            return [.real(receivedAt), .text(event.userID), event.itemID.map(SQLiteValue.text) ?? .null,
                                    .text(event.type.rawValue), .real(event.value), .real(event.time),
                                    context.map(SQLiteValue.text) ?? .null]
                        }
                        // Whole groups in one statement each. Inside this transaction nothing else
                        // writes, and a statement's rows take consecutive seqs in VALUES order, so
                        // the last seq gives every row's (tested against the table).
                        let per = Self.eventsPerInsert
                        var start = events.startIndex
                        while events.endIndex - start >= per {
                            let group = events[start..<(start + per)]
                            try insertEvents.run(try group.flatMap(columns))
                            let first = database.lastInsertRowID - per + 1
                            for (offset, event) in group.enumerated() { batch.events.append((first + offset, event)) }
                            start += per
                        }
                        for event in events[start...] {
                            try insertEvent.run(try columns(event))
                            batch.events.append((database.lastInsertRowID, event))
                        }
                        for record in feedback {
                            try insertFeedback.run([record.requestID.map(SQLiteValue.text) ?? .null, .text(record.userID),
                                                    .text(record.itemID), .integer(record.joined ? 1 : 0), .real(record.timestamp),
                                                    .text(try json(record))])
                            batch.feedback.append((database.lastInsertRowID, record))
                        }
                    case .items(let items, _):
                        for item in items {
                            try upsertItem.run([.text(item.itemID), .text(try json(item)), .real(Date().timeIntervalSince1970)])
                        }
                        batch.items += items
                    case .impressions(let impressions):
                        for impression in impressions {
                            try upsertImpression.run([.text(impression.requestID), .text(impression.userID),
                                                      .real(impression.timestamp), .text(impression.json)])
                        }
                    case .profile(let profile, _):
                        try upsertProfile.run([.text(profile.userID), .text(try json(profile)), .real(profile.updatedAt)])
                        batch.profiles.append(profile)
                    case .prune(let before, _):
                        try database.execute("DELETE FROM impressions WHERE ts < ?1", ["\(before)"])
                    }
                }
            }
            // Impressions alone: nothing to apply, nobody to resume; the apply thread is not woken.
            if batch.isEmpty && continuations.isEmpty { return }
            let observe = batch.isEmpty ? nil : observer.withLock({ $0 })
            stage.submit(.init(apply: { [batch] in observe?(batch) }, continuations: continuations))
        } catch {
            let failure = EventLogError(message: "\(error)")
            stage.submit(.init(apply: { throw failure }, continuations: continuations))
        }
    }
}
