// EvaluationRunner: what `quiver replay` and `quiver ope` do: read the data files, run the
// library's prequential replay or off-policy estimators, and report as a table or JSON.
//   replay: a timestamped interaction file (RecBole .inter: user_id, item_id, [rating], timestamp)
//   ope:    an Open Bandit Dataset CSV (item_id, click, propensity_score), uniform-random target
import Foundation
import QuiverCore

public struct ReplayResult: Encodable, Sendable {
    public let model: String
    public let hit_rate: Double
    public let ndcg: Double
    public let cutoff: Int
    public let training_events: Int
    public let evaluated_events: Int
    public let seconds: Double
    public let events_per_second: Double
}

public struct OPEResult: Encodable, Sendable {
    public let estimator: String
    public let value: Double
    public let lower: Double
    public let upper: Double
    public let effective_sample_size: Double
}

public struct OPEReport: Encodable, Sendable {
    public let impressions: Int
    public let actions: Int
    public let logged_click_rate: Double
    public let policy: String
    public let estimates: [OPEResult]
}

public enum EvaluationRunner {
    /// Models `quiver replay` knows, in report order.
    public static let replayModels = ["popularity", "covisitation", "bpr", "ftrl", "ensemble"]

    /// Runs the prequential replay of `interactionsPath` for each model in `models`.
    public static func replay(interactionsPath: String, models: [String], trainFraction: Double = 0.8,
                              cutoff: Int = 10) throws -> [ReplayResult] {
        guard let text = try? String(contentsOfFile: interactionsPath, encoding: .utf8) else {
            throw ConfigurationError("cannot read '\(interactionsPath)'")
        }
        let interactions = try ReplayInteraction.parseInteractions(text, separator: text.contains("\t") ? "\t" : ",")
        guard interactions.count >= 10 else { throw ConfigurationError("'\(interactionsPath)' has fewer than 10 interactions") }
        let replay = PrequentialReplay(trainFraction: trainFraction, cutoff: cutoff)
        var results: [ReplayResult] = []
        for name in models {
            let clock = ContinuousClock()
            var report: ReplayReport?
            let elapsed: Duration
            switch name {
            case "popularity":
                var r = ScoringModelRecommender(model: DecayedPopularity(halfLife: 7 * 86_400))
                elapsed = clock.measure { report = replay.run(interactions, recommender: &r) }
            case "covisitation":
                var r = ScoringModelRecommender(model: ItemCoVisitation(historyLength: 30))
                elapsed = clock.measure { report = replay.run(interactions, recommender: &r) }
            case "bpr":
                var r = ScoringModelRecommender(model: ImplicitMatrixFactorization(factors: 32, negativeSamples: 4, seed: 7))
                elapsed = clock.measure { report = replay.run(interactions, recommender: &r) }
            case "ftrl":
                var r = ScoringModelRecommender(
                    model: FTRLProximal(alpha: 0.05, beta: 1, l1: 0.1, l2: 1, encoder: HashedCrossEncoder(bits: 20)),
                    negativeSamples: 4, seed: 3)
                elapsed = clock.measure { report = replay.run(interactions, recommender: &r) }
            case "ensemble":
                var r = EnsembleReplayRecommender()
                elapsed = clock.measure { report = replay.run(interactions, recommender: &r) }
            default:
                throw ConfigurationError("unknown model '\(name)'; known: \(replayModels.joined(separator: ", "))")
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let done = report!
            results.append(ReplayResult(model: name, hit_rate: done.hitRate, ndcg: done.ndcg, cutoff: cutoff,
                                        training_events: done.trainingEvents, evaluated_events: done.evaluatedEvents,
                                        seconds: seconds, events_per_second: Double(interactions.count) / max(seconds, 1e-9)))
        }
        return results
    }

    /// Off-policy estimates of the uniform-random policy on logged bandit data, with a per-action
    /// click-rate reward model cross-fitted on two halves for DM and DR.
    public static func offPolicy(csvPath: String) throws -> OPEReport {
        guard let text = try? String(contentsOfFile: csvPath, encoding: .utf8) else {
            throw ConfigurationError("cannot read '\(csvPath)'")
        }
        let table = try DelimitedTable(parsing: text, separator: ",")
        let clicks = try table.doubles("click")
        let propensities = try table.doubles("propensity_score")
        let rawItems = try table.strings("item_id")
        var actionIndex: [String: Int] = [:]
        let items = rawItems.map { id in
            if let known = actionIndex[id] { return known }
            actionIndex[id] = actionIndex.count
            return actionIndex.count - 1
        }
        let actions = actionIndex.count
        guard clicks.count >= 2, actions > 0 else { throw ConfigurationError("'\(csvPath)' has too few rows") }
        let half = clicks.count / 2
        func rates(_ range: Range<Int>) -> [Double] {
            var c = [Double](repeating: 0, count: actions), n = [Double](repeating: 0, count: actions)
            for i in range { c[items[i]] += clicks[i]; n[items[i]] += 1 }
            let prior = clicks.reduce(0, +) / Double(clicks.count)
            return (0..<actions).map { (c[$0] + prior) / (n[$0] + 1) }
        }
        let models = [rates(half..<clicks.count), rates(0..<half)]
        let uniform = [Double](repeating: 1.0 / Double(actions), count: actions)
        let logs = clicks.indices.map { i in
            LoggedDecision(action: items[i], reward: clicks[i], loggingPropensity: propensities[i],
                           targetDistribution: uniform, rewardEstimates: models[i < half ? 0 : 1])
        }
        let estimates = try [OffPolicyEvaluation.ips(logs), OffPolicyEvaluation.selfNormalizedIPS(logs),
                             OffPolicyEvaluation.directMethod(logs), OffPolicyEvaluation.doublyRobust(logs)]
        return OPEReport(impressions: clicks.count, actions: actions, logged_click_rate: clicks.reduce(0, +) / Double(clicks.count),
                         policy: "uniform-random",
                         estimates: estimates.map { OPEResult(estimator: $0.estimator, value: $0.value, lower: $0.lower,
                                                              upper: $0.upper, effective_sample_size: $0.effectiveSampleSize) })
    }

    /// JSON text of any report.
    public static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }
}
