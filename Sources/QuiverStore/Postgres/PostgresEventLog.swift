// PostgresEventLog: the store on PostgreSQL, shared by several quiver processes. One writer thread
// group-commits every job waiting in its GroupCommitQueue in one transaction that first takes the
// log's advisory lock (so sequence numbers commit in the order they were drawn, across processes:
// whoever sees seq N has seen every seq below it) and ends with NOTIFY; a CommitApplyStage applies
// each committed group (overlapping the next commit) before its callers resume. Each process applies the
// shared log in order: its `applied` positions move under one lock, by the writer's own batch when
// that batch directly follows them, otherwise by reading everything after them; a tailer thread
// LISTENs and reads what other processes committed. A broken connection fails the writes waiting on
// it (unacknowledged) and is reopened with backoff. Rows and SQL: PostgresEventLog+Rows.swift.
import Foundation
import QuiverCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public final class PostgresEventLog: GroupCommitStore, @unchecked Sendable {
    private typealias Job = GroupCommitQueue.Job
    private let conninfo: String
    private let statementTimeoutMs: Int
    private let pollIntervalMs: Int
    /// Where the write calls (from GroupCommitStore) wait for the writer thread.
    let writes: GroupCommitQueue
    private let started = Atomic<Bool>(false)
    private let observer = Mutex<(@Sendable (CommittedBatch) -> Void)?>(nil)
    private let tailerStopped = DispatchSemaphore(value: 0)
    /// The positions this process applied; held while a batch goes to the observer, so batches
    /// from the writer and the tailer reach it one at a time, in log order.
    private let applier = Mutex(LogPositions())
    /// How far the loaders read (nil: not loaded); `start()` tails the log from there.
    private let replayed = Mutex<(events: Int?, feedback: Int?, items: Int?, profiles: Int?)>((nil, nil, nil, nil))
    /// The backend of the writer's connection: the tailer ignores notifications it sent itself.
    private let writerBackendPID = Atomic<Int32>(0)
    private let stopTailing = Atomic<Bool>(false)
    /// How batches reached the observer, and how often connections were reopened.
    struct Counters: Sendable, Equatable {
        /// A commit of this process handed over as it was (nothing else committed in between).
        var ownBatches = 0
        /// Non-empty reads of the log after `applied`, by the writer or the tailer.
        var readBatches = 0
        var writerReconnects = 0
        var tailerReconnects = 0
    }
    private let countersState = Mutex(Counters())
    var counters: Counters { countersState.withLock { $0 } }
    /// Written once by `shutdown()` to wake the tailer out of poll().
    private let tailerWakeFDs: (read: Int32, write: Int32)
    /// The connections of the loaders, serving reads (feedback joins) and catch-up reads.
    private let readers: PostgresConnectionPool
    public let summary: String

    /// Rows per page when reading the log (replay and catch-up).
    static let pageSize = 10_000

    /// Connects to the database at `conninfo` (a libpq URI or key=value string), bringing its
    /// schema up to date.
    ///
    /// - Parameters:
    ///   - statementTimeoutMs: the server-side bound on every statement (and lock wait).
    ///   - pollIntervalMs: how often the tailer reads the log when no notification came (a safety net).
    ///   - readerConnections: the bound of the pool that serves reads.
    ///   - impressionLingerMs: how long impressions alone wait for more to share their commit.
    public init(conninfo: String, statementTimeoutMs: Int = 5000, pollIntervalMs: Int = 1000, readerConnections: Int = 4,
                impressionLingerMs: Int = 0) throws {
        self.conninfo = conninfo
        writes = GroupCommitQueue(impressionLingerMilliseconds: impressionLingerMs)
        self.statementTimeoutMs = statementTimeoutMs
        self.pollIntervalMs = pollIntervalMs
        readers = PostgresConnectionPool(conninfo: conninfo, statementTimeoutMs: statementTimeoutMs, maxConnections: readerConnections)
        let connection = try PostgresConnection(conninfo: conninfo, statementTimeoutMs: max(statementTimeoutMs, 60_000))
        _ = try PostgresSchema.migrate(connection)
        summary = "postgres \(connection.serverDescription)"
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw EventLogError(message: "pipe: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        tailerWakeFDs = (fds[0], fds[1])
    }

    deinit {
        close(tailerWakeFDs.read)
        close(tailerWakeFDs.write)
    }

    // MARK: Loading and serving reads (a pool of connections)

    /// Runs `body` on a reader connection; a read that failed because the connection broke is
    /// retried once on a fresh one (reads are idempotent).
    private func read<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try readers.withConnection(body)
    }

    /// Calls `body` for every stored catalog item; returns how many.
    public func replayItems(_ body: (CatalogItem) -> Void) throws -> Int {
        let decoder = JSONDecoder()
        var after = 0, count = 0
        while true {
            let rows = try read { try $0.query("SELECT change_seq, body FROM items WHERE change_seq > $1 ORDER BY change_seq LIMIT $2",
                                               [String(after), String(Self.pageSize)]).rows }
            for row in rows {
                guard let seq = row[0].flatMap(Int.init) else { continue }
                after = seq
                guard let item = row[1].flatMap({ try? decoder.decode(CatalogItem.self, from: Data($0.utf8)) }) else { continue }
                body(item)
                count += 1
            }
            if rows.count < Self.pageSize { break }
        }
        replayed.withLock { $0.items = max($0.items ?? 0, after) }
        return count
    }

    /// Calls `body` with every event whose sequence number is above `seq`, in order.
    @discardableResult
    public func replayEvents(after seq: Int, _ body: (Int, UserEvent) -> Void) throws -> Int {
        var after = seq, count = 0
        while true {
            let rows = try read { try $0.query("""
                SELECT seq, user_id, item_id, type, value, ts, context FROM events WHERE seq > $1 ORDER BY seq LIMIT $2
                """, [String(after), String(Self.pageSize)]).rows }
            let decoder = JSONDecoder()
            for row in rows {
                guard let seq = row[0].flatMap(Int.init) else { continue }
                after = seq
                guard let event = Self.event(user: row[1], item: row[2], type: row[3], value: row[4], ts: row[5], context: row[6],
                                             decoder: decoder) else { continue }
                body(seq, event)
                count += 1
            }
            if rows.count < Self.pageSize { break }
        }
        replayed.withLock { $0.events = max($0.events ?? 0, after) }
        return count
    }

    /// Calls `body` with every feedback record above `seq`, in order.
    @discardableResult
    public func replayFeedback(after seq: Int, _ body: (Int, FeedbackRecord) -> Void) throws -> Int {
        let decoder = JSONDecoder()
        var after = seq, count = 0
        while true {
            let rows = try read { try $0.query("SELECT seq, body FROM feedback WHERE seq > $1 ORDER BY seq LIMIT $2",
                                               [String(after), String(Self.pageSize)]).rows }
            for row in rows {
                guard let seq = row[0].flatMap(Int.init) else { continue }
                after = seq
                guard let record = row[1].flatMap({ try? decoder.decode(FeedbackRecord.self, from: Data($0.utf8)) }) else { continue }
                body(seq, record)
                count += 1
            }
            if rows.count < Self.pageSize { break }
        }
        replayed.withLock { $0.feedback = max($0.feedback ?? 0, after) }
        return count
    }

    /// The impressions logged at or after `timestamp`.
    public func impressions(since timestamp: Double) throws -> [ImpressionRecord] {
        let decoder = JSONDecoder()
        return try read { try $0.query("SELECT body FROM impressions WHERE ts >= $1 ORDER BY ts", [timestamp.postgresText]).rows }
            .compactMap { row in row[0].flatMap { try? decoder.decode(ImpressionRecord.self, from: Data($0.utf8)) } }
    }

    /// The impression logged for `requestID` by any process, if any.
    public func impression(requestID: String) throws -> ImpressionRecord? {
        try read { try $0.query("SELECT body FROM impressions WHERE request_id = $1", [requestID]).rows }
            .first?[0].flatMap { try? JSONDecoder().decode(ImpressionRecord.self, from: Data($0.utf8)) }
    }

    /// Every stored profile.
    public func profiles() throws -> [StoredProfile] {
        let rows = try read { try $0.query("SELECT change_seq, body FROM profiles ORDER BY change_seq").rows }
        let last = rows.last?[0].flatMap(Int.init) ?? 0
        replayed.withLock { $0.profiles = max($0.profiles ?? 0, last) }
        let decoder = JSONDecoder()
        return rows.compactMap { row in row[1].flatMap { try? decoder.decode(StoredProfile.self, from: Data($0.utf8)) } }
    }

    /// The highest event and feedback sequence numbers committed so far (by any process).
    public func positions() throws -> (events: Int, feedback: Int) {
        let current = try read { try Self.committedPositions(on: $0) }
        return (current.events, current.feedback)
    }

    // MARK: Writing

    /// Sets the function that sees every batch of the shared log, in log order, before the writers
    /// of this process are acknowledged. Set it before `start()`.
    public func observeCommits(_ body: @escaping @Sendable (CommittedBatch) -> Void) {
        observer.withLock { $0 = body }
    }

    /// Starts the writer and the tailer. The tailer applies what was committed after the positions
    /// the loaders reached (a part of the log never loaded is tailed from where it is now).
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let loaded = replayed.withLock { $0 }
        var from = LogPositions(events: loaded.events ?? 0, feedback: loaded.feedback ?? 0,
                                items: loaded.items ?? 0, profiles: loaded.profiles ?? 0)
        if loaded.events == nil || loaded.feedback == nil || loaded.items == nil || loaded.profiles == nil,
           let current = try? read({ try Self.committedPositions(on: $0) }) {
            if loaded.events == nil { from.events = current.events }
            if loaded.feedback == nil { from.feedback = current.feedback }
            if loaded.items == nil { from.items = current.items }
            if loaded.profiles == nil { from.profiles = current.profiles }
        }
        applier.withLock { $0 = from }
        NamedThread.start("quiver-pg-write") { [self] in writerLoop() }
        NamedThread.start("quiver-pg-tail") { [self] in tailerLoop() }
    }

    /// Lets queued writes finish, then stops the writer and the tailer and closes the connections.
    public func shutdown() {
        guard writes.close() else { return }
        if started.load(ordering: .acquiring) {
            writes.waitForWriter()
            stopTailing.store(true, ordering: .releasing)
            var byte: UInt8 = 1
            _ = write(tailerWakeFDs.write, &byte, 1)
            tailerStopped.wait()
        }
        readers.closeIdle()
    }

    private func observe(_ batch: CommittedBatch) {
        if !batch.isEmpty, let observe = observer.withLock({ $0 }) { observe(batch) }
    }

    // MARK: The writer thread

    private func writerLoop() {
        var session = WriterSession(conninfo: conninfo, statementTimeoutMs: statementTimeoutMs)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let stage = CommitApplyStage(name: "quiver-pg-apply")
        writes.drain({ jobs in commit(jobs, session: &session, encoder: encoder, applying: stage) }, finish: stage.finish)
    }

    /// One transaction for every job that was waiting; then, on the apply stage's thread (while
    /// the next transaction commits), the observer (this batch, or the log up to and including
    /// it), then every caller.
    private func commit(_ jobs: [Job], session: inout WriterSession, encoder: JSONEncoder, applying stage: CommitApplyStage) {
        let continuations = jobs.compactMap(\.continuation)
        do {
            let pending = try PendingWrite(jobs, encoder: encoder)
            let committed = try session.run { try pending.write(on: $0) }
            writerBackendPID.store(session.current?.backendPID ?? 0, ordering: .relaxed)
            let reconnects = max(0, session.opened - 1)
            countersState.withLock { $0.writerReconnects = reconnects }
            let writesLog = pending.writesLog
            stage.submit(.init(apply: { [self] in
                guard writesLog else { return }
                do {
                    try apply(committed)
                } catch {
                    throw EventLogError(message: "committed, but not yet applied here (the tailer will apply it): \(error)")
                }
            }, continuations: continuations))
        } catch {
            let failure = error as? EventLogError ?? EventLogError(message: "\(error)")
            stage.submit(.init(apply: { throw failure }, continuations: continuations))
        }
    }

    /// Hands `committed` to the observer when it directly follows what this process applied;
    /// otherwise (another process wrote in between) reads the log after `applied`, which includes
    /// it, on the reader connection. Runs on the apply stage's thread, in commit order.
    private func apply(_ committed: CommittedWrite) throws {
        let directly = applier.withLock { applied -> Bool in
            if applied.covers(committed.after) { return true }  // the tailer got there first
            guard applied == committed.before else { return false }
            countersState.withLock { $0.ownBatches += 1 }
            observe(committed.batch)
            applied = committed.after
            return true
        }
        guard !directly else { return }
        try read { try catchUp(on: $0) }  // retried once on a fresh connection if it broke
    }

    /// Hands everything committed after `applied` to the observer, a page at a time, in log order.
    /// The database is read outside the applier lock (a slow read never holds up the other thread);
    /// what the other thread delivered meanwhile is dropped from the page, which stays contiguous
    /// because a page holds every committed row after the positions it was read from.
    private func catchUp(on connection: PostgresConnection) throws {
        let decoder = JSONDecoder()
        while true {
            let from = applier.withLock { $0 }
            let page = try LogPage(connection.query(Self.tailSQL, [String(from.events), String(from.feedback), String(from.items),
                                                                   String(from.profiles), String(Self.pageSize)]),
                                   decoder: decoder)
            applier.withLock { applied in
                let batch = page.batch(after: applied)
                if !batch.isEmpty { countersState.withLock { $0.readBatches += 1 } }
                observe(batch)
                applied = LogPositions(events: max(applied.events, page.last.events), feedback: max(applied.feedback, page.last.feedback),
                                       items: max(applied.items, page.last.items), profiles: max(applied.profiles, page.last.profiles))
            }
            if !page.isFull { return }
        }
    }

    // MARK: The tailer thread

    private func tailerLoop() {
        var connection: PostgresConnection?
        var failures = 0
        while !stopTailing.load(ordering: .acquiring) {
            do {
                let listening: PostgresConnection
                if let connection { listening = connection } else {
                    listening = try PostgresConnection(conninfo: conninfo, statementTimeoutMs: statementTimeoutMs)
                    try listening.execute("LISTEN \(PostgresSchema.logChannel)")
                    if failures > 0 { countersState.withLock { $0.tailerReconnects += 1 } }
                    connection = listening
                }
                // After (re)connecting, and after each wake-up: whatever was committed meanwhile.
                try catchUp(on: listening)
                failures = 0
                if try waitForNotification(on: listening) { break }
            } catch {
                if connection?.isHealthy != true { connection = nil }
                failures += 1
                if waitForStop(milliseconds: Self.backoffMs(failures: failures, cap: max(pollIntervalMs, 100))) { break }
            }
        }
        tailerStopped.signal()
    }

    /// Waits for a notification from another process (or `pollIntervalMs`); true when stopping.
    private func waitForNotification(on connection: PostgresConnection) throws -> Bool {
        let ownWriter = writerBackendPID.load(ordering: .relaxed)
        // Those that arrived during the last catch-up are already buffered.
        if try connection.notifications().contains(where: { $0.senderPID != ownWriter }) { return false }
        let deadline = ContinuousClock.now + .milliseconds(pollIntervalMs)
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return false }
            let ms = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            var fds = [pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: tailerWakeFDs.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, ms)
            if stopTailing.load(ordering: .acquiring) || fds[1].revents != 0 { return true }
            if ready < 0 && errno != EINTR { throw EventLogError(message: "poll: errno \(errno)") }
            guard ready > 0, fds[0].revents != 0 else { continue }
            // Committed by another process (our own writer applied its commits already).
            if try connection.notifications().contains(where: { $0.senderPID != ownWriter }) { return false }
            if fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 || !connection.isHealthy {
                throw EventLogError(message: "the notification connection closed")
            }
        }
    }

    /// Sleeps up to `milliseconds` unless shutdown wakes it first; true when stopping.
    private func waitForStop(milliseconds: Int) -> Bool {
        var fds = [pollfd(fd: tailerWakeFDs.read, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 1, Int32(clamping: milliseconds))
        return stopTailing.load(ordering: .acquiring)
    }

    /// 100 ms, doubling with every failure in a row, up to `cap`.
    static func backoffMs(failures: Int, cap: Int) -> Int {
        min(cap, 100 << min(max(failures - 1, 0), 10))
    }
}

// MARK: The writer's connection

/// The writer thread's connection: opened on demand; after a failed connect, the next attempt waits
/// out a backoff (writes arriving meanwhile fail at once instead of queueing behind a dead server).
private struct WriterSession {
    let conninfo: String
    let statementTimeoutMs: Int
    var current: PostgresConnection?
    /// Connections opened so far (the first, then one per reconnect).
    var opened = 0
    var failedConnects = 0
    var nextConnect: ContinuousClock.Instant?

    mutating func connection() throws -> PostgresConnection {
        if let current, current.isHealthy { return current }
        current = nil
        if let nextConnect, ContinuousClock.now < nextConnect {
            throw EventLogError(message: "PostgreSQL is unreachable (\(failedConnects) failed connects); retrying shortly")
        }
        do {
            let opened = try PostgresConnection(conninfo: conninfo, statementTimeoutMs: statementTimeoutMs)
            current = opened
            self.opened += 1
            failedConnects = 0
            nextConnect = nil
            return opened
        } catch {
            failedConnects += 1
            nextConnect = .now + .milliseconds(PostgresEventLog.backoffMs(failures: failedConnects, cap: 5000))
            throw error
        }
    }

    /// Runs `body` on the connection. A connection that died while idle (the server restarted)
    /// fails at BEGIN, before anything was sent: then once more on a fresh connection.
    mutating func run<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try connection()
        do {
            return try body(connection)
        } catch let failure as TransactionNotStarted {
            guard !connection.isHealthy else { throw failure.error }
            do { return try body(self.connection()) } catch let again as TransactionNotStarted { throw again.error }
        }
    }
}
