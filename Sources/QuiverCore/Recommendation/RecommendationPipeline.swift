// RecommendationPipeline: one request, from candidates to an explained, explored list.
//   1. candidates: each source of the scenario (cold-start sources for an unknown user) adds up to
//      its quota of items that pass the filters; an item keeps the first source that found it;
//   2. scoring: every ensemble member with weight > 0 scores every candidate; scores are min-max
//      normalised per member and blended with the weights; explicit preferences add a boost;
//   3. diversity: at most `max_per_category` items of one category, the overflow demoted;
//   4. exploration: the last `slots` positions are filled by the SlateExplorer (epsilon-greedy or
//      softmax) from every candidate not yet placed, with the exact propensity of each pick.
// Invariant: pure: the same query, models, catalog, index and generator give the same list. Past
// the deadline it degrades to the popularity order and says so.

/// What one recommendation request asks, after the server resolved scenario, arm and strategy.
public struct RecommendationQuery: Sendable {
    public var userID: String
    public var count: Int
    public var scenario: Scenario
    /// Ensemble weights after the experiment arm.
    public var ensemble: [String: Double]
    public var strategy: SessionStrategy
    /// Dense features, context tokens and the request time.
    public var context: ScoringContext
    /// The item the user is looking at (detail pages, cart), if any.
    public var contextItemID: String?
    public var excludeItems: Set<String>
    /// When set, only items in one of these categories.
    public var includeCategories: Set<String>?
    public var excludeCategories: Set<String>
    /// Category -> strength in [0, 1]: affinities from behaviour and explicit preferences.
    public var preferredCategories: [String: Double]
    /// Categories the user said they do not want.
    public var blockedCategories: Set<String>

    public init(userID: String, count: Int, scenario: Scenario, strategy: SessionStrategy = .exploit,
                context: ScoringContext, contextItemID: String? = nil, excludeItems: Set<String> = [],
                includeCategories: Set<String>? = nil, excludeCategories: Set<String> = [],
                preferredCategories: [String: Double] = [:], blockedCategories: Set<String> = []) {
        self.userID = userID
        self.count = count
        self.scenario = scenario
        self.ensemble = scenario.ensemble
        self.strategy = strategy
        self.context = context
        self.contextItemID = contextItemID
        self.excludeItems = excludeItems
        self.includeCategories = includeCategories
        self.excludeCategories = excludeCategories
        self.preferredCategories = preferredCategories
        self.blockedCategories = blockedCategories
    }
}

/// One recommended item and why.
public struct RankedItem: Sendable, Hashable {
    public var itemID: String
    /// Blended score (normalised member scores times weights, plus preference boost).
    public var score: Double
    public var source: CandidateSource
    public var explored: Bool
    /// Probability that this position got this item under the serving policy.
    public var propensity: Double
    /// Each ensemble member's weighted share of the score (and the preference boost).
    public var contributions: [ScoreContribution]
    /// The leading member's own explanation: its top terms.
    public var reasons: [ScoreContribution]
    public var reasonModel: String

    public init(itemID: String, score: Double, source: CandidateSource, explored: Bool, propensity: Double,
                contributions: [ScoreContribution], reasons: [ScoreContribution], reasonModel: String) {
        self.itemID = itemID
        self.score = score
        self.source = source
        self.explored = explored
        self.propensity = propensity
        self.contributions = contributions
        self.reasons = reasons
        self.reasonModel = reasonModel
    }
}

/// The answer of the pipeline.
public struct RankedList: Sendable {
    public var items: [RankedItem]
    public var candidateCount: Int
    public var coldStart: Bool
    /// Why the answer is degraded (`deadline`, `no_candidates`), nil when it is not.
    public var degradation: String?
    public var sourceCounts: [String: Int]

    public init(items: [RankedItem], candidateCount: Int, coldStart: Bool, degradation: String?, sourceCounts: [String: Int]) {
        self.items = items
        self.candidateCount = candidateCount
        self.coldStart = coldStart
        self.degradation = degradation
        self.sourceCounts = sourceCounts
    }
}

public enum RecommendationPipeline {
    /// Builds the list for `query`.
    public static func recommend<G: RandomNumberGenerator>(
        _ query: RecommendationQuery, models: RecommendationModels, catalog: ServingCatalog, index: CandidateIndex,
        isPastDeadline: () -> Bool, using generator: inout G
    ) -> RankedList {
        let scenario = query.scenario
        var ensemble = query.ensemble
        var exploration = scenario.exploration
        var maxPerCategory = scenario.maxPerCategory
        var extraSources: [CandidateQuota] = []
        switch query.strategy {
        case .exploit: break
        case .explore:
            exploration.rate = exploration.policy == "softmax" ? exploration.rate * 3 : min(1, max(exploration.rate * 3, 0.3))
            exploration.slots = max(exploration.slots, min(3, query.count))
            if exploration.policy == "none" { exploration.policy = "epsilon_greedy" }
        case .diversify:
            maxPerCategory = maxPerCategory == 0 ? 2 : min(maxPerCategory, 2)
        case .trending:
            ensemble["trending", default: 0] += 0.5
            extraSources.append(CandidateQuota(.trending, 100))
        case .similarToLast:
            ensemble["co_visitation", default: 0] *= 1.5
            extraSources.append(CandidateQuota(.relatedToContextItem, 100))
        }
        let t = query.context.timestamp
        let items = catalog.items
        // Positions never to recommend: unavailable items (when filtered), seen ones, excluded ones.
        // (The catalog keeps `unavailable` sized for every position.)
        var excluded = scenario.filters.requireAvailable ? catalog.unavailable : PositionSet(count: items.count)
        if scenario.filters.excludeSeen {
            for id in models.seen.items(of: query.userID) { if let p = catalog.position(of: id) { excluded.insert(p) } }
        }
        for id in query.excludeItems { if let p = catalog.position(of: id) { excluded.insert(p) } }
        // From here on the filters are constants: the closures below capture no variable, so
        // they cost no dynamic exclusivity check per call.
        let seen = excluded
        let blocked = query.excludeCategories.union(query.blockedCategories).union(scenario.filters.excludeCategories)
        let includeCategories = query.includeCategories
        let checkCategories = !blocked.isEmpty || includeCategories != nil
        // `allowed` must not mention `query`: every use of it as a closure would copy the whole
        // query (a dozen reference-counted fields) into the closure's context, measured at ~16%
        // of a recommendation's CPU time.
        func allowed(_ p: Int32) -> Bool {
            guard !seen.contains(p) else { return false }
            let i = Int(p)
            if checkCategories {
                let categories = items[i].categories
                if !blocked.isEmpty, categories.contains(where: blocked.contains) { return false }
                if let include = includeCategories, !categories.contains(where: include.contains) { return false }
            }
            return true
        }

        // 1. Candidates, as catalog positions. The per-user model views are computed once and
        // serve both the sources and the scoring below.
        let known = models.knows(user: query.userID)
        let quotas = (known ? scenario.sources : scenario.coldStartSources) + extraSources
        let wants = Set(quotas.map(\.source))
        let covisitation = models.coVisitation.scores(forUser: query.userID)
        let embedding: ImplicitMatrixFactorization.UserScores? =
            wants.contains(.embedding) || (ensemble["embedding"] ?? 0) > 0 ? models.embeddings.scores(forUser: query.userID) : nil
        var gathered = CandidateGathering(itemCount: items.count)
        let coVisitationPositions = index.coVisitationPosition
        let embeddingPositions = index.embeddingPosition
        /// A model slot's catalog position (through the index; items newer than it by id).
        @inline(__always) func position(_ slot: Int, _ map: [Int32], _ id: () -> String) -> Int32? {
            if slot < map.count { let p = map[slot]; return p >= 0 ? p : nil }
            return catalog.position(of: id())
        }
        let lastItem = query.contextItemID ?? models.coVisitation.lastItem(of: query.userID)
        for quota in quotas {
            var turn = CandidateGathering.Turn(quota)
            switch quota.source {
            case .popular: for p in index.popular { if !gathered.offer(p, &turn, allowed) { break } }
            case .trending: for p in index.trending { if !gathered.offer(p, &turn, allowed) { break } }
            case .fresh: for p in index.fresh { if !gathered.offer(p, &turn, allowed) { break } }
            case .staticList:
                for id in scenario.staticItems { if let p = catalog.position(of: id), !gathered.offer(p, &turn, allowed) { break } }
            case .coVisitation:
                guard known else { break }
                let scores = covisitation.bySlot
                let placed = gathered.placed
                let picks = TopK.select(scores, k: quota.count, floor: 0) { slot in
                    guard let p = position(slot, coVisitationPositions, { covisitation.itemId(atSlot: slot) }) else { return false }
                    return !placed.contains(p) && allowed(p)
                }
                for pick in picks {
                    if let p = position(pick.index, coVisitationPositions, { covisitation.itemId(atSlot: pick.index) }),
                       !gathered.offer(p, &turn, allowed) { break }
                }
            case .relatedToContextItem:
                if let lastItem {
                    let placed = gathered.placed
                    let related = models.coVisitation.relatedItems(to: lastItem, limit: quota.count) { id in
                        catalog.position(of: id).map { !placed.contains($0) && allowed($0) } ?? false
                    }
                    for (id, _) in related { if let p = catalog.position(of: id), !gathered.offer(p, &turn, allowed) { break } }
                }
            case .embedding:
                guard let embedding, models.embeddings.knows(user: query.userID) else { break }
                let placed = gathered.placed
                let picks = TopK.select(embedding.bySlot, k: quota.count) { slot in
                    guard let p = position(slot, embeddingPositions, { embedding.itemId(atSlot: slot) }) else { return false }
                    return !placed.contains(p) && allowed(p)
                }
                for pick in picks {
                    if let p = position(pick.index, embeddingPositions, { embedding.itemId(atSlot: pick.index) }),
                       !gathered.offer(p, &turn, allowed) { break }
                }
            case .sameCategory:
                let favourites = query.preferredCategories.sorted { a, b in a.value > b.value || (a.value == b.value && a.key < b.key) }.prefix(3)
                let perCategory = max(1, quota.count / max(1, favourites.count))
                for (category, _) in favourites {
                    var taken = 0
                    for p in index.popularByCategory[category] ?? [] {
                        if taken >= perCategory || !gathered.offer(p, &turn, allowed) { break }
                        taken += 1
                    }
                }
            default: break
            }
            gathered.close(turn)
        }
        var candidates = gathered.positions
        var sources = gathered.sources
        var placed = gathered.placed
        let sourceCounts = gathered.sourceCounts
        if candidates.isEmpty {
            // Nothing passed: the static list and then the popular list, beyond the sources' quotas.
            let fallback = scenario.staticItems.compactMap(catalog.position(of:)) + index.popular
            for p in fallback where candidates.count < query.count * 5 && Int(p) < items.count {
                if !placed.contains(p), allowed(p) {
                    placed.insert(p); candidates.append(p); sources.append(.staticList)
                }
            }
        }
        guard !candidates.isEmpty else {
            return RankedList(items: [], candidateCount: 0, coldStart: !known, degradation: "no_candidates", sourceCounts: [:])
        }

        // 2. Scoring: every lookup is by position or slot; no strings.
        func lookup(_ table: [Double], _ p: Int32) -> Double { Int(p) < table.count ? table[Int(p)] : 0 }
        func slotScore(_ scores: [Double], _ slots: [Int32], _ p: Int32) -> Double {
            guard Int(p) < slots.count else { return 0 }
            let s = slots[Int(p)]
            return s >= 0 && Int(s) < scores.count ? scores[Int(s)] : 0
        }
        var degradation: String?
        var memberNames: [String] = []
        var normalized: [[Double]] = []
        var weights: [Double] = []
        if isPastDeadline() {
            degradation = "deadline"
            memberNames = ["popularity"]
            normalized = [ScoreFusion.normalize(candidates.map { lookup(index.popularity, $0) }, .minMax)]
            weights = [1]
        } else {
            for member in EnsembleMember.all {
                let weight = ensemble[member.rawValue] ?? 0
                guard weight > 0 else { continue }
                let raw: [Double]
                switch member {
                case .popularity: raw = candidates.map { lookup(index.popularity, $0) }
                case .trending: raw = candidates.map { lookup(index.trendingScore, $0) }
                case .coVisitation:
                    let scores = covisitation.bySlot
                    raw = candidates.map { slotScore(scores, index.coVisitationSlot, $0) }
                case .embedding:
                    let scores = embedding?.bySlot ?? []
                    raw = candidates.map { slotScore(scores, index.embeddingSlot, $0) }
                case .ftrl: raw = models.ftrl.score(positions: candidates, of: catalog.sides, context: query.context)
                default: continue
                }
                memberNames.append(member.rawValue)
                normalized.append(ScoreFusion.normalize(raw, .minMax))
                weights.append(weight)
            }
        }
        var blended = [Double](repeating: 0, count: candidates.count)
        for (m, scores) in normalized.enumerated() {
            for i in scores.indices { blended[i] += weights[m] * scores[i] }
        }
        var boosts = [Double](repeating: 0, count: candidates.count)
        if scenario.preferenceBoost > 0, !query.preferredCategories.isEmpty {
            let preferred = query.preferredCategories
            // The preferred categories by interned id (names the catalog never saw match nothing).
            let preferredIDs = preferred.compactMap { name, strength in catalog.categoryIDs[name].map { ($0, strength) } }
            let lanes = catalog.positionCategories
            for (i, p) in candidates.enumerated() {
                var strength = 0.0
                if Int(p) < lanes.count, lanes[Int(p)][3] != ServingCatalog.moreCategories {
                    let ids = lanes[Int(p)]
                    for (id, s) in preferredIDs where any(ids .== SIMD4(repeating: id)) { strength = max(strength, s) }
                } else {
                    for category in items[Int(p)].categories { strength = max(strength, preferred[category] ?? 0) }
                }
                boosts[i] = scenario.preferenceBoost * strength
                blended[i] += boosts[i]
            }
        }

        // 3. Order, with the diversity cap demoting the overflow.
        var order = candidates.indices.sorted { a, b in
            blended[a] > blended[b] || (blended[a] == blended[b] && items[Int(candidates[a])].itemID < items[Int(candidates[b])].itemID)
        }
        var effective = blended
        if maxPerCategory > 0 {
            var perCategory: [String: Int] = [:]
            var kept: [Int] = []
            var overflow: [Int] = []
            for i in order {
                let category = items[Int(candidates[i])].categories.first
                if let category, perCategory[category, default: 0] >= maxPerCategory {
                    overflow.append(i)
                    effective[i] -= 1_000
                } else {
                    if let category { perCategory[category, default: 0] += 1 }
                    kept.append(i)
                }
            }
            order = kept + overflow
        }

        // 4. Exploitation prefix, explored tail.
        let n = min(query.count, candidates.count)
        let explorable = exploration.policy == "none" || exploration.rate == 0 ? 0 : min(exploration.slots, n)
        var slate: [(index: Int, propensity: Double, explored: Bool)] = order.prefix(n - explorable).map { ($0, 1, false) }
        if explorable > 0 {
            let pool = Array(order.dropFirst(n - explorable))
            let explorer = SlateExplorer(strategy: exploration.policy == "softmax"
                                         ? .softmax(temperature: exploration.rate) : .epsilonGreedy(epsilon: exploration.rate))
            let poolScores = pool.map { effective[$0] }
            var remainingBest = 0
            var taken = Set<Int>()
            for choice in explorer.rank(scores: poolScores, count: explorable, using: &generator) {
                while taken.contains(remainingBest) { remainingBest += 1 }
                slate.append((pool[choice.index], choice.propensity, choice.index != remainingBest))
                taken.insert(choice.index)
            }
        }

        let ranked = slate.map { entry -> RankedItem in
            let i = entry.index
            let item = items[Int(candidates[i])]
            var contributions = memberNames.indices.map { ScoreContribution(memberNames[$0], weights[$0] * normalized[$0][i]) }
            if boosts[i] != 0 { contributions.append(ScoreContribution("preference_boost", boosts[i])) }
            contributions.sort { abs($0.value) > abs($1.value) }
            let leading = contributions.first { $0.name != "preference_boost" }?.name ?? memberNames.first ?? "popularity"
            let explanation: ScoreExplanation
            switch leading {
            case "co_visitation": explanation = models.coVisitation.explain(item.candidate, context: query.context, limit: 3)
            case "embedding": explanation = models.embeddings.explain(item.candidate, context: query.context, limit: 3)
            case "ftrl": explanation = models.ftrl.explain(item.candidate, context: query.context)
            case "trending":
                let score = models.trending(item.itemID, at: t)
                explanation = ScoreExplanation(itemId: item.itemID, model: "trending", score: score,
                                               contributions: [ScoreContribution("short_over_long_popularity", score)])
            default: explanation = models.popularity.explain(item.candidate, context: query.context)
            }
            return RankedItem(itemID: item.itemID, score: blended[i], source: sources[i], explored: entry.explored,
                              propensity: entry.propensity, contributions: contributions,
                              reasons: Array(explanation.contributions.prefix(3)), reasonModel: leading)
        }
        return RankedList(items: ranked, candidateCount: candidates.count, coldStart: !known, degradation: degradation,
                          sourceCounts: sourceCounts)
    }
}

/// The candidate stage's running state: the positions found so far (each with the source that
/// found it first), and per source how many it added.
struct CandidateGathering {
    private(set) var positions: [Int32] = []
    private(set) var sources: [CandidateSource] = []
    private(set) var placed: PositionSet
    private(set) var sourceCounts: [String: Int] = [:]
    let itemCount: Int

    /// One source's turn: what it may still add.
    struct Turn {
        let source: CandidateSource
        let quota: Int
        var added = 0

        init(_ quota: CandidateQuota) { (source, self.quota) = (quota.source, quota.count) }
    }

    init(itemCount: Int) {
        self.itemCount = itemCount
        placed = PositionSet(count: itemCount)
    }

    /// Offers a position for the turn's source; false once its quota is full.
    mutating func offer(_ p: Int32, _ turn: inout Turn, _ allowed: (Int32) -> Bool) -> Bool {
        guard turn.added < turn.quota else { return false }
        if Int(p) < itemCount, !placed.contains(p), allowed(p) {
            placed.insert(p)
            positions.append(p)
            sources.append(turn.source)
            turn.added += 1
        }
        return turn.added < turn.quota
    }

    mutating func close(_ turn: Turn) {
        if turn.added > 0 { sourceCounts[turn.source.rawValue, default: 0] += turn.added }
    }
}

/// A set of catalog positions as a bitset: O(1) membership without hashing.
struct PositionSet {
    private var words: [UInt64]
    init(count: Int) { words = [UInt64](repeating: 0, count: (count + 63) / 64) }
    func contains(_ p: Int32) -> Bool {
        let w = Int(p) >> 6
        return w < words.count && words[w] & (1 << UInt64(Int(p) & 63)) != 0
    }
    mutating func insert(_ p: Int32) {
        let w = Int(p) >> 6
        if w < words.count { words[w] |= 1 << UInt64(Int(p) & 63) }
    }
    /// Sets or clears one position (it must be below the capacity).
    mutating func set(_ p: Int32, _ member: Bool) {
        let w = Int(p) >> 6, bit = UInt64(1) << UInt64(Int(p) & 63)
        if member { words[w] |= bit } else { words[w] &= ~bit }
    }
    /// Makes room for positions 0..<count (new ones absent).
    mutating func grow(toHold count: Int) {
        let needed = (count + 63) / 64
        if needed > words.count { words.append(contentsOf: repeatElement(0, count: needed - words.count)) }
    }
}
