// TestProcess: runs an independent client (curl, python3) as a child process and captures its
// output, with a time limit so a stuck client fails the test instead of hanging it.
import Foundation

public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum TestProcess {
    /// Runs `executable` (looked up on PATH) with `arguments`; `environment` replaces the
    /// process environment when given.
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String]? = nil,
                           timeoutSeconds: Double = 30) async throws -> ProcessResult {
        try await onThread {
            try runBlocking(executable, arguments, input: input, environment: environment, timeoutSeconds: timeoutSeconds)
        }
    }

    static func runBlocking(_ executable: String, _ arguments: [String], input: String?, environment: [String: String]?,
                            timeoutSeconds: Double) throws -> ProcessResult {
        let process = Process()
        if let environment { process.environment = environment }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        // Output goes to files, so a chatty child can never fill a pipe and stall.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("out"), errURL = directory.appendingPathComponent("err")
        let inURL = directory.appendingPathComponent("in")
        try Data((input ?? "").utf8).write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let inHandle = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inHandle
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(5000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try out.close(); try err.close(); try inHandle.close()
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                             stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
