// GroupCommitQueueTests: the writer is woken once per group, not once per job, and still gets
// every job exactly once: from many threads at once, while it is busy committing, and before a
// close. Impressions alone linger for more (a minute here, so that only the rule can end it): a
// waited-for write, a full list and a close each end the linger at once.
import Foundation
import Synchronization
import Testing
@testable import QuiverStore

@Suite struct GroupCommitQueueTests {
    static func impression(_ n: Int) -> EncodedImpression {
        EncodedImpression(requestID: "r\(n)", userID: "u", timestamp: 0, json: "{}")
    }

    @Test func handsEveryJobToTheWriterOnce() async throws {
        let queue = GroupCommitQueue()
        let seen = Mutex<(impressions: [String], groups: Int, continuations: Int)>(([], 0, 0))
        let writer = Thread {
            queue.drain { jobs in
                usleep(200)  // a commit takes a while: later jobs pile up into the next group
                var continuations: [GroupCommitQueue.Continuation] = []
                seen.withLock { seen in
                    seen.groups += 1
                    for job in jobs {
                        if case .impressions(let list) = job { seen.impressions += list.map(\.requestID) }
                        if let c = job.continuation { continuations.append(c) }
                    }
                    seen.continuations += continuations.count
                }
                for c in continuations { c.resume() }
            }
        }
        writer.start()
        let threads = 4, perThread = 500
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<threads {
                group.addTask {
                    for k in 0..<perThread { queue.log([Self.impression(t * perThread + k)]) }
                }
                group.addTask {
                    for _ in 0..<20 { try? await queue.submit { .prune(impressionsBefore: 0, $0) } }
                }
            }
        }
        #expect(queue.close())
        queue.waitForWriter()
        let result = seen.withLock { $0 }
        #expect(result.impressions.sorted() == (0..<(threads * perThread)).map { "r\($0)" }.sorted())
        #expect(result.continuations == threads * 20)
        #expect(result.groups <= threads * perThread + threads * 20)
    }

    @Test func refusesWritesOnceClosed() async {
        let queue = GroupCommitQueue()
        #expect(queue.close())
        queue.log([Self.impression(1)])  // dropped, nobody to wake
        await #expect(throws: EventLogError.self) { try await queue.submit { .prune(impressionsBefore: 0, $0) } }
    }

    /// A writer thread that records each group's impressions and waited-for jobs, resumes the
    /// latter, and signals `committed` per group.
    final class RecordingWriter: Sendable {
        let groups = Mutex<[(impressions: Int, waited: Int)]>([])
        let committed = DispatchSemaphore(value: 0)
        var impressions: [Int] { groups.withLock { $0.map(\.impressions) } }
        var waited: [Int] { groups.withLock { $0.map(\.waited) } }

        init(_ queue: GroupCommitQueue) {
            let writer = Thread { [self] in
                queue.drain { jobs in
                    var impressions = 0
                    var continuations: [GroupCommitQueue.Continuation] = []
                    for job in jobs {
                        if case .impressions(let list) = job { impressions += list.count }
                        if let c = job.continuation { continuations.append(c) }
                    }
                    groups.withLock { $0.append((impressions, continuations.count)) }
                    for c in continuations { c.resume() }
                    committed.signal()
                }
            }
            writer.start()
        }
    }

    @Test func lingeringImpressionsJoinTheNextWaitedForWrite() async throws {
        let queue = GroupCommitQueue(impressionLingerMilliseconds: 60_000)
        let writer = RecordingWriter(queue)
        for k in 0..<10 { queue.log([Self.impression(k)]) }
        let started = ContinuousClock.now
        try await queue.submit { .prune(impressionsBefore: 0, $0) }
        #expect(ContinuousClock.now - started < .seconds(30), "the waited-for write ended the linger")
        #expect(writer.impressions == [10] && writer.waited == [1])
        #expect(queue.close())
        queue.waitForWriter()
    }

    @Test func aFullLingeringListIsCommittedAtOnce() {
        let queue = GroupCommitQueue(impressionLingerMilliseconds: 60_000, lingerLimit: 8)
        let writer = RecordingWriter(queue)
        for k in 0..<8 {
            queue.log([Self.impression(k)])
            usleep(1_000)  // the writer is lingering before the list fills
        }
        #expect(writer.committed.wait(timeout: .now() + 30) == .success, "the eighth impression ended the linger")
        #expect(writer.impressions == [8])
        #expect(queue.close())
        queue.waitForWriter()
    }

    @Test func aCloseEndsTheLingerAndKeepsTheImpressions() {
        let queue = GroupCommitQueue(impressionLingerMilliseconds: 60_000)
        let writer = RecordingWriter(queue)
        queue.log([Self.impression(1), Self.impression(2)])
        usleep(20_000)  // the writer lingers
        let started = ContinuousClock.now
        #expect(queue.close())
        queue.waitForWriter()
        #expect(ContinuousClock.now - started < .seconds(30), "the close ended the linger")
        #expect(writer.impressions == [2])
    }
}
