// DurableEventLog: the embedded store's append-only log of events and its catalog table, in
// SQLite (WAL, synchronous=FULL). Appends from many requests are group-committed by one writer
// thread: every batch waiting when a transaction starts goes into it, and each caller is resumed
// only after COMMIT returned, so an acknowledged event is on disk. Startup replays the log.
import Foundation
import QuiverCore
import Synchronization

/// A write the log could not make durable.
public struct EventLogError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { "event log: \(message)" }
}

public final class DurableEventLog: @unchecked Sendable {
    // `database` and the statements are touched only by the writer thread once `start()` ran,
    // and only by the caller of `init`/`replay` before that.
    private let database: SQLiteDatabase
    private let insertEvent: SQLiteStatement
    private let upsertItem: SQLiteStatement
    private enum Job {
        case events([UserEvent], Double, CheckedContinuation<Void, any Error>)
        case items([CatalogItem], CheckedContinuation<Void, any Error>)
    }
    private let queue = Mutex<(jobs: [Job], open: Bool)>(([], true))
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let encoder = JSONEncoder()
    public let path: String

    /// Opens (creating) the log at `path`.
    public init(path: String) throws {
        self.path = path
        database = try SQLiteDatabase(path: path, durable: true)
        try database.execute("""
            CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL, user_id TEXT NOT NULL,
                item_id TEXT, type TEXT NOT NULL, value REAL NOT NULL, ts REAL NOT NULL, context TEXT)
            """)
        try database.execute("""
            CREATE TABLE IF NOT EXISTS items (item_id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at REAL NOT NULL)
            """)
        insertEvent = try database.prepare(
            "INSERT INTO events (received_at, user_id, item_id, type, value, ts, context) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        upsertItem = try database.prepare(
            "INSERT INTO items (item_id, body, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT(item_id) DO UPDATE SET body = ?2, updated_at = ?3")
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    /// Calls `item` for every stored catalog item, then `event` for every logged event in order.
    /// Call before `start()`.
    public func replay(item: (CatalogItem) -> Void, event: (UserEvent) -> Void) throws -> (items: Int, events: Int) {
        let decoder = JSONDecoder()
        var itemCount = 0
        for row in try database.execute("SELECT body FROM items") {
            guard let body = row[0], let decoded = try? decoder.decode(CatalogItem.self, from: Data(body.utf8)) else { continue }
            item(decoded)
            itemCount += 1
        }
        var eventCount = 0
        for row in try database.execute("SELECT user_id, item_id, type, value, ts, context FROM events ORDER BY seq") {
            guard let user = row[0], let type = row[2], let value = row[3].flatMap(Double.init),
                  let ts = row[4].flatMap(Double.init) else { continue }
            let context = row[5].flatMap { try? decoder.decode(EventContext.self, from: Data($0.utf8)) } ?? .empty
            event(UserEvent(userID: user, itemID: row[1], type: EventType(rawValue: type), value: value, timestamp: ts, context: context))
            eventCount += 1
        }
        return (itemCount, eventCount)
    }

    /// Starts the writer thread.
    public func start() {
        let thread = Thread { [self] in writerLoop() }
        thread.name = "quiver-event-log"
        thread.start()
    }

    /// Appends stamped events; returns once they are committed to disk.
    public func append(_ events: [UserEvent], receivedAt: Double) async throws {
        guard !events.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(.events(events, receivedAt, continuation), or: continuation)
        }
    }

    /// Stores (inserting or replacing) catalog items; returns once committed.
    public func store(_ items: [CatalogItem]) async throws {
        guard !items.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(.items(items, continuation), or: continuation)
        }
    }

    /// Lets queued writes finish, then stops the writer.
    public func shutdown() {
        let wasOpen = queue.withLock { state -> Bool in defer { state.open = false }; return state.open }
        guard wasOpen else { return }
        wake.signal()
        stopped.wait()
    }

    private func enqueue(_ job: Job, or continuation: CheckedContinuation<Void, any Error>) {
        let accepted = queue.withLock { state -> Bool in
            guard state.open else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { wake.signal() } else { continuation.resume(throwing: EventLogError(message: "the log is shut down")) }
    }

    private func writerLoop() {
        while true {
            wake.wait()
            let (jobs, open) = queue.withLock { state -> ([Job], Bool) in
                defer { state.jobs.removeAll() }
                return (state.jobs, state.open)
            }
            if !jobs.isEmpty { commit(jobs) }
            if !open && queue.withLock({ $0.jobs.isEmpty }) { break }
        }
        stopped.signal()
    }

    /// One transaction for every job that was waiting; then every caller hears the outcome.
    private func commit(_ jobs: [Job]) {
        do {
            try database.transaction {
                for job in jobs {
                    switch job {
                    case .events(let events, let receivedAt, _):
                        for event in events {
                            let context = event.context == .empty ? nil : String(decoding: try encoder.encode(event.context), as: UTF8.self)
                            try insertEvent.run([.real(receivedAt), .text(event.userID), event.itemID.map(SQLiteValue.text) ?? .null,
                                                 .text(event.type.rawValue), .real(event.value), .real(event.time),
                                                 context.map(SQLiteValue.text) ?? .null])
                        }
                    case .items(let items, _):
                        for item in items {
                            try upsertItem.run([.text(item.itemID), .text(String(decoding: try encoder.encode(item), as: UTF8.self)),
                                                .real(Date().timeIntervalSince1970)])
                        }
                    }
                }
            }
            for job in jobs { continuation(of: job).resume() }
        } catch {
            let failure = EventLogError(message: "\(error)")
            for job in jobs { continuation(of: job).resume(throwing: failure) }
        }
    }

    private func continuation(of job: Job) -> CheckedContinuation<Void, any Error> {
        switch job {
        case .events(_, _, let c): return c
        case .items(_, let c): return c
        }
    }
}
