// ApplicationTests: the wired server over real sockets: /health, /api/v1/version, /ready with
// the real Redis and PostgreSQL (and with a dependency that is down), benchmark endpoints, and
// JSON errors naming the field.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverServer

@Suite struct ApplicationTests {
    func withApplication(_ configure: (inout QuiverConfiguration) -> Void,
                         _ body: (QuiverApplication) async throws -> Void) async throws {
        var configuration = QuiverConfiguration()
        configuration.http.port = 0
        configuration.http.eventLoops = 1
        configuration.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-app-\(UUID().uuidString)").path
        configure(&configuration)
        let application = try QuiverApplication(configuration: configuration)
        application.start()
        defer { try? FileManager.default.removeItem(atPath: configuration.dataDirectory) }
        do { try await body(application) } catch {
            application.shutdown(); await onThread { application.waitUntilStopped() }; throw error
        }
        application.shutdown()
        await onThread { application.waitUntilStopped() }
    }

    func get(_ port: Int, _ path: String) async throws -> (Int, [String: Any]) {
        let result = try await TestProcess.run("curl", ["-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let body = lines.dropLast().joined(separator: "\n")
        let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        return (status, json)
    }

    @Test func servesAValidOpenAPIDocument() async throws {
        try await withApplication({ _ in }) { app in
            let script = """
            import json, sys, urllib.request
            from openapi_spec_validator import validate
            document = json.load(urllib.request.urlopen(sys.argv[1], timeout=10))
            validate(document)
            print(len(document["paths"]))
            """
            let result = try await TestProcess.run("python3", ["-c", script, "http://127.0.0.1:\(app.port)/api/v1/openapi.json"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect((Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 12)
        }
    }

    @Test func servesHealthAndVersion() async throws {
        try await withApplication({ _ in }) { app in
            let (healthStatus, health) = try await get(app.port, "/health")
            #expect(healthStatus == 200)
            #expect(health["status"] as? String == "ok")
            let (versionStatus, version) = try await get(app.port, "/api/v1/version")
            #expect(versionStatus == 200)
            #expect(version["name"] as? String == "quiver")
            #expect(version["api"] as? String == "v1")
        }
    }

    @Test(.enabled(if: TestServers.redisAvailable && TestServers.postgresAvailable, "needs the real servers (scripts/test.sh)"))
    func reportsReadyWhenEveryDependencyAnswers() async throws {
        let redis = try TestServers.requireRedis(), postgres = try TestServers.requirePostgres()
        try await withApplication({ $0.redisURL = redis; $0.postgresURL = postgres }) { app in
            let (status, body) = try await get(app.port, "/ready")
            #expect(status == 200)
            #expect(body["status"] as? String == "ready")
            let checks = try #require(body["checks"] as? [[String: Any]])
            #expect(checks.compactMap { $0["name"] as? String } == ["embedded_store", "redis", "postgres"])
            #expect(checks.allSatisfy { $0["ok"] as? Bool == true })
            // A second probe reuses the cached connections.
            #expect(try await get(app.port, "/ready").0 == 200)
        }
    }

    @Test func reportsNotReadyNamingTheDependencyThatIsDown() async throws {
        try await withApplication({
            $0.redisURL = "redis://127.0.0.1:1/0"
            $0.postgresURL = "postgresql://postgres:secret@127.0.0.1:1/quiver"
            $0.probeTimeoutMs = 500
        }) { app in
            let (status, body) = try await get(app.port, "/ready")
            #expect(status == 503)
            #expect(body["status"] as? String == "not_ready")
            let checks = try #require(body["checks"] as? [[String: Any]])
            let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0["name"] as! String, $0) })
            #expect(byName["embedded_store"]?["ok"] as? Bool == true)
            #expect(byName["redis"]?["ok"] as? Bool == false)
            #expect((byName["redis"]?["error"] as? String)?.contains("127.0.0.1:1") == true)
            #expect(byName["postgres"]?["ok"] as? Bool == false)
            #expect(byName["postgres"]?["target"] as? String == "postgresql://postgres:***@127.0.0.1:1/quiver")
            // The server itself is alive while a dependency is down.
            #expect(try await get(app.port, "/health").0 == 200)
        }
    }

    @Test func benchmarkEndpointsNameTheBadField() async throws {
        try await withApplication({ $0.benchmarkEndpoints = true }) { app in
            let ok = try await TestProcess.run("curl", ["-s", "-H", "Content-Type: application/json", "-d", #"{"user_id":"u1","n":3}"#,
                                                        "http://127.0.0.1:\(app.port)/echo"])
            #expect(ok.stdout == #"{"items":[{"id":"i1","score":0.5},{"id":"i2","score":0.5},{"id":"i3","score":0.5}],"user_id":"u1"}"#)
            let bad = try await TestProcess.run("curl", ["-s", "-H", "Content-Type: application/json", "-d", #"{"user_id":7,"n":3}"#,
                                                         "http://127.0.0.1:\(app.port)/echo"])
            #expect(bad.stdout.contains(#""field":"user_id""#))
            #expect(bad.stdout.contains(#""status":400"#))
            let missing = try await TestProcess.run("curl", ["-s", "-H", "Content-Type: application/json", "-d", #"{"user_id":"u"}"#,
                                                             "http://127.0.0.1:\(app.port)/echo"])
            #expect(missing.stdout.contains(#""code":"missing_field""#) && missing.stdout.contains(#""field":"n""#))
        }
        try await withApplication({ _ in }) { app in
            let (status, _) = try await get(app.port, "/hello")
            #expect(status == 404)  // off unless asked for
        }
    }
}
