// BlockingIOPoolTests: blocking work runs on the pool's threads in parallel, errors come back to
// the awaiting task, and a full queue refuses work instead of growing without bound.
import Foundation
import Synchronization
import QuiverTestSupport
import Testing
@testable import QuiverStore

/// Counts calls running at once and remembers the most seen.
final class ConcurrencyGauge: Sendable {
    private let state = Mutex((running: 0, peak: 0))
    func enter() { state.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running) } }
    func leave() { state.withLock { $0.running -= 1 } }
    var peak: Int { state.withLock { $0.peak } }
}

@Suite struct BlockingIOPoolTests {
    @Test func runsBlockingWorkInParallelAndReturnsResults() async throws {
        let pool = BlockingIOPool(threads: 4)
        defer { pool.shutdown() }
        let concurrency = ConcurrencyGauge()
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<8 {
                group.addTask {
                    try await pool.run {
                        concurrency.enter()
                        usleep(50_000)  // a blocking call, as hiredis or libpq make
                        concurrency.leave()
                        return i * i
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }.sorted()
        }
        #expect(results == [0, 1, 4, 9, 16, 25, 36, 49])
        #expect(concurrency.peak > 1)
        #expect(concurrency.peak <= 4)
    }

    @Test func passesErrorsBack() async {
        struct Boom: Error {}
        let pool = BlockingIOPool(threads: 1)
        defer { pool.shutdown() }
        await #expect(throws: Boom.self) { try await pool.run { throw Boom() } }
    }

    @Test func refusesWorkBeyondItsQueue() async throws {
        let pool = BlockingIOPool(threads: 1, maxQueued: 2)
        defer { pool.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        // Occupy the only thread, and wait until the blocker is running there.
        let gauge = ConcurrencyGauge()
        let blocker = Task { try await pool.run { gauge.enter(); gate.wait() } }
        var waitedForStart = 0
        while gauge.peak == 0 && waitedForStart < 2000 {
            try await Task.sleep(for: .milliseconds(2))
            waitedForStart += 2
        }
        #expect(gauge.peak == 1)
        let queued = [Task { try await pool.run {} }, Task { try await pool.run {} }]
        var waited = 0
        while pool.queuedCount < 2 && waited < 2000 {
            try await Task.sleep(for: .milliseconds(2))
            waited += 2
        }
        #expect(pool.queuedCount == 2)
        await #expect(throws: BlockingIOPoolError.saturated) { try await pool.run {} }
        gate.signal()
        try await blocker.value
        for task in queued { try await task.value }
        #expect(pool.queuedCount == 0)
    }
}
