// ModelRoutes: the model service for operators and offline tools.
//   GET  /api/v1/models/status    every model: version, update counts, learning and exploration
//                                 rates, last update, health; plus serving, cache and snapshot state
//   POST /api/v1/models/predict   raw per-model and ensemble scores for given items
//   PUT  /api/v1/models/update    labelled examples -> durable -> the click model learns them
//   POST /api/v1/models/snapshot  save a model snapshot now (also periodic and at shutdown)
//   GET  /api/v1/metrics          counters: requests, cache hit rate per scenario, degradations, ...
import Foundation
import QuiverCore
import QuiverHTTP
import QuiverStore

struct ModelStatusBody: Encodable {
    struct Model: Encodable {
        let name: String
        let algorithm: String
        let format_version: Int
        let update_count: Int
        let parameters: [String: String]
        let learning_rate: Double?
        let exploration_rate: Double?
        let health: String
    }
    struct ScenarioStatus: Encodable {
        let name: String
        let ensemble: [String: Double]
        let exploration: ExplorationSettings
        let session_agent: Bool
        let experiment: [ExperimentArm]
    }
    let model_version: String
    let models: [Model]
    let scenarios: [ScenarioStatus]
    let scenario_version: String
    let feature_version: String
    let last_update: Double?
    let interactions: Int
    let feedback_updates: Int
    let log_position: [String: Int]
    let snapshots: [String: Double?]
    let catalog_items: Int
}

struct PredictRequest: Decodable {
    var userID: String
    var itemIDs: [String]
    var context: RequestContext?
    var scenario: String?
    var timestamp: Double?
    enum CodingKeys: String, CodingKey { case userID = "user_id", itemIDs = "item_ids", context, scenario, timestamp }
}

struct PredictResponse: Encodable {
    struct Score: Encodable {
        let item_id: String
        let ensemble: Double
        let models: [String: Double]
    }
    let user_id: String
    let scenario: String
    let model_version: String
    let scores: [Score]
}

struct UpdateRequest: Decodable {
    struct Example: Decodable {
        var userID: String
        var itemID: String
        var label: Double
        var context: RequestContext?
        var timestamp: Double?
        enum CodingKeys: String, CodingKey { case userID = "user_id", itemID = "item_id", label, context, timestamp }
    }
    var examples: [Example]
}

enum ModelRoutes {
    static let maxPredictItems = 10_000
    static let maxUpdateExamples = 10_000

    static func install(into router: inout Router, service: RecommendationService) {
        router.get("/api/v1/models/status") { _ in JSONBody.response(status(service)) }

        router.get("/api/v1/metrics") { _ in JSONBody.response(metrics(service)) }

        router.add(.post, "/api/v1/models/snapshot", .suspending({ _ in
            switch await service.saveSnapshot() {
            case .success(let snapshot):
                struct Body: Encodable { let event_seq: Int; let feedback_seq: Int; let bytes: Int; let created_at: Double }
                return JSONBody.response(Body(event_seq: snapshot.eventSeq, feedback_seq: snapshot.feedbackSeq,
                                              bytes: snapshot.bytes.count, created_at: snapshot.createdAt))
            case .failure(let error):
                return .error(.serviceUnavailable, code: "store_unavailable", message: "the snapshot could not be stored: \(error)")
            }
        }))

        router.post("/api/v1/models/predict") { request in
            let predict: PredictRequest
            switch JSONBody.decode(PredictRequest.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): predict = decoded
            }
            if let fault = RecommendationService.checkIdentifier(predict.userID, field: "user_id") { return fault.response }
            guard !predict.itemIDs.isEmpty, predict.itemIDs.count <= maxPredictItems else {
                return .error(.badRequest, code: "invalid_field", message: "item_ids must hold 1 to \(maxPredictItems) ids", field: "item_ids")
            }
            for (i, id) in predict.itemIDs.enumerated() {
                if let fault = RecommendationService.checkIdentifier(id, field: "item_ids[\(i)]") { return fault.response }
            }
            let scenarioSet = service.scenarios.withLock { $0.current }
            let name = predict.scenario ?? "homepage"
            guard let scenario = scenarioSet.scenario(named: name) else {
                return .error(.badRequest, code: "unknown_scenario", message: "unknown scenario '\(name)'", field: "scenario")
            }
            if let t = predict.timestamp, !(t.isFinite && t >= 0 && t <= 4_102_444_800) {
                return .error(.badRequest, code: "invalid_field", message: "timestamp must be Unix seconds", field: "timestamp")
            }
            let time = predict.timestamp ?? Date().timeIntervalSince1970
            let context = predict.context ?? RequestContext()
            let dense = RecommendationService.modelFeatures(
                service.features.engine.featureVector(for: predict.userID, context: context.eventContext, now: time).values)
            let scoring = ScoringContext(userId: predict.userID, dense: dense, tokens: context.tokens, timestamp: time)
            let (perModel, learned) = service.state.read { state -> ([String: [Double]], Int) in
                let candidates = predict.itemIDs.map { state.catalog[$0]?.candidate ?? ScoringCandidate(itemId: $0) }
                let models = state.models
                return ([
                    "popularity": predict.itemIDs.map { models.popularity.popularity($0, at: time) },
                    "trending": predict.itemIDs.map { models.trending($0, at: time) },
                    "co_visitation": models.coVisitation.score(candidates, context: scoring),
                    "embedding": models.embeddings.score(candidates, context: scoring),
                    "ftrl": models.ftrl.score(candidates, context: scoring),
                ], models.interactions + models.feedbackUpdates)
            }
            var ensemble = [Double](repeating: 0, count: predict.itemIDs.count)
            for (name, weight) in scenario.ensemble where weight > 0 {
                guard let scores = perModel[name] else { continue }
                for (i, s) in ScoreFusion.normalize(scores, .minMax).enumerated() { ensemble[i] += weight * s }
            }
            let scores = predict.itemIDs.enumerated().map { i, id in
                PredictResponse.Score(item_id: id, ensemble: ensemble[i], models: perModel.mapValues { $0[i] })
            }
            return JSONBody.response(PredictResponse(user_id: predict.userID, scenario: scenario.name,
                                                     model_version: "\(scenarioSet.version)+\(service.features.engine.activeVersion)+m\(learned)",
                                                     scores: scores))
        }

        router.add(.put, "/api/v1/models/update", .suspending({ request in
            let update: UpdateRequest
            switch JSONBody.decode(UpdateRequest.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): update = decoded
            }
            guard !update.examples.isEmpty, update.examples.count <= maxUpdateExamples else {
                return .error(.badRequest, code: "invalid_field", message: "examples must hold 1 to \(maxUpdateExamples) examples",
                              field: "examples")
            }
            let now = Date().timeIntervalSince1970
            var records: [FeedbackRecord] = []
            for (i, example) in update.examples.enumerated() {
                if let fault = RecommendationService.checkIdentifier(example.userID, field: "examples[\(i)].user_id") { return fault.response }
                if let fault = RecommendationService.checkIdentifier(example.itemID, field: "examples[\(i)].item_id") { return fault.response }
                guard example.label.isFinite, (0...1).contains(example.label) else {
                    return .error(.badRequest, code: "invalid_field", message: "examples[\(i)].label must be in [0, 1]",
                                  field: "examples[\(i)].label")
                }
                if let t = example.timestamp, !(t.isFinite && t >= 0 && t <= 4_102_444_800) {
                    return .error(.badRequest, code: "invalid_field", message: "examples[\(i)].timestamp must be Unix seconds",
                                  field: "examples[\(i)].timestamp")
                }
                let time = example.timestamp ?? now
                let context = example.context ?? RequestContext()
                let dense = RecommendationService.modelFeatures(
                    service.features.engine.featureVector(for: example.userID, context: context.eventContext, now: time).values)
                records.append(FeedbackRecord(requestID: nil, userID: example.userID, itemID: example.itemID, feedbackType: "label",
                                              reward: example.label, timestamp: time, joined: true, propensity: nil,
                                              scenario: nil, tokens: context.tokens, dense: dense))
            }
            do {
                try await service.features.log.append([], feedback: records, receivedAt: now)
            } catch {
                return .error(.serviceUnavailable, code: "event_log_unavailable", message: "the examples could not be made durable: \(error)")
            }
            let count = service.state.read { $0.models.ftrl.describe().updateCount }
            struct Body: Encodable { let accepted: Int; let model: String; let update_count: Int }
            return JSONBody.response(Body(accepted: records.count, model: "ftrl", update_count: count))
        }))
    }

    static func status(_ service: RecommendationService) -> ModelStatusBody {
        let scenarioSet = service.scenarios.withLock { $0.current }
        let agent = service.agent.withLock { $0 }
        let counters = service.counters.withLock { $0 }
        let (descriptions, ftrlRate, lastUpdate, interactions, feedbackUpdates, eventSeq, feedbackSeq, catalogItems) = service.state.read { s in
            (s.models.describe(), s.models.ftrl.meanCoordinateLearningRate, s.models.lastUpdate, s.models.interactions,
             s.models.feedbackUpdates, s.eventSeq, s.feedbackSeq, s.catalog.count)
        }
        var models: [ModelStatusBody.Model] = []
        for (name, d) in descriptions.sorted(by: { $0.key < $1.key }) {
            let description = name == "session_agent" ? agent.describe() : d
            let learningRate: Double? = switch name {
            case "ftrl": ftrlRate
            case "embedding": description.parameters["current_learning_rate"].flatMap(Double.init)
            case "session_agent": agent.learner.learningRate.value(at: Double(agent.learner.describe().updateCount))
            default: nil
            }
            let exploration: Double? = name == "session_agent" ? agent.learner.currentEpsilon : nil
            models.append(.init(name: name, algorithm: description.name, format_version: description.formatVersion,
                                update_count: description.updateCount, parameters: description.parameters,
                                learning_rate: learningRate, exploration_rate: exploration,
                                health: description.updateCount > 0 ? "ok" : "cold"))
        }
        return ModelStatusBody(
            model_version: "\(scenarioSet.version)+\(service.features.engine.activeVersion)+m\(interactions + feedbackUpdates)",
            models: models,
            scenarios: scenarioSet.scenarios.map {
                .init(name: $0.name, ensemble: $0.ensemble, exploration: $0.exploration, session_agent: $0.sessionAgent,
                      experiment: $0.experiment)
            },
            scenario_version: scenarioSet.version, feature_version: service.features.engine.activeVersion,
            last_update: lastUpdate > 0 ? lastUpdate : nil, interactions: interactions, feedback_updates: feedbackUpdates,
            log_position: ["events": eventSeq, "feedback": feedbackSeq],
            snapshots: ["count": Double(counters.snapshots), "last_at": counters.lastSnapshotAt,
                        "last_bytes": Double(counters.lastSnapshotBytes),
                        "restored_event_seq": counters.restoredSnapshotEventSeq.map(Double.init)],
            catalog_items: catalogItems)
    }

    struct MetricsBody: Encodable {
        struct Cache: Encodable {
            let entries: Int
            let evictions: Int
            let bytes: Int
            let hit_rate: Double
            let per_scenario: [String: ScenarioCache]
        }
        struct ScenarioCache: Encodable { let hits: Int; let misses: Int; let hit_rate: Double }
        /// The shared (Redis) second-level cache: hits and misses after in-process misses, and
        /// the online store's round trips (each pipeline is one), failures and skipped calls.
        struct SharedCache: Encodable {
            let target: String
            let hits: Int
            let misses: Int
            /// Lookups (one round trip each, on the request path) and background write pipelines.
            let lookups: Int
            let write_round_trips: Int
            let entries_written: Int
            let writes_dropped: Int
            let round_trips: Int
            let commands: Int
            let failures: Int
            let skipped_while_down: Int
            let down: Bool
        }
        let requests: Int
        let computed: Int
        let cache_hits: Int
        let degraded: [String: Int]
        let strategies: [String: Int]
        let feedback: Int
        let joined_feedback: Int
        let duplicate_feedback: Int
        let impressions_remembered: Int
        let candidate_index_rebuilds: Int
        let prefetch: [String: Int]
        let cache: Cache
        let shared_cache: SharedCache?
        let features: FeatureEngineMetrics
    }

    static func metrics(_ service: RecommendationService) -> MetricsBody {
        var c = service.counters.withLock { $0 }
        let plainHits = service.plainCacheHits.load(ordering: .relaxed)
        c.requests += plainHits
        c.cacheHits += plainHits
        let cache = service.cache.statistics()
        let hits = cache.perScenario.values.reduce(0) { $0 + $1.hits }
        let lookups = cache.perScenario.values.reduce(0) { $0 + $1.hits + $1.misses }
        return MetricsBody(
            requests: c.requests, computed: c.computed, cache_hits: c.cacheHits, degraded: c.degraded, strategies: c.strategies, feedback: c.feedback,
            joined_feedback: c.joinedFeedback, duplicate_feedback: c.duplicateFeedback,
            impressions_remembered: service.impressions.count, candidate_index_rebuilds: c.indexRebuilds,
            prefetch: { let p = service.prefetcher.statistics; return ["scheduled": p.scheduled, "dropped": p.dropped, "completed": p.completed] }(),
            cache: .init(entries: cache.entries, evictions: cache.evictions, bytes: cache.bytes, hit_rate: lookups == 0 ? 0 : Double(hits) / Double(lookups),
                         per_scenario: cache.perScenario.mapValues { .init(hits: $0.hits, misses: $0.misses, hit_rate: $0.hitRate) }),
            shared_cache: service.sharedCache.map { shared in
                let store = shared.store.counters
                let own = shared.counters
                return .init(target: shared.store.target, hits: c.sharedCacheHits, misses: c.sharedCacheMisses, lookups: own.lookups,
                             write_round_trips: own.writeRoundTrips, entries_written: own.entriesWritten,
                             writes_dropped: own.writesDropped, round_trips: store.roundTrips,
                             commands: store.commands, failures: store.failures, skipped_while_down: store.skipped, down: shared.store.isDown)
            },
            features: service.features.engine.metrics())
    }
}
