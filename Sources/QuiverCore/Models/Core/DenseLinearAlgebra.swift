// DenseLinearAlgebra: the few dense kernels the linear bandits need, on row-major [Double] d x d.
// Invariant: pure functions, no allocation in the hot kernels (dot, symmetric quadratic form,
// matrix-vector); Cholesky and Gauss-Jordan inversion return nil instead of trapping.

/// Small dense linear-algebra kernels on row-major square matrices.
public enum DenseLinearAlgebra {
    /// `a · b` over the first `min(a.count, b.count)` entries, eight lanes at a time (SIMD4 x 2
    /// accumulators), so the loop is vectorised and not bound by the latency of one add chain.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) -> Double {
        let n = min(a.count, b.count)
        guard n > 0, let baseA = a.baseAddress, let baseB = b.baseAddress else { return 0 }
        let pa = UnsafeRawPointer(baseA)
        let pb = UnsafeRawPointer(baseB)
        var acc0 = SIMD4<Double>()
        var acc1 = SIMD4<Double>()
        var i = 0
        while i + 8 <= n {
            acc0 += pa.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
                * pb.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
            acc1 += pa.loadUnaligned(fromByteOffset: (i + 4) * 8, as: SIMD4<Double>.self)
                * pb.loadUnaligned(fromByteOffset: (i + 4) * 8, as: SIMD4<Double>.self)
            i += 8
        }
        if i + 4 <= n {
            acc0 += pa.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
                * pb.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
            i += 4
        }
        var total = (acc0 + acc1).sum()
        while i < n {
            total += baseA[i] * baseB[i]
            i += 1
        }
        return total
    }

    /// `a · b` for arrays.
    @inlinable
    public static func dot(_ a: [Double], _ b: [Double]) -> Double {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in dot(pa, pb) } }
    }

    /// `x^T M x` for a symmetric `d x d` matrix `m`, reading only its upper triangle (d^2/2 FMAs).
    /// Each row's off-diagonal part is one vectorised `dot`.
    @inlinable
    public static func symmetricQuadraticForm(
        _ m: UnsafeBufferPointer<Double>, _ x: UnsafeBufferPointer<Double>, dimension d: Int
    ) -> Double {
        symmetricQuadraticForm(m, x, dimension: d, rowStride: d, origin: 0)
    }

    /// `x^T S x` for the symmetric `d x d` block S[i][j] = m[origin + i * rowStride + j] of a larger
    /// matrix (upper triangle only).
    @inlinable
    public static func symmetricQuadraticForm(
        _ m: UnsafeBufferPointer<Double>, _ x: UnsafeBufferPointer<Double>, dimension d: Int, rowStride: Int, origin: Int
    ) -> Double {
        var total = 0.0
        for i in 0..<d {
            let xi = x[i]
            if xi == 0 { continue }
            let row = origin + i * rowStride
            let offDiagonal = i + 1 < d
                ? dot(UnsafeBufferPointer(rebasing: m[(row + i + 1)..<(row + d)]),
                      UnsafeBufferPointer(rebasing: x[(i + 1)..<d]))
                : 0
            total += xi * (m[row + i] * xi + 2 * offDiagonal)
        }
        return total
    }

    /// `y += a * x` over `count` entries, four lanes at a time (explicit SIMD: the optimiser cannot
    /// prove `x` and `y` apart, so it would not vectorise the plain loop).
    @inlinable @inline(__always)
    public static func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        let splat = SIMD4<Double>(repeating: a)
        let rx = UnsafeRawPointer(x)
        let ry = UnsafeMutableRawPointer(y)
        var i = 0
        while i + 4 <= count {
            let sum = ry.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
                + splat * rx.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
            ry.storeBytes(of: sum, toByteOffset: i * 8, as: SIMD4<Double>.self)
            i += 4
        }
        while i < count {
            y[i] += a * x[i]
            i += 1
        }
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
