// QuiverConfiguration: every setting of the server with its default. Values come, in rising
// precedence, from the defaults, a YAML file, `QUIVER_*` environment variables and `--set`
// flags; `ConfigurationSettings` (the table of keys) turns each source into these fields.
import Logging
import QuiverHTTP

/// The whole configuration of a `quiver serve` process.
public struct QuiverConfiguration: Sendable, Equatable {
    /// The HTTP layer: address, loops, limits, timeouts, gzip.
    public var http = HTTPServerConfiguration()
    /// Directory of the embedded store (SQLite database and snapshots).
    public var dataDirectory = "data"
    /// Redis (online store, L2 cache), as `redis://host:port/db`; nil when not configured.
    public var redisURL: String?
    /// PostgreSQL (system of record), as a libpq URI or key=value string; nil when not configured.
    public var postgresURL: String?
    /// The system of record: `embedded` (SQLite in `dataDirectory`, one process) or `postgres`
    /// (`postgresURL`, shared by several processes).
    public var storageBackend = "embedded"
    /// Impressions alone (no acknowledged write among them) wait up to this long for more to
    /// share their commit: fewer, larger commits of the system of record under load.
    public var impressionLingerMs = 5
    /// The shared online store and second-level result cache: `memory` (none: the in-process L1
    /// only), `redis` (`redisURL`) or `redis_cluster` (`redisClusterURL`).
    public var onlineStore = "memory"
    /// Redis Cluster seeds, as `redis://host:port,host:port,...`; nil when not configured.
    public var redisClusterURL: String?
    /// A call to the online store gives up after this long (the request then goes on without it).
    public var onlineStoreTimeoutMs = 200
    /// Evicted users' feature state is kept this long in the online store (when there is one).
    public var featureStateTTLSeconds = 604_800
    /// The most evicted feature state one process keeps in the online store (approximate bytes).
    public var featureStateMaxBytes = 268_435_456
    /// Threads that carry blocking calls (hiredis, libpq, SQLite) off the event loops.
    public var ioThreads = 8
    /// A readiness probe of one dependency gives up after this long.
    public var probeTimeoutMs = 1000
    public var logLevel = Logger.Level.info
    /// Serves `GET /hello` and `POST /echo` for side-by-side benchmarks.
    public var benchmarkEndpoints = false
    /// A YAML or JSON file of feature definitions; empty means the built-in standard set.
    public var featureDefinitionsFile = ""
    /// Users whose feature state stays in memory (least recently used ones are evicted beyond it).
    public var maxResidentUsers = 20_000
    /// Items whose state events may create (catalog items are always admitted).
    public var maxItems = 1_000_000
    /// Events accepted in one `POST /api/v1/events`.
    public var maxEventBatch = 10_000
    /// Users in one `POST /api/v1/features/compute`.
    public var maxComputeUsers = 1_000
    /// YAML/JSON scenario file; empty = the built-in set.
    public var scenariosFile = ""
    /// Most requests in one batch recommend call.
    public var maxRecommendBatch = 100
    /// Entries of the in-process result cache.
    public var resultCacheEntries = 200_000
    /// Memory budget of the result cache, in bytes (approximate).
    public var resultCacheBytes = 512 << 20
    /// Served lists remembered for feedback joins, and for how long.
    public var impressionCapacity = 200_000
    public var impressionTTLSeconds = 3_600.0
    /// A session ends after this much silence.
    public var sessionTimeoutSeconds = 1_800.0
    /// Minimum age before the candidate index is rebuilt after a change.
    public var candidateIndexRefreshMs = 500
    /// Seconds between model snapshots (0: only at shutdown).
    public var snapshotIntervalSeconds = 300.0
    /// Event types that count as interactions for the implicit models.
    public var interactionTypes = "view,click,add_to_cart,purchase,rating"
    /// Default reward per feedback type (`type=reward,...`); types not listed default to 1.
    public var feedbackRewards = "click=1,add_to_cart=1,purchase=1,rating=1,dwell=1,view=0"
    /// Users who asked for a cached answer this recently get it recomputed in the background when
    /// their state changes (0: no prefetching).
    public var prefetchWindowSeconds = 60.0
    /// Seed of the serving policy's random generator (exploration, strategy choice).
    public var servingSeed = 42

    public init() {}
}

extension QuiverConfiguration {
    /// Checks the settings that depend on each other (a backend needs its URL).
    public func validateBackends() throws(ConfigurationError) {
        if storageBackend == "postgres" && postgresURL == nil {
            throw ConfigurationError("storage.backend is postgres but postgres.url is empty")
        }
        if onlineStore == "redis" && redisURL == nil {
            throw ConfigurationError("online_store.backend is redis but redis.url is empty")
        }
        if onlineStore == "redis_cluster" && redisClusterURL == nil {
            throw ConfigurationError("online_store.backend is redis_cluster but redis.cluster_url is empty")
        }
    }
}

/// A configuration that cannot be used, naming the key and the source at fault.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "configuration error: \(message)" }
}
