// ConfigurationSettings: the table of every configuration key: its dotted name (`server.port`),
// its environment variable (`QUIVER_SERVER_PORT`), what it means, and how a text value is checked
// and stored. Unknown keys and bad values are errors that name the key and the source.
import Logging
import QuiverHTTP

/// One configuration key.
public struct ConfigurationSetting: Sendable {
    public let key: String
    public let summary: String
    let read: @Sendable (QuiverConfiguration) -> String
    let write: @Sendable (inout QuiverConfiguration, String) throws(ConfigurationError) -> Void

    /// The environment variable that sets this key.
    public var environmentVariable: String {
        "QUIVER_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// The key's value in `configuration`, as text.
    public func value(in configuration: QuiverConfiguration) -> String { read(configuration) }
}

extension String {
    func replacingOccurrences(of target: Character, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

public enum ConfigurationSettings {
    /// Every key, in documentation order.
    public static let all: [ConfigurationSetting] = [
        string("server.host", "address to listen on (127.0.0.1, 0.0.0.0, ::)", \.http.host, nonEmpty: true),
        integer("server.port", "TCP port; 0 picks a free one", \.http.port, 0...65535),
        integer("server.event_loops", "event loop threads; 0 = one per CPU core", \.http.eventLoops, 0...256),
        int32("server.backlog", "listen backlog per loop", \.http.backlog, 1...65535),
        integer("server.max_connections", "open connections before new ones get 503", \.http.maxConnections, 1...1_000_000),
        integer("server.limits.max_request_line_bytes", "longest request line (414 beyond)", \.http.limits.maxRequestLineBytes, 64...1_048_576),
        integer("server.limits.max_header_bytes", "largest request head (431 beyond)", \.http.limits.maxHeaderBytes, 256...16_777_216),
        integer("server.limits.max_header_count", "most header fields (431 beyond)", \.http.limits.maxHeaderCount, 1...10_000),
        integer("server.limits.max_body_bytes", "largest request body (413 beyond)", \.http.limits.maxBodyBytes, 0...1_073_741_824),
        integer("server.timeouts.header_ms", "a request head must arrive within this (408)", \.http.headerTimeoutMs, 1...3_600_000),
        integer("server.timeouts.body_ms", "a request body must arrive within this (408)", \.http.bodyTimeoutMs, 1...3_600_000),
        integer("server.timeouts.idle_ms", "idle keep-alive connections are closed after this", \.http.idleTimeoutMs, 1...86_400_000),
        integer("server.timeouts.write_ms", "a client that reads nothing for this long is dropped", \.http.writeTimeoutMs, 1...3_600_000),
        integer("server.timeouts.handler_ms", "a handler that has not answered by then yields 503", \.http.handlerTimeoutMs, 1...3_600_000),
        integer("server.timeouts.shutdown_grace_ms", "in-flight requests get this long on SIGTERM", \.http.shutdownGraceMs, 0...3_600_000),
        integer("server.gzip.min_bytes", "responses at least this large are gzip-compressed", \.http.gzipMinBytes, 0...1_073_741_824),
        integer("server.gzip.level", "zlib level, 1 (fast) to 9 (small)", \.http.gzipLevel, 1...9),
        boolean("server.benchmark_endpoints", "serve GET /hello and POST /echo for benchmarks", \.benchmarkEndpoints),
        string("storage.data_dir", "directory of the embedded store", \.dataDirectory, nonEmpty: true),
        choice("storage.backend", "system of record: embedded (SQLite in storage.data_dir) or postgres (postgres.url)",
               \.storageBackend, ["embedded", "postgres"]),
        integer("storage.impression_linger_ms", "impressions alone wait up to this for more to share their commit (0 = at once)",
                \.impressionLingerMs, 0...1_000),
        choice("online_store.backend", "shared online store and L2 cache: memory (none), redis (redis.url) or redis_cluster (redis.cluster_url)",
               \.onlineStore, ["memory", "redis", "redis_cluster"]),
        integer("online_store.timeout_ms", "an online store call gives up after this (the request goes on without it)",
                \.onlineStoreTimeoutMs, 1...60_000),
        string("features.definitions_file", "YAML/JSON feature definitions; empty = built-in standard set",
               \.featureDefinitionsFile, nonEmpty: false),
        integer("features.max_resident_users", "users whose feature state stays in memory", \.maxResidentUsers, 1...100_000_000),
        integer("features.max_items", "items whose state events may create", \.maxItems, 1...100_000_000),
        integer("features.online_store_ttl_seconds", "evicted users' feature state kept this long in the online store (if any)",
                \.featureStateTTLSeconds, 60...365 * 86_400),
        integer("features.online_store_max_bytes", "the most evicted feature state one process keeps in the online store (approximate bytes; oldest deleted first)",
                \.featureStateMaxBytes, 1_024...1 << 40),
        integer("features.max_compute_users", "users in one POST /api/v1/features/compute", \.maxComputeUsers, 1...100_000),
        integer("events.max_batch", "events in one POST /api/v1/events", \.maxEventBatch, 1...1_000_000),
        string("recommend.scenarios_file", "YAML/JSON scenarios; empty = built-in homepage, item_detail, search, cart",
               \.scenariosFile, nonEmpty: false),
        integer("recommend.max_batch", "requests in one batch recommend call", \.maxRecommendBatch, 1...10_000),
        integer("recommend.cache_entries", "entries of the in-process result cache", \.resultCacheEntries, 16...100_000_000),
        integer("recommend.cache_max_bytes", "memory budget of the result cache (approximate bytes)", \.resultCacheBytes,
                65_536...1 << 40),
        integer("recommend.impression_capacity", "served lists kept for joining feedback", \.impressionCapacity, 16...100_000_000),
        double("recommend.impression_ttl_seconds", "feedback later than this after the list is unjoined", \.impressionTTLSeconds, 1...30 * 86_400),
        double("recommend.session_timeout_seconds", "a session ends after this much silence", \.sessionTimeoutSeconds, 1...86_400),
        integer("recommend.index_refresh_ms", "candidate lists are rebuilt at most this often", \.candidateIndexRefreshMs, 0...3_600_000),
        double("recommend.snapshot_interval_seconds", "model snapshots this often (0 = at shutdown only)", \.snapshotIntervalSeconds, 0...86_400),
        string("recommend.interaction_types", "event types the implicit models learn from (comma-separated)",
               \.interactionTypes, nonEmpty: true),
        string("recommend.feedback_rewards", "default reward per feedback type (type=reward,...; others 1, negatives 0)",
               \.feedbackRewards, nonEmpty: false),
        double("recommend.prefetch_window_seconds", "recompute active users' answers when they change (0 = off)",
               \.prefetchWindowSeconds, 0...86_400),
        integer("recommend.seed", "seed of exploration and strategy draws", \.servingSeed, 0...Int.max),
        optionalString("redis.url", "redis://host:port/db of the online store; empty = none", \.redisURL),
        optionalString("redis.cluster_url", "redis://host:port,host:port,... seeds of a Redis Cluster; empty = none", \.redisClusterURL),
        optionalString("postgres.url", "postgresql:// URI of the system of record; empty = none", \.postgresURL),
        integer("io.threads", "threads for blocking calls (hiredis, libpq, SQLite)", \.ioThreads, 1...1024),
        integer("readiness.probe_timeout_ms", "a dependency check gives up after this", \.probeTimeoutMs, 1...60_000),
        logLevel("log.level", "trace, debug, info, notice, warning, error or critical", \.logLevel),
    ]

    static let byKey: [String: ConfigurationSetting] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })
    static let byEnvironment: [String: ConfigurationSetting] =
        Dictionary(uniqueKeysWithValues: all.map { ($0.environmentVariable, $0) })

    /// The setting for a dotted key, or nil.
    public static func setting(_ key: String) -> ConfigurationSetting? { byKey[key] }

    // MARK: kinds of values

    static func integer(_ key: String, _ summary: String, _ path: any WritableKeyPath<QuiverConfiguration, Int> & Sendable,
                        _ range: ClosedRange<Int>) -> ConfigurationSetting {
        ConfigurationSetting(key: key, summary: summary, read: { String($0[keyPath: path]) }, write: { c, text throws(ConfigurationError) in
            guard let value = Int(text.trimmed), range.contains(value) else {
                throw ConfigurationError("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
            }
            c[keyPath: path] = value
        })
    }

    static func double(_ key: String, _ summary: String, _ path: any WritableKeyPath<QuiverConfiguration, Double> & Sendable,
                       _ range: ClosedRange<Double>) -> ConfigurationSetting {
        ConfigurationSetting(key: key, summary: summary, read: { String($0[keyPath: path]) }, write: { c, text throws(ConfigurationError) in
            guard let value = Double(text.trimmed), value.isFinite, range.contains(value) else {
                throw ConfigurationError("\(key) must be a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
            }
            c[keyPath: path] = value
        })
    }

    static func int32(_ key: String, _ summary: String, _ path: any WritableKeyPath<QuiverConfiguration, Int32> & Sendable,
                      _ range: ClosedRange<Int32>) -> ConfigurationSetting {
        ConfigurationSetting(key: key, summary: summary, read: { String($0[keyPath: path]) }, write: { c, text throws(ConfigurationError) in
            guard let value = Int32(text.trimmed), range.contains(value) else {
                throw ConfigurationError("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
            }
            c[keyPath: path] = value
        })
    }

    static func boolean(_ key: String, _ summary: String, _ path: any WritableKeyPath<QuiverConfiguration, Bool> & Sendable) -> ConfigurationSetting {
        ConfigurationSetting(key: key, summary: summary, read: { String($0[keyPath: path]) }, write: { c, text throws(ConfigurationError) in
            switch text.trimmed.lowercased() {
            case "true", "yes", "on", "1": c[keyPath: path] = true
            case "false", "no", "off", "0": c[keyPath: path] = false
            default: throw ConfigurationError("\(key) must be true or false, got '\(text)'")
            }
        })
    }

    static func string(_ key: String, _ summary: String, _ path: any WritableKeyPath<QuiverConfiguration, String> & Sendable,
                       nonEmpty: Bool) -> ConfigurationSetting {
        ConfigurationSetting(key: key, summary: summary, read: { $0[keyPath: path] }, write: { c, text throws(ConfigurationError) in
            if nonEmpty && text.trimmed.isEmpty { throw ConfigurationError("\(key) must not be empty") }
            c[keyPath: path] = text.trimmed
        })
    }

    static func choice(_ key: String, _ summary: String, _ path: any WritableKeyPath<QuiverConfiguration, String> & Sendable,
                       _ choices: [String]) -> ConfigurationSetting {
        ConfigurationSetting(key: key, summary: summary, read: { $0[keyPath: path] }, write: { c, text throws(ConfigurationError) in
            let value = text.trimmed.lowercased()
            guard choices.contains(value) else {
                throw ConfigurationError("\(key) must be one of \(choices.joined(separator: ", ")); got '\(text)'")
            }
            c[keyPath: path] = value
        })
    }

    static func optionalString(_ key: String, _ summary: String,
                               _ path: any WritableKeyPath<QuiverConfiguration, String?> & Sendable) -> ConfigurationSetting {
        ConfigurationSetting(key: key, summary: summary, read: { $0[keyPath: path] ?? "" }, write: { c, text throws(ConfigurationError) in
            let value = text.trimmed
            c[keyPath: path] = value.isEmpty ? nil : value
        })
    }

    static func logLevel(_ key: String, _ summary: String,
                         _ path: any WritableKeyPath<QuiverConfiguration, Logger.Level> & Sendable) -> ConfigurationSetting {
        ConfigurationSetting(key: key, summary: summary, read: { $0[keyPath: path].rawValue }, write: { c, text throws(ConfigurationError) in
            guard let level = Logger.Level(rawValue: text.trimmed.lowercased()) else {
                throw ConfigurationError("\(key) must be one of trace, debug, info, notice, warning, error, critical; got '\(text)'")
            }
            c[keyPath: path] = level
        })
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
