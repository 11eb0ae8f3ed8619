// GroupCommitQueue: the write front both event stores share. Each write call (GroupCommitStore's
// `append`, `store`, `log`, `prune`) becomes a job in one list; the store's writer thread takes all
// the jobs waiting at once (one group commit) and resumes their callers after committing. A list of
// impressions alone (nobody waits for them) may linger up to `impressionLingerNanoseconds` for more
// to join, so that a busy server commits (and fsyncs) fewer, larger groups; a waited-for write ends
// the linger at once. Once closed, the queue refuses new writes (they fail at once); the writer
// still commits every job accepted before, then `waitForWriter()` returns.
import Dispatch
import QuiverCore
import Synchronization

/// An impression as a writer inserts it, encoded on the caller's thread.
public struct EncodedImpression: Sendable {
    public let requestID: String
    public let userID: String
    public let timestamp: Double
    /// The record's JSON (`ImpressionRecord.jsonText`, or `ImpressionRecord.json(...)` from a kept tail).
    public let json: String

    public init(requestID: String, userID: String, timestamp: Double, json: String) {
        self.requestID = requestID
        self.userID = userID
        self.timestamp = timestamp
        self.json = json
    }
}

/// The jobs waiting for a store's writer thread, and whether the queue still takes more.
final class GroupCommitQueue: Sendable {
    typealias Continuation = CheckedContinuation<Void, any Error>

    /// A write waiting for the writer thread.
    enum Job: Sendable {
        case events([UserEvent], Double, [FeedbackRecord], Continuation)
        case items([CatalogItem], Continuation)
        case impressions([EncodedImpression])
        case profile(StoredProfile, Continuation)
        case prune(impressionsBefore: Double, Continuation)

        /// The caller waiting for the job to commit (nobody waits for impressions).
        var continuation: Continuation? {
            switch self {
            case .events(_, _, _, let c), .items(_, let c), .profile(_, let c), .prune(_, let c): return c
            case .impressions: return nil
            }
        }
    }

    /// The waiting jobs; whether the queue takes more; the impressions among the jobs; and whether
    /// the writer lingers on a list of impressions alone (a waited-for job then wakes it).
    private struct State {
        var jobs: [Job] = []
        var open = true
        var impressions = 0
        /// Jobs whose callers wait (anything but impressions).
        var waited = 0
        var lingering = false
    }

    private let state = Mutex(State())
    /// Signalled by the job that makes the list non-empty (later ones join the same group: the
    /// writer takes the whole list after each wake, so one signal per group is enough and the
    /// writer is not woken once per impression), by a waited-for job joining a lingering list, by
    /// the impression that fills one, and by `waitForWriter()`.
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled when `drain` returns.
    private let drained = DispatchSemaphore(value: 0)
    /// How long a list of impressions alone may wait for more, in nanoseconds (0: committed at once).
    let impressionLingerNanoseconds: Int
    /// A lingering list of this many impressions is committed at once.
    let lingerLimit: Int

    init(impressionLingerMilliseconds: Int = 0, lingerLimit: Int = 1_024) {
        impressionLingerNanoseconds = max(0, impressionLingerMilliseconds) * 1_000_000
        self.lingerLimit = lingerLimit
    }

    // MARK: Callers

    /// Queues the job `make` builds around the caller's continuation; returns once the writer
    /// resumed it (at once, throwing, when the queue is closed).
    func submit(_ make: (Continuation) -> Job) async throws {
        try await withCheckedThrowingContinuation { (continuation: Continuation) in
            enqueue(make(continuation), or: continuation)
        }
    }

    /// Queues impressions, encoded here on the caller's thread (the writer only inserts them); does
    /// not wait. Dropped once the queue is closed.
    func log(_ encoded: [EncodedImpression]) {
        guard !encoded.isEmpty else { return }
        if append(.impressions(encoded), impressions: encoded.count) == .wake { wake.signal() }
    }

    private func enqueue(_ job: Job, or continuation: Continuation) {
        switch append(job, impressions: 0) {
        case .wake: wake.signal()
        case .joined: break
        case .refused: continuation.resume(throwing: EventLogError(message: "the log is shut down"))
        }
    }

    private enum Appended { case wake, joined, refused }

    /// Adds a job; `.wake` when the writer must be signalled: the list was empty, or the writer
    /// lingers and this job ends it (someone waits for it, or the list is now full).
    private func append(_ job: Job, impressions: Int) -> Appended {
        state.withLock { state -> Appended in
            guard state.open else { return .refused }
            state.jobs.append(job)
            state.impressions += impressions
            if job.continuation != nil { state.waited += 1 }
            if state.jobs.count == 1 { return .wake }
            if state.lingering && (job.continuation != nil || state.impressions >= lingerLimit) {
                state.lingering = false
                return .wake
            }
            return .joined
        }
    }

    // MARK: The writer and shutdown

    /// The writer thread's loop: hands every job waiting to `commit` at once (which resumes their
    /// callers, or has them resumed), until the queue is closed and empty; then runs `finish` (for
    /// example: wait until every committed group was applied) and lets `waitForWriter()` return.
    func drain(_ commit: ([Job]) -> Void, finish: () -> Void = {}) {
        while true {
            wake.wait()
            if impressionLingerNanoseconds > 0 && startLingering() {
                _ = wake.wait(timeout: .now() + .nanoseconds(impressionLingerNanoseconds))
            }
            let (jobs, open) = state.withLock { state -> ([Job], Bool) in
                defer { state.jobs.removeAll(); state.impressions = 0; state.waited = 0; state.lingering = false }
                return (state.jobs, state.open)
            }
            if !jobs.isEmpty { commit(jobs) }
            if !open && state.withLock({ $0.jobs.isEmpty }) { break }
        }
        finish()
        drained.signal()
    }

    /// Whether the writer should wait for more: the queue is open and holds impressions alone,
    /// fewer than the limit. Marks the list lingering, so that a waited-for job wakes the writer.
    private func startLingering() -> Bool {
        state.withLock { state -> Bool in
            guard state.open, state.waited == 0, state.impressions > 0, state.impressions < lingerLimit else { return false }
            state.lingering = true
            return true
        }
    }

    /// Refuses every later write; returns whether the queue was open until now.
    func close() -> Bool {
        state.withLock { state -> Bool in defer { state.open = false }; return state.open }
    }

    /// Wakes the writer to commit what was accepted before `close()` and waits until `drain`
    /// returned. Call it once, after the `close()` that returned true, and only if a writer drains.
    func waitForWriter() {
        wake.signal()
        drained.wait()
    }
}

/// An event store whose writes go through a GroupCommitQueue: it gets the `EventStore` write calls
/// from here, and commits (and resumes) the jobs on its own writer thread.
protocol GroupCommitStore: EventStore {
    var writes: GroupCommitQueue { get }
}

extension GroupCommitStore {
    /// Appends stamped events and feedback records; returns once they are committed and observed.
    public func append(_ events: [UserEvent], feedback: [FeedbackRecord], receivedAt: Double) async throws {
        guard !events.isEmpty || !feedback.isEmpty else { return }
        try await writes.submit { .events(events, receivedAt, feedback, $0) }
    }

    /// Stores (inserting or replacing) catalog items; returns once committed and observed.
    public func store(_ items: [CatalogItem]) async throws {
        guard !items.isEmpty else { return }
        try await writes.submit { .items(items, $0) }
    }

    /// Stores a profile; returns once committed and observed.
    public func store(_ profile: StoredProfile) async throws {
        try await writes.submit { .profile(profile, $0) }
    }

    /// Logs impressions with the next transaction; does not wait (a served list is not an
    /// acknowledged write: losing the last few on a crash leaves their feedback unjoined).
    public func log(_ impressions: [ImpressionRecord]) {
        writes.log(impressions.map { EncodedImpression(requestID: $0.requestID, userID: $0.userID, timestamp: $0.timestamp, json: $0.jsonText) })
    }

    /// Logs impressions already encoded (a cached answer served again reuses its JSON tail).
    public func log(encoded impressions: [EncodedImpression]) {
        writes.log(impressions)
    }

    /// Deletes impressions logged before `timestamp`; returns once committed.
    public func prune(impressionsBefore timestamp: Double) async throws {
        try await writes.submit { .prune(impressionsBefore: timestamp, $0) }
    }
}
