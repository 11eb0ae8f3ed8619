// PerformanceAdaptiveRate: a rate that follows the amount of data (a DecaySchedule over the update
// count) and also measured performance: it compares a fast and a slow moving average of the
// rewards observed, and when the recent reward falls below the long-run level (the world changed,
// or the policy is in a bad phase) it raises the rate toward `ceiling` in proportion to the drop;
// when performance recovers the boost fades with the fast average. Used for exploration (epsilon):
// a bandit that stopped exploring starts again when what it exploits stops paying.
// Invariant: pure value type; rate(at:) is within [schedule's value, max(ceiling, schedule's value)].

public struct PerformanceAdaptiveRate: Sendable, Hashable {
    /// The rate by experience alone.
    public var schedule: DecaySchedule
    /// The highest rate a drop in performance can raise it to.
    public var ceiling: Double
    /// A relative drop of the fast average below the slow one by this much gives the full boost;
    /// drops up to `deadZone` (the noise of a short average) give none.
    public var tolerance: Double
    public var deadZone: Double
    /// Weights of the newest reward in the fast and the slow moving averages.
    public var fastWeight: Double
    public var slowWeight: Double
    public private(set) var fastAverage = 0.0
    public private(set) var slowAverage = 0.0
    public private(set) var observations = 0

    public init(schedule: DecaySchedule, ceiling: Double = 0.3, tolerance: Double = 0.4, deadZone: Double = 0.1,
                fastWeight: Double = 0.01, slowWeight: Double = 0.001) {
        self.schedule = schedule
        self.ceiling = ceiling
        self.deadZone = min(max(0, deadZone), 0.99)
        self.tolerance = max(self.deadZone + 1e-9, tolerance)
        self.fastWeight = min(1, max(1e-6, fastWeight))
        self.slowWeight = min(1, max(1e-6, slowWeight))
    }

    /// Records one observed reward.
    public mutating func observe(reward: Double) {
        guard reward.isFinite else { return }
        if observations == 0 {
            fastAverage = reward
            slowAverage = reward
        } else {
            fastAverage += fastWeight * (reward - fastAverage)
            slowAverage += slowWeight * (reward - slowAverage)
        }
        observations += 1
    }

    /// How far recent performance is below the long-run level, in [0, 1] (0: not below).
    public var boost: Double {
        // Until the slow average has seen enough to mean something, no boost.
        guard Double(observations) * slowWeight >= 1 else { return 0 }
        let drop = (slowAverage - fastAverage) / max(abs(slowAverage), 1e-9)
        return min(1, max(0, (drop - deadZone) / (tolerance - deadZone)))
    }

    /// The rate after `t` updates.
    public func rate(at t: Double) -> Double {
        let base = schedule.value(at: t)
        return base + boost * max(0, ceiling - base)
    }

    public var summary: String {
        "adaptive(\(schedule.summary), ceiling: \(ceiling), tolerance: \(tolerance), dead zone: \(deadZone), fast: \(fastAverage), slow: \(slowAverage), boost: \(boost))"
    }
}

extension ModelSnapshotWriter {
    public mutating func write(_ rate: PerformanceAdaptiveRate) {
        write(rate.schedule)
        for value in [rate.ceiling, rate.tolerance, rate.deadZone, rate.fastWeight, rate.slowWeight, rate.fastAverage, rate.slowAverage] { write(value) }
        write(rate.observations)
    }
}

extension ModelSnapshotReader {
    public mutating func readAdaptiveRate() throws -> PerformanceAdaptiveRate {
        var rate = PerformanceAdaptiveRate(schedule: try readSchedule(), ceiling: try readDouble(), tolerance: try readDouble(),
                                           deadZone: try readDouble(), fastWeight: try readDouble(), slowWeight: try readDouble())
        rate.restore(fast: try readDouble(), slow: try readDouble(), observations: try readInt())
        return rate
    }
}

extension PerformanceAdaptiveRate {
    mutating func restore(fast: Double, slow: Double, observations: Int) {
        fastAverage = fast
        slowAverage = slow
        self.observations = max(0, observations)
    }
}
