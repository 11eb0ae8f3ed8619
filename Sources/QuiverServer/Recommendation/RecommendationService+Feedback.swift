// RecommendationService+Feedback: a reward joined to what was shown. The feedback is joined by
// request id and item to the remembered impression (propensity, context); a duplicate of a joined
// (request, item, type) is acknowledged without effect; feedback for an unknown or expired request
// is kept as an event and reported unjoined. An impression served by another process sharing the
// store is found in the store's impression log. The event (when the type is an event type) and the
// feedback record are made durable together; the commit observer teaches the models.
import Foundation
import QuiverCore
import QuiverStore

extension RecommendationService {
    /// Feedback types that carry no event: explicit negatives, reward 0 unless given.
    static let negativeFeedbackTypes: Set<String> = ["skip", "dislike", "hide", "not_interested"]

    /// Default rewards by feedback type, from `recommend.feedback_rewards`.
    var defaultRewards: [String: Double] {
        var table: [String: Double] = [:]
        for pair in configuration.feedbackRewards.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, let value = Double(parts[1]) { table[parts[0]] = value }
        }
        return table
    }

    enum FeedbackOutcome {
        case accepted(FeedbackResponse)
        case invalid(RequestFault)
        case unavailable(String)
    }

    func feedback(_ request: FeedbackRequest, path: String = "", wallNow: Double = Date().timeIntervalSince1970) async -> FeedbackOutcome {
        if let fault = Self.checkIdentifier(request.userID, field: path + "user_id") { return .invalid(fault) }
        if let fault = Self.checkIdentifier(request.itemID, field: path + "item_id") { return .invalid(fault) }
        if let id = request.requestID, let fault = Self.checkIdentifier(id, field: path + "request_id") { return .invalid(fault) }
        let type = request.feedbackType
        let isNegative = Self.negativeFeedbackTypes.contains(type)
        let eventType = EventType(rawValue: type)
        guard isNegative || features.validator.knownTypes.contains(eventType) else {
            let known = features.validator.knownTypes.map(\.rawValue).sorted() + Self.negativeFeedbackTypes.sorted()
            return .invalid(RequestFault(field: path + "feedback_type", message: "unknown feedback type '\(type)' (one of \(known.joined(separator: ", ")))"))
        }
        if let reward = request.reward, !(reward.isFinite && abs(reward) <= 1e6) {
            return .invalid(RequestFault(field: path + "reward", message: "must be a finite number with magnitude at most 1e6"))
        }
        if let t = request.timestamp, !(t.isFinite && t >= 0 && t <= 4_102_444_800) {
            return .invalid(RequestFault(field: path + "timestamp", message: "must be Unix seconds between 0 and 4102444800"))
        }
        let reward = request.reward ?? (isNegative ? 0 : defaultRewards[type] ?? 1)
        let time = request.timestamp ?? wallNow

        // Join.
        var joined = false
        var reason: String?
        var impressionItem: ImpressionItem?
        var served: ServedImpression?
        let dedupeKey = "\(request.itemID)|\(type)"
        if let requestID = request.requestID {
            if let impression = await impression(requestID, now: wallNow) {
                if impression.userID != request.userID {
                    reason = "user_mismatch"
                } else if let item = impression.items.first(where: { $0.itemID == request.itemID }) {
                    guard impressions.markFeedback(requestID, key: dedupeKey) else {
                        counters.withLock { $0.duplicateFeedback += 1 }
                        return .accepted(FeedbackResponse(status: "duplicate", joined: true, reason: "already recorded",
                                                          reward: reward, request_id: requestID, propensity: item.propensity))
                    }
                    joined = true
                    impressionItem = item
                    served = impression
                } else {
                    reason = "item_not_in_request"
                }
            } else {
                reason = "unknown_or_expired_request"
            }
        } else {
            reason = "no_request_id"
        }

        let context = request.context?.eventContext ?? .empty
        var events: [UserEvent] = []
        if !isNegative {
            let event = UserEvent(userID: request.userID, itemID: request.itemID, type: eventType, value: reward,
                                  timestamp: time, context: context)
            do throws(EventValidationError) {
                try features.validator.validate(event, path: path.isEmpty ? "feedback" : String(path.dropLast()))
            } catch {
                if joined, let id = request.requestID { impressions.unmarkFeedback(id, key: dedupeKey) }
                return .invalid(RequestFault(field: error.field, message: error.message))
            }
            events.append(event)
        }
        let record = FeedbackRecord(requestID: request.requestID, userID: request.userID, itemID: request.itemID,
                                    feedbackType: type, reward: reward, timestamp: time, joined: joined,
                                    propensity: impressionItem?.propensity, scenario: served?.scenario,
                                    tokens: served?.tokens ?? [], dense: served?.dense.map(Double.init) ?? [])
        do {
            try await features.log.append(events, feedback: [record], receivedAt: wallNow)
        } catch {
            if joined, let id = request.requestID { impressions.unmarkFeedback(id, key: dedupeKey) }
            return .unavailable("feedback could not be made durable: \(error)")
        }
        if joined, let id = request.requestID {
            // Another process may have served the step: its shared session is the one to credit.
            let agentPlays = served.flatMap { s in scenarios.withLock { $0.current.scenario(named: s.scenario)?.sessionAgent } } ?? false
            if agentPlays, let sharedSessions, let remote = try? await pool.run({ sharedSessions.fetch(request.userID) }) {
                sessions.adopt(request.userID, remote)
            }
            sessions.credit(request.userID, requestID: id, reward: reward)
            if agentPlays, let sharedSessions, let session = sessions.exported(request.userID) { sharedSessions.save(request.userID, session) }
        }
        counters.withLock { counters in
            counters.feedback += 1
            if joined { counters.joinedFeedback += 1 }
        }
        return .accepted(FeedbackResponse(status: "accepted", joined: joined, reason: reason, reward: reward,
                                          request_id: request.requestID, propensity: impressionItem?.propensity))
    }

    /// The impression of `requestID`: remembered here, or logged by another process sharing the
    /// store (then remembered here too, so duplicates of its feedback are recognised).
    func impression(_ requestID: String, now: Double) async -> ServedImpression? {
        if let served = impressions.lookup(requestID, now: now) { return served }
        let log = features.log
        guard let stored = try? await pool.run({ try log.resolvedImpression(requestID: requestID) }),
              now - stored.timestamp <= configuration.impressionTTLSeconds else { return nil }
        impressions.remember(requestID, ServedImpression(
            userID: stored.userID, scenario: stored.scenario, timestamp: stored.timestamp,
            items: stored.items, tokens: stored.tokens, dense: []))
        return impressions.lookup(requestID, now: now)
    }
}
