// ConfigurationTests: defaults, the precedence of file < environment < flags, clear errors for
// unknown keys and bad values, and config/quiver.yaml kept in step with the code.
import Foundation
import QuiverCore
import Testing
@testable import QuiverServer

@Suite struct ConfigurationTests {
    @Test func defaultsNeedNothingElse() throws {
        let configuration = try ConfigurationLoader.load()
        #expect(configuration == QuiverConfiguration())
        #expect(configuration.redisURL == nil && configuration.postgresURL == nil)
        #expect(configuration.http.port == 8080)
    }

    @Test func appliesFileThenEnvironmentThenFlags() throws {
        let yaml = """
        server:
          port: 9001
          host: 0.0.0.0
          limits:
            max_body_bytes: 2048
        redis:
          url: redis://127.0.0.1:7000/1
        log:
          level: debug
        """
        let configuration = try ConfigurationLoader.load(
            yaml: (yaml, "test.yaml"),
            environment: ["QUIVER_SERVER_PORT": "9002", "QUIVER_SERVER_TIMEOUTS_IDLE_MS": "1234", "PATH": "/bin",
                          "QUIVER_TEST_REDIS_URL": "ignored", "QUIVER_CONFIG": "ignored.yaml"],
            overrides: ["server.port=9003", "postgres.url=postgresql://x@h/db"])
        #expect(configuration.http.port == 9003)
        #expect(configuration.http.host == "0.0.0.0")
        #expect(configuration.http.limits.maxBodyBytes == 2048)
        #expect(configuration.http.idleTimeoutMs == 1234)
        #expect(configuration.redisURL == "redis://127.0.0.1:7000/1")
        #expect(configuration.postgresURL == "postgresql://x@h/db")
        #expect(configuration.logLevel == .debug)
    }

    @Test func anEmptyValueUnsetsAnOptionalURL() throws {
        let configuration = try ConfigurationLoader.load(yaml: ("redis:\n  url: ~\npostgres:\n  url: \"\"\n", "t.yaml"),
                                                         environment: [:])
        #expect(configuration.redisURL == nil && configuration.postgresURL == nil)
    }

    @Test(arguments: [
        ("server:\n  prot: 1\n", nil, nil, "test.yaml: unknown key 'server.prot'"),
        ("server:\n  port: eighty\n", nil, nil, "test.yaml: server.port must be an integer in 0...65535, got 'eighty'"),
        ("server:\n  port: [1, 2]\n", nil, nil, "test.yaml: 'server.port' must be a single value, not a list"),
        ("- a\n- b\n", nil, nil, "test.yaml: the top level must be a mapping"),
        ("server: {port: 1", nil, nil, "test.yaml: not valid YAML"),
        (nil, "QUIVER_SERVER_PROT", "1", "environment variable QUIVER_SERVER_PROT is not a configuration setting"),
        (nil, "QUIVER_SERVER_GZIP_LEVEL", "11", "environment variable QUIVER_SERVER_GZIP_LEVEL: server.gzip.level must be an integer in 1...9, got '11'"),
        (nil, "QUIVER_SERVER_BENCHMARK_ENDPOINTS", "maybe", "server.benchmark_endpoints must be true or false, got 'maybe'"),
        (nil, "QUIVER_LOG_LEVEL", "loud", "log.level must be one of"),
        (nil, "QUIVER_STORAGE_DATA_DIR", " ", "storage.data_dir must not be empty"),
    ] as [(String?, String?, String?, String)])
    func refusesUnknownKeysAndBadValuesNamingThem(_ yaml: String?, _ variable: String?, _ value: String?, _ expected: String) {
        do {
            _ = try ConfigurationLoader.load(yaml: yaml.map { ($0, "test.yaml") },
                                             environment: variable.map { [$0: value!] } ?? [:])
            Issue.record("expected a configuration error containing: \(expected)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test func refusesMalformedFlags() {
        #expect(throws: ConfigurationError("--set 'server.port' must be key=value")) {
            try ConfigurationLoader.load(overrides: ["server.port"])
        }
        #expect(throws: ConfigurationError("--set: unknown key 'nope'")) {
            try ConfigurationLoader.load(overrides: ["nope=1"])
        }
    }

    @Test func rendersAConfigurationThatLoadsBackTheSame() throws {
        var custom = QuiverConfiguration()
        custom.http.port = 1234
        custom.redisURL = "redis://h:1/2"
        custom.http.host = "::"
        let rendered = ConfigurationLoader.render(custom)
        #expect(try ConfigurationLoader.load(yaml: (rendered, "rendered")) == custom)
    }

    /// config/quiver.yaml documents every key with its default: it must load to the defaults and
    /// name exactly the keys the code knows.
    @Test func shippedConfigFileMatchesTheCode() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("config/quiver.yaml"), encoding: .utf8)
        #expect(try ConfigurationLoader.load(yaml: (text, "config/quiver.yaml")) == QuiverConfiguration())
        let keys = Set(try ConfigurationLoader.flatten(yaml: text, source: "config/quiver.yaml").map(\.0))
        #expect(keys == Set(ConfigurationSettings.all.map(\.key)))
    }

    /// config/features.yaml, loaded the way `features.definitions_file` loads it, is the built-in
    /// standard set; a file that is not a definition set is refused naming the key.
    @Test func shippedFeatureDefinitionsLoadFromYAML() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let loaded = try FeatureService.definitions(from: root.appendingPathComponent("config/features.yaml").path)
        #expect(loaded == .standard)
        #expect(throws: ConfigurationError.self) {
            try FeatureService.definitions(from: root.appendingPathComponent("config/quiver.yaml").path)
        }
        #expect(throws: ConfigurationError.self) { try FeatureService.definitions(from: "/nonexistent/features.yaml") }
    }
}

@Suite struct OpenAPIDocumentTests {
    @Test func describesEveryRouteTheServerServes() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var configuration = QuiverConfiguration()
        configuration.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-openapi-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: configuration.dataDirectory) }
        let application = try QuiverApplication(configuration: { var c = configuration; c.http.port = 0; return c }())
        defer { application.shutdown(); application.waitUntilStopped() }
        let router = QuiverApplication.router(configuration: configuration, probes: try DependencyProbes(configuration: configuration, pool: application.pool),
                                              features: application.features, recommendations: application.recommendations)
        #expect(router.routes.count >= 12)
        for route in router.routes {
            let operations = paths[route.pattern]
            #expect(operations?[route.method.rawValue.lowercased()] != nil, "\(route.method) \(route.pattern) is missing from the OpenAPI document")
        }
        #expect(paths.count == Set(router.routes.map(\.pattern)).count)  // and nothing that is not served
    }
}
