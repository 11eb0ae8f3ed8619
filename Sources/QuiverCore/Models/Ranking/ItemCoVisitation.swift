// ItemCoVisitation: item-to-item co-visitation ("people who engaged with X also engaged with Y").
// Each positive interaction of a user pairs the item with the user's last `historyLength` items;
// a candidate scores sum over the user's history h of co(h, c) / sqrt(count(h) count(c)), a cosine
// of co-occurrence. Item ids are interned to Int32; each item's neighbours are two parallel arrays
// (ids, counts) that scoring streams through, with a map from neighbour id to its place for updates.
// Scoring reads at most `scoringNeighbours` neighbours per history item: the strongest by
// co(h, c) / sqrt(count(c)), re-ranked after a quarter of the list's updates (counts stay live; only
// the membership can lag). Popular items co-occur with thousands of others; their weak tail costs
// most of the scoring time and moves the top of the list little (docs/learning.md).
// Invariant: co is symmetric and an item is never paired with itself.

/// Item-to-item co-visitation recommender with per-user recent history.
public struct ItemCoVisitation: ScoringModel {
    public static let modelName = "ItemCoVisitation"
    public static let formatVersion = 1

    /// How many recent items per user pair with a new interaction.
    public let historyLength: Int
    /// Feedback with reward <= this is not an interaction.
    public let positiveThreshold: Double
    private var itemIndex: [String: Int32] = [:]
    private var itemIds: [String] = []
    private var itemCounts: [Double] = []
    /// 1 / sqrt(itemCounts[i]) (0 for an item never counted), kept in step with `itemCounts`, so
    /// accumulating a history's neighbours needs no square root per entry.
    private var inverseRootCounts: [Double] = []
    private var neighbours: [NeighbourList] = []
    private var histories: [String: [Int32]] = [:]
    public private(set) var updateCount = 0

    /// The most neighbours of one history item that scoring reads (the strongest).
    public let scoringNeighbours: Int

    public init(historyLength: Int = 30, positiveThreshold: Double = 0, scoringNeighbours: Int = ItemCoVisitation.defaultScoringNeighbours) {
        precondition(historyLength > 0 && scoringNeighbours > 0, "historyLength and scoringNeighbours must be positive")
        self.historyLength = historyLength
        self.positiveThreshold = positiveThreshold
        self.scoringNeighbours = scoringNeighbours
    }

    public static let defaultScoringNeighbours = 256

    private mutating func intern(_ id: String) -> Int32 {
        if let i = itemIndex[id] { return i }
        let i = Int32(itemIds.count)
        itemIndex[id] = i
        itemIds.append(id)
        itemCounts.append(0)
        inverseRootCounts.append(0)
        neighbours.append(NeighbourList())
        return i
    }

    /// The model's internal slot of an item (stable for the model's life), if it knows it.
    public func slot(of itemId: String) -> Int32? { itemIndex[itemId] }
    /// Number of items the model knows (slots are 0..<itemCount).
    public var itemCount: Int { itemIds.count }

    /// The user's recent items, oldest first.
    public func history(of userId: String) -> [String] {
        (histories[userId] ?? []).map { itemIds[Int($0)] }
    }

    /// Catalogs up to this size score by accumulating the history's neighbour lists into a dense
    /// array (cost: sum of neighbour-list lengths); larger ones look each candidate up per history item.
    public static let denseAccumulationLimit = 200_000

    public func score<G: RandomNumberGenerator>(
        _ candidates: [ScoringCandidate], context: ScoringContext, using generator: inout G
    ) -> [Double] {
        let history = histories[context.userId] ?? []
        guard !history.isEmpty else { return [Double](repeating: 0, count: candidates.count) }
        if itemIds.count <= Self.denseAccumulationLimit {
            let accumulated = accumulate(history)
            return candidates.map { itemIndex[$0.itemId].map { accumulated[Int($0)] } ?? 0 }
        }
        return candidates.map { candidate in
            guard let c = itemIndex[candidate.itemId] else { return 0 }
            var s = 0.0
            for h in history {
                if let co = neighbours[Int(h)].count(of: c) {
                    s += Double(co) * inverseRootCounts[Int(h)] * inverseRootCounts[Int(c)]
                }
            }
            return s
        }
    }

    /// Every item's co-visitation score for `userId`'s history, computed once: the candidate
    /// source takes its top items and the ensemble reads the candidates' scores from it.
    public struct UserScores: Sendable {
        let scores: [Double]
        let itemIndex: [String: Int32]
        let itemIds: [String]

        /// Scores by model slot (empty for a user without history).
        public var bySlot: [Double] { scores }
        /// The item id at a slot.
        public func itemId(atSlot slot: Int) -> String { itemIds[slot] }

        /// The score of one item (0 when unknown or not co-visited).
        public func score(_ itemId: String) -> Double {
            guard let i = itemIndex[itemId], Int(i) < scores.count else { return 0 }  // no history: no scores
            return scores[Int(i)]
        }

        /// The `limit` best items passing `allowed`, best first.
        public func top(_ limit: Int, allowed: (String) -> Bool) -> [(itemId: String, score: Double)] {
            TopK.select(scores, k: limit, floor: 0) { allowed(itemIds[$0]) }.map { (itemIds[$0.index], $0.score) }
        }
    }

    public func scores(forUser userId: String) -> UserScores {
        UserScores(scores: accumulate(histories[userId] ?? []), itemIndex: itemIndex, itemIds: itemIds)
    }

    private func accumulate(_ history: [Int32]) -> [Double] {
        var accumulated = [Double](repeating: 0, count: history.isEmpty ? 0 : itemIds.count)
        accumulated.withUnsafeMutableBufferPointer { out in
            inverseRootCounts.withUnsafeBufferPointer { inverse in
                for h in history {
                    // co / sqrt(count(h) count(c)) = co * (1/sqrt(count(h))) * (1/sqrt(count(c)))
                    let hInverse = inverse[Int(h)]
                    let list = neighbours[Int(h)]
                    list.ids.withUnsafeBufferPointer { ids in
                        list.counts.withUnsafeBufferPointer { counts in
                            if list.strongest.isEmpty {
                                for e in 0..<ids.count {
                                    let c = Int(ids[e])
                                    out[c] += Double(counts[e]) * hInverse * inverse[c]
                                }
                            } else {
                                list.strongest.withUnsafeBufferPointer { strongest in
                                    for place in strongest {
                                        let c = Int(ids[Int(place)])
                                        out[c] += Double(counts[Int(place)]) * hInverse * inverse[c]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return accumulated
    }

    /// The `limit` items most co-visited with `itemId`, best first.
    public func relatedItems(to itemId: String, limit: Int, allowed: (String) -> Bool) -> [(itemId: String, score: Double)] {
        guard let i = itemIndex[itemId] else { return [] }
        return relatedItems(toHistory: [i], limit: limit, allowed: allowed)
    }

    /// The most recent item of `userId`'s history, if any.
    public func lastItem(of userId: String) -> String? {
        histories[userId]?.last.map { itemIds[Int($0)] }
    }

    private func relatedItems(toHistory history: [Int32], limit: Int, allowed: (String) -> Bool) -> [(itemId: String, score: Double)] {
        guard !history.isEmpty, limit > 0 else { return [] }
        return TopK.select(accumulate(history), k: limit, floor: 0) { allowed(itemIds[$0]) }.map { (itemIds[$0.index], $0.score) }
    }

    public mutating func update(_ feedback: ModelFeedback) {
        guard feedback.isFinite else { return }
        updateCount += 1
        guard feedback.reward > positiveThreshold else { return }
        let j = intern(feedback.candidate.itemId)
        var history = histories[feedback.context.userId] ?? []
        history.removeAll { $0 == j }
        for h in history {
            neighbours[Int(h)].add(1, to: j)
            neighbours[Int(j)].add(1, to: h)
        }
        itemCounts[Int(j)] += 1
        inverseRootCounts[Int(j)] = 1 / itemCounts[Int(j)].squareRoot()
        for h in history where neighbours[Int(h)].needsRanking(scoringNeighbours) {
            neighbours[Int(h)].rank(keeping: scoringNeighbours, inverseRootCounts: inverseRootCounts)
        }
        if neighbours[Int(j)].needsRanking(scoringNeighbours) {
            neighbours[Int(j)].rank(keeping: scoringNeighbours, inverseRootCounts: inverseRootCounts)
        }
        history.append(j)
        if history.count > historyLength { history.removeFirst(history.count - historyLength) }
        histories[feedback.context.userId] = history
    }

    public func explain(_ candidate: ScoringCandidate, context: ScoringContext) -> ScoreExplanation {
        explain(candidate, context: context, limit: .max)
    }

    /// The score's terms, strongest first: one per history item co-visited with the candidate;
    /// only the `limit` strongest are named (the score is still the sum of all).
    public func explain(_ candidate: ScoringCandidate, context: ScoringContext, limit: Int) -> ScoreExplanation {
        var terms: [(history: Int32, value: Double)] = []
        if let c = itemIndex[candidate.itemId] {
            for h in histories[context.userId] ?? [] {
                if let co = neighbours[Int(h)].count(of: c) {
                    terms.append((h, Double(co) * inverseRootCounts[Int(h)] * inverseRootCounts[Int(c)]))
                }
            }
        }
        let score = terms.reduce(0) { $0 + $1.value }
        terms.sort { $0.value > $1.value || ($0.value == $1.value && $0.history < $1.history) }
        let contributions = terms.prefix(max(0, limit)).map { ScoreContribution("co-visited with \(itemIds[Int($0.history)])", $0.value) }
        return ScoreExplanation(itemId: candidate.itemId, model: Self.modelName, score: score, contributions: contributions)
    }

    public func describe() -> ModelDescription {
        ModelDescription(name: Self.modelName, formatVersion: Self.formatVersion,
                         parameters: ["history_length": "\(historyLength)", "positive_threshold": "\(positiveThreshold)",
                                      "items": "\(itemIds.count)", "users": "\(histories.count)",
                                      "scoring_neighbours": "\(scoringNeighbours)",
                                      "pairs": "\(neighbours.reduce(0) { $0 + $1.ids.count } / 2)"],
                         updateCount: updateCount)
    }

    public func snapshot() -> [UInt8] {
        var w = ModelSnapshotWriter(model: Self.modelName, version: Self.formatVersion)
        w.write(historyLength)
        w.write(positiveThreshold)
        w.write(updateCount)
        w.write(itemIds)
        w.write(itemCounts)
        for list in neighbours {
            w.write(list.ids.count)
            for e in list.ids.indices.sorted(by: { list.ids[$0] < list.ids[$1] }) {
                w.write(Int(list.ids[e]))
                w.write(Double(list.counts[e]))
            }
        }
        w.write(histories.count)
        for user in histories.keys.sorted() {
            w.write(user)
            w.write(histories[user]!.map { Double($0) })
        }
        return w.bytes
    }

    public init(snapshot: [UInt8]) throws {
        var r = try ModelSnapshotReader(snapshot, model: Self.modelName, supported: 1...Self.formatVersion)
        historyLength = try r.readInt()
        positiveThreshold = try r.readDouble()
        guard historyLength > 0 else { throw ModelSnapshotError.invalid("historyLength") }
        updateCount = try r.readInt()
        itemIds = try r.readStrings()
        itemCounts = try r.readDoubles()
        guard itemCounts.count == itemIds.count else { throw ModelSnapshotError.invalid("item counts") }
        inverseRootCounts = itemCounts.map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
        let valid = 0..<itemIds.count
        for (i, id) in itemIds.enumerated() {
            itemIndex[id] = Int32(i)
            let n = try r.readCount(elementSize: 16)
            var list = NeighbourList()
            for _ in 0..<n {
                let key = try r.readInt()
                guard valid.contains(key) else { throw ModelSnapshotError.invalid("neighbour index") }
                list.add(Float(try r.readDouble()), to: Int32(key))
            }
            neighbours.append(list)
        }
        scoringNeighbours = Self.defaultScoringNeighbours
        for i in neighbours.indices where neighbours[i].needsRanking(scoringNeighbours) {
            neighbours[i].rank(keeping: scoringNeighbours, inverseRootCounts: inverseRootCounts)
        }
        let users = try r.readCount(elementSize: 16)
        for _ in 0..<users {
            let user = try r.readString()
            let items = try r.readDoubles()
            guard items.allSatisfy({ valid.contains(Int($0)) }) else { throw ModelSnapshotError.invalid("history index") }
            histories[user] = items.map { Int32($0) }
        }
        try r.finish()
    }
}

/// One item's co-visited neighbours: ids and counts in two parallel arrays (in the order they were
/// first seen), streamed through when scoring, and each id's place in them for updates. A list
/// longer than the scoring limit also keeps the places of its strongest entries.
struct NeighbourList: Sendable {
    private(set) var ids: [Int32] = []
    private(set) var counts: [Float] = []
    private var places: [Int32: Int32] = [:]
    /// Places of the strongest entries when the list is longer than the scoring limit (else empty:
    /// scoring reads every entry).
    private(set) var strongest: [Int32] = []
    private var updatesSinceRanking = 0

    /// The co-visitation count with `id`, if any.
    func count(of id: Int32) -> Float? { places[id].map { counts[Int($0)] } }

    mutating func add(_ amount: Float, to id: Int32) {
        updatesSinceRanking += 1
        if let place = places[id] {
            counts[Int(place)] += amount
        } else {
            places[id] = Int32(ids.count)
            ids.append(id)
            counts.append(amount)
        }
    }

    /// Whether the strongest entries should be chosen (again): the list outgrew `limit` and has
    /// changed by a quarter since the last choice (amortised O(log n) per update).
    func needsRanking(_ limit: Int) -> Bool {
        ids.count > limit && (strongest.isEmpty || updatesSinceRanking >= max(64, ids.count / 4))
    }

    /// Keeps the places of the `limit` strongest entries by count / sqrt(count of the neighbour).
    mutating func rank(keeping limit: Int, inverseRootCounts: [Double]) {
        updatesSinceRanking = 0
        guard ids.count > limit else { strongest = []; return }
        let weights = ids.indices.map { Double(counts[$0]) * inverseRootCounts[Int(ids[$0])] }
        strongest = TopK.select(weights, k: limit).map { Int32($0.index) }
    }
}
