// SharedDeploymentTests: the quiver binary as a deployment would run it. Two processes on one
// PostgreSQL and one Redis: an event sent to one changes the next answer of the other, feedback
// sent to the other joins the impression the first served, and the other serves the first's
// cached answer from Redis. And kill -9 in the middle of a load of events and feedback, on the
// embedded store and on PostgreSQL: every acknowledged write is in the store after the crash, and
// the restarted server has all of it.
import Foundation
import QuiverStore
import QuiverTestSupport
import Testing
@testable import QuiverServer

@Suite(.enabled(if: TestServers.postgresAvailable && TestServers.redisAvailable, "needs the test PostgreSQL and Redis (scripts/test.sh)"))
struct SharedDeploymentTests {
    static func scenariosFile() throws -> String {
        let path = APIServer.temporaryDirectory() + ".yaml"
        try testScenarios.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func request(_ port: Int, _ method: String, _ path: String, _ body: String? = nil) async throws -> (Int, [String: Any]) {
        try await APIServer.request(port, method, path, body)
    }

    @Test func twoProcessesShareLearningFeedbackAndCache() async throws {
        let quiver = try #require(ExecutableTests.binary, "build the quiver product first")
        let database = try TemporaryPostgresDatabase()
        defer { database.drop() }
        let redis = try TestServers.requireRedis()
        let scenarios = try Self.scenariosFile()
        defer { try? FileManager.default.removeItem(atPath: scenarios) }
        let shared = ["--set", "storage.backend=postgres", "--set", "postgres.url=\(database.conninfo)",
                      "--set", "online_store.backend=redis", "--set", "redis.url=\(redis)",
                      "--set", "recommend.scenarios_file=\(scenarios)", "--set", "recommend.index_refresh_ms=0",
                      "--set", "recommend.snapshot_interval_seconds=0"]
        let (portA, portB) = (freeLoopbackPort(), freeLoopbackPort())
        let (dataA, dataB) = (APIServer.temporaryDirectory(), APIServer.temporaryDirectory())
        defer { try? FileManager.default.removeItem(atPath: dataA); try? FileManager.default.removeItem(atPath: dataB) }
        let a = try await ExecutableTests.serve(quiver, port: portA, data: dataA, shared)
        defer { a.terminate(); a.waitUntilExit() }
        let b = try await ExecutableTests.serve(quiver, port: portB, data: dataB, shared)
        defer { b.terminate(); b.waitUntilExit() }

        // Everything written to A.
        try await APIServer.seed(portA)
        let u1 = #"{"user_id": "u1", "n_recommendations": 3, "use_cache": false}"#
        // B learns from A's writes through the shared log: its answer for u1 follows co-visitation.
        var fromB: [String] = []
        for _ in 0..<100 where fromB.first != "i9" {
            fromB = APIServer.items(try await Self.request(portB, "POST", "/api/v1/personalization/recommend", u1).1)
            if fromB.first != "i9" { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(fromB.first == "i9", "B recommends from A's events: \(fromB)")

        // An event sent to A changes B's next answer: u1 now engages with i5, co-visited with i7.
        let (status, _) = try await Self.request(portA, "POST", "/api/v1/events",
                                                 #"{"events": [{"user_id": "u1", "item_id": "i5", "type": "click"}]}"#)
        #expect(status == 200)
        var changed: [String] = []
        for _ in 0..<100 where !changed.contains("i7") {
            changed = APIServer.items(try await Self.request(portB, "POST", "/api/v1/personalization/recommend", u1).1)
            if !changed.contains("i7") { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(changed.contains("i7") && !changed.contains("i5"), "B's next answer follows A's event: \(changed)")

        // Feedback sent to B joins the impression A served (found in the shared impression log).
        let (_, servedByA) = try await Self.request(portA, "POST", "/api/v1/personalization/recommend", u1)
        let requestID = try #require(servedByA["request_id"] as? String)
        let item = try #require(APIServer.items(servedByA).first)
        var joined: [String: Any] = [:]
        for attempt in 0..<50 {
            // Impressions are logged without waiting: give A's writer a moment on the first try.
            if attempt > 0 { try await Task.sleep(for: .milliseconds(50)) }
            let body = #"{"request_id": "\#(requestID)", "user_id": "u1", "item_id": "\#(item)", "feedback_type": "skip"}"#
            joined = try await Self.request(portB, "POST", "/api/v1/personalization/feedback", body).1
            if joined["joined"] as? Bool == true { break }
        }
        #expect(joined["joined"] as? Bool == true, "\(joined)")

        // A cold user's answer computed by A is served by B from Redis.
        let cold = #"{"user_id": "cold-\#(UUID().uuidString)", "n_recommendations": 3}"#
        let first = try await ConfiguredServer.recommendUntil(portA, cold) { $0["degraded"] as? Bool == false }
        #expect(first["cached"] as? Bool == false && first["degraded"] as? Bool == false)
        try await ConfiguredServer.waitForSharedWrites(portA, atLeast: 1)
        let second = try await ConfiguredServer.recommendUntil(portB, cold) { $0["cached"] as? Bool == true }
        #expect(second["cached"] as? Bool == true && APIServer.items(second) == APIServer.items(first))
        let sharedHits = try await ConfiguredServer.sharedCacheMetrics(portB)["hits"] as? Int ?? 0
        #expect(sharedHits >= 1)

        // A scenario set PUT on A becomes B's within the sync interval (2 s); a rollback on B reaches A.
        let newSet = testScenarios.replacingOccurrences(of: "version: test-v1", with: "version: shared-v2")
        let (put, _) = try await APIServer.request(portA, "PUT", "/api/v1/scenarios", newSet, contentType: "application/yaml")
        #expect(put == 200)
        func version(_ port: Int, becomes expected: String) async throws -> String? {
            var seen: String?
            for _ in 0..<100 {
                seen = try await Self.request(port, "GET", "/api/v1/scenarios").1["version"] as? String
                if seen == expected { return seen }
                try await Task.sleep(for: .milliseconds(100))
            }
            return seen
        }
        #expect(try await version(portB, becomes: "shared-v2") == "shared-v2")
        let (rollback, _) = try await APIServer.request(portB, "POST", "/api/v1/scenarios/rollback")
        #expect(rollback == 200)
        #expect(try await version(portA, becomes: "test-v1") == "test-v1")

        // Feature definitions the same way.
        let original = try #require(try await Self.request(portA, "GET", "/api/v1/features/status").1["version"] as? String)
        let definitions = #"{"version": "v-shared-2", "definitions": [{"name": "user_clicks_only", "key": "user", "event_types": ["click"], "aggregations": ["count"], "windows": ["1h"]}]}"#
        let (loaded, _) = try await Self.request(portA, "PUT", "/api/v1/features/definitions", definitions)
        #expect(loaded == 200)
        func featureVersion(_ port: Int, becomes expected: String) async throws -> String? {
            var seen: String?
            for _ in 0..<100 {
                seen = try await Self.request(port, "GET", "/api/v1/features/status").1["version"] as? String
                if seen == expected { return seen }
                try await Task.sleep(for: .milliseconds(100))
            }
            return seen
        }
        #expect(try await featureVersion(portB, becomes: "v-shared-2") == "v-shared-2")
        let (featureRollback, _) = try await Self.request(portB, "POST", "/api/v1/features/definitions/rollback")
        #expect(featureRollback == 200)
        #expect(try await featureVersion(portA, becomes: original) == original)

        // Both report their backends ready.
        for port in [portA, portB] {
            let (readyStatus, ready) = try await Self.request(port, "GET", "/ready")
            let names = (ready["checks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(readyStatus == 200 && names.contains("postgres") && names.contains("online_store") && !names.contains("embedded_store"),
                    "\(ready)")
        }
    }

    /// A load client: `threads` writers post batches of 10 events or one feedback, each batch
    /// under its own user id, and print the ids of the acknowledged ones until killed or done.
    static let loadClient = #"""
import json, sys, threading, http.client
port, threads, batches = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
acked, lock = [], threading.Lock()
def writer(t):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for b in range(batches):
            user = "load-%d-%d" % (t, b)
            if b % 3 == 2:
                path, body = "/api/v1/personalization/feedback", {"user_id": user, "item_id": "i1", "feedback_type": "click"}
            else:
                path, body = "/api/v1/events", {"events": [{"user_id": user, "item_id": "i%d" % k, "type": "click"} for k in range(10)]}
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                with lock:
                    acked.append(user)
    except Exception:
        pass
workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
print(json.dumps(acked))
"""#

    enum Backend: String, CaseIterable, Sendable { case embedded, postgres }

    @Test(arguments: Backend.allCases)
    func killDuringALoadLosesNothingAcknowledged(_ backend: Backend) async throws {
        let quiver = try #require(ExecutableTests.binary, "build the quiver product first")
        let database = backend == .postgres ? try TemporaryPostgresDatabase() : nil
        defer { database?.drop() }
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let arguments = database.map { ["--set", "storage.backend=postgres", "--set", "postgres.url=\($0.conninfo)"] } ?? []
        let port = freeLoopbackPort()
        let server = try await ExecutableTests.serve(quiver, port: port, data: data, arguments)
        // The load runs while the server is killed: the client reports what was acknowledged.
        async let load = TestProcess.run("python3", ["-c", Self.loadClient, String(port), "8", "400"], timeoutSeconds: 120)
        try await Task.sleep(for: .milliseconds(1_500))
        kill(server.processIdentifier, SIGKILL)
        await onThread { server.waitUntilExit() }
        #expect(server.terminationReason == .uncaughtSignal)
        let result = try await load
        let parsed = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String]
        let acknowledged = try #require(parsed, "\(result.stderr)")
        #expect(acknowledged.count > 10, "the load was under way when the server was killed: \(acknowledged.count)")
        #expect(acknowledged.count < 8 * 400, "the kill came before the load ended")

        // What the store holds, read with the store's own replay.
        let store: any EventStore = try database.map { try PostgresEventLog(conninfo: $0.conninfo) }
            ?? DurableEventLog(path: data + "/quiver.db")
        var events: [String: Int] = [:]
        var feedback = Set<String>()
        try store.replayEvents(after: 0) { _, event in events[event.userID, default: 0] += 1 }
        try store.replayFeedback(after: 0) { _, record in feedback.insert(record.userID) }
        store.shutdown()
        var missing: [String] = []
        for user in acknowledged {
            let batch = Int(user.split(separator: "-").last ?? "") ?? 0
            let stored = batch % 3 == 2 ? feedback.contains(user) && events[user] == 1 : events[user] == 10
            if !stored { missing.append(user) }
        }
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.prefix(10))")

        // The restarted server has every stored event in its features.
        let restartPort = freeLoopbackPort()
        let restarted = try await ExecutableTests.serve(quiver, port: restartPort, data: data, arguments)
        defer { restarted.terminate(); restarted.waitUntilExit() }
        let (_, status) = try await Self.request(restartPort, "GET", "/api/v1/features/status")
        let metrics = status["metrics"] as? [String: Any] ?? [:]
        #expect(metrics["events"] as? Int == events.values.reduce(0, +))
    }
}
