// RecommendationDurabilityTests: what the recommendation service learned survives restarts: a
// graceful stop saves a model snapshot that the next start restores (replaying only the events
// after it), and `kill -9` of the real binary right after acknowledged events, feedback and a
// profile update loses none of them: the restarted server answers exactly as before the kill.
// A cached answer served again is logged as a reference that still joins feedback after a restart.
import Foundation
import QuiverTestSupport
import Testing
import QuiverStore
@testable import QuiverServer

@Suite struct RecommendationDurabilityTests {
    static func status(_ port: Int) async throws -> [String: Any] {
        let (code, body) = try await APIServer.request(port, "GET", "/api/v1/models/status")
        #expect(code == 200)
        return body
    }

    @Test func restoresTheSnapshotAndReplaysOnlyWhatCameAfter() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        var before: [String: Any] = [:]
        var list: [String] = []
        try await APIServer.run(data) { port in
            try await APIServer.seed(port)
            before = try await Self.status(port)
            let (_, answer) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                          #"{"user_id": "u1", "use_cache": false}"#)
            list = APIServer.items(answer)
        }
        try await APIServer.run(data) { port in
            let after = try await Self.status(port)
            let positions = try #require(before["log_position"] as? [String: Int])
            #expect(after["log_position"] as? [String: Int] == positions)
            #expect(after["interactions"] as? Int == before["interactions"] as? Int)
            let snapshots = try #require(after["snapshots"] as? [String: Any])
            #expect(snapshots["restored_event_seq"] as? Int == positions["events"], "the shutdown snapshot covers every event")
            let (_, answer) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend",
                                                          #"{"user_id": "u1", "use_cache": false}"#)
            #expect(APIServer.items(answer) == list)
        }
    }

    /// A cached answer served again is logged as a reference to the full record, and feedback for
    /// it still joins after a restart (when only the log knows the served list).
    @Test func aCachedAnswerIsLoggedAsAReferenceThatJoinsAfterARestart() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        var first = "", again = "", shown: [String] = []
        try await APIServer.run(data) { port in
            try await APIServer.seed(port)
            let (_, computed) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", #"{"user_id": "u1"}"#)
            let (_, cached) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", #"{"user_id": "u1"}"#)
            #expect(computed["cached"] as? Bool == false && cached["cached"] as? Bool == true)
            first = computed["request_id"] as? String ?? ""
            again = cached["request_id"] as? String ?? ""
            shown = APIServer.items(cached)
            #expect(!shown.isEmpty && shown == APIServer.items(computed))
        }
        let database = try SQLiteDatabase(path: data + "/quiver.db", durable: false)
        let body = try #require(try database.execute("SELECT body FROM impressions WHERE request_id = ?1", [again]).first?[0])
        #expect(body.contains(#""sameAs":"\#(first)""#) && !body.contains("itemID"), "logged as a reference: \(body)")
        try await APIServer.run(data) { port in
            let (status, joined) = try await APIServer.request(port, "POST", "/api/v1/personalization/feedback",
                #"{"request_id": "\#(again)", "user_id": "u1", "item_id": "\#(shown[0])", "feedback_type": "click"}"#)
            #expect(status == 200 && joined["joined"] as? Bool == true, "\(joined)")
        }
    }

    @Test func losesNothingAcknowledgedOnKill9() async throws {
        let quiver = try #require(ExecutableTests.binary, "build the quiver product first")
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try testScenarios.write(toFile: data + "/scenarios.yaml", atomically: true, encoding: .utf8)
        func start(_ port: Int) async throws -> Process {
            try await ExecutableTests.serve(quiver, port: port, data: data,
                                            ["--set", "recommend.scenarios_file=\(data)/scenarios.yaml", "--set", "recommend.index_refresh_ms=0"])
        }
        let port = freeLoopbackPort()
        let first = try await start(port)
        try await APIServer.seed(port)
        // A snapshot of the seeded state; everything after it must come back from the log.
        let (saved, snapshot) = try await APIServer.request(port, "POST", "/api/v1/models/snapshot")
        #expect(saved == 200 && (snapshot["bytes"] as? Int ?? 0) > 0)
        let (ev, _) = try await APIServer.request(port, "POST", "/api/v1/events",
                                                  #"{"events": [{"user_id": "u9", "item_id": "i2", "type": "click"}, {"user_id": "u9", "item_id": "i4", "type": "click"}]}"#)
        #expect(ev == 200)
        let (_, answer) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", #"{"user_id": "u1"}"#)
        let requestID = try #require(answer["request_id"] as? String)
        let (fb, feedback) = try await APIServer.request(port, "POST", "/api/v1/personalization/feedback",
            #"{"request_id": "\#(requestID)", "user_id": "u1", "item_id": "\#(APIServer.items(answer)[0])", "feedback_type": "purchase", "reward": 1}"#)
        #expect(fb == 200 && feedback["joined"] as? Bool == true)
        let (pr, _) = try await APIServer.request(port, "PUT", "/api/v1/personalization/user/u1/profile",
                                                  #"{"preferences": {"preferred_categories": {"even": 0.7}}}"#)
        #expect(pr == 200)
        let before = try await Self.status(port)
        let (_, last) = try await APIServer.request(port, "POST", "/api/v1/personalization/recommend", #"{"user_id": "u1", "use_cache": false}"#)
        kill(first.processIdentifier, SIGKILL)
        await onThread { first.waitUntilExit() }
        #expect(first.terminationReason == .uncaughtSignal)

        let secondPort = freeLoopbackPort()
        let second = try await start(secondPort)
        defer { second.terminate(); second.waitUntilExit() }
        let after = try await Self.status(secondPort)
        #expect(after["log_position"] as? [String: Int] == before["log_position"] as? [String: Int])
        #expect(after["interactions"] as? Int == before["interactions"] as? Int)
        #expect(after["feedback_updates"] as? Int == 1)
        let restored = (after["snapshots"] as? [String: Any])?["restored_event_seq"] as? Int
        let events = (after["log_position"] as? [String: Int])?["events"]
        #expect(restored != nil && events != nil && restored! < events!, "a snapshot was restored and later events replayed")
        let (_, profile) = try await APIServer.request(secondPort, "GET", "/api/v1/personalization/user/u1/profile")
        #expect((profile["preferences"] as? [String: Any])?["preferred_categories"] as? [String: Double] == ["even": 0.7])
        let (_, again) = try await APIServer.request(secondPort, "POST", "/api/v1/personalization/recommend", #"{"user_id": "u1", "use_cache": false}"#)
        #expect(APIServer.items(again) == APIServer.items(last), "the restarted server answers as before the kill")
    }
}
