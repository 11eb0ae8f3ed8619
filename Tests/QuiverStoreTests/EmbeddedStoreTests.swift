// EmbeddedStoreTests: the embedded store's records on a real SQLite file: events and feedback come
// back in log order with their sequence numbers (and the commit observer saw the same), impressions
// and profiles survive a reopen, impressions are pruned by age, the hand-written impression JSON
// decodes back to the same record; events written several to a statement get the seqs the table
// gave them (the observer's and the replay's agree, row by row, with context); snapshot files:
// newest wins, a corrupt one is skipped, old ones go.
import Foundation
import QuiverCore
import Synchronization
import Testing
@testable import QuiverStore

@Suite struct EmbeddedStoreTests {
    func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-store-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static let impression = ImpressionRecord(
        requestID: "r-1", userID: "u \"quoted\"\n", scenario: "homepage", timestamp: 1_700_000_000.25, modelVersion: "v1+m3",
        strategy: nil, strategyPropensity: 0.8, arm: "control",
        items: [ImpressionItem(itemID: "i\\1", position: 1, score: 0.5, propensity: 1, source: "co_visitation", explored: false),
                ImpressionItem(itemID: "ï2", position: 2, score: -1e-7, propensity: 0.05, source: "popular", explored: true)],
        tokens: ["device=mobile", "tab\there"])

    @Test func handWrittenImpressionJSONDecodesToTheSameRecord() throws {
        let decoded = try JSONDecoder().decode(ImpressionRecord.self, from: Data(Self.impression.jsonText.utf8))
        #expect(decoded == Self.impression)
        // A kept tail with a new request id and time: the same record but for those two.
        var again = Self.impression
        again.requestID = "r-2 \"new\""
        again.timestamp = 1_800_000_000.5
        let json = ImpressionRecord.json(requestID: again.requestID, timestamp: again.timestamp, tail: Self.impression.jsonTail)
        #expect(try JSONDecoder().decode(ImpressionRecord.self, from: Data(json.utf8)) == again)
    }

    @Test func recordsComeBackInLogOrderAfterAReopen() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seen = Mutex<[Int]>([])
        do {
            let log = try DurableEventLog(path: directory + "/quiver.db")
            log.observeCommits { batch in seen.withLock { $0 += batch.events.map(\.seq) + batch.feedback.map(\.seq) } }
            log.start()
            let feedback = FeedbackRecord(requestID: "r-1", userID: "u1", itemID: "i1", feedbackType: "click", reward: 1, timestamp: 5,
                                          joined: true, propensity: 0.5, scenario: "homepage", tokens: ["device=tv"], dense: [0.25, 1])
            try await log.append([UserEvent(userID: "u1", itemID: "i1", type: .click, timestamp: 1),
                                  UserEvent(userID: "u2", itemID: "i2", type: .view, timestamp: 2)], feedback: [feedback], receivedAt: 10)
            try await log.append([UserEvent(userID: "u3", type: .view, timestamp: 3)], receivedAt: 11)
            log.log([Self.impression])
            var old = Self.impression
            old.requestID = "r-old"
            old.timestamp = 100
            log.log([old])
            try await log.store(StoredProfile(userID: "u1", preferredCategories: ["hats": 0.5], updatedAt: 12))
            try await log.prune(impressionsBefore: 1_000)
            log.shutdown()
        }
        #expect(seen.withLock { $0 } == [1, 2, 1, 3])
        let log = try DurableEventLog(path: directory + "/quiver.db")
        var events: [(Int, String)] = []
        try log.replayEvents(after: 1) { seq, event in events.append((seq, event.userID)) }
        #expect(events.map(\.0) == [2, 3] && events.map(\.1) == ["u2", "u3"])
        var feedback: [FeedbackRecord] = []
        try log.replayFeedback(after: 0) { _, record in feedback.append(record) }
        #expect(feedback.count == 1 && feedback[0].dense == [0.25, 1] && feedback[0].joined)
        #expect(try log.impressions(since: 0) == [Self.impression], "the old one was pruned")
        #expect(try log.profiles().first?.preferredCategories == ["hats": 0.5])
        #expect(try log.positions() == (events: 3, feedback: 1))
        log.shutdown()
    }

    @Test func eventsWrittenSeveralToAStatementKeepTheirTableSeqs() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let observed = Mutex<[(seq: Int, user: String)]>([])
        let per = DurableEventLog.eventsPerInsert
        // Sizes around the statement's group: one short, exactly one, several and a tail, one.
        let sizes = [per - 1, per, 3 * per + 5, 1]
        var sent: [UserEvent] = []
        do {
            let log = try DurableEventLog(path: directory + "/quiver.db")
            log.observeCommits { batch in observed.withLock { $0 += batch.events.map { ($0.seq, $0.event.userID) } } }
            log.start()
            for (call, size) in sizes.enumerated() {
                let events = (0..<size).map { (i: Int) -> UserEvent in
                    let context = i % 4 == 0 ? EventContext(device: "tv", attributes: ["k": "v\(i)"]) : EventContext.empty
                    let type: EventType = i % 2 == 0 ? .view : .click
                    return UserEvent(userID: "u\(call)-\(i)", itemID: i % 3 == 0 ? nil : "i\(i)", type: type,
                                     value: Double(i), timestamp: Double(1_000 + i), context: context)
                }
                sent += events
                try await log.append(events, receivedAt: 50)
            }
            log.shutdown()
        }
        let log = try DurableEventLog(path: directory + "/quiver.db")
        defer { log.shutdown() }
        var replayed: [(seq: Int, event: UserEvent)] = []
        try log.replayEvents(after: 0) { seq, event in replayed.append((seq, event)) }
        #expect(replayed.map(\.seq) == Array(1...sent.count))
        #expect(replayed.map(\.event) == sent)
        #expect(observed.withLock { $0.map(\.seq) } == replayed.map(\.seq))
        #expect(observed.withLock { $0.map(\.user) } == sent.map(\.userID))
    }

    @Test func snapshotFilesKeepTheNewestAndSkipACorruptOne() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let snapshots = try SnapshotDirectory(path: directory + "/snapshots")
        #expect(snapshots.latest() == nil)
        for seq in 1...3 {
            try snapshots.store(StoredSnapshot(eventSeq: seq * 10, feedbackSeq: seq, createdAt: 0, bytes: [UInt8](repeating: UInt8(seq), count: 1000)))
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory + "/snapshots").sorted()
        #expect(names == ["models-20-2.qvs", "models-30-3.qvs"])
        #expect(snapshots.latest()?.eventSeq == 30 && snapshots.latest()?.bytes == [UInt8](repeating: 3, count: 1000))
        // A torn newest file (a crash mid-write cannot produce one, a disk fault can): the previous wins.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory + "/snapshots/models-30-3.qvs"))
        #expect(snapshots.latest()?.eventSeq == 20)
    }
}
