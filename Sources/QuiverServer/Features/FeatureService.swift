// FeatureService: the feature engine behind the API: events validated and made durable in the
// event store (acknowledged only after commit); catalog items the same way; reads of real-time
// features. It loads the definitions. The engine learns only from the store's commit observer
// (RecommendationService.apply), so events from another process sharing the store reach it too;
// at start the RecommendationService replays the log into it.
import Foundation
import Logging
import QuiverCore
import QuiverStore
import Synchronization

final class FeatureService: Sendable {
    let engine: RealTimeFeatureEngine
    let evicted: BoundedFeatureStateStore
    /// Evicted states in Redis too (when an online store is configured), beyond the memory tier.
    let evictedInRedis: RedisFeatureStateStore?
    let log: any EventStore
    let validator: EventValidator
    let maxComputeUsers: Int

    init(configuration: QuiverConfiguration, store: any EventStore, online: RedisOnlineStore? = nil, logger: Logger) throws {
        let definitions = try Self.definitions(from: configuration.featureDefinitionsFile)
        // Evicted users wait in a bounded in-memory tier (as many again as are resident); beyond
        // it the oldest are dropped, unless an online store keeps them (RedisFeatureStateStore).
        let memory = BoundedFeatureStateStore(capacity: configuration.maxResidentUsers)
        evicted = memory
        evictedInRedis = online.map {
            RedisFeatureStateStore(memory: memory, redis: $0, ttlSeconds: configuration.featureStateTTLSeconds,
                                   maxBytes: configuration.featureStateMaxBytes)
        }
        engine = try RealTimeFeatureEngine(
            definitions: definitions,
            configuration: FeatureEngineConfiguration(maxResidentUsers: configuration.maxResidentUsers, maxItems: configuration.maxItems),
            store: evictedInRedis ?? evicted)
        var limits = EventLimits()
        limits.maxBatchSize = configuration.maxEventBatch
        validator = engine.eventValidator(limits: limits)
        maxComputeUsers = configuration.maxComputeUsers
        log = store
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
