// Test-only helpers for the feature engine tests: a seeded generator and random event streams with
// late and out-of-order events. Names carry a Feature prefix to stay apart from other suites.
@testable import QuiverCore

/// A small seeded generator (SplitMix-style) for feature property tests.
struct FeatureTestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// One event of a reference stream.
struct FeatureTestEvent {
    var time: Double
    var value: Double
    var item: String
}

/// A random stream: mostly increasing time with jitter, some late events and a few far-back ones.
func featureRandomStream(seed: UInt64, count: Int, start: Double = 1_764_000_000, step: Double = 7,
                         items: Int = 40) -> [FeatureTestEvent] {
    var rng = FeatureTestRandom(seed: seed)
    var clock = start
    return (0..<count).map { _ in
        clock += rng.unit() * step
        var t = clock
        switch rng.below(10) {
        case 0: t -= rng.unit() * 600            // late by up to 10 minutes
        case 1: t -= rng.unit() * 3 * 86_400     // backfilled up to 3 days
        default: break
        }
        return FeatureTestEvent(time: t, value: (rng.unit() * 20 - 5).rounded(), item: "item-\(rng.below(items))")
    }
}
