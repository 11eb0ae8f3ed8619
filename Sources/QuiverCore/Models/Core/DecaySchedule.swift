// DecaySchedule: how a rate (exploration epsilon, learning rate) shrinks with experience.
// Invariant: value(at:) is pure, non-increasing in t and never below `floor`; schedules are
// plain values so they appear verbatim in model status and snapshots.

import Foundation  // exp, pow

/// A rate as a function of a step count `t` (updates, visits).
public enum DecaySchedule: Sendable, Hashable {
    /// Always `value`.
    case constant(Double)
    /// `max(floor, initial / (1 + t / scale))`.
    case inverse(initial: Double, scale: Double, floor: Double)
    /// `max(floor, initial * 0.5^(t / halfLife))`.
    case exponential(initial: Double, halfLife: Double, floor: Double)
    /// `max(floor, initial / (1 + t)^power)` — power in (0.5, 1] gives Robbins–Monro learning rates.
    case polynomial(initial: Double, power: Double, floor: Double)

    /// The rate after `t` steps.
    public func value(at t: Double) -> Double {
        switch self {
        case .constant(let v):
            return v
        case .inverse(let initial, let scale, let floor):
            return max(floor, initial / (1 + t / max(scale, .leastNonzeroMagnitude)))
        case .exponential(let initial, let halfLife, let floor):
            return max(floor, initial * pow(0.5, t / max(halfLife, .leastNonzeroMagnitude)))
        case .polynomial(let initial, let power, let floor):
            return max(floor, initial / pow(1 + t, power))
        }
    }

    /// Human-readable form for model status.
    public var summary: String {
        switch self {
        case .constant(let v): return "constant(\(v))"
        case .inverse(let i, let s, let f): return "inverse(initial: \(i), scale: \(s), floor: \(f))"
        case .exponential(let i, let h, let f): return "exponential(initial: \(i), halfLife: \(h), floor: \(f))"
        case .polynomial(let i, let p, let f): return "polynomial(initial: \(i), power: \(p), floor: \(f))"
        }
    }
}

extension ModelSnapshotWriter {
    /// Writes a schedule as a tag and three parameters.
    public mutating func write(_ schedule: DecaySchedule) {
        switch schedule {
        case .constant(let v): write(0); write(v); write(0.0); write(0.0)
        case .inverse(let a, let b, let c): write(1); write(a); write(b); write(c)
        case .exponential(let a, let b, let c): write(2); write(a); write(b); write(c)
        case .polynomial(let a, let b, let c): write(3); write(a); write(b); write(c)
        }
    }
}

extension ModelSnapshotReader {
    /// Reads what `write(_: DecaySchedule)` wrote.
    public mutating func readSchedule() throws -> DecaySchedule {
        let tag = try readInt()
        let a = try readDouble(), b = try readDouble(), c = try readDouble()
        switch tag {
        case 0: return .constant(a)
        case 1: return .inverse(initial: a, scale: b, floor: c)
        case 2: return .exponential(initial: a, halfLife: b, floor: c)
        case 3: return .polynomial(initial: a, power: b, floor: c)
        default: throw ModelSnapshotError.invalid("unknown schedule tag \(tag)")
        }
    }
}
