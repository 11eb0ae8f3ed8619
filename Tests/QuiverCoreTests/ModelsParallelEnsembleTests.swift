// ParallelEnsembleScoring: members scored at once and long lists cut into chunks give exactly the
// scores of sequential scoring (deterministic members), sampling members are never cut and draw
// from their own seeded generator (the same result on every run, whatever the number of cores),
// and the blend equals ScoreFusion over the sequential scores.
import Testing
@testable import QuiverCore

@Suite struct ModelsParallelEnsembleTests {
    static func trainedMembers() -> (members: [any ScoringModel], candidates: [ScoringCandidate], context: ScoringContext) {
        var g = SeededRandom(seed: 5)
        let candidates = (0..<3_000).map { i in
            ScoringCandidate(itemId: "c\(i)", dense: (0..<8).map { _ in g.nextGaussian() }, tokens: ["category=\(i % 17)"])
        }
        let context = ScoringContext(userId: "u1", dense: (0..<8).map { _ in g.nextGaussian() }, tokens: ["device=tv"], timestamp: 0)
        var ftrl = FTRLProximal(encoder: HashedCrossEncoder(bits: 16))
        var lin = LinUCB(dimension: 16, alpha: 0.5, vectorMap: .contextAndItem, sharing: .shared)
        var ts = LinearThompsonSampling(dimension: 16, vectorMap: .contextAndItem, sharing: .shared)
        for k in 0..<2_000 {
            let feedback = ModelFeedback(context: context, candidate: candidates[k % 300], reward: k % 3 == 0 ? 1 : 0)
            ftrl.update(feedback)
            lin.update(feedback)
            ts.update(feedback)
        }
        return ([ftrl, lin, ts], candidates, context)
    }

    @Test func equalsSequentialScoring() {
        let (members, candidates, context) = Self.trainedMembers()
        let parallel = ParallelEnsembleScoring.scores(members, candidates: candidates, context: context, seed: 9, chunkSize: 700)
        #expect(parallel.count == 3 && parallel.allSatisfy { $0.count == candidates.count && $0.allSatisfy(\.isFinite) })
        // Deterministic members, cut into five chunks: the very same numbers as one sequential call.
        #expect(parallel[0] == members[0].score(candidates, context: context))
        #expect(parallel[1].indices.allSatisfy { abs(parallel[1][$0] - members[1].score(candidates, context: context)[$0]) < 1e-12 })
        // The sampling member is scored whole, from the generator of (seed, member 2, chunk 0).
        #expect(!members[2].scoresCandidatesIndependently)
        var generator = SeededRandom(seed: 9 ^ (2 &* 0x9E37_79B9_7F4A_7C15))
        #expect(parallel[2] == members[2].score(candidates, context: context, using: &generator))
        // The same again on a second run, and with another chunk size for the deterministic ones.
        #expect(ParallelEnsembleScoring.scores(members, candidates: candidates, context: context, seed: 9, chunkSize: 700) == parallel)
        let otherChunks = ParallelEnsembleScoring.scores(members, candidates: candidates, context: context, seed: 9, chunkSize: 128)
        #expect(otherChunks[0] == parallel[0] && otherChunks[2] == parallel[2])
    }

    @Test func blendEqualsScoreFusionOfTheMembers() {
        let (members, candidates, context) = Self.trainedMembers()
        let weights = [0.5, 0.3, 0.2]
        let blended = ParallelEnsembleScoring.blend(members, weights: weights, candidates: candidates, context: context, seed: 3)
        let perModel = ParallelEnsembleScoring.scores(members, candidates: candidates, context: context, seed: 3)
        #expect(blended == ScoreFusion.weightedBlend(perModel, weights: weights))
        #expect(ParallelEnsembleScoring.scores(members, candidates: [], context: context, seed: 3) == [[], [], []])
        #expect(ParallelEnsembleScoring.scores([], candidates: candidates, context: context, seed: 3).isEmpty)
    }
}
