// EventStore: the system of record, as the server sees it. Two implementations keep the same
// contract: `DurableEventLog` (embedded SQLite, the default) and `PostgresEventLog` (PostgreSQL,
// shared by several quiver processes). The contract:
// - Writes (events with feedback, items, profiles) are acknowledged only after they are committed.
// - Every committed change reaches the commit observer exactly once per process, in log order
//   (events by seq, feedback by seq), before the writer that made it is acknowledged. On a shared
//   store the observer also sees what other processes committed (the store tails the log), so every
//   process applies the same log in the same order.
// - Impressions are logged without waiting (a served list is not an acknowledged write).
// - Snapshots of learned state are kept by a `SnapshotStore` beside the log.
import QuiverCore

/// What one commit (or one read of the shared log) brought, in log order, with sequence numbers.
public struct CommittedBatch: Sendable {
    public var events: [(seq: Int, event: UserEvent)] = []
    public var feedback: [(seq: Int, record: FeedbackRecord)] = []
    /// Catalog items stored (inserted or replaced).
    public var items: [CatalogItem] = []
    /// Profiles stored (replaced whole).
    public var profiles: [StoredProfile] = []

    public init() {}

    public var isEmpty: Bool { events.isEmpty && feedback.isEmpty && items.isEmpty && profiles.isEmpty }
}

/// The system of record: durable logs of events and feedback, the catalog, profiles, impressions.
public protocol EventStore: AnyObject, Sendable {
    /// What the store is, for logs and readiness (`sqlite /data/quiver.db`, `postgres host/db`).
    var summary: String { get }

    // MARK: Loading (before `start()`; blocking)

    /// Calls `body` for every stored catalog item; returns how many.
    func replayItems(_ body: (CatalogItem) -> Void) throws -> Int
    /// Calls `body` with every event whose sequence number is above `seq`, in order.
    @discardableResult func replayEvents(after seq: Int, _ body: (Int, UserEvent) -> Void) throws -> Int
    /// Calls `body` with every feedback record above `seq`, in order.
    @discardableResult func replayFeedback(after seq: Int, _ body: (Int, FeedbackRecord) -> Void) throws -> Int
    /// The impressions logged at or after `timestamp`.
    func impressions(since timestamp: Double) throws -> [ImpressionRecord]
    /// Every stored profile.
    func profiles() throws -> [StoredProfile]
    /// The highest event and feedback sequence numbers committed so far.
    func positions() throws -> (events: Int, feedback: Int)

    // MARK: Reads while serving (blocking: call from the I/O pool)

    /// The impression logged for `requestID`, if any (another process may have served it).
    func impression(requestID: String) throws -> ImpressionRecord?

    // MARK: Writing

    /// Sets the function that sees every committed batch, in log order, before writers are
    /// acknowledged. Set it before `start()`.
    func observeCommits(_ body: @escaping @Sendable (CommittedBatch) -> Void)
    /// Starts writing (and, on a shared store, tailing the log after what was replayed).
    func start()
    /// Appends stamped events and feedback records; returns once they are committed and observed.
    func append(_ events: [UserEvent], feedback: [FeedbackRecord], receivedAt: Double) async throws
    /// Stores (inserting or replacing) catalog items; returns once committed and observed.
    func store(_ items: [CatalogItem]) async throws
    /// Stores a profile; returns once committed and observed.
    func store(_ profile: StoredProfile) async throws
    /// Logs impressions with a later transaction; does not wait.
    func log(_ impressions: [ImpressionRecord])
    /// The same, for impressions already encoded as JSON.
    func log(encoded impressions: [EncodedImpression])
    /// Deletes impressions logged before `timestamp`; returns once committed.
    func prune(impressionsBefore timestamp: Double) async throws
    /// Lets queued writes finish, then stops writing and tailing.
    func shutdown()
}

extension EventStore {
    /// Appends events without feedback.
    public func append(_ events: [UserEvent], receivedAt: Double) async throws {
        try await append(events, feedback: [], receivedAt: receivedAt)
    }
}

/// Where snapshots of learned state live: files beside the embedded store, or a table in PostgreSQL.
public protocol SnapshotStore: Sendable {
    /// The newest readable snapshot.
    func latest() throws -> StoredSnapshot?
    /// Stores `snapshot` durably (blocking: call it off the event loops), keeping a few older ones.
    func save(_ snapshot: StoredSnapshot) throws
}
