// RedisConnectionTests: the hiredis wrapper against a real redis-server: strings (binary-safe),
// integers, arrays, nil, error replies, URL parsing, and a refused connection.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverStore

@Suite(.enabled(if: TestServers.redisAvailable, "needs QUIVER_TEST_REDIS_URL (scripts/test.sh)"))
struct RedisConnectionTests {
    func connect() throws -> RedisConnection {
        let url = try TestServers.requireRedis()
        let endpoint = try #require(RedisEndpoint(url: url))
        return try RedisConnection(endpoint: endpoint)
    }

    func key(_ name: String) -> String { "quiver-test:\(UUID().uuidString):\(name)" }

    @Test func pingsAndSetsAndGets() throws {
        let redis = try connect()
        #expect(try redis.command(["PING"]) == .simple("PONG"))
        let k = key("s")
        #expect(try redis.command(["SET", k, "héllo", "EX", "60"]) == .simple("OK"))
        #expect(try redis.command(["GET", k]).string == "héllo")
        #expect(try redis.command(["GET", key("missing")]) == .null)
    }

    @Test func isBinarySafe() throws {
        let redis = try connect()
        let k = Array(key("bin").utf8)
        let value: [UInt8] = [0, 1, 2, 0, 255, 13, 10, 0]
        _ = try redis.command([Array("SET".utf8), k, value])
        #expect(try redis.command([Array("GET".utf8), k]) == .bulk(value))
        _ = try redis.command([Array("DEL".utf8), k])
    }

    @Test func returnsIntegersArraysAndErrors() throws {
        let redis = try connect()
        let counter = key("n"), list = key("l")
        #expect(try redis.command(["INCRBY", counter, "41"]) == .integer(41))
        #expect(try redis.command(["INCR", counter]) == .integer(42))
        _ = try redis.command(["RPUSH", list, "a", "b", "c"])
        #expect(try redis.command(["LRANGE", list, "0", "-1"]) == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8)), .bulk(Array("c".utf8))]))
        guard case .error(let message) = try redis.command(["INCR", list]) else {
            Issue.record("INCR on a list must be an error reply"); return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(!redis.isBroken)  // an error reply leaves the connection usable
        _ = try redis.command(["DEL", counter, list])
    }

    @Test func selectsTheDatabaseOfTheURL() throws {
        let url = try TestServers.requireRedis()
        var endpoint = try #require(RedisEndpoint(url: url))
        endpoint.database = 3
        let redis = try RedisConnection(endpoint: endpoint)
        let k = key("db")
        _ = try redis.command(["SET", k, "in-3", "EX", "60"])
        #expect(try redis.command(["GET", k]).string == "in-3")
        let db0 = try connect()
        #expect(try db0.command(["GET", k]) == .null)
    }

    @Test func failsClearlyWhenNothingListens() {
        #expect(throws: RedisError.self) {
            try RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: 1), timeoutMs: 200)
        }
    }
}

@Suite struct RedisEndpointTests {
    @Test(arguments: [
        ("redis://127.0.0.1:6380/2", RedisEndpoint(host: "127.0.0.1", port: 6380, password: nil, database: 2)),
        ("redis://:secret@cache:7000", RedisEndpoint(host: "cache", port: 7000, password: "secret", database: 0)),
        ("redis://user:pw@h/0", RedisEndpoint(host: "h", port: 6379, password: "pw", database: 0)),
        ("redis://", RedisEndpoint(host: "127.0.0.1", port: 6379, password: nil, database: 0)),
    ])
    func parsesURLs(_ url: String, _ expected: RedisEndpoint) {
        #expect(RedisEndpoint(url: url) == expected)
    }

    @Test(arguments: ["http://x", "redis://h:99999", "redis://h:abc", "redis://h/-1"])
    func refusesBadURLs(_ url: String) {
        #expect(RedisEndpoint(url: url) == nil)
    }
}
