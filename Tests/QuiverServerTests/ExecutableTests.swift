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
        let port = Int.random(in: 30_000...39_999)
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
}
