// FeatureDefinitionRoutes: the feature engine's versions and health at run time:
//   GET  /api/v1/features/status               active version, history, cache metrics
//   PUT  /api/v1/features/definitions          load a new definition set (JSON), keeping state
//   POST /api/v1/features/definitions/rollback back to the previous version
// A refused set leaves the active one in place; the error names the field.
import Foundation
import QuiverCore
import QuiverHTTP

struct FeatureStatusBody: Encodable {
    let version: String
    let history: [String]
    let vector_length: Int
    let metrics: FeatureEngineMetrics
    let hit_rate: Double
    let evicted_states_held: Int
    let evicted_states_dropped: Int
    /// With an online store: evicted states written to it, loaded back, and misses.
    let evicted_states_online: [String: Int]?
}

enum FeatureDefinitionRoutes {
    static func install(into router: inout Router, service: FeatureService, recommendations: RecommendationService? = nil) {
        router.get("/api/v1/features/status") { _ in
            JSONBody.response(status(service))
        }
        // On PostgreSQL a loaded or rolled-back set is published to the other processes before the
        // answer (RecommendationService+ConfigSync).
        router.add(.put, "/api/v1/features/definitions", .suspending({ request in
            let definitions: FeatureDefinitionSet
            switch JSONBody.decode(FeatureDefinitionSet.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): definitions = decoded
            }
            do throws(FeatureDefinitionError) {
                try service.engine.load(definitions)
            } catch {
                return .error(.badRequest, code: "invalid_definitions", message: error.description, field: error.field)
            }
            return await published(service, recommendations)
        }))
        router.add(.post, "/api/v1/features/definitions/rollback", .suspending({ _ in
            do throws(FeatureDefinitionError) {
                try service.engine.rollback()
            } catch {
                return .error(.conflict, code: "no_previous_version", message: error.description)
            }
            return await published(service, recommendations)
        }))
    }

    /// The status after publishing the active definitions (when they are shared).
    static func published(_ service: FeatureService, _ recommendations: RecommendationService?) async -> HTTPResponse {
        do {
            try await recommendations?.publishFeatureDefinitions()
        } catch {
            return .error(.serviceUnavailable, code: "store_unavailable",
                          message: "the definitions are active here but could not be published to the other processes: \(error)")
        }
        return JSONBody.response(status(service))
    }

    static func status(_ service: FeatureService) -> FeatureStatusBody {
        let metrics = service.engine.metrics()
        return FeatureStatusBody(version: service.engine.activeVersion, history: service.engine.versionHistory,
                                 vector_length: service.engine.vectorLayout.count, metrics: metrics,
                                 hit_rate: metrics.hitRate, evicted_states_held: service.evicted.count,
                                 evicted_states_dropped: service.evicted.dropped,
                                 evicted_states_online: service.evictedInRedis.map { store in
                                     let c = store.counters
                                     return ["written": c.written, "write_round_trips": c.writeRoundTrips, "loaded": c.loadedFromRedis,
                                             "missing": c.missing, "skipped_on_event_loop": c.skippedOnLoop, "dropped": c.writesDropped,
                                             "bytes_held": c.bytesHeld, "evicted_for_budget": c.evictedForBudget]
                                 })
    }
}
