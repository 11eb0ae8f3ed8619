// PostgresSchema: the tables of the PostgreSQL store and the ordered migrations that create them.
// Each migration runs once, recorded in `schema_migrations`, all of them in one transaction that
// first takes a transaction-scoped advisory lock: several processes opening the store at once wait
// for each other instead of racing on CREATE TABLE. `config_versions` (scenario and feature-definition
// versions) holds the published configuration history (PostgresConfigVersions).
import Foundation

public enum PostgresSchema {
    /// One step of the schema: applied once, in order, never edited once released (add a new one).
    struct Migration {
        let version: Int
        let sql: String
    }

    /// The advisory lock key that serialises migrations (any constant unique to Quiver).
    static let migrationLockKey = 7_157_117_000_001
    /// The advisory lock key that every transaction writing the log holds until it commits, so
    /// sequence numbers are allocated and committed in the same order across processes.
    static let logLockKey = 7_157_117_000_002
    /// The channel notified (at commit) by every transaction that wrote the log.
    static let logChannel = "quiver_log"

    /// The migrations, oldest first. The log's sequences (`events_seq_seq`, `feedback_seq_seq`,
    /// `change_seq`) must keep CACHE 1: numbers are drawn under the log lock so that they commit in
    /// order, which a per-backend cache of numbers would break.
    static let migrations: [Migration] = [
        Migration(version: 1, sql: """
            CREATE TABLE events (
                seq bigserial PRIMARY KEY, received_at double precision NOT NULL, user_id text NOT NULL,
                item_id text, type text NOT NULL, value double precision NOT NULL, ts double precision NOT NULL,
                context text);
            CREATE TABLE feedback (
                seq bigserial PRIMARY KEY, request_id text, user_id text NOT NULL, item_id text NOT NULL,
                joined boolean NOT NULL, ts double precision NOT NULL, body text NOT NULL);
            CREATE SEQUENCE change_seq;
            CREATE TABLE items (
                item_id text PRIMARY KEY, body text NOT NULL, updated_at double precision NOT NULL,
                change_seq bigint NOT NULL);
            CREATE INDEX items_change_seq ON items (change_seq);
            CREATE TABLE profiles (
                user_id text PRIMARY KEY, body text NOT NULL, updated_at double precision NOT NULL,
                change_seq bigint NOT NULL);
            CREATE INDEX profiles_change_seq ON profiles (change_seq);
            CREATE TABLE impressions (
                request_id text PRIMARY KEY, user_id text NOT NULL, ts double precision NOT NULL, body text NOT NULL);
            CREATE INDEX impressions_ts ON impressions (ts);
            CREATE TABLE model_snapshots (
                id bigserial PRIMARY KEY, event_seq bigint NOT NULL, feedback_seq bigint NOT NULL,
                created_at double precision NOT NULL, bytes bytea NOT NULL, metadata text NOT NULL);
            CREATE INDEX model_snapshots_position ON model_snapshots (event_seq, feedback_seq, id);
            CREATE TABLE config_versions (
                kind text NOT NULL, version text NOT NULL, body text NOT NULL, created_at double precision NOT NULL,
                PRIMARY KEY (kind, version));
            """),
    ]

    /// Brings the database at `conninfo` up to the current schema; returns the versions this call
    /// applied (empty when it was already current).
    public static func migrate(conninfo: String) throws -> [Int] {
        try migrate(PostgresConnection(conninfo: conninfo, statementTimeoutMs: 60_000))
    }

    static func migrate(_ connection: PostgresConnection) throws -> [Int] {
        do {
            try connection.execute("BEGIN; SELECT pg_advisory_xact_lock(\(migrationLockKey))")
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let present = Set(try connection.query("SELECT version FROM schema_migrations").rows.compactMap { $0[0].flatMap(Int.init) })
            var applied: [Int] = []
            for migration in migrations where !present.contains(migration.version) {
                try connection.execute(migration.sql)
                try connection.query("INSERT INTO schema_migrations (version) VALUES ($1)", [String(migration.version)])
                applied.append(migration.version)
            }
            try connection.execute("COMMIT")
            return applied
        } catch {
            if connection.isHealthy { _ = try? connection.execute("ROLLBACK") }
            throw error
        }
    }
}
