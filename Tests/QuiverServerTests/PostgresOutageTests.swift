// PostgresOutageTests: the quiver binary on a PostgreSQL of its own (initdb'd for the test, so it
// can be stopped without disturbing other tests), stopped with `pg_ctl stop -m immediate` while the
// server is busy and started again: recommendations keep coming throughout, writes are refused
// with a clear 503 (never acknowledged, never a 500) while it is down, /ready says so, and once
// PostgreSQL is back the writes are accepted and applied again without restarting quiver.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverServer

@Suite(.enabled(if: TestServers.postgresAvailable, "needs PostgreSQL binaries (scripts/test.sh)"))
struct PostgresOutageTests {
    /// Shell functions over one private cluster in `dir`, on `port`; run as the postgres user when root.
    static func control(_ dir: String, _ port: Int, _ action: String) async throws -> ProcessResult {
        let script = #"""
set -e
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DIR="$1"; PORT="$2"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# The server must not inherit the descriptors Foundation's Process watches for this script's exit.
daemon() { ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; "$@" ) </dev/null; }
case "$3" in
  init)
    mkdir -p "$DIR"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
    as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --no-sync >/dev/null
    daemon as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null
    psql -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE quiver" ;;
  start) daemon as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null ;;
  stop) as_pg "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null ;;
  destroy) as_pg "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$DIR" ;;
esac
"""#
        return try await TestProcess.run("bash", ["-c", script, "pgctl", dir, String(port), action], timeoutSeconds: 60)
    }

    @Test func keepsServingWhilePostgresIsDownAndCatchesUp() async throws {
        let quiver = try #require(ExecutableTests.binary, "build the quiver product first")
        let dir = "/tmp/quiver-pg-outage-\(UUID().uuidString.prefix(8))"
        let pgPort = freeLoopbackPort()
        let initialised = try await Self.control(dir, pgPort, "init")
        try #require(initialised.status == 0, "\(initialised.stderr)")
        do { try await outage(dir: dir, pgPort: pgPort, quiver: quiver) } catch {
            _ = try? await Self.control(dir, pgPort, "destroy")
            throw error
        }
        _ = try? await Self.control(dir, pgPort, "destroy")
    }

    func outage(dir: String, pgPort: Int, quiver: URL) async throws {
        let url = "postgresql://postgres@127.0.0.1:\(pgPort)/quiver"
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let port = freeLoopbackPort()
        let server = try await ExecutableTests.serve(quiver, port: port, data: data,
                                                     ["--set", "storage.backend=postgres", "--set", "postgres.url=\(url)",
                                                      "--set", "readiness.probe_timeout_ms=500"])
        defer { server.terminate(); server.waitUntilExit() }
        try await APIServer.seed(port)

        let (_, before) = try await APIServer.request(port, "GET", "/api/v1/features/status")
        let eventsBefore = try #require((before["metrics"] as? [String: Any])?["events"] as? Int)

        let stopped = try await Self.control(dir, pgPort, "stop")
        try #require(stopped.status == 0, "\(stopped.stderr)")
        // Down: answers still come (the models are in memory); writes get a clear 503.
        for _ in 0..<5 {
            let (status, answer) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                               #"{"user_id": "u1", "use_cache": false}"#)
            #expect(status == 200 && !APIServer.items(answer).isEmpty)
        }
        let (refused, error) = try await APIServer.request(port, "POST", "/api/v1/events",
                                                           #"{"events": [{"user_id": "u-down", "item_id": "i3", "type": "click"}]}"#)
        #expect(refused == 503, "\(error)")
        #expect((error["error"] as? [String: Any])?["code"] as? String == "event_log_unavailable")
        let (notReady, ready) = try await APIServer.request(port, "GET", "/ready")
        #expect(notReady == 503)
        #expect((ready["checks"] as? [[String: Any]] ?? []).contains { $0["name"] as? String == "postgres" && $0["ok"] as? Bool == false })

        let restarted = try await Self.control(dir, pgPort, "start")
        try #require(restarted.status == 0, "\(restarted.stderr)")
        // Back: writes are accepted again (the store reconnects with backoff) and applied.
        var accepted = 0
        for _ in 0..<100 where accepted != 200 {
            (accepted, _) = try await APIServer.request(port, "POST", "/api/v1/events",
                                                        #"{"events": [{"user_id": "u-back", "item_id": "i3", "type": "click"}]}"#)
            if accepted != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(accepted == 200, "writes resume once PostgreSQL is back")
        // The acknowledged event reached the feature engine through the store's observer.
        let (_, status) = try await APIServer.request(port, "GET", "/api/v1/features/status")
        #expect((status["metrics"] as? [String: Any])?["events"] as? Int == eventsBefore + 1)
        let (readyAgain, _) = try await APIServer.request(port, "GET", "/ready")
        #expect(readyAgain == 200)
    }
}
