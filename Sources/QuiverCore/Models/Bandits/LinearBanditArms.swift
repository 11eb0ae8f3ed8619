// LinearBanditArms: the state LinUCB and linear Thompson sampling share — how a (context,
// candidate) pair becomes a vector x, and which posterior answers for a candidate.
// Invariant: every x has exactly `dimension` entries (inputs are zero-padded or truncated), and an
// arm never seen answers with the prior A = lambda I, b = 0.

/// How the dense context and item features combine into the bandit's vector x.
public enum ContextualVectorMap: Int, Sendable, Hashable {
    /// x = context.dense (classic disjoint LinUCB: one model per arm over the user context).
    case context = 0
    /// x = context.dense ++ candidate.dense.
    case contextAndItem = 1
    /// x = context.dense (outer product) candidate.dense, flattened: user-by-item interactions for a
    /// shared model ranking many candidates.
    case crossed = 2
}

/// Whether each item has its own posterior or all candidates share one.
public enum LinearArmSharing: Int, Sendable, Hashable {
    /// One posterior per item id (small arm sets).
    case disjoint = 0
    /// One posterior for all candidates (ranking over a large, changing candidate set).
    case shared = 1
}

/// Posteriors of a linear bandit plus the rule that builds x.
public struct LinearBanditArms: Sendable {
    public let dimension: Int
    public let regularization: Double
    public let vectorMap: ContextualVectorMap
    public let sharing: LinearArmSharing
    public private(set) var arms: [String: LinearArmPosterior] = [:]
    public private(set) var sharedArm: LinearArmPosterior
    private let prior: LinearArmPosterior

    public init(dimension: Int, regularization: Double, vectorMap: ContextualVectorMap, sharing: LinearArmSharing) {
        self.dimension = dimension
        self.regularization = regularization
        self.vectorMap = vectorMap
        self.sharing = sharing
        prior = LinearArmPosterior(dimension: dimension, regularization: regularization)
        sharedArm = prior
    }

    /// Writes x for (context, candidate) into `buffer` (resized to `dimension`).
    public func fill(_ buffer: inout [Double], context: ScoringContext, candidate: ScoringCandidate) {
        if buffer.count != dimension { buffer = [Double](repeating: 0, count: dimension) }
        let d = dimension
        buffer.withUnsafeMutableBufferPointer { x in
            for i in 0..<d { x[i] = 0 }
            switch vectorMap {
            case .context:
                for (i, v) in context.dense.prefix(d).enumerated() { x[i] = v }
            case .contextAndItem:
                var i = 0
                for v in context.dense where i < d { x[i] = v; i += 1 }
                for v in candidate.dense where i < d { x[i] = v; i += 1 }
            case .crossed:
                var i = 0
                outer: for c in context.dense {
                    for v in candidate.dense {
                        if i >= d { break outer }
                        x[i] = c * v
                        i += 1
                    }
                }
            }
        }
    }

    /// The vector x for (context, candidate).
    public func vector(context: ScoringContext, candidate: ScoringCandidate) -> [Double] {
        var x: [Double] = []
        fill(&x, context: context, candidate: candidate)
        return x
    }

    /// The posterior answering for `itemId`.
    public func posterior(for itemId: String) -> LinearArmPosterior {
        switch sharing {
        case .shared: return sharedArm
        case .disjoint: return arms[itemId] ?? prior
        }
    }

    /// Adds one observation.
    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        let x = vector(context: feedback.context, candidate: feedback.candidate)
        switch sharing {
        case .shared:
            sharedArm.update(x, reward: feedback.reward)
        case .disjoint:
            arms[feedback.candidate.itemId, default: prior].update(x, reward: feedback.reward)
        }
    }

    /// Status parameters shared by both linear bandits.
    public var parameters: [String: String] {
        ["dimension": "\(dimension)", "regularization": "\(regularization)",
         "vector_map": "\(vectorMap)", "sharing": "\(sharing)",
         "arms": sharing == .shared ? "shared" : "\(arms.count)"]
    }

    func write(to w: inout ModelSnapshotWriter) {
        w.write(dimension)
        w.write(regularization)
        w.write(vectorMap.rawValue)
        w.write(sharing.rawValue)
        w.write(sharedArm)
        w.write(arms.count)
        for key in arms.keys.sorted() {
            w.write(key)
            w.write(arms[key]!)
        }
    }

    init(from r: inout ModelSnapshotReader) throws {
        let d = try r.readInt()
        let lambda = try r.readDouble()
        guard d > 0, lambda > 0,
              let map = ContextualVectorMap(rawValue: try r.readInt()),
              let sharing = LinearArmSharing(rawValue: try r.readInt())
        else { throw ModelSnapshotError.invalid("linear bandit header") }
        self.init(dimension: d, regularization: lambda, vectorMap: map, sharing: sharing)
        sharedArm = try r.readLinearArm()
        let n = try r.readCount(elementSize: 16)
        for _ in 0..<n {
            let key = try r.readString()
            arms[key] = try r.readLinearArm()
        }
        guard sharedArm.dimension == d, arms.values.allSatisfy({ $0.dimension == d }) else {
            throw ModelSnapshotError.invalid("arm dimension mismatch")
        }
    }
}
