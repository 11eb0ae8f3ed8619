// SystemRoutes: liveness (`GET /health`), readiness (`GET /ready`, which checks every configured
// dependency off the event loop) and `GET /api/v1/version`.
import QuiverCore
import QuiverHTTP

struct HealthBody: Encodable {
    let status: String
    let uptime_s: Double
}

struct VersionBody: Encodable {
    let name: String
    let version: String
    let api: String
}

struct ReadinessBody: Encodable {
    let status: String
    let checks: [DependencyCheck]
}

enum SystemRoutes {
    static func install(into router: inout Router, probes: DependencyProbes, startedAt: ContinuousClock.Instant) {
        router.get("/health") { _ in
            let uptime = ContinuousClock.now - startedAt
            let seconds = Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18
            return JSONBody.response(HealthBody(status: "ok", uptime_s: (seconds * 1000).rounded() / 1000))
        }
        let openAPI = Array(OpenAPIDocument.json.utf8)
        router.get("/api/v1/openapi.json") { _ in .json(openAPI) }
        router.get("/api/v1/version") { _ in
            JSONBody.response(VersionBody(name: "quiver", version: QuiverVersion.server, api: QuiverVersion.api))
        }
        // Readiness waits for network round trips: it suspends, and the checks run on the I/O pool.
        router.add(.get, "/ready", .suspending({ _ in
            let checks = await probes.checkAll()
            let ready = checks.allSatisfy(\.ok)
            return JSONBody.response(ReadinessBody(status: ready ? "ready" : "not_ready", checks: checks),
                                     status: ready ? .ok : .serviceUnavailable)
        }))
    }
}
