// PostgresEventLogTests: what only the shared PostgreSQL store promises, against a real server, in a
// database of its own per test: two stores on one database ("two processes") apply the same log in
// the same order, each seeing every event once; migrations are idempotent and survive concurrent
// opens; snapshots keep the newest three and skip a corrupt one; a store whose connections are killed
// never hangs, reconnects, and loses nothing it acknowledged. Plus an opt-in throughput measurement.
import Foundation
import QuiverCore
import QuiverTestSupport
import Synchronization
import Testing
@testable import QuiverStore

/// What one store's observer saw, in order.
final class ObservedLog: Sendable {
    private let state = Mutex<(seqs: [Int], users: [String])>(([], []))

    func observe(_ batch: CommittedBatch) {
        state.withLock {
            $0.seqs += batch.events.map(\.seq)
            $0.users += batch.events.map(\.event.userID)
        }
    }

    var seqs: [Int] { state.withLock { $0.seqs } }
    var users: [String] { state.withLock { $0.users } }
    var count: Int { state.withLock { $0.seqs.count } }
    func contains(user: String) -> Bool { state.withLock { $0.users.contains(user) } }
}

/// Runs `body` in a task of its own and waits at most `seconds` for it: nil if it did not finish
/// (the task is left behind), so a hang fails the test instead of stalling the run.
func finishing<T: Sendable>(within seconds: Double, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
    let outcome = Shared<Result<T, any Error>?>(nil)
    Task {
        do { let value = try await body(); outcome.withLock { $0 = .success(value) } } catch { outcome.withLock { $0 = .failure(error) } }
    }
    _ = await eventually(within: seconds) { outcome.withLock { $0 != nil } }
    return outcome.withLock { $0 }
}

@Suite(.enabled(if: TestServers.postgresAvailable, "needs QUIVER_TEST_POSTGRES_URL (scripts/test.sh)"))
struct PostgresEventLogTests {
    func openStarted(_ database: TemporaryPostgresDatabase, observing log: ObservedLog) throws -> PostgresEventLog {
        let store = try PostgresEventLog(conninfo: database.conninfo, pollIntervalMs: 200)
        store.observeCommits { log.observe($0) }
        store.start()
        return store
    }

    static func events(_ user: String, count: Int = 1) -> [UserEvent] {
        (0..<count).map { UserEvent(userID: user, itemID: "i\($0)", type: .view, timestamp: 1) }
    }

    @Test func twoProcessesApplyTheSameLogInTheSameOrder() async throws {
        let database = try TemporaryPostgresDatabase()
        defer { database.drop() }
        let seenByA = ObservedLog(), seenByB = ObservedLog()
        let a = try openStarted(database, observing: seenByA)
        let b = try openStarted(database, observing: seenByB)
        defer { a.shutdown(); b.shutdown() }
        let tasks = 20, appendsPerTask = 50
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, store) in [("a", a), ("b", b)] {
                for task in 0..<tasks {
                    group.addTask {
                        for n in 0..<appendsPerTask { try await store.append(Self.events("\(name)-\(task)-\(n)"), receivedAt: 1) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = 2 * tasks * appendsPerTask
        #expect(await eventually(within: 10) { seenByA.count >= total && seenByB.count >= total })
        for seen in [seenByA, seenByB] {
            #expect(seen.seqs == Array(1...total), "every event once, in seq order, without gaps")
            #expect(Set(seen.users).count == total)
        }
        #expect(seenByA.users == seenByB.users, "both applied the same log in the same order")

        // One more, written by A, reaches B by the tailer (LISTEN/NOTIFY).
        try await a.append(Self.events("late"), receivedAt: 2)
        #expect(seenByA.contains(user: "late"))
        #expect(await eventually(within: 5) { seenByB.contains(user: "late") })
        #expect(seenByB.seqs.last == total + 1)
        #expect(b.counters.readBatches > 0)
    }

    @Test func itemsAndProfilesWrittenElsewhereReachTheObserver() async throws {
        let database = try TemporaryPostgresDatabase()
        defer { database.drop() }
        let seen = Mutex<(items: [CatalogItem], profiles: [StoredProfile])>(([], []))
        let a = try PostgresEventLog(conninfo: database.conninfo, pollIntervalMs: 200)
        a.observeCommits { batch in seen.withLock { $0.items += batch.items; $0.profiles += batch.profiles } }
        a.start()
        let b = try PostgresEventLog(conninfo: database.conninfo)
        b.start()
        defer { a.shutdown(); b.shutdown() }
        try await b.store([CatalogItem(itemID: "x", title: "one"), CatalogItem(itemID: "y"), CatalogItem(itemID: "x", title: "two")])
        try await b.store(StoredProfile(userID: "u", blockedCategories: ["spam"], updatedAt: 3))
        #expect(await eventually { seen.withLock { $0.items.count == 2 && $0.profiles.count == 1 } })
        #expect(seen.withLock { $0.items.map(\.itemID) } == ["y", "x"], "one upsert per item, its last version, in change order")
        #expect(seen.withLock { $0.items.last?.title } == "two")
        #expect(seen.withLock { $0.profiles.first?.blockedCategories } == ["spam"])
    }

    @Test func startTailsAfterWhatTheReplayRead() async throws {
        let database = try TemporaryPostgresDatabase()
        defer { database.drop() }
        let writer = try PostgresEventLog(conninfo: database.conninfo)
        writer.start()
        defer { writer.shutdown() }
        try await writer.append(Self.events("before", count: 3), receivedAt: 1)
        let seen = ObservedLog()
        let reader = try PostgresEventLog(conninfo: database.conninfo, pollIntervalMs: 200)
        var replayed: [Int] = []
        try reader.replayEvents(after: 0) { seq, _ in replayed.append(seq) }
        _ = try reader.replayFeedback(after: 0) { _, _ in }
        _ = try reader.replayItems { _ in }
        _ = try reader.profiles()
        // Committed between the replay and start(): the tailer must deliver it, and only it.
        try await writer.append(Self.events("between"), receivedAt: 2)
        reader.observeCommits { seen.observe($0) }
        reader.start()
        defer { reader.shutdown() }
        #expect(replayed == [1, 2, 3])
        #expect(await eventually { seen.contains(user: "between") })
        #expect(seen.seqs == [4])
    }

    @Test func migrationsAreIdempotentAndConcurrentOpensDoNotFail() async throws {
        let database = try TemporaryPostgresDatabase()
        defer { database.drop() }
        let opened = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask { try await onThread { try PostgresEventLog(conninfo: database.conninfo).shutdown(); return true } }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(opened == 4)
        #expect(try PostgresSchema.migrate(conninfo: database.conninfo) == [])
        let versions = try database.connect().query("SELECT version FROM schema_migrations ORDER BY version").rows.map { $0[0] }
        #expect(versions == PostgresSchema.migrations.map { String($0.version) })
        let tables = Set(try database.connect().query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").rows.compactMap { $0[0] })
        #expect(tables.isSuperset(of: ["events", "feedback", "items", "impressions", "profiles", "model_snapshots", "config_versions"]))

        let fresh = try TemporaryPostgresDatabase()
        defer { fresh.drop() }
        #expect(try PostgresSchema.migrate(conninfo: fresh.conninfo) == PostgresSchema.migrations.map(\.version))
        #expect(try PostgresSchema.migrate(conninfo: fresh.conninfo) == [])
    }

    @Test func snapshotsKeepTheNewestThreeAndSkipACorruptOne() throws {
        let database = try TemporaryPostgresDatabase()
        defer { database.drop() }
        let snapshots = try PostgresSnapshotStore(conninfo: database.conninfo)
        #expect(try snapshots.latest() == nil)
        for seq in 1...5 {
            try snapshots.save(StoredSnapshot(eventSeq: seq * 10, feedbackSeq: seq, createdAt: Double(seq) + 0.5,
                                              bytes: (0..<5000).map { UInt8(truncatingIfNeeded: $0 * seq) }))
        }
        let kept = try database.connect().query("SELECT event_seq, metadata FROM model_snapshots ORDER BY event_seq").rows
        #expect(kept.map { $0[0] } == ["30", "40", "50"])
        #expect(kept.last?[1]?.contains("\"bytes\":5000") == true)
        let newest = try #require(try snapshots.latest())
        #expect(newest.eventSeq == 50 && newest.feedbackSeq == 5 && newest.createdAt == 5.5)
        #expect(newest.bytes == (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 5) })
        // A newest row that does not decompress: the one before it wins.
        try database.connect().query("UPDATE model_snapshots SET bytes = $1 WHERE event_seq = 50", ["\\x0102030405060708ff"])
        #expect(try snapshots.latest()?.eventSeq == 40)
        #expect(PostgresSnapshotStore.bytes(fromHex: PostgresSnapshotStore.hex([0, 1, 0xab, 0xff])) == [0, 1, 0xab, 0xff])
    }

    @Test func survivesItsConnectionsBeingKilled() async throws {
        let database = try TemporaryPostgresDatabase()
        defer { database.drop() }
        let seen = ObservedLog()
        let store = try openStarted(database, observing: seen)
        let other = try PostgresEventLog(conninfo: database.conninfo)
        other.start()
        defer { store.shutdown(); other.shutdown() }
        #expect(try store.impression(requestID: "none") == nil)  // the reader connection is open too

        // Appenders keep writing while every connection to the database is killed under them.
        let progress = Shared((acknowledged: [String](), failures: 0, killedAt: Int?.none, stop: false))
        let appenders = await finishing(within: 60) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<4 {
                    group.addTask {
                        var n = 0
                        while !progress.withLock({ $0.stop }) {
                            let user = "t\(task)-\(n)"
                            n += 1
                            do {
                                try await store.append(Self.events(user), receivedAt: 1)
                                progress.withLock { $0.acknowledged.append(user) }
                            } catch {
                                progress.withLock { $0.failures += 1 }
                                try await Task.sleep(for: .milliseconds(20))
                            }
                        }
                    }
                }
                group.addTask {
                    #expect(await eventually(within: 20) { progress.withLock { $0.acknowledged.count >= 100 } })
                    let killed = try database.connect().query("""
                        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid()
                        """).rows.count
                    #expect(killed >= 4, "the writer, tailer and reader of one store, and the other store's")
                    let before = progress.withLock { state -> Int in state.killedAt = state.acknowledged.count; return state.acknowledged.count }
                    // Writes go on: the writer reconnected.
                    #expect(await eventually(within: 20) { progress.withLock { $0.acknowledged.count >= before + 100 } })
                    progress.withLock { $0.stop = true }
                }
                try await group.waitForAll()
            }
        }
        #expect(appenders != nil, "no append hangs when its connection is killed")
        if case .failure(let error) = appenders { Issue.record(error) }
        #expect(try store.impression(requestID: "none") == nil, "the reader reconnects")
        // The tailer reconnected too: what the other store writes arrives.
        try await other.append(Self.events("from-other"), receivedAt: 4)
        #expect(await eventually { seen.contains(user: "from-other") })
        #expect(store.counters.writerReconnects >= 1 && store.counters.tailerReconnects >= 1)

        let reopened = try PostgresEventLog(conninfo: database.conninfo)
        defer { reopened.shutdown() }
        var stored: [(seq: Int, user: String)] = []
        try reopened.replayEvents(after: 0) { seq, event in stored.append((seq, event.userID)) }
        let acknowledged = progress.withLock { $0.acknowledged }
        #expect(Set(acknowledged).isSubset(of: Set(stored.map(\.user))), "nothing acknowledged is missing")
        // Everything committed (even a write whose answer was lost with its connection) reaches the
        // observer, once, in order.
        #expect(await eventually { seen.count >= stored.count })
        #expect(seen.seqs == stored.map(\.seq))
    }

    /// Append throughput: 50 appenders, batches of 100 events, ~5 s, 3 runs. Opt-in (it measures,
    /// it asserts nothing): QUIVER_PG_THROUGHPUT=1.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["QUIVER_PG_THROUGHPUT"] != nil))
    func measureAppendThroughput() async throws {
        let database = try TemporaryPostgresDatabase()
        defer { database.drop() }
        var rates: [Double] = []
        for run in 1...3 {
            let store = try PostgresEventLog(conninfo: database.conninfo)
            let observed = Atomic<Int>(0)
            store.observeCommits { observed.add($0.events.count, ordering: .relaxed) }
            store.start()
            let batch = (0..<100).map { UserEvent(userID: "u\($0 % 7)", itemID: "i\($0)", type: .view, timestamp: 1) }
            let start = ContinuousClock.now
            let deadline = start + .seconds(5)
            let acknowledged = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        var count = 0
                        while ContinuousClock.now < deadline {
                            try await store.append(batch, receivedAt: 1)
                            count += batch.count
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = start.duration(to: .now)
            store.shutdown()
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            rates.append(Double(acknowledged) / seconds)
            print("postgres append throughput run \(run): \(acknowledged) events in \(String(format: "%.2f", seconds)) s = "
                  + "\(Int(Double(acknowledged) / seconds)) events/s (observed \(observed.load(ordering: .relaxed)))")
        }
        let mean = rates.reduce(0, +) / Double(rates.count)
        print("postgres append throughput: mean \(Int(mean)) events/s, min \(Int(rates.min()!)), max \(Int(rates.max()!))")
    }
}
