// TestServers: where the real Redis, Redis Cluster and PostgreSQL started by scripts/services.sh
// listen (QUIVER_TEST_REDIS_URL, QUIVER_TEST_REDIS_CLUSTER_URL, QUIVER_TEST_POSTGRES_URL). Outside
// CI a missing server skips its tests; in CI (CI=true) a missing server fails them, because a
// backend test that skips proves nothing.
import Foundation
import Testing

public enum TestServers {
    public static let environment = ProcessInfo.processInfo.environment
    public static let isCI = environment["CI"] == "true"
    public static let redisURL = environment["QUIVER_TEST_REDIS_URL"]
    public static let postgresURL = environment["QUIVER_TEST_POSTGRES_URL"]
    public static let redisClusterURL = environment["QUIVER_TEST_REDIS_CLUSTER_URL"]

    /// Runs the test when the server is configured, or in CI (where its absence is a failure).
    public static var redisAvailable: Bool { redisURL != nil || isCI }
    public static var postgresAvailable: Bool { postgresURL != nil || isCI }
    public static var redisClusterAvailable: Bool { redisClusterURL != nil || isCI }

    public static func requireRedis() throws -> String {
        try #require(redisURL, "QUIVER_TEST_REDIS_URL is not set: run the tests with scripts/test.sh")
    }

    public static func requirePostgres() throws -> String {
        try #require(postgresURL, "QUIVER_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh")
    }

    public static func requireRedisCluster() throws -> String {
        try #require(redisClusterURL, "QUIVER_TEST_REDIS_CLUSTER_URL is not set: run the tests with scripts/test.sh")
    }
}
