// EmbeddedRecords: the records the embedded store keeps besides events and items: feedback
// (joined or not), impressions (what was shown, with propensities, for joining feedback and for
// off-policy evaluation), user profiles (explicit preferences) and model snapshots.
// Invariant: every record is a plain Codable value; the log stores them, never interprets them.
import QuiverCore

/// One piece of feedback as logged: the reward, what it was joined to, and the context the
/// models learned it with (so a replay teaches the same thing).
public struct FeedbackRecord: Sendable, Hashable, Codable {
    public var requestID: String?
    public var userID: String
    public var itemID: String
    public var feedbackType: String
    public var reward: Double
    public var timestamp: Double
    public var joined: Bool
    public var propensity: Double?
    public var scenario: String?
    /// Context tokens and dense features at impression time (empty when unjoined).
    public var tokens: [String]
    public var dense: [Double]

    public init(requestID: String?, userID: String, itemID: String, feedbackType: String, reward: Double,
                timestamp: Double, joined: Bool, propensity: Double?, scenario: String?, tokens: [String], dense: [Double]) {
        self.requestID = requestID
        self.userID = userID
        self.itemID = itemID
        self.feedbackType = feedbackType
        self.reward = reward
        self.timestamp = timestamp
        self.joined = joined
        self.propensity = propensity
        self.scenario = scenario
        self.tokens = tokens
        self.dense = dense
    }
}

/// One item of a logged impression.
public struct ImpressionItem: Sendable, Hashable, Codable {
    public var itemID: String
    public var position: Int
    public var score: Double
    public var propensity: Double
    public var source: String
    public var explored: Bool

    public init(itemID: String, position: Int, score: Double, propensity: Double, source: String, explored: Bool) {
        self.itemID = itemID
        self.position = position
        self.score = score
        self.propensity = propensity
        self.source = source
        self.explored = explored
    }
}

/// A served recommendation list, as logged for feedback joins and off-policy evaluation. A cached
/// list served again is logged as a reference (`sameAs`: the request id whose record holds the
/// list) instead of a copy; `EventStore.resolvedImpression(requestID:)` fills it in.
public struct ImpressionRecord: Sendable, Hashable, Codable {
    public var requestID: String
    public var userID: String
    public var scenario: String
    public var timestamp: Double
    public var modelVersion: String
    public var strategy: String?
    public var strategyPropensity: Double?
    public var arm: String?
    public var items: [ImpressionItem]
    public var tokens: [String]
    /// The request whose record holds this list (a reference record has no items of its own).
    public var sameAs: String?

    enum CodingKeys: String, CodingKey {
        case requestID, userID, scenario, timestamp, modelVersion, strategy, strategyPropensity, arm, items, tokens, sameAs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requestID = try c.decode(String.self, forKey: .requestID)
        userID = try c.decode(String.self, forKey: .userID)
        scenario = try c.decode(String.self, forKey: .scenario)
        timestamp = try c.decode(Double.self, forKey: .timestamp)
        sameAs = try c.decodeIfPresent(String.self, forKey: .sameAs)
        // A reference carries only what differs per serving; the rest comes from its origin.
        modelVersion = try c.decodeIfPresent(String.self, forKey: .modelVersion) ?? ""
        strategy = try c.decodeIfPresent(String.self, forKey: .strategy)
        strategyPropensity = try c.decodeIfPresent(Double.self, forKey: .strategyPropensity)
        arm = try c.decodeIfPresent(String.self, forKey: .arm)
        items = try c.decodeIfPresent([ImpressionItem].self, forKey: .items) ?? []
        tokens = try c.decodeIfPresent([String].self, forKey: .tokens) ?? []
    }

    /// The JSON of a reference record: `requestID` served at `timestamp` the list logged as `sameAs`.
    public static func referenceJSON(requestID: String, timestamp: Double, userID: String, scenario: String,
                                     sameAs: String) -> String {
        var w = JSONWriter(capacity: 96 + requestID.utf8.count + userID.utf8.count + sameAs.utf8.count)
        w.raw("{"); w.key("requestID"); w.string(requestID)
        w.comma(); w.key("timestamp"); w.number(timestamp.isFinite ? timestamp : 0)
        w.comma(); w.key("userID"); w.string(userID)
        w.comma(); w.key("scenario"); w.string(scenario)
        w.comma(); w.key("sameAs"); w.string(sameAs)
        w.raw("}")
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// This reference with its origin's list (and the list's model version, strategy and arm).
    public func resolved(with origin: ImpressionRecord) -> ImpressionRecord {
        var r = self
        r.modelVersion = origin.modelVersion
        r.strategy = origin.strategy
        r.strategyPropensity = origin.strategyPropensity
        r.arm = origin.arm
        r.items = origin.items
        r.tokens = origin.tokens
        r.sameAs = nil
        return r
    }

    public init(requestID: String, userID: String, scenario: String, timestamp: Double, modelVersion: String,
                strategy: String?, strategyPropensity: Double?, arm: String?, items: [ImpressionItem], tokens: [String]) {
        self.requestID = requestID
        self.userID = userID
        self.scenario = scenario
        self.timestamp = timestamp
        self.modelVersion = modelVersion
        self.strategy = strategy
        self.strategyPropensity = strategyPropensity
        self.arm = arm
        self.items = items
        self.tokens = tokens
    }
}

/// A user's explicit profile: preferences the user (or the application) declared.
public struct StoredProfile: Sendable, Hashable, Codable {
    public var userID: String
    /// Category -> strength in [0, 1]; steers candidate sources and adds a score boost.
    public var preferredCategories: [String: Double]
    /// Categories never to recommend to this user.
    public var blockedCategories: [String]
    /// Free attributes (segment, language, ...).
    public var attributes: [String: String]
    public var updatedAt: Double

    public init(userID: String, preferredCategories: [String: Double] = [:], blockedCategories: [String] = [],
                attributes: [String: String] = [:], updatedAt: Double) {
        self.userID = userID
        self.preferredCategories = preferredCategories
        self.blockedCategories = blockedCategories
        self.attributes = attributes
        self.updatedAt = updatedAt
    }
}

/// A stored model snapshot and the log position it covers.
public struct StoredSnapshot: Sendable {
    public var eventSeq: Int
    public var feedbackSeq: Int
    public var createdAt: Double
    /// Uncompressed snapshot bytes.
    public var bytes: [UInt8]

    public init(eventSeq: Int, feedbackSeq: Int, createdAt: Double, bytes: [UInt8]) {
        self.eventSeq = eventSeq
        self.feedbackSeq = feedbackSeq
        self.createdAt = createdAt
        self.bytes = bytes
    }
}

extension ImpressionRecord {
    /// The record as JSON, written by hand (JSONEncoder cost more than serving a cached answer);
    /// the keys are the synthesized Codable keys, so `JSONDecoder` reads it back.
    public var jsonText: String { Self.json(requestID: requestID, timestamp: timestamp, tail: jsonTail) }

    /// The JSON of a record from its request id, time and `jsonTail` (a cached answer served again
    /// keeps its tail and writes only this much per request).
    public static func json(requestID: String, timestamp: Double, tail: String) -> String {
        var w = JSONWriter(capacity: 64 + requestID.utf8.count + tail.utf8.count)
        w.raw("{"); w.key("requestID"); w.string(requestID)
        w.comma(); w.key("timestamp"); w.number(timestamp.isFinite ? timestamp : 0)
        w.comma()
        return String(decoding: w.bytes, as: UTF8.self) + tail
    }

    /// Every field but the request id and the time, as the rest of a JSON object (from the first
    /// key to the closing brace).
    public var jsonTail: String {
        func number(_ value: Double) -> Double { value.isFinite ? value : 0 }
        var w = JSONWriter(capacity: 128 + 96 * items.count)
        w.key("userID"); w.string(userID)
        w.comma(); w.key("scenario"); w.string(scenario)
        w.comma(); w.key("modelVersion"); w.string(modelVersion)
        if let strategy { w.comma(); w.key("strategy"); w.string(strategy) }
        if let strategyPropensity { w.comma(); w.key("strategyPropensity"); w.number(number(strategyPropensity)) }
        if let arm { w.comma(); w.key("arm"); w.string(arm) }
        w.comma(); w.key("items"); w.raw("[")
        for (i, item) in items.enumerated() {
            if i > 0 { w.comma() }
            w.raw("{"); w.key("itemID"); w.string(item.itemID)
            w.comma(); w.key("position"); w.number(item.position)
            w.comma(); w.key("score"); w.number(number(item.score))
            w.comma(); w.key("propensity"); w.number(number(item.propensity))
            w.comma(); w.key("source"); w.string(item.source)
            w.comma(); w.key("explored"); w.bool(item.explored)
            w.raw("}")
        }
        w.raw("]"); w.comma(); w.key("tokens"); w.raw("[")
        for (i, token) in tokens.enumerated() {
            if i > 0 { w.comma() }
            w.string(token)
        }
        w.raw("]}")
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
