// HybridLinUCB: LinUCB with a shared part (Li et al. 2010, Algorithm 2). Expected reward of arm a
// is z.beta + x.theta_a: z (k features, e.g. user x item crosses) has coefficients shared by all
// arms, x (d features, e.g. the user context) has per-arm coefficients. Per arm it keeps A_a^{-1}
// (Sherman–Morrison, O(d^2)), B_a (d x k) and b_a; the shared A0 (k x k) changes by a rank-(d+1)
// term per update, so A0^{-1} and beta are recomputed directly (Gauss–Jordan, O(k^3)): keep k small
// (<= 32). Invariant: A0 and every A_a stay symmetric positive definite; deterministic choices.

/// LinUCB with shared and per-arm coefficients.
public struct HybridLinUCB: BanditPolicy {
    public static let modelName = "HybridLinUCB"
    public static let formatVersion = 1

    /// Per-arm state: A_a^{-1}, B_a (row-major d x k), b_a.
    struct Arm: Sendable, Hashable {
        var aInverse: [Double]
        var bMatrix: [Double]
        var b: [Double]
    }

    public var alpha: Double
    /// Builds z (shared part) from context and candidate.
    public let sharedArms: LinearBanditArms
    /// Builds x (per-arm part) from context and candidate.
    public let armArms: LinearBanditArms
    private var a0: [Double]
    private var a0Inverse: [Double]
    private var b0: [Double]
    private var beta: [Double]
    private var arms: [String: Arm] = [:]
    public private(set) var updateCount = 0

    /// - Parameters:
    ///   - sharedDimension: k, length of z, built by `sharedMap`.
    ///   - armDimension: d, length of x, built by `armMap`.
    public init(sharedDimension k: Int, armDimension d: Int, alpha: Double = 1, regularization: Double = 1,
                sharedMap: ContextualVectorMap = .crossed, armMap: ContextualVectorMap = .context) {
        self.alpha = alpha
        sharedArms = LinearBanditArms(dimension: k, regularization: regularization, vectorMap: sharedMap, sharing: .shared)
        armArms = LinearBanditArms(dimension: d, regularization: regularization, vectorMap: armMap, sharing: .disjoint)
        a0 = [Double](repeating: 0, count: k * k)
        for i in 0..<k { a0[i * k + i] = regularization }
        a0Inverse = a0.map { $0 == 0 ? 0 : 1 / $0 }
        b0 = [Double](repeating: 0, count: k)
        beta = b0
    }

    private var k: Int { sharedArms.dimension }
    private var d: Int { armArms.dimension }

    private func freshArm() -> Arm {
        var inv = [Double](repeating: 0, count: d * d)
        for i in 0..<d { inv[i * d + i] = 1 / armArms.regularization }
        return Arm(aInverse: inv, bMatrix: [Double](repeating: 0, count: d * k), b: [Double](repeating: 0, count: d))
    }

    private static func matVec(_ m: [Double], rows: Int, cols: Int, _ v: [Double]) -> [Double] {
        (0..<rows).map { r in (0..<cols).reduce(0.0) { $0 + m[r * cols + $1] * v[$1] } }
    }

    /// M^T v for row-major rows x cols M.
    private static func matTVec(_ m: [Double], rows: Int, cols: Int, _ v: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: cols)
        for r in 0..<rows where v[r] != 0 { for c in 0..<cols { out[c] += m[r * cols + c] * v[r] } }
        return out
    }

    /// (mean, bonus) of one candidate.
    private func terms(_ candidate: ScoringCandidate, context: ScoringContext) -> (shared: Double, arm: Double, bonus: Double) {
        let z = sharedArms.vector(context: context, candidate: candidate)
        let x = armArms.vector(context: context, candidate: candidate)
        let arm = arms[candidate.itemId] ?? freshArm()
        let u = Self.matVec(arm.aInverse, rows: d, cols: d, x)                 // A_a^{-1} x
        let w = Self.matTVec(arm.bMatrix, rows: d, cols: k, u)                 // B_a^T A_a^{-1} x
        let a0z = Self.matVec(a0Inverse, rows: k, cols: k, z)                  // A0^{-1} z
        let a0w = Self.matVec(a0Inverse, rows: k, cols: k, w)
        let s = DenseLinearAlgebra.dot(z, a0z) - 2 * DenseLinearAlgebra.dot(a0z, w)
            + DenseLinearAlgebra.dot(x, u) + DenseLinearAlgebra.dot(w, a0w)
        let bBeta = Self.matVec(arm.bMatrix, rows: d, cols: k, beta)
        let residual = zip(arm.b, bBeta).map { $0 - $1 }                       // b_a - B_a beta
        return (DenseLinearAlgebra.dot(z, beta), DenseLinearAlgebra.dot(residual, u), alpha * max(0, s).squareRoot())
    }

    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        candidates.map { let t = terms($0, context: context); return t.shared + t.arm + t.bonus }
    }

    public func choiceProbabilities<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        BanditMath.oneHotArgmax(score(candidates, context: context, using: &generator))
    }

    /// B^T A^{-1} B (k x k) and B^T A^{-1} b (k) of one arm.
    private func sharedProjection(_ arm: Arm) -> (matrix: [Double], vector: [Double]) {
        var aInvB = [Double](repeating: 0, count: d * k)                       // A^{-1} B, d x k
        for r in 0..<d { for c in 0..<k { aInvB[r * k + c] = (0..<d).reduce(0.0) { $0 + arm.aInverse[r * d + $1] * arm.bMatrix[$1 * k + c] } } }
        var m = [Double](repeating: 0, count: k * k)
        for i in 0..<k { for j in 0..<k { m[i * k + j] = (0..<d).reduce(0.0) { $0 + arm.bMatrix[$1 * k + i] * aInvB[$1 * k + j] } } }
        let aInvb = Self.matVec(arm.aInverse, rows: d, cols: d, arm.b)
        return (m, Self.matTVec(arm.bMatrix, rows: d, cols: k, aInvb))
    }

    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        let z = sharedArms.vector(context: feedback.context, candidate: feedback.candidate)
        let x = armArms.vector(context: feedback.context, candidate: feedback.candidate)
        let r = feedback.reward
        var arm = arms[feedback.candidate.itemId] ?? freshArm()
        let before = sharedProjection(arm)
        for i in 0..<(k * k) { a0[i] += before.matrix[i] }
        for i in 0..<k { b0[i] += before.vector[i] }
        // A_a += x x^T via Sherman–Morrison on A_a^{-1}; B_a += x z^T; b_a += r x.
        let u = Self.matVec(arm.aInverse, rows: d, cols: d, x)
        let denominator = 1 + DenseLinearAlgebra.dot(x, u)
        for i in 0..<d { for j in 0..<d { arm.aInverse[i * d + j] -= u[i] * u[j] / denominator } }
        for i in 0..<d where x[i] != 0 { for j in 0..<k { arm.bMatrix[i * k + j] += x[i] * z[j] } }
        for i in 0..<d { arm.b[i] += r * x[i] }
        let after = sharedProjection(arm)
        for i in 0..<k { for j in 0..<k { a0[i * k + j] += z[i] * z[j] - after.matrix[i * k + j] } }
        for i in 0..<k { b0[i] += r * z[i] - after.vector[i] }
        arms[feedback.candidate.itemId] = arm
        if let inverse = DenseLinearAlgebra.inverse(a0, dimension: k) { a0Inverse = inverse }
        beta = Self.matVec(a0Inverse, rows: k, cols: k, b0)
        updateCount += 1
    }

    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        let t = terms(candidate, context: context)
        return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: t.shared + t.arm + t.bonus,
                                contributions: [ScoreContribution("shared z.beta", t.shared),
                                                ScoreContribution("arm x.theta", t.arm),
                                                ScoreContribution("confidence_bonus", t.bonus)])
    }

    public func describe() -> ModelDescription {
        ModelDescription(name: Self.modelName, formatVersion: Self.formatVersion,
                         parameters: ["alpha": "\(alpha)", "shared_dimension": "\(k)", "arm_dimension": "\(d)",
                                      "shared_map": "\(sharedArms.vectorMap)", "arm_map": "\(armArms.vectorMap)",
                                      "regularization": "\(armArms.regularization)", "arms": "\(arms.count)"],
                         updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(alpha); w.write(k); w.write(d); w.write(armArms.regularization)
        w.write(sharedArms.vectorMap.rawValue); w.write(armArms.vectorMap.rawValue)
        w.write(updateCount)
        w.write(a0); w.write(a0Inverse); w.write(b0); w.write(beta)
        w.write(arms.count)
        for key in arms.keys.sorted() {
            w.write(key)
            w.write(arms[key]!.aInverse); w.write(arms[key]!.bMatrix); w.write(arms[key]!.b)
        }
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        let alpha = try r.readDouble(), k = try r.readInt(), d = try r.readInt(), lambda = try r.readDouble()
        guard k > 0, d > 0, lambda > 0,
              let sharedMap = ContextualVectorMap(rawValue: try r.readInt()),
              let armMap = ContextualVectorMap(rawValue: try r.readInt())
        else { throw ModelSnapshotError.invalid("hybrid header") }
        self.init(sharedDimension: k, armDimension: d, alpha: alpha, regularization: lambda, sharedMap: sharedMap, armMap: armMap)
        updateCount = try r.readInt()
        a0 = try r.readDoubles(); a0Inverse = try r.readDoubles(); b0 = try r.readDoubles(); beta = try r.readDoubles()
        guard a0.count == k * k, a0Inverse.count == k * k, b0.count == k, beta.count == k else {
            throw ModelSnapshotError.invalid("hybrid shared shapes")
        }
        let n = try r.readCount(elementSize: 32)
        for _ in 0..<n {
            let key = try r.readString()
            let arm = Arm(aInverse: try r.readDoubles(), bMatrix: try r.readDoubles(), b: try r.readDoubles())
            guard arm.aInverse.count == d * d, arm.bMatrix.count == d * k, arm.b.count == d else {
                throw ModelSnapshotError.invalid("hybrid arm shapes")
            }
            arms[key] = arm
        }
        try r.finish()
    }
}
