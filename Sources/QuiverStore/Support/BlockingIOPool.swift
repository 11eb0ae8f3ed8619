// BlockingIOPool: a fixed set of threads for calls that block (hiredis and libpq in their
// synchronous mode, SQLite, file I/O). Event loops and the cooperative task pool never block:
// they `await pool.run { ... }` and the work happens here. The queue is bounded; beyond it
// `run` fails fast with `BlockingIOPoolError.saturated` rather than queueing without limit.
import Foundation
import Synchronization

public enum BlockingIOPoolError: Error, Sendable, Equatable {
    /// Too many calls are already waiting for a thread.
    case saturated
    /// The pool is shut down.
    case shutDown
}

/// A pool of threads that run blocking work and resume the awaiting task with the result.
public final class BlockingIOPool: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        var open = true
        var waiting: Int { jobs.count - head }
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let maxQueued: Int
    public let threadCount: Int

    /// - Parameters:
    ///   - threads: worker threads (each may sit in one blocking call at a time).
    ///   - maxQueued: calls allowed to wait for a thread before `run` refuses more.
    public init(threads: Int, maxQueued: Int = 10_000, name: String = "quiver-io") {
        threadCount = max(1, threads)
        self.maxQueued = maxQueued
        for i in 0..<threadCount {
            NamedThread.start("\(name)-\(i)") { [self] in worker() }
        }
    }

    /// Calls waiting for a thread right now (a gauge for metrics and tests).
    public var queuedCount: Int { state.withLock { $0.waiting } }

    /// Runs `body` on a pool thread and returns its result to the awaiting task.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = state.withLock { s -> BlockingIOPoolError? in
                guard s.open else { return .shutDown }
                guard s.waiting < maxQueued else { return .saturated }
                s.jobs.append { continuation.resume(with: Result { try body() }) }
                return nil
            }
            if let refusal = accepted {
                continuation.resume(throwing: refusal)
            } else {
                available.signal()
            }
        }
    }

    /// Lets queued work finish, then stops the threads.
    public func shutdown() {
        state.withLock { $0.open = false }
        for _ in 0..<threadCount { available.signal() }
    }

    private func worker() {
        while true {
            available.wait()
            let job = state.withLock { s -> (@Sendable () -> Void)?? in
                guard s.head < s.jobs.count else { return s.open ? .some(nil) : .none }
                let job = s.jobs[s.head]
                s.head += 1
                if s.head > 1024 && s.head * 2 > s.jobs.count {
                    s.jobs.removeFirst(s.head)
                    s.head = 0
                }
                return .some(job)
            }
            switch job {
            case .none: return  // shut down and drained
            case .some(nil): continue
            case .some(let work?): work()
            }
        }
    }
}
