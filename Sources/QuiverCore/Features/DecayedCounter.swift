// DecayedCounter: an exponentially time-decayed counter, c(t) = sum_i w_i * 2^(-(t - t_i) / h)
// for half-life h. It stores the value at a reference time and rescales on write, so any order of
// events (late, out-of-order, backfilled months ago) gives the same result up to rounding.
// Invariant: `reference` is the newest event time seen; `value` is c(reference).
import Foundation

/// An exponentially decayed event counter with a half-life.
public struct DecayedCounter: Hashable, Sendable, Codable {
    /// Half-life in seconds.
    public let halfLife: Double
    private var value: Double = 0
    private var reference: Double = -.infinity

    /// Creates an empty counter with `halfLife` seconds.
    public init(halfLife: Double) {
        self.halfLife = halfLife
    }

    /// Adds `weight` at `time`.
    public mutating func add(_ weight: Double = 1, at time: Double) {
        Self.fold(value: &value, reference: &reference, weight: weight, time: time, halfLife: halfLife)
    }

    /// The decayed value at `now` (events after `now` count with a weight above one).
    public func value(at now: Double) -> Double {
        guard reference != -.infinity else { return 0 }
        return value * decay(now - reference)
    }

    @inline(__always)
    private func decay(_ elapsed: Double) -> Double {
        Self.decay(elapsed, halfLife: halfLife)
    }

    @inline(__always)
    static func decay(_ elapsed: Double, halfLife: Double) -> Double {
        exp(-elapsed * (0.693_147_180_559_945_3 / halfLife))
    }

    /// Folds `weight` at `time` into a (value, reference) pair kept elsewhere (e.g. in the header
    /// slots of a `WindowBucketStore`); the same arithmetic as `add(_:at:)`.
    @inline(__always)
    static func fold(value: inout Double, reference: inout Double, weight: Double, time: Double, halfLife: Double) {
        if reference == -.infinity {
            value = weight
            reference = time
        } else if time >= reference {
            value = value * decay(time - reference, halfLife: halfLife) + weight
            reference = time
        } else {
            value += weight * decay(reference - time, halfLife: halfLife)
        }
    }

    /// The value at `now` of a (value, reference) pair maintained by `fold`.
    @inline(__always)
    static func value(_ value: Double, reference: Double, halfLife: Double, at now: Double) -> Double {
        reference == -.infinity ? 0 : value * decay(now - reference, halfLife: halfLife)
    }
}
