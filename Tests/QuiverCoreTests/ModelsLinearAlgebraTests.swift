// Linear-algebra kernels behind the linear bandits: Sherman–Morrison against a direct inverse,
// recursive theta against A^{-1} b, Cholesky and the symmetric quadratic form.

import Testing
@testable import QuiverCore

@Suite struct ModelsLinearAlgebraTests {
    @Test(arguments: [(3, 0.5), (8, 1.0), (16, 2.0)])
    func shermanMorrisonMatchesADirectInverse(dimension d: Int, lambda: Double) throws {
        var g = SeededRandom(seed: UInt64(d))
        var arm = LinearArmPosterior(dimension: d, regularization: lambda)
        var a = [Double](repeating: 0, count: d * d)
        for i in 0..<d { a[i * d + i] = lambda }
        var b = [Double](repeating: 0, count: d)
        for _ in 0..<300 {
            let x = (0..<d).map { _ in g.nextGaussian() }
            let r = g.nextGaussian()
            arm.update(x, reward: r)
            for i in 0..<d {
                b[i] += r * x[i]
                for j in 0..<d { a[i * d + j] += x[i] * x[j] }
            }
        }
        let direct = try #require(DenseLinearAlgebra.inverse(a, dimension: d))
        let maxError = zip(direct, arm.aInverse).map { abs($0 - $1) }.max()!
        #expect(maxError < 1e-10)
        let theta = (0..<d).map { i in (0..<d).reduce(0.0) { $0 + direct[i * d + $1] * b[$1] } }
        #expect(zip(theta, arm.theta).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    @Test func choleskyReconstructsAndQuadraticFormMatchesNaive() throws {
        let d = 5
        var g = SeededRandom(seed: 3)
        var m = [Double](repeating: 0, count: d * d)
        for _ in 0..<10 {
            let x = (0..<d).map { _ in g.nextGaussian() }
            for i in 0..<d { for j in 0..<d { m[i * d + j] += x[i] * x[j] } }
        }
        for i in 0..<d { m[i * d + i] += 1 }
        let l = try #require(DenseLinearAlgebra.choleskyLower(m, dimension: d))
        for i in 0..<d {
            for j in 0..<d {
                let v = (0..<d).reduce(0.0) { $0 + l[i * d + $1] * l[j * d + $1] }
                #expect(abs(v - m[i * d + j]) < 1e-10)
            }
        }
        let x = (0..<d).map { _ in g.nextGaussian() }
        let naive = (0..<d).reduce(0.0) { acc, i in acc + x[i] * (0..<d).reduce(0.0) { $0 + m[i * d + $1] * x[$1] } }
        let fast = m.withUnsafeBufferPointer { pm in
            x.withUnsafeBufferPointer { DenseLinearAlgebra.symmetricQuadraticForm(pm, $0, dimension: d) }
        }
        #expect(abs(naive - fast) < 1e-10)
    }

    @Test func singularMatrixHasNoInverse() {
        #expect(DenseLinearAlgebra.inverse([1, 2, 2, 4], dimension: 2) == nil)
        #expect(DenseLinearAlgebra.choleskyLower([1, 2, 2, 1], dimension: 2) == nil)
    }

    @Test func seededRandomIsReproducibleAndWellSpread() {
        var a = SeededRandom(seed: 2024)
        var b = SeededRandom(seed: 2024)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        var g = SeededRandom(seed: 1)
        let u = (0..<20_000).map { _ in g.nextUnitDouble() }
        #expect(abs(u.reduce(0, +) / 20_000 - 0.5) < 0.01)
        let n = (0..<20_000).map { _ in g.nextGaussian() }
        let mean = n.reduce(0, +) / 20_000
        let variance = n.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 20_000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        let beta = (0..<20_000).map { _ in g.nextBeta(alpha: 2, beta: 6) }
        #expect(abs(beta.reduce(0, +) / 20_000 - 0.25) < 0.01)
    }
}
