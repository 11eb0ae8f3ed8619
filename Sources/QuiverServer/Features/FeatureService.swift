// FeatureService: the feature engine behind the API: events validated, made durable in the
// embedded log (acknowledged only after commit), then applied to the engine; catalog items the
// same way; reads of real-time features. It opens the log and loads the definitions; the
// RecommendationService replays the log into it at start, so a restart resumes with every
// acknowledged event.
import Foundation
import Logging
import QuiverCore
import QuiverStore
import Synchronization

final class FeatureService: Sendable {
    let engine: RealTimeFeatureEngine
    let evicted: BoundedFeatureStateStore
    let log: DurableEventLog
    let validator: EventValidator
    let maxComputeUsers: Int

    init(configuration: QuiverConfiguration, logger: Logger) throws {
        let definitions = try Self.definitions(from: configuration.featureDefinitionsFile)
        // Evicted users wait in a bounded in-memory tier (as many again as are resident); beyond
        // it the oldest are dropped. A durable state store is the storage issue's work.
        evicted = BoundedFeatureStateStore(capacity: configuration.maxResidentUsers)
        engine = try RealTimeFeatureEngine(
            definitions: definitions,
            configuration: FeatureEngineConfiguration(maxResidentUsers: configuration.maxResidentUsers, maxItems: configuration.maxItems),
            store: evicted)
        var limits = EventLimits()
        limits.maxBatchSize = configuration.maxEventBatch
        validator = engine.eventValidator(limits: limits)
        maxComputeUsers = configuration.maxComputeUsers
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        log = try DurableEventLog(path: configuration.dataDirectory + "/quiver.db")
    }

    private let observers = Mutex<(items: [@Sendable ([CatalogItem]) -> Void], users: [@Sendable (Set<String>) -> Void])>(([], []))

    /// Registers a function told about catalog items once they are stored.
    func onItemsStored(_ body: @escaping @Sendable ([CatalogItem]) -> Void) { observers.withLock { $0.items.append(body) } }

    /// Registers a function told about users whose events reached the engine.
    func onUsersIngested(_ body: @escaping @Sendable (Set<String>) -> Void) { observers.withLock { $0.users.append(body) } }

    /// Stored items: upserted into the engine, then observers are told.
    func itemsStored(_ items: [CatalogItem]) {
        for item in items { engine.upsertItem(item) }
        for observer in observers.withLock({ $0.items }) { observer(items) }
    }

    /// Durable events: ingested into the engine, then observers are told.
    func ingest(_ events: [UserEvent], receivedAt: Double) {
        engine.ingest(events, receivedAt: receivedAt)
        let users = Set(events.map(\.userID))
        for observer in observers.withLock({ $0.users }) { observer(users) }
    }

    /// The feature definitions in `path` (YAML or JSON), or the built-in standard set.
    static func definitions(from path: String) throws -> FeatureDefinitionSet {
        guard !path.isEmpty else { return .standard }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("features.definitions_file: cannot read '\(path)'")
        }
        do {
            let definitions = try ConfigurationDocument.decode(FeatureDefinitionSet.self, from: text)
            try definitions.validate()
            return definitions
        } catch {
            throw ConfigurationError("features.definitions_file '\(path)': \(error)")
        }
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}
