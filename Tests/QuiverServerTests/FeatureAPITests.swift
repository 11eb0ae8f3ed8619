// FeatureAPITests: events, catalog items and real-time features through the running server over
// real sockets: per-event errors naming the field, nothing half-applied on import, features that
// move with events, and a restart on the same data directory that keeps every acknowledged event.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverServer

@Suite struct FeatureAPITests {
    static func configuration(dataDirectory: String) -> QuiverConfiguration {
        var configuration = QuiverConfiguration()
        configuration.http.port = 0
        configuration.http.eventLoops = 1
        configuration.dataDirectory = dataDirectory
        configuration.maxEventBatch = 50
        return configuration
    }

    func run(_ dataDirectory: String, _ body: (Int) async throws -> Void) async throws {
        let application = try QuiverApplication(configuration: Self.configuration(dataDirectory: dataDirectory))
        application.start()
        do { try await body(application.port) } catch {
            application.shutdown(); await onThread { application.waitUntilStopped() }; throw error
        }
        application.shutdown()
        await onThread { application.waitUntilStopped() }
    }

    func request(_ port: Int, _ method: String, _ path: String, _ body: String? = nil,
                 contentType: String = "application/json") async throws -> (Int, [String: Any]) {
        try await APIServer.request(port, method, path, body, contentType: contentType)
    }

    func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("quiver-features-\(UUID().uuidString)").path
    }

    @Test func acceptsGoodEventsAndNamesTheBadOnes() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await run(data) { port in
            let now = Date().timeIntervalSince1970
            let batch = """
            {"events": [
              {"user_id": "u1", "item_id": "i1", "type": "view", "timestamp": \(now - 30)},
              {"user_id": "", "item_id": "i1", "type": "view"},
              {"user_id": "u1", "item_id": "i2", "type": "click", "value": 1.0, "context": {"device": "mobile"}},
              {"item_id": "i3", "type": "view"},
              {"user_id": "u1", "type": "view", "value": "lots"},
              {"user_id": "u1", "item_id": "i2", "type": "purchase", "value": 59.0}
            ]}
            """
            let (status, body) = try await request(port, "POST", "/api/v1/events", batch)
            #expect(status == 200)
            #expect(body["accepted"] as? Int == 3)
            #expect(body["rejected"] as? Int == 3)
            let errors = try #require(body["errors"] as? [[String: Any]])
            #expect(errors.compactMap { $0["field"] as? String } == ["events[1].user_id", "events[3].user_id", "events[4].value"])
            #expect(errors.compactMap { $0["index"] as? Int } == [1, 3, 4])

            let (featureStatus, features) = try await request(port, "GET", "/api/v1/features/realtime/u1?vector=true")
            #expect(featureStatus == 200)
            let behavioral = try #require((features["features"] as? [String: Any])?["behavioral"] as? [String: Double])
            #expect(behavioral.values.contains { $0 > 0 })
            let vector = try #require(features["vector"] as? [Double])
            let names = try #require(features["vector_names"] as? [String])
            #expect(vector.count == names.count && !vector.isEmpty)
        }
    }

    @Test func refusesBadBatchesWithFourHundreds() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await run(data) { port in
            let (allBad, allBadBody) = try await request(port, "POST", "/api/v1/events", #"{"events": [{"user_id": 5, "type": "view"}]}"#)
            #expect(allBad == 400)
            #expect((allBadBody["error"] as? [String: Any])?["field"] as? String == "events[0].user_id")
            let (empty, emptyBody) = try await request(port, "POST", "/api/v1/events", #"{"events": []}"#)
            #expect(empty == 400)
            #expect((emptyBody["error"] as? [String: Any])?["field"] as? String == "events")
            let tooMany = "{\"events\": [" + Array(repeating: #"{"user_id":"u","type":"view"}"#, count: 51).joined(separator: ",") + "]}"
            #expect(try await request(port, "POST", "/api/v1/events", tooMany).0 == 400)
            let (notJSON, notJSONBody) = try await request(port, "POST", "/api/v1/events", "{nope")
            #expect(notJSON == 400)
            #expect((notJSONBody["error"] as? [String: Any])?["code"] as? String == "invalid_json")
            #expect(try await request(port, "POST", "/api/v1/events", "x=1", contentType: "text/plain").0 == 415)
            let (missing, missingBody) = try await request(port, "POST", "/api/v1/events", #"{"evens": []}"#)
            #expect(missing == 400)
            #expect((missingBody["error"] as? [String: Any])?["field"] as? String == "events")
            let longID = String(repeating: "u", count: 300)
            #expect(try await request(port, "GET", "/api/v1/features/realtime/\(longID)").0 == 400)
        }
    }

    @Test func storesItemsAndImportsAllOrNothing() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await run(data) { port in
            let item = #"{"item_id": "i9", "title": "Shoe", "categories": ["shoes"], "tags": [], "attributes": {"price": 59.0}, "available": true}"#
            let (put, putBody) = try await request(port, "PUT", "/api/v1/items/i9", item)
            #expect(put == 200)
            #expect(putBody["item_id"] as? String == "i9")
            let (mismatch, mismatchBody) = try await request(port, "PUT", "/api/v1/items/other", item)
            #expect(mismatch == 400)
            #expect((mismatchBody["error"] as? [String: Any])?["field"] as? String == "item_id")
            let lines = #"{"item_id": "a", "categories": ["x"]}"# + "\n" + #"{"item_id": "b", "categories": "x"}"# + "\n"
            let (bad, badBody) = try await request(port, "POST", "/api/v1/items/import", lines, contentType: "application/json")
            #expect(bad == 400)
            #expect(((badBody["error"] as? [String: Any])?["field"] as? String)?.hasPrefix("line 2") == true)
            let good = #"{"item_id": "a", "categories": ["x"]}"# + "\n" + #"{"item_id": "b", "categories": ["y"]}"# + "\n"
            let (ok, okBody) = try await request(port, "POST", "/api/v1/items/import", good, contentType: "application/json")
            #expect(ok == 200)
            #expect(okBody["imported"] as? Int == 2)
            let compute = #"{"user_ids": ["u1", "u2"], "context": {"device": "tablet"}, "include_vector": true}"#
            let (computed, computedBody) = try await request(port, "POST", "/api/v1/features/compute", compute)
            #expect(computed == 200)
            #expect((computedBody["users"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test func keepsAcknowledgedEventsAcrossARestart() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let now = Date().timeIntervalSince1970
        var before: [String: [String: Double]] = [:]
        // More events than one replay batch, and a partial last batch (the replay feeds the engine's
        // batch path `RecommendationService.replayBatch` events at a time); the test server takes 50 a request.
        let users = ["ru", "rv", "rw"]
        let total = 2 * RecommendationService.replayBatch + 37
        try await run(data) { port in
            let events = (0..<total).map {
                #"{"user_id": "\#(users[$0 % 3])", "item_id": "i\#($0 % 4)", "type": "\#($0 % 5 == 0 ? "view" : "click")", "timestamp": \#(now - Double($0) * 0.01)}"#
            }
            for first in stride(from: 0, to: total, by: 50) {
                let part = events[first..<min(total, first + 50)]
                let (status, body) = try await request(port, "POST", "/api/v1/events", "{\"events\": [" + part.joined(separator: ",") + "]}")
                #expect(status == 200 && body["accepted"] as? Int == part.count, "\(body)")
            }
            for user in users {
                let (_, features) = try await request(port, "GET", "/api/v1/features/realtime/\(user)")
                before[user] = (features["features"] as? [String: Any])?["behavioral"] as? [String: Double] ?? [:]
            }
        }
        #expect(before.count == 3 && before.values.allSatisfy { !$0.isEmpty })
        try await run(data) { port in
            for user in users {
                let (_, features) = try await request(port, "GET", "/api/v1/features/realtime/\(user)")
                let after = (features["features"] as? [String: Any])?["behavioral"] as? [String: Double] ?? [:]
                // Counts over windows are the same after the replay (rates and decays may move with time).
                for (name, value) in before[user] ?? [:] where name.contains(".count.") {
                    #expect(after[name] == value, "\(user) \(name)")
                }
            }
        }
    }

    @Test func loadsAndRollsBackDefinitionVersionsAtRunTime() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await run(data) { port in
            let (_, before) = try await request(port, "GET", "/api/v1/features/status")
            let original = try #require(before["version"] as? String)
            let next = #"{"version": "v-test-2", "definitions": [{"name": "user_clicks_only", "key": "user", "event_types": ["click"], "aggregations": ["count"], "windows": ["1h"]}]}"#
            let (loaded, loadedBody) = try await request(port, "PUT", "/api/v1/features/definitions", next)
            #expect(loaded == 200, "\(loadedBody)")
            #expect(loadedBody["version"] as? String == "v-test-2")
            let (bad, badBody) = try await request(port, "PUT", "/api/v1/features/definitions",
                                                   #"{"version": "v-bad", "definitions": [{"name": "Bad Name", "key": "user", "event_types": ["click"], "aggregations": ["count"], "windows": ["1h"]}]}"#)
            #expect(bad == 400)
            #expect(((badBody["error"] as? [String: Any])?["field"] as? String)?.hasPrefix("definitions[0]") == true)
            let (_, still) = try await request(port, "GET", "/api/v1/features/status")
            #expect(still["version"] as? String == "v-test-2")  // the refused set changed nothing
            let (rolled, rolledBody) = try await request(port, "POST", "/api/v1/features/definitions/rollback")
            #expect(rolled == 200)
            #expect(rolledBody["version"] as? String == original)
            let (again, _) = try await request(port, "POST", "/api/v1/features/definitions/rollback")
            #expect(again == 409)
        }
    }
}
