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

    /// y = Float(x), element by element.
    @inline(__always)
    static func narrow(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for f in 0..<count { y[f] = Float(x[f]) }
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
