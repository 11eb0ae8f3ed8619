// ScenarioRoutes: scenario configuration at run time.
//   GET  /api/v1/scenarios            the active set (and the version it replaced)
//   PUT  /api/v1/scenarios            a new set (JSON or YAML body); invalid -> 400 naming the field,
//                                     and the active set stays
//   POST /api/v1/scenarios/reload     re-reads recommend.scenarios_file
//   POST /api/v1/scenarios/rollback   back to the previous set
// A new set changes the cache key's configuration version, so cached answers of the old set die.
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

        router.put("/api/v1/scenarios") { request in
            guard !request.body.isEmpty else {
                return .error(.badRequest, code: "missing_body", message: "a scenario set (JSON or YAML) is required")
            }
            return replace(service) { try RecommendationService.parseScenarios(String(decoding: request.body, as: UTF8.self)) }
        }

        router.post("/api/v1/scenarios/reload") { _ in
            let path = service.configuration.scenariosFile
            guard !path.isEmpty else {
                return .error(.conflict, code: "no_scenarios_file", message: "recommend.scenarios_file is not set: PUT a scenario set instead")
            }
            return replace(service) {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ScenarioError(field: "recommend.scenarios_file", message: "cannot read '\(path)'")
                }
                return try RecommendationService.parseScenarios(text)
            }
        }

        router.post("/api/v1/scenarios/rollback") { _ in
            let rolledBack = service.scenarios.withLock { state -> Bool in
                guard let previous = state.previous else { return false }
                state = (previous, state.current)
                return true
            }
            guard rolledBack else {
                return .error(.conflict, code: "no_previous_version", message: "there is no previous scenario set to roll back to")
            }
            return body(service)
        }
    }

    static func replace(_ service: RecommendationService, _ load: () throws -> ScenarioSet) -> HTTPResponse {
        do {
            let set = try load()
            service.scenarios.withLock { state in state = (set, state.current) }
            return body(service)
        } catch let error as ScenarioError {
            return .error(.badRequest, code: "invalid_scenarios", message: "\(error); the active scenarios are unchanged",
                          field: error.field.isEmpty ? nil : error.field)
        } catch {
            return .error(.badRequest, code: "invalid_scenarios", message: "\(error); the active scenarios are unchanged")
        }
    }

    static func body(_ service: RecommendationService) -> HTTPResponse {
        let (current, previous) = service.scenarios.withLock { ($0.current, $0.previous) }
        return JSONBody.response(Body(version: current.version, previous_version: previous?.version, scenarios: current.scenarios))
    }
}
