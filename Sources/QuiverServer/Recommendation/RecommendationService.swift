// RecommendationService: the model service of the request path (features -> models -> cache).
// It owns the learned state (models + serving catalog behind one read-write lock), the candidate
// index, scenarios, caches, sessions and profiles. Learning happens in one place: the log's commit
// observer applies every committed event and feedback to the models, in log order, so a snapshot
// taken between two commits is exactly "the log up to seq N" and a restart restores it and
// replays only what came after.
import Foundation
import Logging
import QuiverCore
import QuiverHTTP
import QuiverStore
import Synchronization

/// Models and catalog, changed together under one lock.
struct ServingState: Sendable {
    var models: RecommendationModels
    var catalog = ServingCatalog()
    /// The last event and feedback sequence numbers applied to `models`.
    var eventSeq = 0
    var feedbackSeq = 0
}

/// Counters for `/api/v1/models/status` and `/api/v1/metrics`.
struct ServingCounters: Sendable {
    var requests = 0
    var computed = 0
    var cacheHits = 0
    /// In-process misses answered by the shared (Redis) cache, and those it could not answer.
    var sharedCacheHits = 0
    var sharedCacheMisses = 0
    var degraded: [String: Int] = [:]
    /// How often the session agent chose each strategy.
    var strategies: [String: Int] = [:]
    var feedback = 0
    var joinedFeedback = 0
    var duplicateFeedback = 0
    var indexRebuilds = 0
    var snapshots = 0
    var lastSnapshotAt: Double?
    var lastSnapshotBytes = 0
    /// The event sequence number of the snapshot restored at start (nil: none).
    var restoredSnapshotEventSeq: Int?
}

final class RecommendationService: Sendable {
    /// Events per call of the feature engine's batch path when the log is replayed at start.
    static let replayBatch = 256

    let features: FeatureService
    let configuration: QuiverConfiguration
    let logger: Logger
    let state: ReadWriteLocked<ServingState>
    let index = Mutex(CandidateIndex())
    private let rebuilding = Atomic<Bool>(false)
    let scenarios: Mutex<(current: ScenarioSet, previous: ScenarioSet?)>
    let cache: ResultCache
    /// The second-level cache on the online store (nil: `online_store.backend` is memory).
    let sharedCache: SharedResultCache?
    /// The agent's sessions in the online store (nil: `online_store.backend` is memory).
    let sharedSessions: SharedSessions?
    /// Published scenario sets (PostgreSQL only), and when the newest one this process applied was published.
    let configVersions: PostgresConfigVersions?
    let scenarioSync = Mutex<Double>(0)
    let featureSync = Mutex<Double>(0)
    let scenarioSyncStop = DispatchSemaphore(value: 0)
    let impressions: ImpressionIndex
    let sessions: SessionTracker
    let agent: Mutex<SessionStrategyAgent>
    let profiles = Mutex<[String: StoredProfile]>([:])
    let versions = UserVersions()
    let interactionTypes: Set<EventType>
    let counters = Mutex(ServingCounters())
    /// Cache hits served as cached (no degradation): each is a request and a cache hit on top of
    /// `counters`, counted without its lock (the hot path).
    let plainCacheHits = Atomic<Int>(0)
    let snapshots: any SnapshotStore
    let pool: BlockingIOPool
    let prefetcher: Prefetcher
    private let listeners = Mutex<[@Sendable (Set<String>) -> Void]>([])
    private let requestPrefix: String
    private let requestCounter = Atomic<UInt64>(0)
    private let snapshotStop = DispatchSemaphore(value: 0)
    private let snapshotStopped = DispatchSemaphore(value: 0)
    private let snapshotRunning = Atomic<Bool>(false)

    init(configuration: QuiverConfiguration, features: FeatureService, snapshots: any SnapshotStore, pool: BlockingIOPool,
         onlineStore: RedisOnlineStore? = nil, configVersions: PostgresConfigVersions? = nil, logger: Logger) throws {
        self.configVersions = configVersions
        self.configuration = configuration
        sharedCache = onlineStore.map { SharedResultCache(store: $0, timeoutMs: configuration.onlineStoreTimeoutMs) }
        sharedSessions = onlineStore.map { SharedSessions(store: $0, timeoutSeconds: configuration.sessionTimeoutSeconds) }
        self.snapshots = snapshots
        self.pool = pool
        self.features = features
        self.logger = logger
        let scenarioSet = try Self.scenarios(from: configuration.scenariosFile)
        scenarios = Mutex((scenarioSet, nil))
        cache = ResultCache(capacity: configuration.resultCacheEntries, maxBytes: configuration.resultCacheBytes)
        impressions = ImpressionIndex(capacity: configuration.impressionCapacity, ttl: configuration.impressionTTLSeconds)
        prefetcher = Prefetcher(capacity: max(1_024, configuration.maxResidentUsers), window: configuration.prefetchWindowSeconds,
                                maxPending: 64)
        sessions = SessionTracker(capacity: max(1_024, configuration.maxResidentUsers), timeout: configuration.sessionTimeoutSeconds)
        interactionTypes = Set(configuration.interactionTypes.split(separator: ",").map { EventType(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
        var prefix = SystemRandomNumberGenerator()
        requestPrefix = String(prefix.next() & 0xFFFF_FFFF, radix: 16)

        // Restore: the newest snapshot, then the catalog, then the log after the snapshot.
        let start = ContinuousClock.now
        let log = features.log
        var restored = ServingState(models: RecommendationModels())
        let latestSnapshot: StoredSnapshot?
        do { latestSnapshot = try snapshots.latest() } catch {
            logger.error("model snapshots unreadable, rebuilding from the log", metadata: ["error": "\(error)"])
            latestSnapshot = nil
        }
        if let snapshot = latestSnapshot {
            do {
                restored.models = try RecommendationModels(snapshot: snapshot.bytes)
                restored.eventSeq = snapshot.eventSeq
                restored.feedbackSeq = snapshot.feedbackSeq
                counters.withLock { $0.restoredSnapshotEventSeq = snapshot.eventSeq }
            } catch {
                logger.error("model snapshot unreadable, rebuilding from the log", metadata: ["error": "\(error)"])
            }
        }
        agent = Mutex(restored.models.agent)
        let engine = features.engine
        let itemCount = try log.replayItems { item in
            engine.upsertItem(item)
            restored.catalog.upsert(item)
        }
        let snapshotSeq = restored.eventSeq
        let interactionTypes = interactionTypes
        var replayedIntoModels = 0
        let versions = versions
        // The feature engine takes the log through its batch path (stored events are stamped, so
        // `receivedAt` is never used); nothing below reads the engine before the last flush.
        var pending: [UserEvent] = []
        pending.reserveCapacity(Self.replayBatch)
        let eventCount = try log.replayEvents(after: 0) { seq, event in
            pending.append(event)
            if pending.count == Self.replayBatch {
                engine.ingest(pending, receivedAt: 0)
                pending.removeAll(keepingCapacity: true)
            }
            versions.noteEvent(event.userID, seq: seq)
            if seq > snapshotSeq { restored.eventSeq = seq }
            guard let itemID = event.itemID else { return }
            restored.catalog.noteItem(itemID)
            if seq > snapshotSeq {
                if interactionTypes.contains(event.type) {
                    restored.models.observeInteraction(userID: event.userID, itemID: itemID, timestamp: event.time)
                }
                replayedIntoModels += 1
            }
        }
        if !pending.isEmpty { engine.ingest(pending, receivedAt: 0) }
        let snapshotFeedbackSeq = restored.feedbackSeq
        var feedbackCount = 0
        try log.replayFeedback(after: 0) { seq, record in
            versions.noteFeedback(record.userID, seq: seq)
            guard seq > snapshotFeedbackSeq else { return }
            Self.learn(record, into: &restored)
            restored.feedbackSeq = seq
            feedbackCount += 1
        }
        // The positions are what the replay read, never the store's current ones: on a shared
        // store another process may have committed since, and the tail delivers that later.
        state = ReadWriteLocked(restored)
        let now = Date().timeIntervalSince1970
        var impressionCount = 0
        for impression in try log.resolvedImpressions(since: now - configuration.impressionTTLSeconds) {
            impressions.remember(impression.requestID, ServedImpression(
                userID: impression.userID, scenario: impression.scenario, timestamp: impression.timestamp,
                items: impression.items, tokens: impression.tokens, dense: []))
            impressionCount += 1
        }
        for profile in try log.profiles() {
            profiles.withLock { $0[profile.userID] = profile }
            versions.noteProfile(profile.userID, updatedAt: profile.updatedAt)
        }
        logger.info("state restored", metadata: [
            "items": "\(itemCount)", "events": "\(eventCount)", "events_into_models": "\(replayedIntoModels)",
            "feedback_into_models": "\(feedbackCount)", "impressions": "\(impressionCount)",
            "snapshot_event_seq": "\(snapshotSeq)", "elapsed": "\(ContinuousClock.now - start)",
            "scenarios": "\(scenarioSet.version)", "features": "\(engine.activeVersion)"])

        log.observeCommits { [weak self] batch in self?.apply(batch) }
        log.start()
        startConfigSync()
        startSnapshots()
    }

    /// Scenarios from `path` (YAML or JSON), or the built-in set.
    static func scenarios(from path: String) throws -> ScenarioSet {
        guard !path.isEmpty else { return .standard }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("recommend.scenarios_file: cannot read '\(path)'")
        }
        do {
            return try parseScenarios(text)
        } catch let error as ScenarioError {
            throw ConfigurationError("recommend.scenarios_file '\(path)': \(error)")
        } catch {
            throw ConfigurationError("recommend.scenarios_file '\(path)': \(error)")
        }
    }

    /// Parses and validates a scenario set from YAML or JSON text.
    static func parseScenarios(_ text: String) throws -> ScenarioSet {
        let set: ScenarioSet
        do {
            set = try ConfigurationDocument.decode(ScenarioSet.self, from: text)
        } catch let error as DecodingError {
            let fault = DecodingFault(error)
            throw ScenarioError(field: fault.field, message: fault.message)
        } catch is ConfigurationDocument.NotAnObject {
            throw ScenarioError(field: "", message: "expected an object with version and scenarios")
        } catch {
            throw ScenarioError(field: "", message: "not valid YAML/JSON: \(error)")
        }
        try set.validate()
        return set
    }

    // MARK: Learning

    /// Applies one committed batch, in log order, on the store's thread (this process's writes
    /// and, on a shared store, what other processes committed): the feature engine, the models,
    /// the catalog and the profiles follow the log; then the users it touched are told.
    private func apply(_ batch: CommittedBatch) {
        let interactionTypes = interactionTypes
        let engine = features.engine
        for item in batch.items { engine.upsertItem(item) }
        // The batch path overlaps the engine's cache misses across events; same result as one by one.
        // Logged events are stamped; `receivedAt: 0` is what `event.time` gives an unstamped one.
        engine.ingest(batch.events.map(\.event), receivedAt: 0)
        state.write { state in
            for item in batch.items { state.catalog.upsert(item) }
            for (seq, event) in batch.events {
                if let itemID = event.itemID {
                    state.catalog.noteItem(itemID)
                    if interactionTypes.contains(event.type) {
                        state.models.observeInteraction(userID: event.userID, itemID: itemID, timestamp: event.time)
                    }
                }
                state.eventSeq = seq
            }
            for (seq, record) in batch.feedback {
                Self.learn(record, into: &state)
                state.feedbackSeq = seq
            }
        }
        if !batch.profiles.isEmpty {
            profiles.withLock { profiles in for profile in batch.profiles { profiles[profile.userID] = profile } }
        }
        var users = Set<String>()
        for (seq, event) in batch.events { users.insert(event.userID); versions.noteEvent(event.userID, seq: seq) }
        for (seq, record) in batch.feedback { users.insert(record.userID); versions.noteFeedback(record.userID, seq: seq) }
        for profile in batch.profiles { users.insert(profile.userID); versions.noteProfile(profile.userID, updatedAt: profile.updatedAt) }
        usersChanged(users)
    }

    /// FTRL learns joined feedback with the context it was shown in.
    static func learn(_ record: FeedbackRecord, into state: inout ServingState) {
        guard record.joined else { return }
        let candidate = state.catalog[record.itemID]?.candidate ?? ScoringCandidate(itemId: record.itemID)
        state.models.learn(ModelFeedback(
            context: ScoringContext(userId: record.userID, dense: record.dense, tokens: record.tokens, timestamp: record.timestamp),
            candidate: candidate, reward: min(1, max(0, record.reward)), propensity: record.propensity))
    }

    /// Users whose state changed: their cached answers die, listeners (the stream) are told, and
    /// the recently active ones are recomputed in the background.
    func usersChanged(_ users: Set<String>) {
        guard !users.isEmpty else { return }
        notify(users)
        if configuration.prefetchWindowSeconds > 0 {
            prefetcher.usersChanged(users, now: Date().timeIntervalSince1970) { [weak self] request in
                _ = self?.recommend(request, prefetch: true)
            }
        }
    }

    /// Registers a function told about users whose state changed (the stream pushes to them).
    func onUsersChanged(_ body: @escaping @Sendable (Set<String>) -> Void) {
        listeners.withLock { $0.append(body) }
    }

    private func notify(_ users: Set<String>) {
        guard !users.isEmpty else { return }
        for listener in listeners.withLock({ $0 }) { listener(users) }
    }

    // MARK: Candidate index

    /// The candidate index, rebuilt when the catalog or popularity changed and the current one is
    /// older than the refresh interval (in the background, unless the interval is 0 or there is none).
    func currentIndex(now: Double) -> CandidateIndex {
        let current = index.withLock { $0 }
        let (catalogVersion, interactions) = state.read { ($0.catalog.version, $0.models.interactions) }
        let stale = current.catalogVersion != catalogVersion || current.modelInteractions != interactions
        guard stale else { return current }
        let refresh = Double(configuration.candidateIndexRefreshMs) / 1000
        let never = current.catalogVersion < 0
        if refresh == 0 || never {
            return rebuildIndex(now: now)
        }
        guard now - current.builtAt >= refresh || now < current.builtAt else { return current }
        if rebuilding.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            Thread.detachNewThread { [self] in
                _ = rebuildIndex(now: Date().timeIntervalSince1970)
                rebuilding.store(false, ordering: .releasing)
            }
        }
        return current
    }

    @discardableResult
    private func rebuildIndex(now: Double) -> CandidateIndex {
        // Popularity as of the newest thing learned: the same order as at any later time, and no
        // underflow when a backfill's timestamps are far in the past.
        let built = state.read { CandidateIndex.build(catalog: $0.catalog, models: $0.models,
                                                      at: $0.models.lastUpdate > 0 ? $0.models.lastUpdate : now) }
        index.withLock { current in
            if built.catalogVersion >= current.catalogVersion { current = built }
        }
        counters.withLock { $0.indexRebuilds += 1 }
        return built
    }

    // MARK: Request ids and randomness

    func nextRequestID() -> String {
        let n = requestCounter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(requestPrefix)-\(String(n, radix: 16))"
    }

    /// A generator for one request: the configured seed mixed with the request number.
    func generator(for requestID: String) -> SeededRandom {
        SeededRandom(seed: UInt64(configuration.servingSeed) ^ HashedCrossEncoder.hash(requestID, namespace: 17))
    }

    // MARK: Snapshots

    private func startSnapshots() {
        let interval = configuration.snapshotIntervalSeconds
        guard interval > 0 else { return }
        snapshotRunning.store(true, ordering: .releasing)
        Thread.detachNewThread { [self] in
            while snapshotStop.wait(timeout: .now() + interval) == .timedOut {
                saveSnapshotBlocking()
            }
            snapshotStopped.signal()
        }
    }

    /// Serialises the models (with the live agent) and stores them with the log position they
    /// cover; returns the snapshot's size and position, or the error.
    func saveSnapshot() async -> Result<StoredSnapshot, EventLogError> {
        var copy = state.read { $0 }
        copy.models.agent = agent.withLock { $0 }
        let snapshot = StoredSnapshot(eventSeq: copy.eventSeq, feedbackSeq: copy.feedbackSeq,
                                      createdAt: Date().timeIntervalSince1970, bytes: copy.models.snapshot())
        do {
            // Serialising, compressing and fsyncing happen here, not on the log's writer thread.
            try await pool.run { try self.snapshots.save(snapshot) }
            try await features.log.prune(impressionsBefore: snapshot.createdAt - configuration.impressionTTLSeconds)
        } catch {
            logger.error("model snapshot failed", metadata: ["error": "\(error)"])
            return .failure(EventLogError(message: "\(error)"))
        }
        counters.withLock {
            $0.snapshots += 1
            $0.lastSnapshotAt = snapshot.createdAt
            $0.lastSnapshotBytes = snapshot.bytes.count
        }
        logger.debug("model snapshot saved", metadata: ["bytes": "\(snapshot.bytes.count)", "event_seq": "\(snapshot.eventSeq)"])
        return .success(snapshot)
    }

    /// The blocking form, for the snapshot thread and shutdown (never call it from a task).
    func saveSnapshotBlocking() {
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = await saveSnapshot()
            done.signal()
        }
        done.wait()
    }

    /// Stops the snapshot thread and saves a last snapshot (before the log shuts down).
    func shutdown() {
        if configVersions != nil { scenarioSyncStop.signal() }
        if snapshotRunning.exchange(false, ordering: .acquiringAndReleasing) {
            snapshotStop.signal()
            snapshotStopped.wait()
        }
        saveSnapshotBlocking()
    }
}
