// SharedModel: how a value-type model is shared between server threads.
// Invariant: all access goes through one Mutex; readers copy the value out (O(1), copy-on-write
// arrays) and score outside the lock, so a slow scorer never blocks learners.

import Synchronization

/// A thread-safe home for one model value, for use from many threads.
///
/// Updates run under the lock. `current` returns a copy of the model; scoring that copy takes
/// no lock. The first update after a reader took a copy pays one copy of the touched storage.
public final class SharedModel<Model: SnapshottingModel>: Sendable {
    private let state: Mutex<Model>

    public init(_ model: Model) {
        state = Mutex(model)
    }

    /// A consistent copy of the model as of now.
    public var current: Model {
        state.withLock { $0 }
    }

    /// Runs `body` with exclusive, mutable access to the model.
    public func mutate<Result: Sendable>(_ body: (inout Model) throws -> Result) rethrows -> Result {
        try state.withLock { try body(&$0) }
    }

    /// Replaces the model wholesale (restore, rollback).
    public func replace(with model: Model) {
        state.withLock { $0 = model }
    }
}

extension SharedModel where Model: ScoringModel {
    /// Applies one feedback under the lock.
    public func update(_ feedback: ModelFeedback) {
        state.withLock { $0.update(feedback) }
    }
}
