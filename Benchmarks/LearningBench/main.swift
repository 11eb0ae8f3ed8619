// LearningBench: replay on MovieLens-100k, off-policy
// estimates on Open Bandit, and throughput/latency of the learning core.
import Foundation
import QuiverCore

let dataDir = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "/tmp/quiver-data"
let which = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "all"

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
func fmt(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }

// MARK: replay
if which == "all" || which == "replay" {
    let text = try String(contentsOfFile: "\(dataDir)/ml-100k/ml-100k.inter", encoding: .utf8)
    let rows = try ReplayInteraction.parseInteractions(text)
    // genres for item tokens
    var genres: [String: [String]] = [:]
    if let itemText = try? String(contentsOfFile: "\(dataDir)/ml-100k/ml-100k.item", encoding: .utf8),
       let table = try? DelimitedTable(parsing: itemText, separator: "\t"),
       let ids = try? table.strings("item_id"), let gcol = try? table.column("class") {
        for (i, row) in table.rows.enumerated() { genres[ids[i]] = row[gcol].split(separator: " ").map { "genre=\($0)" } }
    }
    print("ml-100k: \(rows.count) interactions, \(genres.count) items with genres")
    let replay = PrequentialReplay(trainFraction: 0.8, cutoff: 10)
    func report(_ name: String, _ r: ReplayReport, _ t: Duration) {
        print("replay \(name): HR@10 \(fmt(r.hitRate)) NDCG@10 \(fmt(r.ndcg)) evaluated \(r.evaluatedEvents) skipped \(r.skippedEvents) (\(fmt(seconds(t), 1)) s)")
    }
    let clock = ContinuousClock()
    let selected = CommandLine.arguments.count > 3 ? Set(CommandLine.arguments[3].split(separator: ",").map(String.init)) : nil
    func want(_ n: String) -> Bool { selected?.contains(n) ?? true }

    if want("pop") {
        for halfLife in [1e12, 7 * 86_400.0, 86_400.0] {
            var rec = ScoringModelRecommender(model: DecayedPopularity(halfLife: halfLife))
            var r: ReplayReport!
            let t = clock.measure { r = replay.run(rows, recommender: &rec) }
            report("popularity(halfLife \(halfLife == 1e12 ? "inf" : "\(Int(halfLife / 86_400))d"))", r, t)
        }
    }
    if want("covis") {
        var rec = ScoringModelRecommender(model: ItemCoVisitation(historyLength: 30))
        var r: ReplayReport!
        let t = clock.measure { r = replay.run(rows, recommender: &rec) }
        report("co-visitation(history 30)", r, t)
    }
    /// Blend of several models through reciprocal rank fusion or weighted min-max blend.
    struct BlendRecommender: ReplayRecommender {
        var pop = DecayedPopularity(halfLife: 7 * 86_400)
        var covis = ItemCoVisitation(historyLength: 30)
        var mf = ImplicitMatrixFactorization(factors: 32, negativeSamples: 4, seed: 7)
        var weights: [Double]
        init(weights: [Double], historyLength: Int = 30, tunedMF: Bool = false) {
            self.weights = weights
            covis = ItemCoVisitation(historyLength: historyLength)
            if tunedMF {
                mf = ImplicitMatrixFactorization(factors: 32, learningRate: .inverse(initial: 0.1, scale: 200_000, floor: 0.01),
                                                 negativeSamples: 8, seed: 7)
            }
        }
        var catalog: [ScoringCandidate] = []
        var index: [String: Int] = [:]
        mutating func observe(_ i: ReplayInteraction) {
            if index[i.itemId] == nil { index[i.itemId] = catalog.count; catalog.append(ScoringCandidate(itemId: i.itemId)) }
            let f = ModelFeedback(context: ScoringContext(userId: i.userId, timestamp: i.timestamp),
                                  candidate: ScoringCandidate(itemId: i.itemId), reward: 1)
            pop.update(f); covis.update(f)
            if weights[2] != 0 { mf.update(f) }
        }
        mutating func recommend(userId: String, count: Int, excluding: Set<String>, at timestamp: Double) -> [String] {
            let ctx = ScoringContext(userId: userId, timestamp: timestamp)
            var per = [pop.score(catalog, context: ctx), covis.score(catalog, context: ctx)]
            per.append(weights[2] != 0 ? mf.score(catalog, context: ctx) : [Double](repeating: 0, count: catalog.count))
            let s = ScoreFusion.weightedBlend(per, weights: weights, normalization: .minMax)
            return PrequentialReplay.topIndices(s, k: count) { excluding.contains(self.catalog[$0].itemId) }.map { catalog[$0].itemId }
        }
    }
    if want("mf") {
        var rec = ScoringModelRecommender(model: ImplicitMatrixFactorization(factors: 32, negativeSamples: 4, seed: 7))
        var r: ReplayReport!
        let t = clock.measure { r = replay.run(rows, recommender: &rec) }
        report("BPR-MF(32 factors)", r, t)
    }
    if want("blend") {
        for w in [[0.2, 1.0, 0.0], [0.3, 1.0, 0.5], [0.5, 1.0, 0.0]] {
            var rec = BlendRecommender(weights: w)
            var r: ReplayReport!
            let t = clock.measure { r = replay.run(rows, recommender: &rec) }
            report("blend(pop \(w[0]), covis \(w[1]), mf \(w[2]))", r, t)
        }
    }
    if want("blend2") {
        for (w, h, tuned) in [([0.1, 1.0, 0.0], 30, false), ([0.2, 1.0, 0.0], 100, false), ([0.2, 1.0, 0.2], 30, true)] {
            var rec = BlendRecommender(weights: w, historyLength: h, tunedMF: tuned)
            var r: ReplayReport!
            let t = clock.measure { r = replay.run(rows, recommender: &rec) }
            report("blend(pop \(w[0]), covis(history \(h)) \(w[1]), mf\(tuned ? "(lr 0.1, 8 neg)" : "") \(w[2]))", r, t)
        }
    }
    if want("ftrl2") {
        for (alpha, negatives) in [(0.1, 8), (0.3, 4)] {
            var rec = ScoringModelRecommender(
                model: FTRLProximal(alpha: alpha, beta: 1, l1: 0.5, l2: 1, encoder: HashedCrossEncoder(bits: 20)),
                negativeSamples: negatives, seed: 3,
                makeCandidate: { ScoringCandidate(itemId: $0, tokens: genres[$0] ?? []) })
            var r: ReplayReport!
            let t = clock.measure { r = replay.run(rows, recommender: &rec) }
            report("FTRL(alpha \(alpha), l1 0.5, \(negatives) negatives)", r, t)
        }
    }
    if want("mf2") {
        for (factors, lr) in [(64, 0.05), (32, 0.1)] {
            var rec = ScoringModelRecommender(model: ImplicitMatrixFactorization(
                factors: factors, learningRate: .inverse(initial: lr, scale: 200_000, floor: lr / 10), negativeSamples: 8, seed: 7))
            var r: ReplayReport!
            let t = clock.measure { r = replay.run(rows, recommender: &rec) }
            report("BPR-MF(\(factors) factors, lr \(lr), 8 negatives)", r, t)
        }
    }
    if want("ftrl") {
        var rec = ScoringModelRecommender(
            model: FTRLProximal(alpha: 0.05, beta: 1, l1: 0.1, l2: 1, encoder: HashedCrossEncoder(bits: 20)),
            negativeSamples: 4, seed: 3,
            makeCandidate: { ScoringCandidate(itemId: $0, tokens: genres[$0] ?? []) })
        var r: ReplayReport!
        let t = clock.measure { r = replay.run(rows, recommender: &rec) }
        report("FTRL(user x genre crosses, 4 negatives)", r, t)
    }
}

// MARK: synthetic contextual bandit (same environment as the unit test)
if which == "all" || which == "synthetic" {
    var g = SeededRandom(seed: 42)
    let (arms, dim, steps) = (5, 6, 3_000)
    let thetas = (0..<arms).map { _ in (0..<dim).map { _ in g.nextGaussian() * 0.5 } }
    let candidates = (0..<arms).map { ScoringCandidate(itemId: "arm\($0)") }
    func run<P: BanditPolicy>(_ name: String, _ p: P) {
        var policy = p
        var env = SeededRandom(seed: 99), agent = SeededRandom(seed: 100)
        var regret = [Double]()
        for t in 0..<steps {
            let x = [1] + (1..<dim).map { _ in env.nextGaussian() }
            let ctx = ScoringContext(userId: "u", dense: x, timestamp: Double(t))
            let c = policy.choose(candidates, context: ctx, using: &agent)
            let means = thetas.map { DenseLinearAlgebra.dot($0, x) }
            regret.append(means.max()! - means[c.index])
            policy.update(ModelFeedback(context: ctx, candidate: candidates[c.index], reward: means[c.index] + 0.3 * env.nextGaussian()))
        }
        let first = regret[..<(steps / 2)].reduce(0, +), second = regret[(steps / 2)...].reduce(0, +)
        print("synthetic \(name): cumulative regret \(fmt(first + second, 1)) (first half \(fmt(first, 1)), second half \(fmt(second, 1)))")
    }
    run("LinUCB(alpha 0.5)", LinUCB(dimension: dim, alpha: 0.5))
    run("LinearTS(v 0.3)", LinearThompsonSampling(dimension: dim, explorationScale: 0.3, propensitySamples: 10))
    run("HybridLinUCB(alpha 0.5)", HybridLinUCB(sharedDimension: dim, armDimension: dim, alpha: 0.5, sharedMap: .context))
    run("EpsilonGreedy(0.2 inverse decay)", EpsilonGreedy())
    run("UCB1", UCB1())
    var env = SeededRandom(seed: 99), agent = SeededRandom(seed: 100)
    var random = [Double]()
    for _ in 0..<steps {
        let x = [1] + (1..<dim).map { _ in env.nextGaussian() }
        let means = thetas.map { DenseLinearAlgebra.dot($0, x) }
        _ = env.nextGaussian()
        random.append(means.max()! - means[Int(agent.next() % UInt64(arms))])
    }
    print("synthetic uniform random: cumulative regret \(fmt(random.reduce(0, +), 1)) (first half \(fmt(random[..<(steps / 2)].reduce(0, +), 1)), second half \(fmt(random[(steps / 2)...].reduce(0, +), 1)))")
}

// MARK: off-policy
if which == "all" || which == "ope" {
    let text = try String(contentsOfFile: "\(dataDir)/obd/random/all/all.csv", encoding: .utf8)
    let table = try DelimitedTable(parsing: text, separator: ",")
    let clicks = try table.doubles("click")
    let propensities = try table.doubles("propensity_score")
    let items = try table.strings("item_id").map { Int($0)! }
    let actions = 80
    // Reward model for DM/DR: per-item click rate with a Beta(1, 99) prior, cross-fitted on two halves.
    let half = clicks.count / 2
    func rates(_ range: Range<Int>) -> [Double] {
        var c = [Double](repeating: 0, count: actions), n = [Double](repeating: 0, count: actions)
        for i in range { c[items[i]] += clicks[i]; n[items[i]] += 1 }
        return (0..<actions).map { (c[$0] + 0.01) / (n[$0] + 2.6) }
    }
    let models = [rates(half..<clicks.count), rates(0..<half)]
    let uniform = [Double](repeating: 1.0 / Double(actions), count: actions)
    let logs = clicks.indices.map { i in
        LoggedDecision(action: items[i], reward: clicks[i], loggingPropensity: propensities[i],
                       targetDistribution: uniform, rewardEstimates: models[i < half ? 0 : 1])
    }
    let mean = clicks.reduce(0, +) / Double(clicks.count)
    print("obd/random/all: \(clicks.count) logged impressions, logged click rate \(fmt(mean, 5))")
    for e in [try OffPolicyEvaluation.ips(logs), try OffPolicyEvaluation.selfNormalizedIPS(logs),
              try OffPolicyEvaluation.directMethod(logs), try OffPolicyEvaluation.doublyRobust(logs)] {
        print("  uniform-random \(e.estimator): \(fmt(e.value, 5)) [\(fmt(e.lower, 5)), \(fmt(e.upper, 5))] ESS \(fmt(e.effectiveSampleSize, 0))")
    }
    // A learned policy: softmax over per-item click rates fitted on the first half (SlateExplorer's
    // first-position distribution), evaluated on the second half with a reward model from the first.
    let fitted = rates(0..<half)
    let logScores = fitted.map { log($0) }
    for temperature in [1.0, 0.5] {
        let explorer = SlateExplorer(strategy: .softmax(temperature: temperature))
        let target = explorer.positionProbabilities(scores: logScores, remaining: Array(0..<actions))
        let heldOut = (half..<clicks.count).map { i in
            LoggedDecision(action: items[i], reward: clicks[i], loggingPropensity: propensities[i],
                           targetDistribution: target, rewardEstimates: fitted)
        }
        for e in [try OffPolicyEvaluation.ips(heldOut), try OffPolicyEvaluation.selfNormalizedIPS(heldOut),
                  try OffPolicyEvaluation.directMethod(heldOut), try OffPolicyEvaluation.doublyRobust(heldOut)] {
            print("  softmax(CTR^(1/\(temperature))) on 2nd half \(e.estimator): \(fmt(e.value, 5)) [\(fmt(e.lower, 5)), \(fmt(e.upper, 5))] ESS \(fmt(e.effectiveSampleSize, 0))")
        }
    }
    let secondHalfRate = clicks[half...].reduce(0, +) / Double(clicks.count - half)
    print("  logged click rate on 2nd half: \(fmt(secondHalfRate, 5))")
}

// MARK: performance
if which == "all" || which == "perf" {
    let clock = ContinuousClock()
    var g = SeededRandom(seed: 1)
    // FTRL: user id, item id, 3 context tokens, 2 item tokens, 8 dense features -> ~45 hashed terms.
    let ctxs = (0..<1_000).map { u in
        ScoringContext(userId: "user\(u)", dense: (0..<8).map { _ in g.nextGaussian() },
                       tokens: ["device=\(u % 3)", "hour=\(u % 24)", "country=\(u % 7)"], timestamp: 0)
    }
    let items = (0..<2_000).map { ScoringCandidate(itemId: "item\($0)", tokens: ["category=\($0 % 20)", "brand=\($0 % 50)"]) }
    let feedback = (0..<300_000).map { i in
        ModelFeedback(context: ctxs[i % ctxs.count], candidate: items[Int(g.next() % 2_000)], reward: g.nextUnitDouble() < 0.1 ? 1 : 0)
    }
    var ftrl = FTRLProximal(encoder: HashedCrossEncoder(bits: 20))
    let tf = clock.measure { for f in feedback { ftrl.update(f) } }
    print("perf FTRL: \(Int(Double(feedback.count) / seconds(tf))) updates/s (\(feedback.count) updates, ~43 terms each)")

    let d = 64
    let linFeedback = (0..<100_000).map { _ in
        ModelFeedback(context: ScoringContext(userId: "u", dense: (0..<d).map { _ in g.nextGaussian() / 8 }),
                      candidate: ScoringCandidate(itemId: "shared"), reward: g.nextUnitDouble())
    }
    var lin = LinUCB(dimension: d, alpha: 0.5, vectorMap: .contextAndItem, sharing: .shared)
    let tl = clock.measure { for f in linFeedback { lin.update(f) } }
    print("perf LinUCB d=64: \(Int(Double(linFeedback.count) / seconds(tl))) updates/s (Sherman-Morrison)")
    var lts = LinearThompsonSampling(dimension: d, vectorMap: .contextAndItem, sharing: .shared)
    let tt = clock.measure { for f in linFeedback.prefix(50_000) { lts.update(f) } }
    print("perf LinearTS d=64: \(Int(50_000 / seconds(tt))) updates/s")

    // Scoring 1,000 candidates, d = 64 (32 context + 32 item features).
    let candidates = (0..<1_000).map { i in ScoringCandidate(itemId: "c\(i)", dense: (0..<32).map { _ in g.nextGaussian() / 8 }) }
    let requestCtx = ScoringContext(userId: "u", dense: (0..<32).map { _ in g.nextGaussian() / 8 })
    func latency(_ name: String, _ body: () -> [Double]) {
        var samples: [Double] = []
        var sink = 0.0
        for _ in 0..<50 { sink += body()[0] }
        for _ in 0..<1_000 {
            let t = clock.measure { sink += body()[0] }
            samples.append(seconds(t) * 1e6)
        }
        samples.sort()
        print("perf score 1000 candidates \(name): p50 \(fmt(samples[499], 1)) us, p90 \(fmt(samples[899], 1)) us, p99 \(fmt(samples[989], 1)) us (sink \(sink.isFinite))")
    }
    var rg = SeededRandom(seed: 2)
    latency("LinUCB d=64 shared") { lin.score(candidates, context: requestCtx, using: &rg) }
    latency("LinearTS d=64 shared") { lts.score(candidates, context: requestCtx, using: &rg) }
    let ftrlCandidates = (0..<1_000).map { items[$0] }
    latency("FTRL (~43 hashed terms)") { ftrl.score(ftrlCandidates, context: ctxs[0], using: &rg) }
    // The ensemble: the three d = 64 / hashed scorers over the same 1,000 candidates, one after the
    // other and in parallel (members on the cores; lists of 1,000 are not cut).
    let ensembleCandidates = (0..<1_000).map { i in
        ScoringCandidate(itemId: "c\(i)", dense: candidates[i].dense, tokens: items[i].tokens)
    }
    let members: [any ScoringModel] = [lin, lts, ftrl]
    latency("ensemble (LinUCB + LinearTS + FTRL), sequential") {
        ScoreFusion.weightedBlend(members.map { $0.score(ensembleCandidates, context: requestCtx, seed: 7) }, weights: [0.4, 0.3, 0.3])
    }
    let bandits: [any ScoringModel] = [lin, lts]
    latency("ensemble d=64 (LinUCB + LinearTS), one core") {
        ScoreFusion.weightedBlend(bandits.map { $0.score(candidates, context: requestCtx, seed: 7) }, weights: [0.5, 0.5])
    }
    latency("ensemble (LinUCB + LinearTS + FTRL), parallel") {
        ParallelEnsembleScoring.blend(members, weights: [0.4, 0.3, 0.3], candidates: ensembleCandidates, context: requestCtx, seed: 7)
    }
    var lin8 = LinUCB(dimension: 64, alpha: 0.5, vectorMap: .context, sharing: .disjoint)
    for (i, f) in linFeedback.prefix(20_000).enumerated() {
        var f = f
        f.candidate = ScoringCandidate(itemId: "arm\(i % 10)")
        lin8.update(f)
    }
    let arms = (0..<10).map { ScoringCandidate(itemId: "arm\($0)") }
    latency("(10 arms) LinUCB d=64 disjoint") { lin8.score(arms, context: linFeedback[0].context, using: &rg) }
}
