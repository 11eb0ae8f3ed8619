// RecommendationAPITests: the personalization API end to end over real sockets (curl): recommend
// with explanations, feedback joins and idempotence, learning visible in the next answer, the
// result cache and its invalidation, batch, cold start, profiles steering answers, models
// status/predict/update, scenario reload and rollback, and every error path naming its field.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverServer
import QuiverCore

/// A deterministic scenario for tests: no exploration, no session agent, no per-category cap, and
/// co-visitation leading the ensemble (on these few events the embeddings are still near their
/// random start; the shipped homepage weighs them 2.0, tuned on MovieLens).
let testScenarios = """
version: test-v1
scenarios:
  - name: homepage
    ensemble: {popularity: 0.2, co_visitation: 1.0, embedding: 0.2, ftrl: 0.1}
    exploration: {policy: none}
    session_agent: false
  - name: explore
    exploration: {policy: epsilon_greedy, rate: 1.0, slots: 2}
    session_agent: false
    cache_ttl_seconds: 0
"""

struct APIServer {
    static func configuration(dataDirectory: String, scenariosFile: String = "", prefetch: Double = 0) -> QuiverConfiguration {
        var configuration = QuiverConfiguration()
        configuration.prefetchWindowSeconds = prefetch
        configuration.http.port = 0
        configuration.http.eventLoops = 1
        configuration.dataDirectory = dataDirectory
        configuration.candidateIndexRefreshMs = 0
        configuration.scenariosFile = scenariosFile
        configuration.snapshotIntervalSeconds = 0
        return configuration
    }

    /// Runs `body` against a fresh server on `dataDirectory`, with `testScenarios` loaded.
    static func run(_ dataDirectory: String, prefetch: Double = 0, _ body: (Int) async throws -> Void) async throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let scenarios = dataDirectory + "/scenarios.yaml"
        if !FileManager.default.fileExists(atPath: scenarios) { try testScenarios.write(toFile: scenarios, atomically: true, encoding: .utf8) }
        let application = try QuiverApplication(configuration: configuration(dataDirectory: dataDirectory, scenariosFile: scenarios,
                                                                             prefetch: prefetch))
        application.start()
        do { try await body(application.port) } catch {
            application.shutdown(); await onThread { application.waitUntilStopped() }; throw error
        }
        application.shutdown()
        await onThread { application.waitUntilStopped() }
    }

    static func request(_ port: Int, _ method: String, _ path: String, _ body: String? = nil,
                        contentType: String = "application/json") async throws -> (Int, [String: Any]) {
        var arguments = ["-s", "-w", "\n%{http_code}", "-X", method, "http://127.0.0.1:\(port)\(path)"]
        if body != nil { arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", "@-"] }
        let result = try await TestProcess.run("curl", arguments, input: body)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let text = lines.dropLast().joined(separator: "\n")
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? ["raw": text]
        return (status, json)
    }

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("quiver-api-\(UUID().uuidString)").path
    }

    /// Items i1...i9 (odd: category odd, even: category even) and a co-visitation pattern:
    /// four users engaged with i1 and i9; three with i5 and i7; u1 with i1 only.
    static func seed(_ port: Int) async throws {
        var lines: [String] = []
        for i in 1...9 { lines.append(#"{"item_id": "i\#(i)", "categories": ["\#(i % 2 == 0 ? "even" : "odd")"]}"#) }
        let (imported, _) = try await request(port, "POST", "/api/v1/items/import", lines.joined(separator: "\n"), contentType: "application/x-ndjson")
        #expect(imported == 200)
        var events: [String] = []
        for u in 2...5 { events += [#"{"user_id": "u\#(u)", "item_id": "i1", "type": "click"}"#, #"{"user_id": "u\#(u)", "item_id": "i9", "type": "click"}"#] }
        for u in 6...8 { events += [#"{"user_id": "u\#(u)", "item_id": "i5", "type": "click"}"#, #"{"user_id": "u\#(u)", "item_id": "i7", "type": "click"}"#] }
        events.append(#"{"user_id": "u1", "item_id": "i1", "type": "click"}"#)
        let (status, body) = try await request(port, "POST", "/api/v1/events", #"{"events": [\#(events.joined(separator: ","))]}"#)
        #expect(status == 200 && body["accepted"] as? Int == events.count)
    }

    static func items(_ body: [String: Any]) -> [String] {
        ((body["recommendations"] as? [[String: Any]]) ?? []).compactMap { $0["item_id"] as? String }
    }
}

@Suite struct RecommendationAPITests {
    @Test func recommendsWithExplanationsAndLearnsFromTheNextEvent() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data) { port in
            try await APIServer.seed(port)
            let (status, body) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                             #"{"user_id": "u1", "n_recommendations": 3, "context": {"device": "mobile"}}"#)
            #expect(status == 200)
            let items = APIServer.items(body)
            #expect(items.first == "i9", "i9 is co-visited with u1's i1: \(items)")
            #expect(!items.contains("i1"), "already seen items are left out")
            #expect((body["request_id"] as? String)?.isEmpty == false)
            #expect((body["model_version"] as? String)?.hasPrefix("test-v1+") == true)
            #expect(body["latency_ms"] is Double || body["latency_ms"] is Int)
            #expect((body["explanation"] as? String)?.contains("co-visited") == true)
            #expect(body["degraded"] as? Bool == false && body["cold_start"] as? Bool == false)
            let first = try #require((body["recommendations"] as? [[String: Any]])?.first)
            #expect(first["source"] as? String == "co_visitation")
            #expect(first["explored"] as? Bool == false && first["propensity"] as? Double == 1)
            let explanation = try #require(first["explanation"] as? [String: Any])
            let reasons = try #require(explanation["reasons"] as? [[String: Any]])
            #expect(reasons.contains { ($0["name"] as? String) == "co-visited with i1" })
            #expect((explanation["contributions"] as? [[String: Any]])?.isEmpty == false)

            // u1 now engages with i5: i7 (co-visited with i5) must show up in the next answer.
            let (eventStatus, _) = try await APIServer.request(port, "POST", "/api/v1/events",
                                                               #"{"events": [{"user_id": "u1", "item_id": "i5", "type": "click"}]}"#)
            #expect(eventStatus == 200)
            let (_, next) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                        #"{"user_id": "u1", "n_recommendations": 3, "context": {"device": "mobile"}}"#)
            #expect(next["cached"] as? Bool == false, "the user's event invalidates their cached answer")
            #expect(APIServer.items(next).prefix(2).contains("i7"), "\(APIServer.items(next))")
            #expect(!APIServer.items(next).contains("i5"))
        }
    }

    @Test func feedbackJoinsOnceAndReportsUnjoined() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data) { port in
            try await APIServer.seed(port)
            let (_, answer) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", #"{"user_id": "u1"}"#)
            let requestID = try #require(answer["request_id"] as? String)
            let item = try #require(APIServer.items(answer).first)
            let feedback = #"{"request_id": "\#(requestID)", "user_id": "u1", "item_id": "\#(item)", "feedback_type": "click"}"#
            let (s1, joined) = try await APIServer.request(port, "POST", "/api/v1/personalization/feedback", feedback)
            #expect(s1 == 200 && joined["status"] as? String == "accepted" && joined["joined"] as? Bool == true)
            #expect(joined["propensity"] as? Double == 1)
            let (s2, duplicate) = try await APIServer.request(port, "POST", "/api/v1/personalization/feedback", feedback)
            #expect(s2 == 200 && duplicate["status"] as? String == "duplicate")
            let (_, unknown) = try await APIServer.request(port, "POST", "/api/v1/personalization/feedback",
                #"{"request_id": "no-such-request", "user_id": "u1", "item_id": "i3", "feedback_type": "click"}"#)
            #expect(unknown["joined"] as? Bool == false && unknown["reason"] as? String == "unknown_or_expired_request")
            let (_, notShown) = try await APIServer.request(port, "POST", "/api/v1/personalization/feedback",
                #"{"request_id": "\#(requestID)", "user_id": "u1", "item_id": "i1", "feedback_type": "click"}"#)
            #expect(notShown["joined"] as? Bool == false && notShown["reason"] as? String == "item_not_in_request")
            let (_, negative) = try await APIServer.request(port, "POST", "/api/v1/personalization/feedback",
                #"{"request_id": "\#(requestID)", "user_id": "u1", "item_id": "\#(APIServer.items(answer)[1])", "feedback_type": "dislike"}"#)
            #expect(negative["joined"] as? Bool == true && negative["reward"] as? Double == 0)

            let (_, status) = try await APIServer.request(port, "GET", "/api/v1/models/status")
            let models = try #require(status["models"] as? [[String: Any]])
            let ftrl = try #require(models.first { $0["name"] as? String == "ftrl" })
            #expect(ftrl["update_count"] as? Int == 2, "the click and the dislike, joined; not the duplicate nor the unjoined")
            let (_, metrics) = try await APIServer.request(port, "GET", "/api/v1/metrics")
            #expect(metrics["duplicate_feedback"] as? Int == 1 && metrics["joined_feedback"] as? Int == 2)
        }
    }

    @Test func cachesAnswersUntilTheUserChanges() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data) { port in
            try await APIServer.seed(port)
            let body = #"{"user_id": "u2", "n_recommendations": 4}"#
            let (_, first) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", body)
            let (_, second) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", body)
            #expect(first["cached"] as? Bool == false && second["cached"] as? Bool == true)
            #expect(APIServer.items(first) == APIServer.items(second))
            #expect(first["request_id"] as? String != second["request_id"] as? String, "a cached answer gets its own request id")
            // The cached answer's request id joins feedback too.
            let (_, joined) = try await APIServer.request(port, "POST", "/api/v1/personalization/feedback",
                #"{"request_id": "\#(second["request_id"] as? String ?? "")", "user_id": "u2", "item_id": "\#(APIServer.items(second)[0])", "feedback_type": "click"}"#)
            #expect(joined["joined"] as? Bool == true)
            let (_, afterFeedback) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", body)
            #expect(afterFeedback["cached"] as? Bool == false, "feedback changed the user: the cache entry is dead")
            let (_, noCache) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                           #"{"user_id": "u2", "n_recommendations": 4, "use_cache": false}"#)
            #expect(noCache["cached"] as? Bool == false)
            let (_, otherContext) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                                #"{"user_id": "u2", "n_recommendations": 4, "context": {"device": "tv"}}"#)
            #expect(otherContext["cached"] as? Bool == false, "another context bucket is another entry")
            let (_, metrics) = try await APIServer.request(port, "GET", "/api/v1/metrics")
            let cache = try #require(metrics["cache"] as? [String: Any])
            let homepage = try #require((cache["per_scenario"] as? [String: Any])?["homepage"] as? [String: Any])
            #expect(homepage["hits"] as? Int == 1)
        }
    }

    @Test func prefetchesActiveUsersAfterTheirEvents() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data, prefetch: 60) { port in
            try await APIServer.seed(port)
            let body = #"{"user_id": "u1", "n_recommendations": 3}"#
            let (_, first) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", body)
            #expect(first["cached"] as? Bool == false)
            let (code, _) = try await APIServer.request(port, "POST", "/api/v1/events",
                                                        #"{"events": [{"user_id": "u1", "item_id": "i5", "type": "click"}]}"#)
            #expect(code == 200)
            var completed = 0
            for _ in 0..<1000 where completed < 1 {
                let (_, metrics) = try await APIServer.request(port, "GET", "/api/v1/metrics")
                completed = (metrics["prefetch"] as? [String: Int])?["completed"] ?? 0
                if completed < 1 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(completed == 1)
            let (_, next) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", body)
            #expect(next["cached"] as? Bool == true, "the prefetch recomputed u1's list after the event")
            #expect(APIServer.items(next).contains("i7"), "and it reflects the event: \(APIServer.items(next))")
            // A user who never asked is not prefetched.
            _ = try await APIServer.request(port, "POST", "/api/v1/events", #"{"events": [{"user_id": "u9", "item_id": "i5", "type": "click"}]}"#)
            let (_, metrics) = try await APIServer.request(port, "GET", "/api/v1/metrics")
            #expect((metrics["prefetch"] as? [String: Int])?["scheduled"] == 1)
        }
    }

    @Test func servesBatchesColdStartsAndExploration() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data) { port in
            try await APIServer.seed(port)
            let (status, batch) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                #"{"requests": [{"user_id": "u1"}, {"user_id": "stranger", "n_recommendations": 2}, {"user_id": "u6", "scenario": "explore", "n_recommendations": 5}]}"#)
            #expect(status == 200 && batch["count"] as? Int == 3)
            let responses = try #require(batch["responses"] as? [[String: Any]])
            #expect(responses.count == 3)
            #expect(responses[1]["cold_start"] as? Bool == true && APIServer.items(responses[1]).count == 2)
            #expect((responses[1]["explanation"] as? String)?.contains("new user") == true)
            // Exploration rate 1 on the last two slots: they are explored picks with propensity < 1.
            let explored = try #require(responses[2]["recommendations"] as? [[String: Any]])
            #expect(explored.count == 5)
            #expect(explored.prefix(3).allSatisfy { $0["propensity"] as? Double == 1 })
            #expect(explored.suffix(2).allSatisfy { ($0["propensity"] as? Double ?? 1) < 1 })
        }
    }

    @Test func profilesSteerAnswersAndPersist() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data) { port in
            try await APIServer.seed(port)
            let (status, profile) = try await APIServer.request(port, "PUT", "/api/v1/personalization/user/newcomer/profile",
                #"{"preferences": {"preferred_categories": {"even": 1.0}, "blocked_categories": ["odd"]}}"#)
            #expect(status == 200)
            #expect((profile["preferences"] as? [String: Any])?["blocked_categories"] as? [String] == ["odd"])
            let (_, answer) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                          #"{"user_id": "newcomer", "n_recommendations": 5}"#)
            let items = APIServer.items(answer)
            #expect(!items.isEmpty)
            #expect(items.allSatisfy { Int($0.dropFirst())! % 2 == 0 }, "odd is blocked, even preferred: \(items)")
            let (_, read) = try await APIServer.request(port, "GET", "/api/v1/personalization/user/u1/profile")
            #expect((read["recent_behavior"] as? [String: Any])?["recent_items"] as? [String] == ["i1"])
            #expect((read["embedding"] as? [Double])?.count == 32)
            #expect(read["features"] is [String: Any])
        }
        // Preferences survive a restart.
        try await APIServer.run(data) { port in
            let (_, read) = try await APIServer.request(port, "GET", "/api/v1/personalization/user/newcomer/profile")
            #expect((read["preferences"] as? [String: Any])?["preferred_categories"] as? [String: Double] == ["even": 1.0])
        }
    }

    @Test func modelsPredictAndUpdate() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data) { port in
            try await APIServer.seed(port)
            let (status, predict) = try await APIServer.request(port, "POST", "/api/v1/models/predict",
                                                                #"{"user_id": "u1", "item_ids": ["i9", "i3"]}"#)
            #expect(status == 200)
            let scores = try #require(predict["scores"] as? [[String: Any]])
            #expect(scores.count == 2)
            let i9 = try #require(scores[0]["models"] as? [String: Double])
            let i3 = try #require(scores[1]["models"] as? [String: Double])
            #expect(i9["co_visitation"]! > i3["co_visitation"]!)
            #expect((scores[0]["ensemble"] as? Double ?? 0) > (scores[1]["ensemble"] as? Double ?? 0))

            let before = try await ftrlUpdates(port)
            let (updated, body) = try await APIServer.request(port, "PUT", "/api/v1/models/update",
                #"{"examples": [{"user_id": "u1", "item_id": "i3", "label": 1, "context": {"device": "mobile"}}, {"user_id": "u1", "item_id": "i4", "label": 0}]}"#)
            #expect(updated == 200 && body["accepted"] as? Int == 2)
            #expect(try await ftrlUpdates(port) == before + 2)

            let (_, status2) = try await APIServer.request(port, "GET", "/api/v1/models/status")
            let names = Set(((status2["models"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
            #expect(names == ["popularity", "trending", "co_visitation", "embedding", "ftrl", "session_agent"])
            let agent = try #require((status2["models"] as? [[String: Any]])?.first { $0["name"] as? String == "session_agent" })
            #expect(agent["exploration_rate"] is Double && agent["learning_rate"] is Double)
        }
    }

    func ftrlUpdates(_ port: Int) async throws -> Int {
        let (_, status) = try await APIServer.request(port, "GET", "/api/v1/models/status")
        let models = (status["models"] as? [[String: Any]]) ?? []
        return models.first { $0["name"] as? String == "ftrl" }?["update_count"] as? Int ?? -1
    }

    @Test func reloadsScenariosAndKeepsTheOldOnesOnError() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data) { port in
            let (bad, error) = try await APIServer.request(port, "PUT", "/api/v1/scenarios",
                #"{"version": "v2", "scenarios": [{"name": "homepage", "exploration": {"policy": "sometimes"}}]}"#)
            #expect(bad == 400)
            #expect((error["error"] as? [String: Any])?["field"] as? String == "scenarios[0].exploration.policy")
            let (_, unchanged) = try await APIServer.request(port, "GET", "/api/v1/scenarios")
            #expect(unchanged["version"] as? String == "test-v1")

            let (good, replaced) = try await APIServer.request(port, "PUT", "/api/v1/scenarios",
                "version: v2\nscenarios:\n  - name: homepage\n  - name: landing\n    session_agent: false\n", contentType: "application/yaml")
            #expect(good == 200 && replaced["version"] as? String == "v2" && replaced["previous_version"] as? String == "test-v1")
            let (landing, _) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                           #"{"user_id": "u1", "scenario": "landing"}"#)
            #expect(landing == 200)
            let (rolled, back) = try await APIServer.request(port, "POST", "/api/v1/scenarios/rollback")
            #expect(rolled == 200 && back["version"] as? String == "test-v1")
            let (gone, _) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                        #"{"user_id": "u1", "scenario": "landing"}"#)
            #expect(gone == 400)
            let (reloaded, fromFile) = try await APIServer.request(port, "POST", "/api/v1/scenarios/reload")
            #expect(reloaded == 200 && fromFile["version"] as? String == "test-v1")
        }
    }

    @Test func shippedScenariosFileIsTheBuiltInSet() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("config/scenarios.yaml"), encoding: .utf8)
        #expect(try RecommendationService.parseScenarios(text) == ScenarioSet.standard)
    }

    static let badRequests: [(String, String, String, String?)] = [
        ("POST", "/api/v1/personalization/recommend", #"{"n_recommendations": 3}"#, "user_id"),
        ("POST", "/api/v1/personalization/recommend", #"{"user_id": ""}"#, "user_id"),
        ("POST", "/api/v1/personalization/recommend", #"{"user_id": 7}"#, "user_id"),
        ("POST", "/api/v1/personalization/recommend", #"{"user_id": "u1", "n_recommendations": 0}"#, "n_recommendations"),
        ("POST", "/api/v1/personalization/recommend", #"{"user_id": "u1", "n_recommendations": 101}"#, "n_recommendations"),
        ("POST", "/api/v1/personalization/recommend", #"{"user_id": "u1", "scenario": "moon"}"#, "scenario"),
        ("POST", "/api/v1/personalization/recommend", #"{"user_id": "u1", "timestamp": -5}"#, "timestamp"),
        ("POST", "/api/v1/personalization/recommend", #"{"user_id": "u1", "filters": {"categories": "odd"}}"#, "filters.categories"),
        ("POST", "/api/v1/personalization/recommend", #"{"user_id": "u1", "context": {"device": 3}}"#, "context.device"),
        ("POST", "/api/v1/personalization/recommend", #"{"requests": []}"#, "requests"),
        ("POST", "/api/v1/personalization/recommend", #"{"requests": [{"user_id": "u1"}, {"user_id": "u2", "n_recommendations": -1}]}"#, "requests[1].n_recommendations"),
        ("POST", "/api/v1/personalization/recommend", #"{"user_id": "u1""#, nil),
        ("POST", "/api/v1/personalization/feedback", #"{"user_id": "u1", "item_id": "i1"}"#, "feedback_type"),
        ("POST", "/api/v1/personalization/feedback", #"{"user_id": "u1", "item_id": "i1", "feedback_type": "teleport"}"#, "feedback_type"),
        ("POST", "/api/v1/personalization/feedback", #"{"user_id": "u1", "item_id": "", "feedback_type": "click"}"#, "item_id"),
        ("POST", "/api/v1/personalization/feedback", #"{"user_id": "u1", "item_id": "i1", "feedback_type": "click", "reward": "lots"}"#, "reward"),
        ("POST", "/api/v1/personalization/feedback", #"{"user_id": "u1", "item_id": "i1", "feedback_type": "click", "reward": 1e300}"#, "reward"),
        ("PUT", "/api/v1/personalization/user/u1/profile", #"{"preferences": {"preferred_categories": {"x": 2}}}"#, "preferences.preferred_categories.x"),
        ("PUT", "/api/v1/personalization/user/u1/profile", #"{"prefs": {}}"#, "preferences"),
        ("POST", "/api/v1/models/predict", #"{"user_id": "u1", "item_ids": []}"#, "item_ids"),
        ("PUT", "/api/v1/models/update", #"{"examples": [{"user_id": "u1", "item_id": "i1", "label": 3}]}"#, "examples[0].label"),
        ("PUT", "/api/v1/scenarios", #"{"version": "x", "scenarios": [{"name": "a", "ensemble": {"magic": 1}}]}"#, "scenarios[0].ensemble.magic"),
    ]

    @Test func namesTheFieldOfEveryBadRequest() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data) { port in
            for (method, path, body, field) in Self.badRequests {
                let (status, answer) = try await APIServer.request(port, method, path, body)
                #expect(status == 400, "\(method) \(path) \(body) -> \(status) \(answer)")
                let error = answer["error"] as? [String: Any]
                #expect(error?["field"] as? String == field, "\(body) -> \(answer)")
                #expect((error?["message"] as? String)?.isEmpty == false)
            }
            let (wrongType, _) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", "user_id=u1",
                                                             contentType: "application/x-www-form-urlencoded")
            #expect(wrongType == 415)
        }
    }
}
