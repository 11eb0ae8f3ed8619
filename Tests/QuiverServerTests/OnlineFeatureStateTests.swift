// OnlineFeatureStateTests: with an online store, a user evicted from memory and dropped from the
// bounded in-memory tier keeps their feature windows in Redis: their next event finds the whole
// history (without Redis they would start again from that one event). What a process keeps there
// stays within features.online_store_max_bytes (checked in Redis itself), oldest deleted first.
import Foundation
import QuiverStore
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

    @Test func whatAProcessKeepsInRedisStaysWithinItsBudget() async throws {
        let redis = try TestServers.requireRedis()
        let endpoint = try #require(RedisEndpoint(url: redis))
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let budget = 6_000
        try await ConfiguredServer.run(data, { c in
            c.maxResidentUsers = 2
            c.onlineStore = "redis"
            c.redisURL = redis
            c.featureStateMaxBytes = budget
        }) { port, application in
            let store = try #require(application.features.evictedInRedis)
            for k in 0..<20 {
                let events = (0..<10).map { #"{"user_id": "budget-\#(k)-\#($0)", "item_id": "i1", "type": "click"}"# }
                let (status, _) = try await APIServer.request(port, "POST", "/api/v1/events", #"{"events": [\#(events.joined(separator: ","))]}"#)
                #expect(status == 200)
            }
            // The writes (and the deletions they cause) are in the background: wait for them.
            var counters = store.counters
            for _ in 0..<200 where counters.evictedForBudget == 0 || counters.written < 100 {
                try await Task.sleep(for: .milliseconds(25))
                counters = store.counters
            }
            #expect(counters.written >= 100, "most of 200 users were evicted to Redis: \(counters)")
            #expect(counters.evictedForBudget > 0 && counters.bytesHeld <= budget, "\(counters)")
            // Redis itself: this process's keys, and their sizes, within the budget.
            try await Task.sleep(for: .milliseconds(200))  // the last DELs
            let prefix = String(store.key("x").dropLast(3))
            let connection = try RedisConnection(endpoint: endpoint)
            var cursor = "0", keys: [String] = []
            repeat {
                guard case .array(let reply) = try connection.command(["SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"]),
                      reply.count == 2, case .array(let found) = reply[1] else { Issue.record("SCAN failed"); return }
                cursor = reply[0].string ?? "0"
                keys += found.compactMap(\.string)
            } while cursor != "0"
            var bytes = 0
            for key in keys {
                if case .integer(let length) = try connection.command(["STRLEN", key]) {
                    bytes += length + key.utf8.count + OnlineStateBudget.perKeyOverhead
                }
            }
            #expect(!keys.isEmpty && keys.count < counters.written, "\(keys.count) keys held of \(counters.written) written")
            #expect(bytes <= budget, "\(keys.count) keys, \(bytes) bytes in Redis")
        }
    }
}

@Suite struct OnlineStateBudgetTests {
    @Test func deletesTheOldestBeyondTheBudgetAndForgetsExpiredKeys() {
        let overhead = OnlineStateBudget.perKeyOverhead
        var budget = OnlineStateBudget(maxBytes: 3 * (100 + 1 + overhead), ttlSeconds: 60)
        for key in ["a", "b", "c"] { budget.queued(key, bytes: 100) }
        #expect(budget.written(["a", "b", "c"], now: 0) == [])
        #expect(budget.bytes == 3 * (101 + overhead) && budget.holds("a"))
        budget.queued("d", bytes: 100)
        #expect(budget.written(["d"], now: 1) == ["a"], "the oldest goes")
        budget.queued("b", bytes: 100)
        #expect(budget.written(["b"], now: 2) == [], "a rewrite replaces its own size")
        budget.queued("e", bytes: 100)
        #expect(budget.written(["e"], now: 3) == ["c"], "b was written again after c: c is now the oldest")
        budget.removed("d")
        #expect(budget.bytes == 2 * (101 + overhead) && !budget.holds("d"))
        #expect(budget.written([], now: 62.5) == [], "b (written at 2) expired in Redis: forgotten, not deleted")
        #expect(!budget.holds("b") && budget.holds("e") && budget.evicted == 2)
        budget.queued("big", bytes: 10_000)
        #expect(budget.written(["big"], now: 62.8) == ["e", "big"], "a value larger than the whole budget is not kept either")
        #expect(budget.bytes == 0)
    }
}
