// ReadWriteLocked: a value behind a writer-preferring POSIX read-write lock. Many readers (the
// recommendation pipeline on every core) share it; one writer (the log's commit observer, item
// updates) changes it in place, so no copy-on-write copy is ever paid on the hot path.
// Invariant: `read` bodies never mutate and never call back into the lock.
import Glibc

final class ReadWriteLocked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init(_ value: Value) {
        self.value = value
        lock = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        // Readers must not starve the single writer that applies committed events.
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` with shared access.
    func read<Result>(_ body: (Value) throws -> Result) rethrows -> Result {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value)
    }

    /// Runs `body` with shared access if the lock can be had within `milliseconds`; nil otherwise.
    func read<Result>(waitingAtMost milliseconds: Double, _ body: (Value) throws -> Result) rethrows -> Result? {
        if pthread_rwlock_tryrdlock(lock) != 0 {
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            let nanos = Int(deadline.tv_nsec) + Int(max(0, milliseconds) * 1_000_000)
            deadline.tv_sec += nanos / 1_000_000_000
            deadline.tv_nsec = nanos % 1_000_000_000
            guard pthread_rwlock_timedrdlock(lock, &deadline) == 0 else { return nil }
        }
        defer { pthread_rwlock_unlock(lock) }
        return try body(value)
    }

    /// Runs `body` with exclusive, mutable access.
    func write<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value)
    }
}
