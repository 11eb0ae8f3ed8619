// ExecutableTests: the built `quiver` binary as an operator runs it: `quiver version`, a bad
// configuration refused with the key named, and `quiver serve` stopping on SIGTERM with exit 0
// after finishing the request in flight.
import Foundation
import QuiverTestSupport
import Testing

@Suite struct ExecutableTests {
    /// The `quiver` binary next to this test bundle (swift build --build-tests builds it).
    static var binary: URL? {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("quiver")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    /// Starts `quiver serve` on `port` with `data` as its data directory (plus `arguments`) and
    /// returns once it accepts connections (records an issue if it never does).
    static func serve(_ quiver: URL, port: Int, data: String, _ arguments: [String] = []) async throws -> Process {
        let process = Process()
        process.executableURL = quiver
        process.arguments = ["serve", "--port", String(port), "--data-dir", data] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<400 {
            if (try? RawConnection(port: port)) != nil { return process }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("quiver did not start on \(port)")
        return process
    }

    @Test func printsItsVersionAndRefusesABadConfiguration() async throws {
        let quiver = try #require(Self.binary, "build the quiver product first")
        let version = try await TestProcess.run(quiver.path, ["version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("quiver "))
        let bad = try await TestProcess.run(quiver.path, ["serve", "--set", "server.prot=1"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("unknown key 'server.prot'"))
        let badEnvironment = try await TestProcess.run(quiver.path, ["config"], environment: ["QUIVER_SERVER_PORT": "http"])
        #expect(badEnvironment.status != 0)
        #expect(badEnvironment.stderr.contains("QUIVER_SERVER_PORT"))
    }

    @Test func stopsGracefullyOnSIGTERM() async throws {
        let quiver = try #require(Self.binary, "build the quiver product first")
        let port = freeLoopbackPort()
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-exe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let process = Process()
        process.executableURL = quiver
        process.arguments = ["serve", "--port", String(port), "--data-dir", data.path, "--set", "server.timeouts.shutdown_grace_ms=5000"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var up = false
        for _ in 0..<200 where !up {
            up = (try? RawConnection(port: port)) != nil
            if !up { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(up)
        // A keep-alive connection with a finished request, then SIGTERM: it is closed, and the
        // process exits 0 within the grace period.
        let connection = try RawConnection(port: port)
        connection.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(await connection.readResponses(1).first?.status == 200)
        kill(process.processIdentifier, SIGTERM)
        #expect(await connection.isClosedByPeer())
        let exited = await onThread { () -> Int32 in process.waitUntilExit(); return process.terminationStatus }
        #expect(exited == 0)
        #expect(process.terminationReason == .exit)
    }

    /// kill -9 right after acknowledged writes: a restart on the same data directory has them all.
    @Test func losesNoAcknowledgedEventOnKill9() async throws {
        let quiver = try #require(Self.binary, "build the quiver product first")
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        func start(_ port: Int) async throws -> Process { try await Self.serve(quiver, port: port, data: data.path) }
        func post(_ port: Int, _ body: String) async -> HTTPTestResponse? {
            guard let connection = try? RawConnection(port: port) else { return nil }
            connection.send("POST /api/v1/events HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            return await connection.readResponses(1).first
        }
        let port = freeLoopbackPort()
        let first = try await start(port)
        let now = Date().timeIntervalSince1970
        var acknowledged = 0
        for batch in 0..<20 {
            let events = (0..<10).map { #"{"user_id":"killed","item_id":"i\#($0)","type":"click","timestamp":\#(now - Double(batch * 10 + $0))}"# }
            if let response = await post(port, #"{"events":["# + events.joined(separator: ",") + "]}"), response.status == 200 {
                acknowledged += 10
            }
        }
        kill(first.processIdentifier, SIGKILL)
        await onThread { first.waitUntilExit() }
        #expect(first.terminationReason == .uncaughtSignal)
        #expect(acknowledged == 200)

        let secondPort = freeLoopbackPort()
        let second = try await start(secondPort)
        defer { second.terminate(); second.waitUntilExit() }
        let connection = try RawConnection(port: secondPort)
        connection.send("GET /api/v1/features/status HTTP/1.1\r\nHost: a\r\n\r\n")
        let status = try #require(await connection.readResponses(1).first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any])
        let metrics = try #require(json["metrics"] as? [String: Any])
        #expect(metrics["events"] as? Int == acknowledged)  // every acknowledged event was replayed
    }
}
