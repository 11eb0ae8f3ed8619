// The online embedding model (ImplicitMatrixFactorization): it learns the structure of a synthetic
// implicit data set and follows a user's recent items; it is deterministic under a seed; its
// snapshots round-trip mid-stream, old format-1 snapshots still load, and bad bytes throw.

import Testing
@testable import QuiverCore

@Suite struct ModelsEmbeddingTests {
    static func positive(_ user: String, _ item: String) -> ModelFeedback {
        ModelFeedback(context: ScoringContext(userId: user), candidate: ScoringCandidate(itemId: item), reward: 1)
    }

    /// 8 taste groups of 20 items; each of 240 users engages with 12 items, 11 of them from their
    /// group (one random item outside it), in random order. Returns the stream and each user's held-out
    /// in-group item (never shown) and the items the user saw.
    static func tasteGroups(seed: UInt64) -> (stream: [ModelFeedback], heldOut: [String: String], seen: [String: Set<String>]) {
        var g = SeededRandom(seed: seed)
        var perUser: [[ModelFeedback]] = []
        var heldOut: [String: String] = [:]
        var seen: [String: Set<String>] = [:]
        for u in 0..<240 {
            let user = "u\(u)", group = u % 8
            var items = Array(0..<20).map { "g\(group)-\($0)" }
            items.shuffle(using: &g)
            heldOut[user] = items.removeLast()
            var chosen = Array(items.prefix(11))
            chosen.append("g\((group + 1 + Int(g.next() % 7)) % 8)-\(g.next() % 20)")
            chosen.shuffle(using: &g)
            seen[user] = Set(chosen)
            perUser.append(chosen.map { positive(user, $0) })
        }
        // Interleave users as a live stream would.
        var stream: [ModelFeedback] = []
        var cursors = [Int](repeating: 0, count: perUser.count)
        while stream.count < perUser.reduce(0, { $0 + $1.count }) {
            let u = Int(g.next() % UInt64(perUser.count))
            if cursors[u] < perUser[u].count { stream.append(perUser[u][cursors[u]]); cursors[u] += 1 }
        }
        return (stream, heldOut, seen)
    }

    /// Share of (held-out positive, random unseen item) pairs the model orders correctly (AUC).
    static func heldOutAUC(_ model: ImplicitMatrixFactorization, heldOut: [String: String],
                           seen: [String: Set<String>]) -> Double {
        let catalog = (0..<8).flatMap { group in (0..<20).map { "g\(group)-\($0)" } }
        var g = SeededRandom(seed: 99)
        var right = 0.0, pairs = 0.0
        for (user, item) in heldOut.sorted(by: { $0.key < $1.key }) {
            let scores = model.scores(forUser: user)
            for _ in 0..<20 {
                let other = catalog[Int(g.next() % UInt64(catalog.count))]
                if other == item || seen[user]!.contains(other) { continue }
                let (a, b) = (scores.score(item), scores.score(other))
                right += a > b ? 1 : a == b ? 0.5 : 0
                pairs += 1
            }
        }
        return right / pairs
    }

    @Test func ranksHeldOutPositivesAboveRandomItems() {
        let data = Self.tasteGroups(seed: 5)
        var model = ImplicitMatrixFactorization(factors: 16, seed: 3)
        let untrained = Self.heldOutAUC(model, heldOut: data.heldOut, seen: data.seen)
        model.update(batch: data.stream)
        let auc = Self.heldOutAUC(model, heldOut: data.heldOut, seen: data.seen)
        #expect(abs(untrained - 0.5) < 0.05)
        #expect(auc > 0.85, "held-out AUC \(auc)")
    }

    @Test func followsTheUsersRecentItems() {
        // Everyone teaches the groups; then one user moves from group 0 to group 1.
        let data = Self.tasteGroups(seed: 6)
        var model = ImplicitMatrixFactorization(factors: 16, seed: 4)
        model.update(batch: data.stream)
        for n in 0..<14 { model.update(Self.positive("mover", "g0-\(n)")) }
        for n in 0..<6 { model.update(Self.positive("mover", "g1-\(n)")) }
        let scores = model.scores(forUser: "mover")
        let groupOne = (6..<20).map { scores.score("g1-\($0)") }.reduce(0, +) / 14
        let groupZero = (14..<20).map { scores.score("g0-\($0)") }.reduce(0, +) / 6
        #expect(groupOne > groupZero)
        // The newest items lead what speaks for a group-1 item, and the terms add up to the score.
        let why = model.explain(ScoringCandidate(itemId: "g1-10"), context: ScoringContext(userId: "mover"))
        #expect(why.contributions.first { $0.value > 0 }?.name == "recently engaged with g1-5")
        // The catalog scan runs in single precision: within 1e-5 of the exact score.
        #expect(abs(why.score - scores.score("g1-10")) < 1e-5 * max(1, abs(why.score)))
        #expect(abs(why.contributions.map(\.value).reduce(0, +) - why.score) < 1e-9)
    }

    @Test func isDeterministicUnderASeed() {
        let stream = Self.tasteGroups(seed: 7).stream
        var a = ImplicitMatrixFactorization(factors: 8, seed: 11)
        var b = ImplicitMatrixFactorization(factors: 8, seed: 11)
        var c = ImplicitMatrixFactorization(factors: 8, seed: 12)
        a.update(batch: stream); b.update(batch: stream); c.update(batch: stream)
        #expect(a.snapshot() == b.snapshot())
        #expect(a.snapshot() != c.snapshot())
    }

    @Test func learnsInOnePassWhatPlainOnlineBPRNeedsThreeFor() {
        // Plain settings: no recent items, uniform negatives, no replay (classic online BPR-MF).
        let data = Self.tasteGroups(seed: 5)
        var model = ImplicitMatrixFactorization(factors: 16, seed: 3)
        model.update(batch: data.stream)
        var plain = ImplicitMatrixFactorization(factors: 16, learningRate: .constant(0.05), negativeCandidates: 1,
                                                historyLength: 0, replaySteps: 0, seed: 3)
        plain.update(batch: data.stream)
        let onePass = Self.heldOutAUC(plain, heldOut: data.heldOut, seen: data.seen)
        plain.update(batch: data.stream)
        plain.update(batch: data.stream)
        let threePasses = Self.heldOutAUC(plain, heldOut: data.heldOut, seen: data.seen)
        #expect(Self.heldOutAUC(model, heldOut: data.heldOut, seen: data.seen) > onePass + 0.3)
        #expect(threePasses > 0.9, "plain BPR, three passes: AUC \(threePasses)")
        #expect(plain.explain(ScoringCandidate(itemId: "g0-1"), context: ScoringContext(userId: "u0")).contributions.count == 2)
    }

    @Test func snapshotMidStreamContinuesTheExactStream() throws {
        let stream = Self.tasteGroups(seed: 9).stream
        var model = ImplicitMatrixFactorization(factors: 8, replayWindow: 100, seed: 2)  // the window wraps
        model.update(batch: Array(stream[..<1_500]))
        var restored = try ImplicitMatrixFactorization(snapshot: model.snapshot())
        #expect(restored.snapshot() == model.snapshot())
        #expect(restored.describe() == model.describe())
        model.update(batch: Array(stream[1_500...]))
        restored.update(batch: Array(stream[1_500...]))
        #expect(restored.snapshot() == model.snapshot())
        #expect(restored.userEmbedding("u3") == model.userEmbedding("u3"))
    }

    /// A format-1 snapshot as the history-free model wrote it: settings, generator, update count,
    /// ids, p, q, b.
    static func formatOneSnapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: ImplicitMatrixFactorization.modelName, version: 1)
        w.write(2)                                                          // factors
        w.write(DecaySchedule.inverse(initial: 0.05, scale: 200_000, floor: 0.005))
        w.write(0.01)                                                       // regularization
        w.write(4)                                                          // negative samples
        for word in SeededRandom(seed: 42).stateWords { w.write(word) }
        w.write(3)                                                          // update count
        w.write(["alice", "bob"]); w.write(["x", "y", "z"])
        w.write([1.0, 0.5, -1.0, 2.0])                                      // p: alice, bob
        w.write([0.5, 0.5, 1.0, -1.0, 0.0, 2.0])                            // q: x, y, z
        w.write([0.1, 0.2, 0.3])                                            // b
        return w.bytes
    }

    @Test func readsFormatOneAndScoresAsItDid() throws {
        var model = try ImplicitMatrixFactorization(snapshot: Self.formatOneSnapshot())
        let candidates = ["x", "y", "z", "new"].map { ScoringCandidate(itemId: $0) }
        var g = SeededRandom(seed: 1)
        func expectScores(_ user: String, _ expected: [Double]) {
            let scores = model.score(candidates, context: ScoringContext(userId: user), using: &g)
            #expect(zip(scores, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(user): \(scores)")
        }
        // b_i + p_u . q_i with the format-1 numbers (no recent items yet).
        expectScores("alice", [0.85, 0.7, 1.3, 0])
        expectScores("bob", [0.6, -2.8, 4.3, 0])
        expectScores("carol", [0.1, 0.2, 0.3, 0])
        #expect(model.describe().updateCount == 3)
        #expect(model.describe().parameters["regularization"] == "0.01")
        #expect(model.describe().parameters["history_length"] == "16")
        // It learns on and writes the current format.
        model.update(Self.positive("alice", "z"))
        model.update(Self.positive("alice", "y"))
        let bytes = model.snapshot()
        #expect(Array(bytes[4..<6]) == [UInt8(ImplicitMatrixFactorization.formatVersion), 0])
        #expect(try ImplicitMatrixFactorization(snapshot: bytes).snapshot() == bytes)
    }

    /// The single-precision rows the catalog scan reads stay in step with q through learning
    /// (positives, negatives, replays, new items) and after a snapshot round trip.
    /// 24 factors: whole groups of four partial sums; 7: a remainder. 120 items: a partial block.
    @Test(arguments: [24, 7])
    func catalogScanMatchesExactScoresThroughLearningAndRestore(factors: Int) throws {
        var model = ImplicitMatrixFactorization(factors: factors, seed: 5)
        var g = SeededRandom(seed: 17)
        func check(_ model: ImplicitMatrixFactorization) {
            let items = (0..<120).map { ScoringCandidate(itemId: "i\($0)") }
            var r = SeededRandom(seed: 1)
            for user in ["u0", "u3", "u7", "nobody"] {
                let exact = model.score(items, context: ScoringContext(userId: user), using: &r)
                let scanned = model.scores(forUser: user)
                for (item, value) in zip(items, exact) {
                    #expect(abs(scanned.score(item.itemId) - value) < 1e-5 * max(1, abs(value)), "\(user) \(item.itemId)")
                }
            }
        }
        for step in 0..<3_000 {
            model.update(Self.positive("u\(g.next() % 10)", "i\(g.next() % UInt64(20 + step / 30))"))
        }
        check(model)
        let restored = try ImplicitMatrixFactorization(snapshot: model.snapshot())
        check(restored)
        #expect(restored.scores(forUser: "u3").bySlot == model.scores(forUser: "u3").bySlot)
    }

    @Test func explanationLimitKeepsTheLargestTerms() {
        var model = ImplicitMatrixFactorization(factors: 8, seed: 3)
        for n in 0..<12 { model.update(Self.positive("ann", "i\(n)")) }
        let candidate = ScoringCandidate(itemId: "i4"), context = ScoringContext(userId: "ann")
        let full = model.explain(candidate, context: context)
        let top = model.explain(candidate, context: context, limit: 3)
        #expect(full.contributions.count > 3)
        #expect(top.contributions == Array(full.contributions.prefix(3)))
        #expect(top.score == full.score)
    }

    @Test func corruptedHistoryOrWindowThrows() throws {
        var model = ImplicitMatrixFactorization(factors: 2, seed: 1)
        model.update(batch: [Self.positive("a", "x"), Self.positive("a", "y"), Self.positive("b", "x")])
        let bytes = model.snapshot()
        // The last 8 bytes are the newest window pair (b, x): user slot 1, item slot 0.
        var badUser = bytes
        badUser[bytes.count - 8] = 9
        #expect(throws: ModelSnapshotError.self) { try ImplicitMatrixFactorization(snapshot: badUser) }
        var badItem = bytes
        badItem[bytes.count - 4] = 7
        #expect(throws: ModelSnapshotError.self) { try ImplicitMatrixFactorization(snapshot: badItem) }
        for cut in 1..<40 {
            #expect(throws: ModelSnapshotError.self) { try ImplicitMatrixFactorization(snapshot: Array(bytes.dropLast(cut))) }
        }
    }

    @Test func recentHistoryKeepsTheNewestDistinctItems() {
        var history = RecentItemHistory(capacity: 3)
        history.appendUser(); history.appendUser()
        for item: Int32 in [1, 2, 3, 4] { history.record(item, for: 0) }
        #expect(Array(history.items(of: 0)) == [2, 3, 4])
        history.record(3, for: 0)
        #expect(Array(history.items(of: 0)) == [2, 4, 3])
        history.record(7, for: 1)
        #expect(Array(history.items(of: 1)) == [7])
        #expect(Array(history.items(of: 0)) == [2, 4, 3])
        var none = RecentItemHistory(capacity: 0)
        none.appendUser()
        none.record(1, for: 0)
        #expect(none.items(of: 0).isEmpty)
    }

    @Test func replayWindowOverwritesTheOldestPair() {
        var window = InteractionReplayWindow(capacity: 2)
        window.append(user: 0, item: 5)
        window.append(user: 1, item: 6)
        window.append(user: 2, item: 7)
        #expect(window.count == 2)
        #expect(window[0] == (2, 7) && window[1] == (1, 6))
    }
}
