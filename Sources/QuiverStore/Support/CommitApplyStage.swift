// CommitApplyStage: the second half of a store's write path, on a thread of its own. The writer
// thread commits a group and hands it here; this thread applies committed groups to the store's
// commit observer, strictly in commit order, and only then resumes the group's callers. So the
// next group's commit (I/O, fsync, the database's own CPU) overlaps the previous group's apply
// (the models learning), while an acknowledged write is still committed *and* applied. At most
// `depth` groups wait here; a writer that gets further ahead blocks until this thread catches up.
import Foundation  // Thread
import Synchronization

final class CommitApplyStage: Sendable {
    /// One committed group: what to apply, then whom to resume.
    struct Group: Sendable {
        /// Applies the group to the observer; a throw fails every caller of the group.
        let apply: @Sendable () throws -> Void
        let continuations: [GroupCommitQueue.Continuation]
    }

    private let state = Mutex<(groups: [Group], open: Bool)>(([], true))
    /// Counts waiting groups (and the close).
    private let available = DispatchSemaphore(value: 0)
    /// Free places: a writer takes one per group, this thread gives it back once applied.
    private let room: DispatchSemaphore
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the apply thread, named `name`.
    init(name: String, depth: Int = 4) {
        precondition(depth > 0, "depth must be positive")
        room = DispatchSemaphore(value: depth)
        NamedThread.start(name) { [self] in run() }
    }

    /// Queues a committed group (blocking while `depth` groups already wait). Call it from one
    /// thread only (the writer), in commit order.
    func submit(_ group: Group) {
        room.wait()
        state.withLock { $0.groups.append(group) }
        available.signal()
    }

    /// Applies every group submitted so far, then stops the thread; returns when it has stopped.
    func finish() {
        state.withLock { $0.open = false }
        available.signal()
        finished.wait()
    }

    private func run() {
        while true {
            available.wait()
            let next = state.withLock { state -> Group?? in
                if !state.groups.isEmpty { return .some(state.groups.removeFirst()) }
                return state.open ? .some(nil) : nil
            }
            guard let next else { break }  // closed and empty
            guard let group = next else { continue }
            do {
                try group.apply()
                for continuation in group.continuations { continuation.resume() }
            } catch {
                let failure = error as? EventLogError ?? EventLogError(message: "\(error)")
                for continuation in group.continuations { continuation.resume(throwing: failure) }
            }
            room.signal()
        }
        finished.signal()
    }
}
