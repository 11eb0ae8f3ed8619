// EventStoreContractTests: the EventStore contract, run against every store (the embedded SQLite
// log, and PostgreSQL in a database of its own per test): records come back in log order after a
// reopen, the observer sees every committed batch once, in order, before the writer is answered,
// impressions are pruned by age, and a store never started shuts down.
import Foundation
import QuiverCore
import QuiverTestSupport
import Synchronization
import Testing
@testable import QuiverStore

/// Which store a contract test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    /// The stores this run can test: PostgreSQL when configured (always in CI, where its absence fails).
    static var available: [StoreKind] { TestServers.postgresAvailable ? allCases : [.sqlite] }

    var testDescription: String { rawValue }
}

/// Where a store under test lives; `open()` again sees what the previous store committed.
struct StoreUnderTest: Sendable {
    let kind: StoreKind
    let directory: String?
    let database: TemporaryPostgresDatabase?

    init(_ kind: StoreKind) throws {
        self.kind = kind
        switch kind {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-contract-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            directory = path
            database = nil
        case .postgres:
            directory = nil
            database = try TemporaryPostgresDatabase()
        }
    }

    func open() throws -> any EventStore {
        switch kind {
        case .sqlite: return try DurableEventLog(path: directory! + "/quiver.db")
        case .postgres: return try PostgresEventLog(conninfo: database!.conninfo, pollIntervalMs: 200)
        }
    }

    func remove() {
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        database?.drop()
    }
}

/// A value shared by test tasks and a store's observer.
final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { state.withLock { body(&$0) } }
}

/// Polls `condition` until it holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

@Suite struct EventStoreContractTests {
    static let impression = EmbeddedStoreTests.impression

    @Test(arguments: StoreKind.available)
    func recordsComeBackInLogOrderAfterAReopen(kind: StoreKind) async throws {
        let place = try StoreUnderTest(kind)
        defer { place.remove() }
        let seen = Mutex<[Int]>([])
        let feedback = FeedbackRecord(requestID: "r-1", userID: "u1", itemID: "i1", feedbackType: "click", reward: 1, timestamp: 5,
                                      joined: true, propensity: 0.5, scenario: "homepage", tokens: ["device=tv"], dense: [0.25, 1])
        do {
            let store = try place.open()
            store.observeCommits { batch in seen.withLock { $0 += batch.events.map(\.seq) + batch.feedback.map(\.seq) } }
            store.start()
            let context = EventContext(device: "mobile", locale: "fr-FR", attributes: ["price": "9.5"])
            try await store.append([UserEvent(userID: "u1", itemID: "i1", type: .click, timestamp: 1, context: context),
                                    UserEvent(userID: "u2", itemID: "i2", type: .view, value: 0.25, timestamp: 2)],
                                   feedback: [feedback], receivedAt: 10)
            try await store.append([UserEvent(userID: "u3", type: .view, timestamp: 3)], receivedAt: 11)
            try await store.store([CatalogItem(itemID: "i1", title: "old", categories: ["hats"]), CatalogItem(itemID: "i2")])
            try await store.store([CatalogItem(itemID: "i1", title: "new", categories: ["hats"], attributes: ["price": 9.5])])
            store.log([Self.impression])
            var old = Self.impression
            old.requestID = "r-old"
            old.timestamp = 100
            store.log([old])
            try await store.store(StoredProfile(userID: "u1", preferredCategories: ["hats": 0.5], updatedAt: 12))
            try await store.store(StoredProfile(userID: "u1", preferredCategories: ["hats": 0.75], updatedAt: 13))
            try await store.prune(impressionsBefore: 1_000)
            store.shutdown()
        }
        #expect(seen.withLock { $0 } == [1, 2, 1, 3])
        let store = try place.open()
        defer { store.shutdown() }
        var events: [(Int, UserEvent)] = []
        try store.replayEvents(after: 0) { seq, event in events.append((seq, event)) }
        #expect(events.map(\.0) == [1, 2, 3] && events.map(\.1.userID) == ["u1", "u2", "u3"])
        #expect(events.first?.1.context.attributes == ["price": "9.5"] && events.first?.1.context.locale == "fr-FR")
        #expect(events.dropFirst().first?.1.value == 0.25 && events.last?.1.itemID == nil && events.last?.1.timestamp == 3)
        var after1: [Int] = []
        try store.replayEvents(after: 1) { seq, _ in after1.append(seq) }
        #expect(after1 == [2, 3])
        var records: [(Int, FeedbackRecord)] = []
        try store.replayFeedback(after: 0) { seq, record in records.append((seq, record)) }
        #expect(records.map(\.0) == [1] && records.first?.1 == feedback)
        var items: [CatalogItem] = []
        #expect(try store.replayItems { items.append($0) } == 2)
        #expect(items.first { $0.itemID == "i1" }?.title == "new" && items.first { $0.itemID == "i1" }?.attributes == ["price": 9.5])
        #expect(try store.impressions(since: 0) == [Self.impression], "the old one was pruned")
        #expect(try store.impression(requestID: "r-1") == Self.impression)
        #expect(try store.impression(requestID: "r-old") == nil)
        #expect(try store.profiles().map(\.preferredCategories) == [["hats": 0.75]])
        #expect(try store.positions() == (events: 3, feedback: 1))
    }

    @Test(arguments: StoreKind.available)
    func observerSeesEachCommittedBatchOnceInOrderBeforeTheWriterIsAnswered(kind: StoreKind) async throws {
        let place = try StoreUnderTest(kind)
        defer { place.remove() }
        let store = try place.open()
        let seen = Shared<(events: [Int], users: Set<String>, feedback: [Int], items: [String], profiles: [String])>(([], [], [], [], []))
        store.observeCommits { batch in
            seen.withLock {
                $0.events += batch.events.map(\.seq)
                $0.users.formUnion(batch.events.map(\.event.userID))
                $0.feedback += batch.feedback.map(\.seq)
                $0.items += batch.items.map(\.itemID)
                $0.profiles += batch.profiles.map(\.userID)
            }
        }
        store.start()
        let tasks = 10, appends = 20
        let unobservedAtAck = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var unobserved = 0
                    for n in 0..<appends {
                        let user = "t\(task)-\(n)"
                        let events = (0..<3).map { UserEvent(userID: user, itemID: "i\($0)", type: .view, timestamp: Double(n)) }
                        let record = FeedbackRecord(requestID: nil, userID: user, itemID: "i0", feedbackType: "click", reward: 1,
                                                    timestamp: Double(n), joined: false, propensity: nil, scenario: nil, tokens: [], dense: [])
                        try await store.append(events, feedback: n % 4 == 0 ? [record] : [], receivedAt: Double(n))
                        if !seen.withLock({ $0.users.contains(user) }) { unobserved += 1 }
                        if n % 10 == 0 {
                            try await store.store([CatalogItem(itemID: "item-\(task)-\(n)")])
                            if !seen.withLock({ $0.items.contains("item-\(task)-\(n)") }) { unobserved += 1 }
                            try await store.store(StoredProfile(userID: user, updatedAt: Double(n)))
                            if !seen.withLock({ $0.profiles.contains(user) }) { unobserved += 1 }
                        }
                    }
                    return unobserved
                }
            }
            return try await group.reduce(0, +)
        }
        store.shutdown()
        #expect(unobservedAtAck == 0, "every acknowledged write was observed first")
        let final = seen.withLock { $0 }
        #expect(final.events == Array(1...(tasks * appends * 3)), "each event once, in log order, without gaps")
        #expect(final.feedback == Array(1...(tasks * appends / 4)))
        #expect(final.items.count == tasks * 2 && Set(final.items).count == tasks * 2)
        #expect(final.profiles.count == tasks * 2)
    }

    @Test(arguments: StoreKind.available)
    func prunesImpressionsByAge(kind: StoreKind) async throws {
        let place = try StoreUnderTest(kind)
        defer { place.remove() }
        let store = try place.open()
        store.start()
        let logged = (0..<10).map { n -> ImpressionRecord in
            var record = Self.impression
            record.requestID = "r-\(n)"
            record.timestamp = Double(n * 100)
            return record
        }
        store.log(Array(logged.prefix(5)))
        store.log(Array(logged.suffix(5)))
        try await store.prune(impressionsBefore: 450)
        #expect(try store.impressions(since: 0).map(\.requestID) == ["r-5", "r-6", "r-7", "r-8", "r-9"])
        #expect(try store.impressions(since: 700).map(\.requestID) == ["r-7", "r-8", "r-9"])
        #expect(try store.impression(requestID: "r-4") == nil)
        #expect(try store.impression(requestID: "r-5")?.timestamp == 500)
        store.shutdown()
    }

    /// Values that a text encoding of the rows could get wrong: quotes, backslashes, braces,
    /// commas, the word NULL, empty and non-ASCII strings, extreme numbers; and one group of
    /// 20,000 events (more than one statement's 65,535 parameters would hold as VALUES rows).
    @Test(arguments: StoreKind.available)
    func awkwardValuesAndLargeGroupsComeBackExactly(kind: StoreKind) async throws {
        let place = try StoreUnderTest(kind)
        defer { place.remove() }
        let awkward = ["a\"b", "back\\slash", "{brace}", "com,ma", "NULL", "", "ünï ☃", "new\nline", "\\\""]
        var written: [UserEvent] = []
        for (i, text) in awkward.enumerated() {
            written.append(UserEvent(userID: "u" + text, itemID: i % 2 == 0 ? "i" + text : nil, type: EventType(rawValue: "t" + text),
                                     value: [0, -1e300, 1e-300, 0.1, 42][i % 5], timestamp: Double(i) + 0.125,
                                     context: EventContext(device: text, attributes: [text: text])))
        }
        let bulk = (0..<20_000).map { UserEvent(userID: "bulk\($0 % 97)", itemID: "item\($0)", type: .view, timestamp: Double($0)) }
        do {
            let store = try place.open()
            store.start()
            try await store.append(written, receivedAt: 1)
            try await store.append(bulk, receivedAt: 2)
            try await store.store([CatalogItem(itemID: "x\"\\{,}", title: "NULL", categories: ["a,b", "c\"d"])])
            try await store.store(StoredProfile(userID: "p\"\\", preferredCategories: ["{x}": 0.5], updatedAt: 3))
            store.shutdown()
        }
        let store = try place.open()
        defer { store.shutdown() }
        var events: [(Int, UserEvent)] = []
        try store.replayEvents(after: 0) { seq, event in events.append((seq, event)) }
        #expect(events.map(\.0) == Array(1...(written.count + bulk.count)))
        for (read, sent) in zip(events.map(\.1), written + bulk) {
            #expect(read.userID == sent.userID && read.itemID == sent.itemID && read.type == sent.type)
            #expect(read.value == sent.value && read.timestamp == sent.timestamp && read.context == sent.context)
        }
        var items: [CatalogItem] = []
        _ = try store.replayItems { items.append($0) }
        #expect(items.map(\.itemID) == ["x\"\\{,}"] && items.first?.title == "NULL" && items.first?.categories == ["a,b", "c\"d"])
        #expect(try store.profiles().map(\.userID) == ["p\"\\"])
    }

    /// A list served again is logged as a reference: readers get it whole, through its origin;
    /// once the origin is pruned, the reference is left out like an expired impression.
    @Test(arguments: StoreKind.available)
    func referencedImpressionsResolveToTheirOriginsList(kind: StoreKind) async throws {
        let place = try StoreUnderTest(kind)
        defer { place.remove() }
        let store = try place.open()
        defer { store.shutdown() }
        store.start()
        var origin = Self.impression
        origin.timestamp = 100
        let reference = { (id: String, at: Double) in
            EncodedImpression(requestID: id, userID: origin.userID, timestamp: at,
                              json: ImpressionRecord.referenceJSON(requestID: id, timestamp: at, userID: origin.userID,
                                                                   scenario: origin.scenario, sameAs: origin.requestID))
        }
        store.log([origin])
        store.log(encoded: [reference("r-again", 130), reference("r-third", 131)])
        store.log(encoded: [EncodedImpression(requestID: "r-dangling", userID: "u", timestamp: 140,
                                              json: ImpressionRecord.referenceJSON(requestID: "r-dangling", timestamp: 140, userID: "u",
                                                                                   scenario: "homepage", sameAs: "r-never-logged"))])
        try await store.prune(impressionsBefore: 0)  // waits for the writer: everything above is stored
        let again = try #require(try store.resolvedImpression(requestID: "r-again"))
        #expect(again.items == origin.items && again.tokens == origin.tokens && again.modelVersion == origin.modelVersion)
        #expect(again.arm == origin.arm && again.timestamp == 130 && again.requestID == "r-again" && again.sameAs == nil)
        #expect(try store.impression(requestID: "r-again")?.sameAs == origin.requestID, "stored as a reference")
        #expect(try store.resolvedImpression(requestID: "r-dangling") == nil)
        #expect(try store.resolvedImpressions(since: 0).map(\.requestID) == [origin.requestID, "r-again", "r-third"])
        #expect(try store.resolvedImpressions(since: 120).map(\.items) == [origin.items, origin.items], "origin read on its own")
        try await store.prune(impressionsBefore: 110)
        #expect(try store.resolvedImpression(requestID: "r-again") == nil, "its origin was pruned")
        #expect(try store.resolvedImpressions(since: 0).isEmpty)
    }

    /// Feedback joins read impressions from I/O threads while the writer commits: those reads run
    /// concurrently with writes (on their own connections) and see what was logged.
    @Test(arguments: StoreKind.available)
    func servingReadsRunWhileTheWriterCommits(kind: StoreKind) async throws {
        let place = try StoreUnderTest(kind)
        defer { place.remove() }
        let store = try place.open()
        defer { store.shutdown() }
        store.start()
        store.log([Self.impression])
        try await store.prune(impressionsBefore: 0)  // the impression is stored
        try await withThrowingTaskGroup(of: Int.self) { tasks in
            tasks.addTask {
                for round in 0..<40 {
                    let events = (0..<200).map { UserEvent(userID: "w\($0 % 13)", itemID: "i\(round)-\($0)", type: .view, timestamp: Double($0)) }
                    try await store.append(events, receivedAt: Double(round))
                    var more = Self.impression
                    more.requestID = "r-more-\(round)"
                    store.log([more])
                }
                return 0
            }
            for reader in 0..<6 {
                tasks.addTask {
                    try await onThread {
                        var found = 0
                        for n in 0..<150 {
                            if try store.impression(requestID: Self.impression.requestID) == Self.impression { found += 1 }
                            if try store.impression(requestID: "unknown-\(reader)-\(n)") != nil { return -1 }
                        }
                        return found
                    }
                }
            }
            for try await found in tasks { #expect(found == 0 || found == 150) }
        }
        var count = 0
        try store.replayEvents(after: 0) { _, _ in count += 1 }
        #expect(count == 40 * 200)
    }

    @Test(arguments: StoreKind.available)
    func aStoreNeverStartedShutsDown(kind: StoreKind) async throws {
        let place = try StoreUnderTest(kind)
        defer { place.remove() }
        let store = try place.open()
        store.shutdown()
        store.shutdown()
        await #expect(throws: EventLogError.self) { try await store.append([UserEvent(userID: "u", type: .view, timestamp: 1)], receivedAt: 1) }
    }
}
