// ScenarioRoutes: scenario configuration at run time.
//   GET  /api/v1/scenarios            the active set (and the version it replaced)
//   PUT  /api/v1/scenarios            a new set (JSON or YAML body); invalid -> 400 naming the field,
//                                     and the active set stays
//   POST /api/v1/scenarios/reload     re-reads recommend.scenarios_file
//   POST /api/v1/scenarios/rollback   back to the previous set
// A new set changes the cache key's configuration version, so cached answers of the old set die.
// On PostgreSQL a new set is published to the other processes before the answer (RecommendationService+ConfigSync).
import Foundation
import QuiverCore
import QuiverHTTP

enum ScenarioRoutes {
    struct Body: Encodable {
        let version: String
        let previous_version: String?
        let scenarios: [Scenario]
    }

    static func install(into router: inout Router, service: RecommendationService) {
        router.get("/api/v1/scenarios") { _ in body(service) }

        router.add(.put, "/api/v1/scenarios", .suspending({ request in
            guard !request.body.isEmpty else {
                return .error(.badRequest, code: "missing_body", message: "a scenario set (JSON or YAML) is required")
            }
            return await replace(service) { try RecommendationService.parseScenarios(String(decoding: request.body, as: UTF8.self)) }
        }))

        router.add(.post, "/api/v1/scenarios/reload", .suspending({ _ in
            let path = service.configuration.scenariosFile
            guard !path.isEmpty else {
                return .error(.conflict, code: "no_scenarios_file", message: "recommend.scenarios_file is not set: PUT a scenario set instead")
            }
            return await replace(service) {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ScenarioError(field: "recommend.scenarios_file", message: "cannot read '\(path)'")
                }
                return try RecommendationService.parseScenarios(text)
            }
        }))

        router.add(.post, "/api/v1/scenarios/rollback", .suspending({ _ in
            guard let previous = service.scenarios.withLock({ $0.previous }) else {
                return .error(.conflict, code: "no_previous_version", message: "there is no previous scenario set to roll back to")
            }
            return await replace(service) { previous }
        }))
    }

    static func replace(_ service: RecommendationService, _ load: () throws -> ScenarioSet) async -> HTTPResponse {
        let set: ScenarioSet
        do {
            set = try load()
        } catch let error as ScenarioError {
            return .error(.badRequest, code: "invalid_scenarios", message: "\(error); the active scenarios are unchanged",
                          field: error.field.isEmpty ? nil : error.field)
        } catch {
            return .error(.badRequest, code: "invalid_scenarios", message: "\(error); the active scenarios are unchanged")
        }
        do {
            try await service.applyScenarios(set)
        } catch {
            return .error(.serviceUnavailable, code: "store_unavailable",
                          message: "the scenario set could not be published: \(error); the active scenarios are unchanged")
        }
        return body(service)
    }

    static func body(_ service: RecommendationService) -> HTTPResponse {
        let (current, previous) = service.scenarios.withLock { ($0.current, $0.previous) }
        return JSONBody.response(Body(version: current.version, previous_version: previous?.version, scenarios: current.scenarios))
    }
}
