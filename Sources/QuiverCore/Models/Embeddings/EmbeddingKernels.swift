// EmbeddingKernels: the vector loops of the embedding model over raw Double pointers, eight lanes
// at a time (SIMD8) and then the remainder, so any dimension works and multiples of 8 run wide.
// Callers own the memory and guarantee `count` valid elements behind every pointer; the
// positive and negative rows of a step are distinct (j != i).

enum EmbeddingKernels {
    @inline(__always)
    private static func load(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
    }

    @inline(__always)
    private static func store(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Double>.self)
    }

    /// a . b
    @inline(__always)
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        var acc = SIMD8<Double>()
        var f = 0
        while f + 8 <= count {
            acc += load(a + f) * load(b + f)
            f += 8
        }
        var s = acc.sum()
        while f < count { s += a[f] * b[f]; f += 1 }
        return s
    }

    /// a . b in single precision, sixteen lanes at a time.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var f = 0
        while f + 16 <= count {
            acc += UnsafeRawPointer(a + f).loadUnaligned(as: SIMD16<Float>.self)
                * UnsafeRawPointer(b + f).loadUnaligned(as: SIMD16<Float>.self)
            f += 16
        }
        // A tree of vector adds (16 -> 8 -> 4 -> 2 -> 1): `sum()` adds the lanes one after another.
        let h8 = acc.lowHalf + acc.highHalf, h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
        var s = h2[0] + h2[1]
        while f < count { s += a[f] * b[f]; f += 1 }
        return s
    }

    // The serving copy of the item rows is blocked: 16 items per block, factor-major inside a
    // block (item i's factor f at (i / 16) * 16k + 16f + i % 16). A user's scores for a whole
    // block are then k broadcast multiply-adds on SIMD16<Float>, with no horizontal sum per item.

    /// Items per block of the serving layout.
    static let blockWidth = 16

    /// Floats a serving layout of `items` items needs (whole blocks).
    static func blockedCount(items: Int, factors k: Int) -> Int { (items + blockWidth - 1) / blockWidth * blockWidth * k }

    /// Writes Float(x) as item `i`'s row of the blocked serving layout at `blocks`.
    @inline(__always)
    static func narrowBlocked(_ x: UnsafePointer<Double>, item i: Int, into blocks: UnsafeMutablePointer<Float>, count k: Int) {
        let row = blocks + (i / blockWidth) * blockWidth * k + i % blockWidth
        for f in 0..<k { row[f * blockWidth] = Float(x[f]) }
    }

    /// scores[i] += z . q_i for every item of the blocked layout (`scores.count` items). Four
    /// partial sums per block keep the multiply-add chains short.
    static func addBlockedDots(_ z: UnsafePointer<Float>, _ blocks: UnsafePointer<Float>, count k: Int,
                               into scores: UnsafeMutableBufferPointer<Double>) {
        let n = scores.count
        let raw = UnsafeRawPointer(blocks)
        var start = 0
        while start < n {
            let block = raw + start * k * MemoryLayout<Float>.stride
            @inline(__always) func column(_ f: Int) -> SIMD16<Float> {
                (block + f * blockWidth * MemoryLayout<Float>.stride).loadUnaligned(as: SIMD16<Float>.self)
            }
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            var f = 0
            while f + 4 <= k {
                a0 += SIMD16(repeating: z[f]) * column(f)
                a1 += SIMD16(repeating: z[f + 1]) * column(f + 1)
                a2 += SIMD16(repeating: z[f + 2]) * column(f + 2)
                a3 += SIMD16(repeating: z[f + 3]) * column(f + 3)
                f += 4
            }
            while f < k { a0 += SIMD16(repeating: z[f]) * column(f); f += 1 }
            let sum = (a0 + a1) + (a2 + a3)
            let lanes = min(blockWidth, n - start)
            for l in 0..<lanes { scores[start + l] += Double(sum[l]) }
            start += blockWidth
        }
    }

    /// z . (a - b)
    @inline(__always)
    static func dotDifference(_ z: UnsafePointer<Double>, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
                              count: Int) -> Double {
        var acc = SIMD8<Double>()
        var f = 0
        while f + 8 <= count {
            acc += load(z + f) * (load(a + f) - load(b + f))
            f += 8
        }
        var s = acc.sum()
        while f < count { s += z[f] * (a[f] - b[f]); f += 1 }
        return s
    }

    /// y += alpha x
    @inline(__always)
    static func axpy(_ alpha: Double, _ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, count: Int) {
        let a = SIMD8(repeating: alpha)
        var f = 0
        while f + 8 <= count {
            store(load(y + f) + a * load(x + f), y + f)
            f += 8
        }
        while f < count { y[f] += alpha * x[f]; f += 1 }
    }

    /// y = shrink y + alpha x (an L2-regularised gradient step).
    @inline(__always)
    static func decayAndAdd(_ alpha: Double, _ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>,
                            shrink: Double, count: Int) {
        let a = SIMD8(repeating: alpha), s = SIMD8(repeating: shrink)
        var f = 0
        while f + 8 <= count {
            store(s * load(y + f) + a * load(x + f), y + f)
            f += 8
        }
        while f < count { y[f] = shrink * y[f] + alpha * x[f]; f += 1 }
    }

    /// One BPR step on the item rows for a fixed user vector z:
    /// gradient += sigma (q_i - q_j); q_i += rate (sigma z - reg q_i); q_j += rate (-sigma z - reg q_j),
    /// all from the values before the step.
    @inline(__always)
    static func bprItemStep(z: UnsafePointer<Double>, gradient: UnsafeMutablePointer<Double>,
                            positive qi: UnsafeMutablePointer<Double>, negative qj: UnsafeMutablePointer<Double>,
                            sigma: Double, rate: Double, regularization reg: Double, count: Int) {
        let sg = SIMD8(repeating: sigma), r = SIMD8(repeating: rate), rg = SIMD8(repeating: reg)
        var f = 0
        while f + 8 <= count {
            let zf = load(z + f), a = load(qi + f), b = load(qj + f)
            store(load(gradient + f) + sg * (a - b), gradient + f)
            store(a + r * (sg * zf - rg * a), qi + f)
            store(b + r * (-sg * zf - rg * b), qj + f)
            f += 8
        }
        while f < count {
            let zf = z[f], a = qi[f], b = qj[f]
            gradient[f] += sigma * (a - b)
            qi[f] = a + rate * (sigma * zf - reg * a)
            qj[f] = b + rate * (-sigma * zf - reg * b)
            f += 1
        }
    }
}
