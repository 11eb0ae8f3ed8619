// StoreBackends: the system of record the configuration names (`storage.backend`): the embedded
// SQLite log with snapshot files in `storage.data_dir`, or PostgreSQL (`postgres.url`) with
// snapshots in a table, shared by every quiver process pointed at it.
import Foundation
import QuiverStore

struct StoreBackends {
    let events: any EventStore
    let snapshots: any SnapshotStore
    /// The shared online store (`online_store.backend` redis or redis_cluster), or nil (memory).
    var online: RedisOnlineStore?
    /// Published configuration (PostgreSQL only): scenario sets shared by the processes.
    var configVersions: PostgresConfigVersions?

    static func open(_ configuration: QuiverConfiguration) throws -> StoreBackends {
        var backends = try openSystemOfRecord(configuration)
        let timeoutMs = configuration.onlineStoreTimeoutMs
        switch configuration.onlineStore {
        case "redis":
            backends.online = try RedisOnlineStore(url: configuration.redisURL ?? "", timeoutMs: timeoutMs,
                                                   poolSize: configuration.ioThreads)
        case "redis_cluster":
            // The cluster's slot map is read now: a cluster that is down stops startup, as a
            // configured dependency that was never reachable should.
            backends.online = try RedisOnlineStore(clusterURL: configuration.redisClusterURL ?? "", timeoutMs: timeoutMs,
                                                   poolSize: configuration.ioThreads)
        default:
            break
        }
        return backends
    }

    private static func openSystemOfRecord(_ configuration: QuiverConfiguration) throws -> StoreBackends {
        switch configuration.storageBackend {
        case "postgres":
            guard let url = configuration.postgresURL else {
                throw ConfigurationError("storage.backend is postgres but postgres.url is empty")
            }
            let conninfo = DependencyProbes.withConnectTimeout(url, 5_000)
            return StoreBackends(events: try PostgresEventLog(conninfo: conninfo,
                                                              impressionLingerMs: configuration.impressionLingerMs),
                                 snapshots: try PostgresSnapshotStore(conninfo: conninfo),
                                 configVersions: PostgresConfigVersions(conninfo: conninfo))
        default:
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            return StoreBackends(events: try DurableEventLog(path: configuration.dataDirectory + "/quiver.db",
                                                             impressionLingerMs: configuration.impressionLingerMs),
                                 snapshots: try SnapshotDirectory(path: configuration.dataDirectory + "/snapshots"))
        }
    }
}

/// `quiver migrate`: schema maintenance of the configured system of record.
public enum StorageMigrations {
    /// Applies pending PostgreSQL migrations (`postgres.url`); returns the versions applied now
    /// (empty when the schema was current). The embedded store creates its tables when opened.
    public static func migrate(_ configuration: QuiverConfiguration) throws -> [Int] {
        guard let url = configuration.postgresURL else {
            throw ConfigurationError("postgres.url is empty: there is no PostgreSQL schema to migrate")
        }
        return try PostgresSchema.migrate(conninfo: DependencyProbes.withConnectTimeout(url, 5_000))
    }
}
