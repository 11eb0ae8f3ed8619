// GroupCommitQueueTests: the writer is woken once per group, not once per job, and still gets
// every job exactly once: from many threads at once, while it is busy committing, and before a
// close.
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
}
