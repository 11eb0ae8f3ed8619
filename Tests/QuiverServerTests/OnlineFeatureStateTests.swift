// OnlineFeatureStateTests: with an online store, a user evicted from memory and dropped from the
// bounded in-memory tier keeps their feature windows in Redis: their next event finds the whole
// history (without Redis they would start again from that one event).
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverServer

@Suite(.enabled(if: TestServers.redisAvailable, "needs the test Redis (scripts/test.sh)"))
struct OnlineFeatureStateTests {
    @Test func anEvictedUserKeepsTheirWindowsInRedis() async throws {
        let redis = try TestServers.requireRedis()
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await ConfiguredServer.run(data, { c in
            c.maxResidentUsers = 2  // one resident per shard, two in the memory tier, the rest only in Redis
            c.onlineStore = "redis"
            c.redisURL = redis
        }) { port, _ in
            func post(_ events: [String]) async throws {
                let (status, _) = try await APIServer.request(port, "POST", "/api/v1/events", #"{"events": [\#(events.joined(separator: ","))]}"#)
                #expect(status == 200)
            }
            let click = { (user: String) in #"{"user_id": "\#(user)", "item_id": "i1", "type": "click"}"# }
            try await post([click("kept"), click("kept"), click("kept")])
            // 100 more users: "kept" leaves the resident set (16 shards x 1) and then the memory tier (2).
            for k in 0..<10 { try await post((0..<10).map { click("other-\(k)-\($0)") }) }
            try await post([click("kept")])
            let (_, features) = try await APIServer.request(port, "GET", "/api/v1/features/realtime/kept")
            let behavioral = (features["features"] as? [String: Any])?["behavioral"] as? [String: Double] ?? [:]
            let counts = behavioral.filter { $0.key.contains("count") }.values
            #expect(counts.max() == 4, "all four clicks are in the windows: \(behavioral)")
            let (_, status) = try await APIServer.request(port, "GET", "/api/v1/features/status")
            let online = status["evicted_states_online"] as? [String: Int] ?? [:]
            let shared = try await ConfiguredServer.sharedCacheMetrics(port)
            #expect((online["loaded"] ?? 0) >= 1 && (online["written"] ?? 0) >= 1, "\(online) \(shared)")
            #expect((status["evicted_states_dropped"] as? Int ?? 0) >= 1, "the memory tier alone would have lost it")
        }
    }
}
