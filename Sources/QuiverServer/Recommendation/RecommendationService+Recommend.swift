// RecommendationService+Recommend: one recommendation request end to end: validate, try the
// result cache, read the user's features and preferences, let the session agent pick a strategy,
// run the pipeline under the models' read lock within the scenario's deadline, then remember and
// log the impression (for feedback joins) and cache the answer.
// Fallback chain when the models cannot answer in time: stale cached answer -> popular -> static.
import Foundation
import QuiverCore
import QuiverStore

extension RecommendationService {
    static let maxIdentifierBytes = 256
    static let maxFilterItems = 1_000

    /// A validated request with its cache key and request id.
    struct PreparedRequest: Sendable {
        let request: RecommendationRequest
        let started: ContinuousClock.Instant
        let wallNow: Double
        let scenarioSet: ScenarioSet
        let scenario: Scenario
        let useCache: Bool
        let key: ResultCacheKey
        let requestID: String
    }

    /// Renders the response object for one request, or the fault that names the bad field. Uses
    /// the in-process cache only: this runs on an event loop and never waits.
    /// - Parameter prefetch: a background recomputation for the cache: no impression, no session
    ///   step, not counted as a request.
    func recommend(_ request: RecommendationRequest, path: String = "", wallNow: Double = Date().timeIntervalSince1970,
                   prefetch: Bool = false) -> Result<[UInt8], RequestFault>
    {
        let prepared: PreparedRequest
        switch prepare(request, path: path, wallNow: wallNow, prefetch: prefetch) {
        case .failure(let fault): return .failure(fault)
        case .success(let p): prepared = p
        }
        if prepared.useCache, !prefetch, let hit = cache.lookup(prepared.key, now: wallNow) {
            return .success(answer(prepared, from: hit, degradation: nil))
        }
        return .success(compute(prepared, prefetch: prefetch))
    }

    /// The same, with the shared second-level cache between the in-process cache and the models:
    /// an in-process miss costs one round trip to the online store (bounded by its timeout; a
    /// store that is down is skipped). Runs as a task, off the event loops.
    func recommendShared(_ request: RecommendationRequest, path: String = "") async -> Result<[UInt8], RequestFault> {
        guard let shared = sharedCache else { return recommend(request, path: path) }
        let wallNow = Date().timeIntervalSince1970
        let prepared: PreparedRequest
        switch prepare(request, path: path, wallNow: wallNow, prefetch: false) {
        case .failure(let fault): return .failure(fault)
        case .success(let p): prepared = p
        }
        let userID = request.userID
        if prepared.useCache, let hit = cache.lookup(prepared.key, now: wallNow) {
            return .success(answer(prepared, from: hit, degradation: nil))
        }
        // One round trip for the shared answer and, when the agent plays, the user's shared session.
        let sessionKey = prepared.scenario.sessionAgent ? sharedSessions.map { _ in SharedSessions.key(userID) } : nil
        let key = prepared.useCache ? prepared.key : nil
        let found = (try? await pool.run({ shared.lookup(key, extra: sessionKey) })) ?? SharedResultCache.Found()
        if let key, let (hit, remainingMs) = found.answer {
            cache.store(hit, for: key, expiresAt: wallNow + Double(remainingMs) / 1000)
            counters.withLock { $0.sharedCacheHits += 1 }
            return .success(answer(prepared, from: hit, degradation: nil))
        }
        if key != nil { counters.withLock { $0.sharedCacheMisses += 1 } }
        if let bytes = found.extra, let session = SharedSessions.decode(bytes) { sessions.adopt(userID, session) }
        let bytes = compute(prepared, prefetch: false)
        if sessionKey != nil, let sharedSessions, let session = sessions.exported(userID) { sharedSessions.save(userID, session) }
        return .success(bytes)
    }

    /// Validates the request and builds its cache key.
    func prepare(_ request: RecommendationRequest, path: String, wallNow: Double, prefetch: Bool) -> Result<PreparedRequest, RequestFault> {
        let started = ContinuousClock.now
        let scenarioSet = scenarios.withLock { $0.current }
        let name = request.scenario ?? "homepage"
        guard let scenario = scenarioSet.scenario(named: name) else {
            return .failure(RequestFault(field: path + "scenario",
                                         message: "'\(name)' is not a scenario (one of \(scenarioSet.scenarios.map(\.name).joined(separator: ", ")))",
                                         code: "unknown_scenario"))
        }
        if let fault = validate(request, scenario: scenario, path: path) { return .failure(fault) }
        let count = request.count ?? scenario.defaultCount
        let useCache = (request.useCache ?? true) && scenario.cacheTTLSeconds > 0
        let key = ResultCacheKey(userID: request.userID, scenario: scenario.name, count: count,
                                 contextBucket: request.context?.bucket ?? RequestContext.emptyBucket,
                                 filters: request.filters?.cacheKey ?? "", userVersion: versions.version(of: request.userID),
                                 configVersion: scenarioSet.version)
        if useCache && !prefetch && configuration.prefetchWindowSeconds > 0 { prefetcher.noteRequest(request, now: wallNow) }
        return .success(PreparedRequest(request: request, started: started, wallNow: wallNow, scenarioSet: scenarioSet,
                                        scenario: scenario, useCache: useCache, key: key, requestID: nextRequestID()))
    }

    /// Serves a cached answer under the prepared request's new id (remembered and logged for
    /// feedback like a computed one).
    func answer(_ prepared: PreparedRequest, from hit: CachedAnswer, degradation: String?) -> [UInt8] {
        serve(requestID: prepared.requestID, userID: prepared.request.userID, scenario: prepared.scenario.name,
              servedAt: prepared.wallNow, items: hit.impressionItems, tokens: hit.tokens, dense: hit.dense,
              impressionTail: hit.impressionTail, sameAs: hit.origin)
        if hit.origin == nil { cache.adopt(origin: prepared.requestID, for: prepared.key, tail: hit.impressionTail) }
        guard let degradation else {
            plainCacheHits.wrappingAdd(1, ordering: .relaxed)
            return RecommendationRendering.hitResponse(requestID: prepared.requestID, userID: prepared.request.userID,
                                                       answer: hit, latencyMs: milliseconds(since: prepared.started))
        }
        counters.withLock { counters in
            counters.requests += 1
            counters.degraded[degradation, default: 0] += 1
        }
        var summary = hit.summary
        summary.degradation = degradation
        var w = JSONWriter(capacity: hit.recommendationsJSON.count + 512)
        RecommendationRendering.response(requestID: prepared.requestID, userID: prepared.request.userID,
                                         itemsJSON: hit.recommendationsJSON, summary: summary,
                                         latencyMs: milliseconds(since: prepared.started), cached: true, into: &w)
        return w.bytes
    }

    /// Computes the answer with the models (within the scenario's deadline), caches it in both
    /// levels, and renders it; for a prefetch, only caches it.
    func compute(_ prepared: PreparedRequest, prefetch: Bool) -> [UInt8] {
        let request = prepared.request
        let (started, wallNow, scenarioSet, scenario, useCache, key, requestID) =
            (prepared.started, prepared.wallNow, prepared.scenarioSet, prepared.scenario, prepared.useCache, prepared.key, prepared.requestID)
        let userID = request.userID
        let count = key.count
        let time = request.timestamp ?? wallNow
        let context = request.context ?? RequestContext()
        let filters = request.filters

        // Features, preferences and the session's strategy.
        let engine = features.engine
        let profile = profiles.withLock { $0[userID] }
        var preferred: [String: Double] = [:]
        let affinities = engine.categoryAffinities(for: userID, now: time, limit: 5)
        if let top = affinities.map(\.score).max(), top > 0 {
            for affinity in affinities where affinity.score > 0 { preferred[affinity.category] = affinity.score / top * 0.5 }
        }
        for (category, strength) in profile?.preferredCategories ?? [:] { preferred[category] = max(preferred[category] ?? 0, strength) }
        let dense = Self.modelFeatures(engine.featureVector(for: userID, context: context.eventContext, now: time).values)
        let tokens = context.tokens
        var query = RecommendationQuery(
            userID: userID, count: count, scenario: scenario,
            context: ScoringContext(userId: userID, dense: dense, tokens: tokens, timestamp: time),
            contextItemID: context.itemID, excludeItems: Set(filters?.excludeItems ?? []),
            includeCategories: filters?.categories.map(Set.init), excludeCategories: Set(filters?.excludeCategories ?? []),
            preferredCategories: preferred, blockedCategories: Set(profile?.blockedCategories ?? []))
        let arm = scenario.arm(for: userID)
        if let weights = arm?.ensemble { query.ensemble = weights }
        var generator = generator(for: requestID)
        var strategyPropensity: Double?
        var observation: SessionObservation?
        if scenario.sessionAgent && !prefetch {
            let (current, transitions) = sessions.begin(userID, now: wallNow)
            let choice = agent.withLock { agent in
                for t in transitions { agent.learn(from: t.from, strategy: t.strategy, reward: t.reward, next: t.next) }
                return agent.chooseStrategy(for: current, using: &generator)
            }
            query.strategy = choice.strategy
            strategyPropensity = choice.propensity
            observation = current
        }

        // The pipeline, within the deadline.
        let candidateIndex = currentIndex(now: time)
        let deadline = started + .microseconds(Int(scenario.deadlineMs * 1000))
        let budgetMs = max(0, scenario.deadlineMs - milliseconds(since: started))
        let outcome = state.read(waitingAtMost: budgetMs) { state in
            (RecommendationPipeline.recommend(query, models: state.models, catalog: state.catalog, index: candidateIndex,
                                              isPastDeadline: { ContinuousClock.now > deadline }, using: &generator),
             state.models.interactions + state.models.feedbackUpdates)
        }
        let list: RankedList
        let learned: Int
        if let outcome {
            (list, learned) = outcome
        } else if let stale = cache.stale(key) {
            // Models busy past the deadline: the last answer we gave, marked degraded.
            return answer(prepared, from: stale, degradation: "models_busy_stale_cache")
        } else {
            let popular = candidateIndex.popularItemIDs
            list = fallbackList(popular.isEmpty ? scenario.staticItems : popular,
                                count: count, source: popular.isEmpty ? .staticList : .popular,
                                reason: "models_busy", excluding: query.excludeItems)
            learned = -1
        }

        let modelVersion = "\(scenarioSet.version)+\(features.engine.activeVersion)+m\(max(0, learned))"
        let strategyName = scenario.sessionAgent ? Self.strategyName(query.strategy) : nil
        let summary = AnswerSummary(scenario: scenario.name, modelVersion: modelVersion,
                                    explanation: Self.explain(list, userID: userID, scenario: scenario.name, strategy: strategyName),
                                    strategy: strategyName, strategyPropensity: strategyPropensity, arm: arm?.name,
                                    coldStart: list.coldStart, degradation: list.degradation, candidates: list.candidateCount)
        let itemsJSON = RecommendationRendering.items(list.items)
        let impressionItems = list.items.enumerated().map { position, item in
            ImpressionItem(itemID: item.itemID, position: position + 1, score: item.score, propensity: item.propensity,
                           source: item.source.rawValue, explored: item.explored)
        }
        let denseFloats = dense.map(Float.init)
        let impressionTail = ImpressionRecord(
            requestID: requestID, userID: userID, scenario: scenario.name, timestamp: wallNow, modelVersion: summary.modelVersion,
            strategy: summary.strategy, strategyPropensity: summary.strategyPropensity, arm: summary.arm, items: impressionItems,
            tokens: tokens).jsonTail
        if useCache, list.degradation == nil {
            // A prefetch logs no impression: the first serving of its answer logs the list in full.
            let answer = CachedAnswer(recommendationsJSON: itemsJSON, summary: summary, impressionItems: impressionItems,
                                      tokens: tokens, dense: denseFloats, impressionTail: impressionTail,
                                      origin: prefetch ? nil : requestID)
            cache.store(answer, for: key, expiresAt: wallNow + scenario.cacheTTLSeconds)
            sharedCache?.store(answer, for: key, ttl: scenario.cacheTTLSeconds)
        }
        if prefetch { return [] }
        serve(requestID: requestID, userID: userID, scenario: scenario.name, servedAt: wallNow, items: impressionItems,
              tokens: tokens, dense: denseFloats, impressionTail: impressionTail)
        if let observation {
            sessions.record(userID, observation: observation, strategy: query.strategy, requestID: requestID,
                            shown: list.items.count, now: wallNow)
        }
        counters.withLock { counters in
            counters.requests += 1
            counters.computed += 1
            if let reason = list.degradation { counters.degraded[reason, default: 0] += 1 }
            if let strategyName { counters.strategies[strategyName, default: 0] += 1 }
        }
        var w = JSONWriter(capacity: itemsJSON.count + 512)
        RecommendationRendering.response(requestID: requestID, userID: userID, itemsJSON: itemsJSON, summary: summary,
                                         latencyMs: milliseconds(since: started), cached: false, into: &w)
        return w.bytes
    }

    /// Remembers the impression for feedback joins and logs it: in full (its JSON from the answer's
    /// kept tail), or as a reference to `sameAs`, the request that logged the same list in full.
    private func serve(requestID: String, userID: String, scenario: String, servedAt: Double, items: [ImpressionItem],
                       tokens: [String], dense: [Float], impressionTail: String, sameAs: String? = nil) {
        impressions.remember(requestID, ServedImpression(userID: userID, scenario: scenario, timestamp: servedAt,
                                                         items: items, tokens: tokens, dense: dense))
        let json = sameAs.map { ImpressionRecord.referenceJSON(requestID: requestID, timestamp: servedAt, userID: userID,
                                                               scenario: scenario, sameAs: $0) }
            ?? ImpressionRecord.json(requestID: requestID, timestamp: servedAt, tail: impressionTail)
        features.log.log(encoded: [EncodedImpression(requestID: requestID, userID: userID, timestamp: servedAt, json: json)])
    }

    private func fallbackList(_ ids: [String], count: Int, source: CandidateSource, reason: String, excluding: Set<String>) -> RankedList {
        let chosen = ids.lazy.filter { !excluding.contains($0) }.prefix(count)
        let items = chosen.enumerated().map { i, id in
            RankedItem(itemID: id, score: Double(count - i) / Double(count), source: source, explored: false, propensity: 1,
                       contributions: [ScoreContribution("fallback_rank", Double(count - i) / Double(count))], reasons: [],
                       reasonModel: source.rawValue)
        }
        return RankedList(items: items, candidateCount: items.count, coldStart: false, degradation: reason,
                          sourceCounts: [source.rawValue: items.count])
    }

    private func validate(_ request: RecommendationRequest, scenario: Scenario, path: String) -> RequestFault? {
        if let fault = Self.checkIdentifier(request.userID, field: path + "user_id") { return fault }
        if let count = request.count, !(1...scenario.maxCount).contains(count) {
            return RequestFault(field: path + "n_recommendations", message: "must be in 1...\(scenario.maxCount) for scenario \(scenario.name)")
        }
        if let t = request.timestamp, !(t.isFinite && t >= 0 && t <= 4_102_444_800) {
            return RequestFault(field: path + "timestamp", message: "must be Unix seconds between 0 and 4102444800")
        }
        if let context = request.context {
            for (field, value) in [("device", context.device), ("locale", context.locale), ("page", context.page), ("item_id", context.itemID)] {
                if let value, value.utf8.count > Self.maxIdentifierBytes {
                    return RequestFault(field: path + "context.\(field)", message: "must be at most \(Self.maxIdentifierBytes) bytes")
                }
            }
            if context.attributes.count > 32 {
                return RequestFault(field: path + "context.attributes", message: "must hold at most 32 entries")
            }
        }
        if let filters = request.filters {
            for (field, list) in [("exclude_items", filters.excludeItems), ("categories", filters.categories),
                                  ("exclude_categories", filters.excludeCategories)] {
                if let list, list.count > Self.maxFilterItems {
                    return RequestFault(field: path + "filters.\(field)", message: "must hold at most \(Self.maxFilterItems) entries")
                }
            }
        }
        return nil
    }

    /// The slots of the feature vector the click model crosses with item attributes: the
    /// temporal and contextual blocks (hour, weekday, session, device, ...). Behavioural slots
    /// reach the ranking through category affinities and preferences instead; crossing all of them
    /// with every candidate's attributes cost milliseconds per request (measured, docs/api.md).
    static func modelFeatures(_ vector: [Double]) -> [Double] {
        Array(vector.prefix(FeatureVectorLayout.userOutputOffset))
    }

    static func checkIdentifier(_ id: String, field: String) -> RequestFault? {
        if id.isEmpty { return RequestFault(field: field, message: "must not be empty") }
        if id.utf8.count > maxIdentifierBytes { return RequestFault(field: field, message: "must be at most \(maxIdentifierBytes) bytes") }
        return nil
    }

    static func strategyName(_ strategy: SessionStrategy) -> String {
        switch strategy {
        case .exploit: "exploit"
        case .explore: "explore"
        case .diversify: "diversify"
        case .trending: "trending"
        case .similarToLast: "similar_to_last"
        }
    }

    /// One sentence on where the list came from.
    static func explain(_ list: RankedList, userID: String, scenario: String, strategy: String?) -> String {
        guard !list.items.isEmpty else { return "No items could be recommended for \(userID) on \(scenario)." }
        var bySource: [String: Int] = [:]
        for item in list.items { bySource[item.source.rawValue, default: 0] += 1 }
        let parts = bySource.sorted { a, b in a.value > b.value || (a.value == b.value && a.key < b.key) }
            .map { "\($0.value) \(sourcePhrase($0.key))" }
        var sentence = "\(list.items.count) items for \(userID) on \(scenario)"
        if list.coldStart { sentence += " (new user: cold-start sources)" }
        sentence += ": " + parts.joined(separator: ", ")
        let explored = list.items.filter(\.explored).count
        if explored > 0 { sentence += "; \(explored) explored" }
        if let strategy { sentence += "; session strategy \(strategy)" }
        if let reason = list.degradation { sentence += "; degraded (\(reason))" }
        return sentence + "."
    }

    static func sourcePhrase(_ source: String) -> String {
        switch source {
        case "co_visitation": "co-visited with your recent items"
        case "embedding": "close to your taste embedding"
        case "popular": "popular now"
        case "trending": "trending"
        case "same_category": "from your favourite categories"
        case "fresh": "new in the catalog"
        case "related": "related to the item in view"
        case "static": "from the scenario's fixed list"
        default: "from \(source)"
        }
    }

    func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
