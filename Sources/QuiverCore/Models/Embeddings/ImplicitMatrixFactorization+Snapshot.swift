// ImplicitMatrixFactorization+Snapshot: the model's versioned bytes.
// Format 1 (the history-free model): settings, generator, update count, ids, p, q, b.
// Format 2 appends the negative candidates, history length and decay, the replay settings, the
// recent-item vectors y, each user's recent items and the replay window. A format-1 snapshot
// loads with y = 0 and empty histories (so it scores exactly as it did) and learns on with
// today's defaults for the settings it lacks.

extension ImplicitMatrixFactorization {
    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(factors); w.write(learningRate); w.write(regularization); w.write(negativeSamples)
        for word in generator.stateWords { w.write(word) }
        w.write(updateCount)
        w.write(userIds); w.write(itemIds)
        w.write(userFactors); w.write(itemFactors); w.write(itemBias)
        // Format 2.
        w.write(negativeCandidates); w.write(historyLength); w.write(historyDecay)
        w.write(replaySteps); w.write(replayNegatives); w.write(replayRate)
        w.write(historyFactors)
        history.write(to: &w)
        replayWindow.write(to: &w)
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        let factors = try r.readInt()
        let learningRate = try r.readSchedule()
        let regularization = try r.readDouble()
        let negativeSamples = try r.readInt()
        let words = try (0..<4).map { _ in try r.readUInt64() }
        guard factors > 0, negativeSamples >= 0, let generator = SeededRandom(stateWords: words) else {
            throw ModelSnapshotError.invalid("factorisation header")
        }
        let updateCount = try r.readInt()
        let userIds = try r.readStrings()
        let itemIds = try r.readStrings()
        let userFactors = try r.readDoubles()
        let itemFactors = try r.readDoubles()
        let itemBias = try r.readDoubles()
        guard userFactors.count == userIds.count * factors, itemFactors.count == itemIds.count * factors,
              itemBias.count == itemIds.count else { throw ModelSnapshotError.invalid("factor shapes") }
        // Format 1 has none of what follows: today's defaults, y = 0, no history, an empty window.
        let defaults = ImplicitMatrixFactorization(factors: 1)
        var negativeCandidates = defaults.negativeCandidates
        var historyLength = defaults.historyLength, historyDecay = defaults.historyDecay
        var replaySteps = defaults.replaySteps, replayNegatives = defaults.replayNegatives
        var replayRate = defaults.replayRate
        var historyFactors = [Double](repeating: 0, count: itemFactors.count)
        if r.version >= 2 {
            negativeCandidates = try r.readInt()
            historyLength = try r.readInt()
            historyDecay = try r.readDouble()
            replaySteps = try r.readInt()
            replayNegatives = try r.readInt()
            replayRate = try r.readDouble()
            guard negativeCandidates >= 1, (0...255).contains(historyLength), historyDecay > 0, historyDecay <= 1,
                  replaySteps >= 0, replayNegatives >= 0, replayRate >= 0 else {
                throw ModelSnapshotError.invalid("history or replay settings")
            }
            historyFactors = try r.readDoubles()
            guard historyFactors.count == itemFactors.count else { throw ModelSnapshotError.invalid("history factor shape") }
        }
        self.init(factors: factors, learningRate: learningRate, regularization: regularization,
                  negativeSamples: negativeSamples, negativeCandidates: negativeCandidates,
                  historyLength: historyLength, historyDecay: historyDecay,
                  replaySteps: replaySteps, replayNegatives: replayNegatives, replayRate: replayRate, replayWindow: 0)
        if r.version >= 2 {
            history = try RecentItemHistory(capacity: historyLength, users: userIds.count, items: itemIds.count, from: &r)
            replayWindow = try InteractionReplayWindow(userCount: userIds.count, itemCount: itemIds.count, from: &r)
        } else {
            for _ in userIds { history.appendUser() }
            replayWindow = defaults.replayWindow
        }
        try r.finish()
        self.generator = generator
        self.updateCount = updateCount
        self.userIds = userIds
        self.itemIds = itemIds
        self.userFactors = userFactors
        self.itemFactors = itemFactors
        var serving = [Float](repeating: 0, count: EmbeddingKernels.blockedCount(items: itemIds.count, factors: factors))
        itemFactors.withUnsafeBufferPointer { q in
            serving.withUnsafeMutableBufferPointer { out in
                for i in itemIds.indices {
                    EmbeddingKernels.narrowBlocked(q.baseAddress! + i * factors, item: i, into: out.baseAddress!, count: factors)
                }
            }
        }
        self.servingItemFactors = serving
        self.itemBias = itemBias
        self.historyFactors = historyFactors
        for (i, id) in userIds.enumerated() { userIndex[id] = i }
        for (i, id) in itemIds.enumerated() { itemIndex[id] = i }
    }
}
