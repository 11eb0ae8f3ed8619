// DenseLinearAlgebra: the few dense kernels the linear bandits need, on row-major [Double] d x d.
// Invariant: pure functions, no allocation in the hot kernels (dot, symmetric quadratic form,
// matrix-vector); Cholesky and Gauss-Jordan inversion return nil instead of trapping.

/// Small dense linear-algebra kernels on row-major square matrices.
public enum DenseLinearAlgebra {
    /// `a · b` over the first `min(a.count, b.count)` entries.
    @inlinable
    public static func dot(_ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) -> Double {
        let n = min(a.count, b.count)
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= n {
            s0 += a[i] * b[i]
            s1 += a[i + 1] * b[i + 1]
            s2 += a[i + 2] * b[i + 2]
            s3 += a[i + 3] * b[i + 3]
            i += 4
        }
        while i < n {
            s0 += a[i] * b[i]
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// `a · b` for arrays.
    @inlinable
    public static func dot(_ a: [Double], _ b: [Double]) -> Double {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in dot(pa, pb) } }
    }

    /// `x^T M x` for a symmetric `d x d` matrix `m`, reading only its upper triangle (d^2/2 FMAs).
    /// Four independent accumulators per row keep the loop throughput-bound, not latency-bound.
    @inlinable
    public static func symmetricQuadraticForm(
        _ m: UnsafeBufferPointer<Double>, _ x: UnsafeBufferPointer<Double>, dimension d: Int
    ) -> Double {
        var total = 0.0
        for i in 0..<d {
            let xi = x[i]
            if xi == 0 { continue }
            let row = i * d
            var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
            var j = i + 1
            while j + 4 <= d {
                a0 += m[row + j] * x[j]
                a1 += m[row + j + 1] * x[j + 1]
                a2 += m[row + j + 2] * x[j + 2]
                a3 += m[row + j + 3] * x[j + 3]
                j += 4
            }
            while j < d {
                a0 += m[row + j] * x[j]
                j += 1
            }
            total += xi * (m[row + i] * xi + 2 * ((a0 + a1) + (a2 + a3)))
        }
        return total
    }

    /// `out = M x` for a `d x d` matrix.
    @inlinable
    public static func multiply(
        _ m: UnsafeBufferPointer<Double>, _ x: UnsafeBufferPointer<Double>,
        into out: UnsafeMutableBufferPointer<Double>, dimension d: Int
    ) {
        for i in 0..<d {
            out[i] = dot(UnsafeBufferPointer(rebasing: m[(i * d)..<(i * d + d)]), x)
        }
    }

    /// Lower-triangular `L` with `L L^T = m`, or nil if `m` is not positive definite.
    public static func choleskyLower(_ m: [Double], dimension d: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: d * d)
        let ok = l.withUnsafeMutableBufferPointer { l -> Bool in
            m.withUnsafeBufferPointer { m -> Bool in
                for i in 0..<d {
                    for j in 0...i {
                        // sum_k<j L[i,k] L[j,k]: rows i and j of L, contiguous.
                        let dotIJ = dot(UnsafeBufferPointer(rebasing: l[(i * d)..<(i * d + j)]),
                                        UnsafeBufferPointer(rebasing: l[(j * d)..<(j * d + j)]))
                        let sum = m[i * d + j] - dotIJ
                        if i == j {
                            guard sum > 0 else { return false }
                            l[i * d + i] = sum.squareRoot()
                        } else {
                            l[i * d + j] = sum / l[j * d + j]
                        }
                    }
                }
                return true
            }
        }
        return ok ? l : nil
    }

    /// Inverse by Gauss–Jordan elimination with partial pivoting, or nil if singular.
    public static func inverse(_ m: [Double], dimension d: Int) -> [Double]? {
        var a = m
        var inv = [Double](repeating: 0, count: d * d)
        for i in 0..<d { inv[i * d + i] = 1 }
        for col in 0..<d {
            var pivot = col
            for r in col..<d where abs(a[r * d + col]) > abs(a[pivot * d + col]) { pivot = r }
            guard abs(a[pivot * d + col]) > 1e-300 else { return nil }
            if pivot != col {
                for k in 0..<d {
                    a.swapAt(pivot * d + k, col * d + k)
                    inv.swapAt(pivot * d + k, col * d + k)
                }
            }
            let p = a[col * d + col]
            for k in 0..<d {
                a[col * d + k] /= p
                inv[col * d + k] /= p
            }
            for r in 0..<d where r != col {
                let f = a[r * d + col]
                if f == 0 { continue }
                for k in 0..<d {
                    a[r * d + k] -= f * a[col * d + k]
                    inv[r * d + k] -= f * inv[col * d + k]
                }
            }
        }
        return inv
    }
}
