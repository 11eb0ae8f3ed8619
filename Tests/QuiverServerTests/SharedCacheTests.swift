// SharedCacheTests: the second-level result cache on a real Redis and a real Redis Cluster: an
// answer computed by one server is served (cached) by another server on the same online store;
// the cached value survives the round trip through its binary form; with Redis killed the server
// keeps answering from the models, and uses Redis again once it is back.
import Foundation
import QuiverStore
import QuiverTestSupport
import Testing
@testable import QuiverServer

/// Starts servers with a configuration changed by the caller.
enum ConfiguredServer {
    static func run(_ dataDirectory: String, _ configure: (inout QuiverConfiguration) -> Void,
                    _ body: (Int, QuiverApplication) async throws -> Void) async throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let scenarios = dataDirectory + "/scenarios.yaml"
        if !FileManager.default.fileExists(atPath: scenarios) { try testScenarios.write(toFile: scenarios, atomically: true, encoding: .utf8) }
        var configuration = APIServer.configuration(dataDirectory: dataDirectory, scenariosFile: scenarios)
        configure(&configuration)
        let application = try QuiverApplication(configuration: configuration)
        application.start()
        do { try await body(application.port, application) } catch {
            application.shutdown(); await onThread { application.waitUntilStopped() }; throw error
        }
        application.shutdown()
        await onThread { application.waitUntilStopped() }
    }

    static func sharedCacheMetrics(_ port: Int) async throws -> [String: Any] {
        let (_, metrics) = try await APIServer.request(port, "GET", "/api/v1/metrics")
        return metrics["shared_cache"] as? [String: Any] ?? [:]
    }

    /// Waits until the server has written `count` answers to the shared cache.
    static func waitForSharedWrites(_ port: Int, atLeast count: Int) async throws {
        for _ in 0..<200 {
            if try await sharedCacheMetrics(port)["entries_written"] as? Int ?? 0 >= count { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("the shared cache write did not happen")
    }

    /// Asks until `predicate` holds for the answer (the shared cache is written in the background).
    static func recommendUntil(_ port: Int, _ body: String, _ predicate: ([String: Any]) -> Bool) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<100 {
            let (status, answer) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", body)
            #expect(status == 200)
            last = answer
            if predicate(answer) { return answer }
            try await Task.sleep(for: .milliseconds(50))
        }
        return last
    }
}

@Suite struct SharedCacheCodecTests {
    @Test func aCachedAnswerSurvivesItsBinaryForm() throws {
        let answer = CachedAnswer(
            recommendationsJSON: Array(#"[{"item_id":"i\"1"}]"#.utf8),
            summary: AnswerSummary(scenario: "homepage", modelVersion: "v1+f2+m3", explanation: "ünïcode ✓", strategy: nil,
                                   strategyPropensity: 0.25, arm: "control", coldStart: true, degradation: nil, candidates: 410),
            impressionItems: [ImpressionItem(itemID: "i1", position: 1, score: -0.5, propensity: 0.05, source: "popular", explored: true)],
            tokens: ["device=tv", ""], dense: [1.5, -0, .infinity], impressionTail: #""userID":"u","tokens":[]}"#)
        let bytes = CachedAnswerCodec.encode(answer)
        let decoded = try #require(CachedAnswerCodec.decode(bytes))
        #expect(decoded.recommendationsJSON == answer.recommendationsJSON)
        #expect(decoded.summary.explanation == "ünïcode ✓" && decoded.summary.strategy == nil && decoded.summary.strategyPropensity == 0.25)
        #expect(decoded.summary.arm == "control" && decoded.summary.coldStart && decoded.summary.candidates == 410)
        #expect(decoded.impressionItems == answer.impressionItems && decoded.tokens == answer.tokens && decoded.dense == answer.dense)
        #expect(decoded.impressionTail == answer.impressionTail)
        // Truncated, extended or of another version: refused, never misread.
        #expect(CachedAnswerCodec.decode(Array(bytes.dropLast())) == nil)
        #expect(CachedAnswerCodec.decode(bytes + [0]) == nil)
        #expect(CachedAnswerCodec.decode([CachedAnswerCodec.version + 1] + bytes.dropFirst()) == nil)
        #expect(CachedAnswerCodec.decode([]) == nil)
    }
}

@Suite(.enabled(if: TestServers.redisAvailable && TestServers.redisClusterAvailable, "needs the test Redis and Redis Cluster (scripts/test.sh)"))
struct SharedCacheTests {
    enum Backend: String, CaseIterable, Sendable { case redis, redis_cluster }

    @Test(arguments: Backend.allCases)
    func anAnswerComputedByOneServerIsServedByAnother(_ backend: Backend) async throws {
        let redis = try TestServers.requireRedis(), cluster = try TestServers.requireRedisCluster()
        let configure: (inout QuiverConfiguration) -> Void = { c in
            c.onlineStore = backend.rawValue
            c.redisURL = redis
            c.redisClusterURL = cluster
        }
        let a = APIServer.temporaryDirectory(), b = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        // A user with no history has the same state version on both servers, so both compute the
        // same key; a fresh id per run keeps runs apart.
        let user = "cold-\(UUID().uuidString)"
        let body = #"{"user_id": "\#(user)", "n_recommendations": 3}"#
        try await ConfiguredServer.run(a, configure) { portA, _ in
            try await ConfiguredServer.run(b, configure) { portB, _ in
                // The same catalog and history on both (each has its own embedded store here).
                try await APIServer.seed(portA)
                try await APIServer.seed(portB)
                // A degraded answer (past the deadline on a busy machine) is not cached: ask again.
                let first = try await ConfiguredServer.recommendUntil(portA, body) { $0["degraded"] as? Bool == false }
                #expect(first["cached"] as? Bool == false && first["degraded"] as? Bool == false)
                // A writes the answer to Redis in the background: B asks once it is there (B's own
                // answer could differ: its models saw the seed at slightly different times).
                try await ConfiguredServer.waitForSharedWrites(portA, atLeast: 1)
                let fromB = try await ConfiguredServer.recommendUntil(portB, body) { $0["cached"] as? Bool == true }
                #expect(fromB["cached"] as? Bool == true, "B serves A's answer from the shared cache")
                #expect(fromB["request_id"] as? String != first["request_id"] as? String, "a new request id for the new impression")
                #expect(APIServer.items(fromB) == APIServer.items(first))
                let metrics = try await ConfiguredServer.sharedCacheMetrics(portB)
                #expect((metrics["hits"] as? Int ?? 0) >= 1)
                #expect((metrics["round_trips"] as? Int ?? 0) >= 1 && metrics["failures"] as? Int == 0)
                let (_, ready) = try await APIServer.request(portB, "GET", "/ready")
                let checks = ready["checks"] as? [[String: Any]] ?? []
                let online = checks.first { $0["name"] as? String == "online_store" }
                #expect(online?["ok"] as? Bool == true && online?["kind"] as? String == backend.rawValue)
            }
        }
    }

    @Test func theSuspendingRouteAnswersBatchesAndNamesBadFields() async throws {
        let redis = try TestServers.requireRedis()
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await ConfiguredServer.run(data, { c in
            c.onlineStore = "redis"
            c.redisURL = redis
        }) { port, _ in
            try await APIServer.seed(port)
            let (status, batch) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                              #"{"requests": [{"user_id": "u1"}, {"user_id": "u2", "n_recommendations": 2}]}"#)
            #expect(status == 200 && batch["count"] as? Int == 2)
            let responses = batch["responses"] as? [[String: Any]] ?? []
            #expect(responses.map { $0["user_id"] as? String } == ["u1", "u2"])
            #expect(responses.count == 2 && APIServer.items(responses[1]).count == 2 && !APIServer.items(responses[0]).isEmpty)
            let (badScenario, error) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                                   #"{"requests": [{"user_id": "u1"}, {"user_id": "u2", "scenario": "moon"}]}"#)
            #expect(badScenario == 400 && (error["error"] as? [String: Any])?["field"] as? String == "requests[1].scenario")
            let (notJSON, _) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", "{nope")
            #expect(notJSON == 400)
            let (tooMany, _) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                           #"{"requests": []}"#)
            #expect(tooMany == 400)
        }
    }

    @Test func aSessionContinuesOnTheOtherServer() async throws {
        let redis = try TestServers.requireRedis()
        let endpoint = try #require(RedisEndpoint(url: redis))
        let scenarios = """
        version: sessions-v1
        scenarios:
          - name: homepage
            exploration: {policy: none}
            session_agent: true
            cache_ttl_seconds: 0
        """
        let a = APIServer.temporaryDirectory(), b = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        for directory in [a, b] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try scenarios.write(toFile: directory + "/scenarios.yaml", atomically: true, encoding: .utf8)
        }
        let configure: (inout QuiverConfiguration) -> Void = { c in
            c.onlineStore = "redis"
            c.redisURL = redis
        }
        let user = "session-\(UUID().uuidString)"
        /// The stored session's depth, once it reaches `depth` (writes are in the background).
        func storedDepth(reaching depth: Int) async throws -> Int? {
            let connection = try RedisConnection(endpoint: endpoint)
            var seen: Int?
            for _ in 0..<200 {
                if case .bulk(let bytes) = try connection.command(["GET", SharedSessions.key(user)]),
                   let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
                    seen = object["depth"] as? Int
                    if seen == depth { return seen }
                }
                try await Task.sleep(for: .milliseconds(25))
            }
            return seen
        }
        try await ConfiguredServer.run(a, configure) { portA, _ in
            try await ConfiguredServer.run(b, configure) { portB, _ in
                try await APIServer.seed(portA)
                try await APIServer.seed(portB)
                let body = #"{"user_id": "\#(user)", "n_recommendations": 3}"#
                let (first, answer) = try await APIServer.request(portA, "POST", "/api/v1/personalization/recommend", body)
                #expect(first == 200 && answer["strategy"] != nil)
                #expect(try await storedDepth(reaching: 1) == 1, "A's first step is in Redis")
                let (second, _) = try await APIServer.request(portB, "POST", "/api/v1/personalization/recommend", body)
                #expect(second == 200)
                // B continued A's session (its own would be at depth 1 again).
                #expect(try await storedDepth(reaching: 2) == 2)
                let (third, _) = try await APIServer.request(portA, "POST", "/api/v1/personalization/recommend", body)
                #expect(third == 200)
                #expect(try await storedDepth(reaching: 3) == 3, "and A continued B's")
            }
        }
    }

    @Test func keepsAnsweringWhileRedisIsDownAndUsesItAgainWhenItIsBack() async throws {
        let port = freeLoopbackPort()
        let scratch = APIServer.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func startRedis() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                 "--dir", scratch]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        func waitForRedis() async throws {
            for _ in 0..<200 {
                if (try? RedisConnection(endpoint: RedisEndpoint(port: port))) != nil { return }
                try await Task.sleep(for: .milliseconds(25))
            }
            Issue.record("redis-server did not start on \(port)")
        }
        var redis = try startRedis()
        defer { if redis.isRunning { redis.terminate() } }
        try await waitForRedis()
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await ConfiguredServer.run(data, { c in
            c.onlineStore = "redis"
            c.redisURL = "redis://127.0.0.1:\(port)/0"
            c.onlineStoreTimeoutMs = 200
        }) { quiver, _ in
            try await APIServer.seed(quiver)
            let (up, _) = try await APIServer.request(quiver, "POST", "/api/v1/personalization/recommend", #"{"user_id": "u1"}"#)
            #expect(up == 200)
            // Killed, as a crash would (Process.waitUntilExit spins inside a task: poll instead).
            kill(redis.processIdentifier, SIGKILL)
            while redis.isRunning { try await Task.sleep(for: .milliseconds(10)) }
            // Down: every answer still comes, computed by the models.
            for k in 0..<5 {
                let (status, answer) = try await APIServer.request(quiver, "POST", "/api/v1/personalization/recommend",
                                                                   #"{"user_id": "down-\#(k)"}"#)
                #expect(status == 200 && answer["cached"] as? Bool == false)
            }
            let down = try await ConfiguredServer.sharedCacheMetrics(quiver)
            #expect((down["failures"] as? Int ?? 0) >= 1)
            let (_, ready) = try await APIServer.request(quiver, "GET", "/ready")
            #expect((ready["checks"] as? [[String: Any]] ?? []).contains { $0["name"] as? String == "online_store" && $0["ok"] as? Bool == false })
            // Back: after the retry interval the store is used again.
            redis = try startRedis()
            try await waitForRedis()
            let before = down["round_trips"] as? Int ?? 0
            var after = before
            for k in 0..<60 where after <= before {
                try await Task.sleep(for: .milliseconds(100))
                _ = try await APIServer.request(quiver, "POST", "/api/v1/personalization/recommend", #"{"user_id": "back-\#(k)"}"#)
                after = try await ConfiguredServer.sharedCacheMetrics(quiver)["round_trips"] as? Int ?? 0
            }
            #expect(after > before, "the shared cache is used again once Redis is back")
        }
    }
}
