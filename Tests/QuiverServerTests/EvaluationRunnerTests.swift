// EvaluationRunnerTests: `quiver replay` and `quiver ope` on small files with known answers:
// co-visitation learns a sequence popularity cannot, and on uniformly logged data the
// uniform-random policy's IPS estimate equals the logged click rate.
import Foundation
import QuiverCore
import Testing
@testable import QuiverServer

@Suite struct EvaluationRunnerTests {
    func write(_ text: String, suffix: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-eval-\(UUID().uuidString).\(suffix)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func replayRanksModelsOnASequentialPattern() throws {
        // Every user walks items 0 -> 1 -> 2 -> ... -> 9: after item k comes item k+1.
        var lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
        var t = 1_000.0
        for user in 0..<60 {
            for item in 0..<10 {
                lines.append("u\(user)\ti\(item)\t1\t\(t)")
                t += 1
            }
        }
        let path = try write(lines.joined(separator: "\n") + "\n", suffix: "inter")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let results = try EvaluationRunner.replay(interactionsPath: path, models: ["popularity", "covisitation", "ensemble"], cutoff: 1)
        #expect(results.map(\.model) == ["popularity", "covisitation", "ensemble"])
        let byModel = Dictionary(uniqueKeysWithValues: results.map { ($0.model, $0) })
        #expect(byModel["covisitation"]!.hit_rate > 0.9)
        #expect(byModel["covisitation"]!.hit_rate > byModel["popularity"]!.hit_rate)
        #expect(results.allSatisfy { $0.evaluated_events > 0 && $0.training_events == 480 })
        #expect(throws: ConfigurationError.self) { try EvaluationRunner.replay(interactionsPath: path, models: ["nope"]) }
        #expect(throws: ConfigurationError.self) { try EvaluationRunner.replay(interactionsPath: "/nonexistent", models: ["popularity"]) }
    }

    @Test func offPolicyIPSOfTheLoggingPolicyIsTheLoggedClickRate() throws {
        var random = SeededRandom(seed: 11)
        var lines = ["item_id,position,click,propensity_score"]
        var clicks = 0.0
        for _ in 0..<4_000 {
            let item = Int(random.next() % 5)
            let click = Double(random.next() % 1000) < Double(20 + 10 * item) ? 1.0 : 0.0
            clicks += click
            lines.append("\(item),1,\(Int(click)),0.2")
        }
        let path = try write(lines.joined(separator: "\n") + "\n", suffix: "csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try EvaluationRunner.offPolicy(csvPath: path)
        #expect(report.actions == 5)
        #expect(abs(report.logged_click_rate - clicks / 4_000) < 1e-12)
        let estimates = Dictionary(uniqueKeysWithValues: report.estimates.map { ($0.estimator, $0) })
        let ips = try #require(estimates["IPS"])
        #expect(abs(ips.value - report.logged_click_rate) < 1e-12)
        let dr = try #require(estimates["DR"])
        #expect(dr.lower <= report.logged_click_rate && report.logged_click_rate <= dr.upper)
    }
}
