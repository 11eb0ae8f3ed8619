// SeededRandom: the one source of randomness for models — xoshiro256** seeded through SplitMix64.
// Invariant: the same seed yields the same stream on every platform, so replays and tests are
// exactly reproducible. Callers pass a generator into scoring; the one model that samples while
// learning (BPR matrix factorisation) owns one built from a seed it is given, saved in snapshots.

import Foundation  // log, cos, pow: the stdlib has no elementary math functions

/// A fast, seedable pseudo-random generator (xoshiro256**, state expanded from a seed by SplitMix64).
///
/// Not cryptographically secure. Value type: copying it forks the stream.
public struct SeededRandom: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Creates a generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = SeededRandom.splitMix64(&sm)
        s1 = SeededRandom.splitMix64(&sm)
        s2 = SeededRandom.splitMix64(&sm)
        s3 = SeededRandom.splitMix64(&sm)
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }
    }

    /// Restores a generator from `stateWords` (exact continuation of a saved stream).
    public init?(stateWords: [UInt64]) {
        guard stateWords.count == 4, stateWords.contains(where: { $0 != 0 }) else { return nil }
        s0 = stateWords[0]
        s1 = stateWords[1]
        s2 = stateWords[2]
        s3 = stateWords[3]
    }

    /// The four state words, for snapshots.
    public var stateWords: [UInt64] { [s0, s1, s2, s3] }

    /// One SplitMix64 step; also useful on its own as a 64-bit mixing (hash finaliser) function.
    @inlinable
    public static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }
}

extension RandomNumberGenerator {
    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal sample (Box–Muller; one of the pair is discarded to keep the state simple).
    @inlinable
    public mutating func nextGaussian() -> Double {
        var u1 = nextUnitDouble()
        while u1 <= .leastNormalMagnitude { u1 = nextUnitDouble() }
        let u2 = nextUnitDouble()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// A Gamma(shape, 1) sample (Marsaglia–Tsang; shape < 1 boosted by U^(1/shape)).
    public mutating func nextGamma(shape: Double) -> Double {
        precondition(shape > 0, "Gamma shape must be positive")
        if shape < 1 {
            let u = nextUnitDouble()
            return nextGamma(shape: shape + 1) * pow(u, 1.0 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1.0 / (9.0 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = nextGaussian()
                v = 1.0 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextUnitDouble()
            if u < 1.0 - 0.0331 * x * x * x * x { return d * v }
            if log(u) < 0.5 * x * x + d * (1.0 - v + log(v)) { return d * v }
        }
    }

    /// A Beta(alpha, beta) sample built from two Gamma samples.
    public mutating func nextBeta(alpha: Double, beta: Double) -> Double {
        let x = nextGamma(shape: alpha)
        let y = nextGamma(shape: beta)
        return x / (x + y)
    }
}
