// ParallelEnsembleScoring: an ensemble's members score a candidate list at the same time, one per
// core, and a long list is cut into fixed-size chunks scored in parallel too (for members whose
// score of a candidate depends on that candidate alone). The result is the same as scoring
// sequentially: every (member, chunk) draws from its own generator, seeded from the caller's
// seed, the member's position and the chunk's position, so the answer does not depend on how
// many cores ran it. Dispatch's concurrentPerform runs the work; this is computation, not I/O.
import Dispatch

public enum ParallelEnsembleScoring {
    /// Candidates per chunk when a member's list is partitioned (lists up to this long are not cut).
    public static let defaultChunkSize = 1_024

    /// Every member's scores of `candidates` (one list per member, in member order).
    /// - Parameters:
    ///   - seed: seeds the generators of sampling members (Thompson); deterministic members ignore it.
    ///   - chunkSize: the partition size for members with `scoresCandidatesIndependently`.
    public static func scores(_ members: [any ScoringModel], candidates: [ScoringCandidate], context: ScoringContext,
                              seed: UInt64, chunkSize: Int = defaultChunkSize) -> [[Double]] {
        let n = candidates.count
        guard !members.isEmpty, n > 0 else { return members.map { _ in [] } }
        let size = max(1, chunkSize)
        // The work: (member, range) pairs.
        var work: [(member: Int, chunk: Int, range: Range<Int>)] = []
        for (m, member) in members.enumerated() {
            if member.scoresCandidatesIndependently && n > size {
                for (c, start) in stride(from: 0, to: n, by: size).enumerated() { work.append((m, c, start..<min(n, start + size))) }
            } else {
                work.append((m, 0, 0..<n))
            }
        }
        let results = ScoreBuffers(members: members.count, count: n)
        let plan = work
        DispatchQueue.concurrentPerform(iterations: plan.count) { i in
            let item = plan[i]
            let chunkSeed = seed ^ (UInt64(item.member) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(item.chunk) &* 0xC2B2_AE3D_27D4_EB4F)
            let part = item.range.count == n ? candidates : Array(candidates[item.range])
            let scores = members[item.member].score(part, context: context, seed: chunkSeed)
            results.write(scores, member: item.member, at: item.range.lowerBound)
        }
        return results.lists()
    }

    /// The weighted blend of the members' normalised scores (`ScoreFusion.weightedBlend`), the
    /// members scored in parallel.
    public static func blend(_ members: [any ScoringModel], weights: [Double], candidates: [ScoringCandidate],
                             context: ScoringContext, seed: UInt64, normalization: ScoreNormalization = .minMax,
                             chunkSize: Int = defaultChunkSize) -> [Double] {
        ScoreFusion.weightedBlend(scores(members, candidates: candidates, context: context, seed: seed, chunkSize: chunkSize),
                                  weights: weights, normalization: normalization)
    }
}

/// One score buffer per member, written by many threads at disjoint ranges, then read once
/// every writer has finished (concurrentPerform returns only then).
private final class ScoreBuffers: @unchecked Sendable {
    private let buffers: [UnsafeMutableBufferPointer<Double>]

    init(members: Int, count: Int) {
        buffers = (0..<members).map { _ in
            let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
            buffer.initialize(repeating: .nan)
            return buffer
        }
    }

    deinit { buffers.forEach { $0.deallocate() } }

    func write(_ scores: [Double], member: Int, at offset: Int) {
        let buffer = buffers[member]
        for (i, score) in scores.enumerated() where offset + i < buffer.count { buffer[offset + i] = score }
    }

    func lists() -> [[Double]] { buffers.map { Array($0) } }
}
