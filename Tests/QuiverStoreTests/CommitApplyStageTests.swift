// CommitApplyStageTests: committed groups are applied strictly in submission order, each caller
// resumes only after its group was applied, a failing group fails only its own callers, a writer
// more than `depth` groups ahead blocks, and finish() applies everything submitted before it.
import Foundation
import Synchronization
import Testing
@testable import QuiverStore

@Suite struct CommitApplyStageTests {
    /// What the first test's groups share across threads.
    final class Ledger: Sendable {
        let applied = Mutex<[Int]>([])
        let continuations = Mutex<[Int: GroupCommitQueue.Continuation]>([:])
    }

    @Test func appliesGroupsInOrderBeforeResumingTheirCallers() async throws {
        let stage = CommitApplyStage(name: "test-apply")
        let ledger = Ledger()
        try await withThrowingTaskGroup(of: (Int, [Int]).self) { tasks in
            // The callers await their continuations; one thread (the writer's role) submits.
            for n in 0..<50 {
                tasks.addTask {
                    try await withCheckedThrowingContinuation { continuation in
                        ledger.continuations.withLock { $0[n] = continuation }
                    }
                    return (n, ledger.applied.withLock { $0 })
                }
            }
            while ledger.continuations.withLock({ $0.count }) < 50 { try await Task.sleep(for: .milliseconds(1)) }
            let byGroup = ledger.continuations.withLock { $0 }
            for n in 0..<50 {
                stage.submit(.init(apply: { ledger.applied.withLock { $0.append(n) } }, continuations: [byGroup[n]!]))
            }
            for try await (n, seen) in tasks {
                #expect(Array(seen.prefix(n + 1)) == Array(0...n), "group \(n) resumed before it (and every earlier group) was applied")
            }
        }
        stage.finish()
        #expect(ledger.applied.withLock { $0 } == Array(0..<50))
    }

    @Test func aFailingGroupFailsOnlyItsOwnCallers() async throws {
        let stage = CommitApplyStage(name: "test-apply")
        defer { stage.finish() }
        struct Broken: Error {}
        try await withCheckedThrowingContinuation { stage.submit(.init(apply: {}, continuations: [$0])) }
        await #expect(throws: EventLogError.self) {
            try await withCheckedThrowingContinuation { stage.submit(.init(apply: { throw Broken() }, continuations: [$0])) }
        }
        try await withCheckedThrowingContinuation { stage.submit(.init(apply: {}, continuations: [$0])) }
    }

    @Test func aWriterMoreThanDepthGroupsAheadWaits() throws {
        let stage = CommitApplyStage(name: "test-apply", depth: 2)
        let gate = DispatchSemaphore(value: 0)
        let writerDone = DispatchSemaphore(value: 0)
        let submitted = Atomic<Int>(0)
        let writer = Thread {
            for _ in 0..<5 {
                stage.submit(.init(apply: { gate.wait() }, continuations: []))
                submitted.add(1, ordering: .relaxed)
            }
            writerDone.signal()
        }
        writer.start()
        // The first group is being applied (blocked on the gate) and the second waits: no room
        // for a third until the first is done.
        let deadline = Date().addingTimeInterval(10)
        while submitted.load(ordering: .relaxed) < 2 && Date() < deadline { usleep(1_000) }
        usleep(50_000)
        #expect(submitted.load(ordering: .relaxed) == 2)
        for _ in 0..<5 { gate.signal() }
        writerDone.wait()
        stage.finish()
        #expect(submitted.load(ordering: .relaxed) == 5)
    }

    @Test func finishAppliesEverythingSubmittedBeforeIt() {
        let stage = CommitApplyStage(name: "test-apply")
        let count = Atomic<Int>(0)
        for _ in 0..<100 { stage.submit(.init(apply: { usleep(100); count.add(1, ordering: .relaxed) }, continuations: [])) }
        stage.finish()
        #expect(count.load(ordering: .relaxed) == 100)
    }
}
