// LinearArmPosterior: ridge-regression posterior of one linear arm, kept as A^{-1}, b and theta.
// Design: A = lambda I + sum x x^T is never stored or inverted; each observation applies the
// Sherman–Morrison identity A'^{-1} = A^{-1} - (A^{-1}x)(A^{-1}x)^T / (1 + x^T A^{-1} x) in O(d^2),
// and theta follows by the recursive-least-squares step theta' = theta + A^{-1}x (r - x.theta) /
// (1 + x^T A^{-1} x) in O(d). Every `refreshInterval` updates theta is recomputed as A^{-1} b to
// stop floating-point drift. Invariant: aInverse stays symmetric positive definite.

/// Posterior state of one arm of a linear bandit (LinUCB, linear Thompson sampling).
public struct LinearArmPosterior: Sendable, Hashable {
    public static let refreshInterval = 256

    public let dimension: Int
    /// A^{-1}, row-major d x d.
    public private(set) var aInverse: [Double]
    /// b = sum r x.
    public private(set) var b: [Double]
    /// theta = A^{-1} b, the ridge estimate.
    public private(set) var theta: [Double]
    public private(set) var observations: Int = 0

    /// A fresh arm with prior A = regularization * I.
    public init(dimension: Int, regularization: Double) {
        precondition(dimension > 0 && regularization > 0, "dimension and regularization must be positive")
        self.dimension = dimension
        aInverse = [Double](repeating: 0, count: dimension * dimension)
        for i in 0..<dimension { aInverse[i * dimension + i] = 1 / regularization }
        b = [Double](repeating: 0, count: dimension)
        theta = b
    }

    init(dimension: Int, aInverse: [Double], b: [Double], theta: [Double], observations: Int) {
        self.dimension = dimension
        self.aInverse = aInverse
        self.b = b
        self.theta = theta
        self.observations = observations
    }

    /// Adds the observation (x, reward): O(d^2).
    public mutating func update(_ x: [Double], reward: Double) {
        let d = dimension
        precondition(x.count == d, "feature vector has the wrong dimension")
        var u = [Double](repeating: 0, count: d)
        x.withUnsafeBufferPointer { px in
            aInverse.withUnsafeBufferPointer { m in
                u.withUnsafeMutableBufferPointer { DenseLinearAlgebra.multiply(m, px, into: $0, dimension: d) }
            }
        }
        let denominator = 1 + DenseLinearAlgebra.dot(x, u)
        let residual = reward - DenseLinearAlgebra.dot(x, theta)
        let step = residual / denominator
        u.withUnsafeBufferPointer { pu in
            aInverse.withUnsafeMutableBufferPointer { m in
                for i in 0..<d {
                    let f = pu[i] / denominator
                    if f == 0 { continue }
                    let row = i * d
                    for j in 0..<d { m[row + j] -= f * pu[j] }
                }
            }
            theta.withUnsafeMutableBufferPointer { t in
                for i in 0..<d { t[i] += pu[i] * step }
            }
            b.withUnsafeMutableBufferPointer { pb in
                for i in 0..<d { pb[i] += reward * x[i] }
            }
        }
        observations += 1
        if observations % Self.refreshInterval == 0 { refreshTheta() }
    }

    /// Recomputes theta = A^{-1} b exactly.
    public mutating func refreshTheta() {
        let d = dimension
        var t = [Double](repeating: 0, count: d)
        aInverse.withUnsafeBufferPointer { m in
            b.withUnsafeBufferPointer { pb in
                t.withUnsafeMutableBufferPointer { DenseLinearAlgebra.multiply(m, pb, into: $0, dimension: d) }
            }
        }
        theta = t
    }

    /// Posterior mean reward theta . x.
    @inlinable
    public func mean(_ x: UnsafeBufferPointer<Double>) -> Double {
        theta.withUnsafeBufferPointer { DenseLinearAlgebra.dot($0, x) }
    }

    /// x^T A^{-1} x: the (unscaled) posterior variance of x . theta.
    @inlinable
    public func variance(_ x: UnsafeBufferPointer<Double>) -> Double {
        aInverse.withUnsafeBufferPointer {
            max(0, DenseLinearAlgebra.symmetricQuadraticForm($0, x, dimension: dimension))
        }
    }

    /// A sampler of theta ~ N(theta, scale^2 A^{-1}); factorises A^{-1} once (O(d^3)).
    public func thetaSampler(scale: Double) -> LinearThetaSampler {
        let l = DenseLinearAlgebra.choleskyLower(aInverse, dimension: dimension)
            ?? DenseLinearAlgebra.choleskyLower(
                aInverse.enumerated().map { $0.offset % (dimension + 1) == 0 ? $0.element + 1e-9 : $0.element },
                dimension: dimension)
            ?? [Double](repeating: 0, count: dimension * dimension)
        return LinearThetaSampler(mean: theta, lower: l, scale: scale)
    }
}

/// Draws parameter vectors from a Gaussian posterior, given its Cholesky factor.
public struct LinearThetaSampler: Sendable {
    public let mean: [Double]
    let lower: [Double]
    let scale: Double

    /// theta + scale * L z, z ~ N(0, I).
    public func draw<G: RandomNumberGenerator>(using generator: inout G) -> [Double] {
        let d = mean.count
        var z = [Double](repeating: 0, count: d)
        for i in 0..<d { z[i] = generator.nextGaussian() }
        var out = mean
        lower.withUnsafeBufferPointer { l in
            z.withUnsafeBufferPointer { z in
                for i in 0..<d {
                    out[i] += scale * DenseLinearAlgebra.dot(UnsafeBufferPointer(rebasing: l[(i * d)..<(i * d + i + 1)]),
                                                             UnsafeBufferPointer(rebasing: z[0..<(i + 1)]))
                }
            }
        }
        return out
    }
}

extension ModelSnapshotWriter {
    /// Writes one arm: dimension, observations, A^{-1}, b, theta.
    public mutating func write(_ arm: LinearArmPosterior) {
        write(arm.dimension)
        write(arm.observations)
        write(arm.aInverse)
        write(arm.b)
        write(arm.theta)
    }
}

extension ModelSnapshotReader {
    /// Reads what `write(_: LinearArmPosterior)` wrote, checking dimensions.
    public mutating func readLinearArm() throws -> LinearArmPosterior {
        let d = try readInt()
        let n = try readInt()
        let aInverse = try readDoubles()
        let b = try readDoubles()
        let theta = try readDoubles()
        guard d > 0, aInverse.count == d * d, b.count == d, theta.count == d else {
            throw ModelSnapshotError.invalid("linear arm dimensions")
        }
        return LinearArmPosterior(dimension: d, aInverse: aInverse, b: b, theta: theta, observations: n)
    }
}
