// APIDocumentationTests: every shell block of docs/api.md, run in order with bash (`set -euo
// pipefail`, curl -f on the success paths) against a fresh server, so the documented session
// stays true.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverServer

@Suite struct APIDocumentationTests {
    @Test func theDocumentedCurlSessionRuns() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let markdown = try String(contentsOf: root.appendingPathComponent("docs/api.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```sh" { current = [] } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n")); current = nil
            } else if current != nil { current!.append(line) }
        }
        #expect(blocks.count >= 6)
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-doc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        var configuration = QuiverConfiguration()
        configuration.http.port = 0
        configuration.http.eventLoops = 1
        configuration.dataDirectory = data
        configuration.candidateIndexRefreshMs = 0
        configuration.snapshotIntervalSeconds = 0
        let application = try QuiverApplication(configuration: configuration)
        application.start()
        defer { application.shutdown(); application.waitUntilStopped() }
        for (i, block) in blocks.enumerated() {
            let script = "set -euo pipefail\n" + block
            let result = try await TestProcess.run("bash", ["-c", script],
                                                   environment: ["QUIVER": "http://127.0.0.1:\(application.port)", "PATH": "/usr/bin:/bin:/usr/local/bin"])
            #expect(result.status == 0, "docs/api.md block \(i + 1) failed:\n\(block)\n--- stdout\n\(result.stdout)\n--- stderr\n\(result.stderr)")
        }
    }
}
