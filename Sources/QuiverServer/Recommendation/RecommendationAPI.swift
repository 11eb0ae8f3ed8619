// RecommendationAPI: the JSON shapes of the personalization endpoints (the seed's
// RecommendationRequest, RecommendationResponse, feedback and UserProfile), snake_case on the wire,
// and the hand-written rendering of the recommendation response (the hot path).
import QuiverCore
import QuiverStore

/// The request context: the event context fields plus the item on screen.
struct RequestContext: Decodable, Sendable {
    var device: String?
    var locale: String?
    var page: String?
    var itemID: String?
    var attributes: [String: String]

    enum CodingKeys: String, CodingKey { case device, locale, page, itemID = "item_id", attributes }

    init(device: String? = nil, locale: String? = nil, page: String? = nil, itemID: String? = nil, attributes: [String: String] = [:]) {
        self.device = device
        self.locale = locale
        self.page = page
        self.itemID = itemID
        self.attributes = attributes
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        device = try c.decodeIfPresent(String.self, forKey: .device)
        locale = try c.decodeIfPresent(String.self, forKey: .locale)
        page = try c.decodeIfPresent(String.self, forKey: .page)
        itemID = try c.decodeIfPresent(String.self, forKey: .itemID)
        attributes = try c.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
    }

    var eventContext: EventContext { EventContext(device: device, locale: locale, page: page, attributes: attributes) }

    /// What the result cache distinguishes: device, locale, page and the item on screen.
    var bucket: String { "\(device ?? "")|\(locale ?? "")|\(page ?? "")|\(itemID ?? "")" }
    /// The bucket of a request without a context (`RequestContext().bucket`).
    static let emptyBucket = RequestContext().bucket

    /// Categorical tokens for the linear models.
    var tokens: [String] {
        var tokens: [String] = []
        if let device { tokens.append("device=\(device)") }
        if let locale { tokens.append("locale=\(locale)") }
        if let page { tokens.append("page=\(page)") }
        return tokens
    }
}

struct RecommendationFilters: Decodable, Sendable {
    var excludeItems: [String]?
    var categories: [String]?
    var excludeCategories: [String]?

    enum CodingKeys: String, CodingKey {
        case excludeItems = "exclude_items", categories, excludeCategories = "exclude_categories"
    }

    var cacheKey: String {
        "\(excludeItems?.joined(separator: ",") ?? "")|\(categories?.joined(separator: ",") ?? "*")|\(excludeCategories?.joined(separator: ",") ?? "")"
    }
}

/// `POST /api/v1/personalization/recommend` (one user).
struct RecommendationRequest: Decodable, Sendable {
    var userID: String
    var context: RequestContext?
    var count: Int?
    var scenario: String?
    var filters: RecommendationFilters?
    var useCache: Bool?
    /// Request time in Unix seconds (default: now); lets a replaying client ask "as of" its events.
    var timestamp: Double?

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", context, count = "n_recommendations", scenario, filters, useCache = "use_cache", timestamp
    }
}

/// The batch form: `{"requests": [...]}`.
struct BatchRecommendationRequest: Decodable, Sendable {
    var requests: [RecommendationRequest]
}

/// `POST /api/v1/personalization/feedback`.
struct FeedbackRequest: Decodable, Sendable {
    var requestID: String?
    var userID: String
    var itemID: String
    var feedbackType: String
    var reward: Double?
    var timestamp: Double?
    var context: RequestContext?

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", userID = "user_id", itemID = "item_id", feedbackType = "feedback_type", reward, timestamp, context
    }
}

struct FeedbackResponse: Encodable {
    let status: String
    let joined: Bool
    let reason: String?
    let reward: Double
    let request_id: String?
    let propensity: Double?
}

/// A validation failure of a request, naming the field.
struct RequestFault: Error {
    let field: String
    let message: String
    var code = "invalid_field"
}

enum RecommendationRendering {
    /// The `recommendations` array of a response.
    static func items(_ list: [RankedItem]) -> [UInt8] {
        var w = JSONWriter(capacity: 256 * max(1, list.count))
        w.raw("[")
        for (rank, item) in list.enumerated() {
            if rank > 0 { w.comma() }
            w.raw("{"); w.key("item_id"); w.string(item.itemID)
            w.comma(); w.key("rank"); w.number(rank + 1)
            w.comma(); w.key("score"); w.number(item.score)
            w.comma(); w.key("source"); w.string(item.source.rawValue)
            w.comma(); w.key("explored"); w.bool(item.explored)
            w.comma(); w.key("propensity"); w.number(item.propensity)
            w.comma(); w.key("explanation"); w.raw("{")
            w.key("model"); w.string(item.reasonModel)
            w.comma(); w.key("contributions"); contributions(item.contributions, into: &w)
            w.comma(); w.key("reasons"); contributions(item.reasons, into: &w)
            w.raw("}}")
        }
        w.raw("]")
        return w.bytes
    }

    static func contributions(_ list: [ScoreContribution], into w: inout JSONWriter) {
        w.raw("[")
        for (i, c) in list.enumerated() {
            if i > 0 { w.comma() }
            w.raw("{"); w.key("name"); w.string(c.name); w.comma(); w.key("value"); w.number(c.value); w.raw("}")
        }
        w.raw("]")
    }

    /// A whole response object.
    static func response(requestID: String, userID: String, itemsJSON: [UInt8], summary: AnswerSummary,
                         latencyMs: Double, cached: Bool, into w: inout JSONWriter) {
        w.raw("{"); w.key("request_id"); w.string(requestID)
        w.comma(); w.key("user_id"); w.string(userID)
        head(summary, into: &w)
        w.raw(itemsJSON)
        latency(latencyMs, into: &w)
        tail(summary, cached: cached, into: &w)
    }

    /// A cached answer's response from its pre-rendered parts (`hitParts`): the same bytes as
    /// `response(... cached: true ...)` for that answer's summary.
    static func hitResponse(requestID: String, userID: String, answer: CachedAnswer, latencyMs: Double) -> [UInt8] {
        var w = JSONWriter(capacity: answer.hitHead.count + answer.recommendationsJSON.count + answer.hitTail.count
                               + requestID.utf8.count + userID.utf8.count + 64)
        w.raw("{"); w.key("request_id"); w.string(requestID)
        w.comma(); w.key("user_id"); w.string(userID)
        w.raw(answer.hitHead)
        w.raw(answer.recommendationsJSON)
        latency(latencyMs, into: &w)
        w.raw(answer.hitTail)
        return w.bytes
    }

    /// What `response` writes before and after the items and the latency, for a cached serving.
    static func hitParts(summary: AnswerSummary) -> (head: [UInt8], tail: [UInt8]) {
        var head = JSONWriter(capacity: 64 + summary.scenario.utf8.count)
        self.head(summary, into: &head)
        var tail = JSONWriter(capacity: 256 + summary.modelVersion.utf8.count + summary.explanation.utf8.count)
        self.tail(summary, cached: true, into: &tail)
        return (head.bytes, tail.bytes)
    }

    /// From `,"scenario"` to the key of the items.
    private static func head(_ summary: AnswerSummary, into w: inout JSONWriter) {
        w.comma(); w.key("scenario"); w.string(summary.scenario)
        w.comma(); w.key("recommendations")
    }

    private static func latency(_ latencyMs: Double, into w: inout JSONWriter) {
        w.comma(); w.key("latency_ms"); w.number((latencyMs * 1000).rounded() / 1000)
    }

    /// From `,"model_version"` to the closing brace.
    private static func tail(_ summary: AnswerSummary, cached: Bool, into w: inout JSONWriter) {
        w.comma(); w.key("model_version"); w.string(summary.modelVersion)
        w.comma(); w.key("explanation"); w.string(summary.explanation)
        w.comma(); w.key("strategy")
        if let strategy = summary.strategy {
            w.raw("{"); w.key("name"); w.string(strategy)
            w.comma(); w.key("propensity"); w.number(summary.strategyPropensity ?? 1); w.raw("}")
        } else {
            w.raw("null")
        }
        w.comma(); w.key("experiment"); w.raw("{"); w.key("scenario"); w.string(summary.scenario)
        w.comma(); w.key("arm"); w.string(summary.arm ?? "control"); w.raw("}")
        w.comma(); w.key("cached"); w.bool(cached)
        w.comma(); w.key("cold_start"); w.bool(summary.coldStart)
        w.comma(); w.key("degraded"); w.bool(summary.degradation != nil)
        w.comma(); w.key("degradation_reason"); w.optionalString(summary.degradation)
        w.comma(); w.key("candidates"); w.number(summary.candidates)
        w.raw("}")
    }
}

/// `GET /api/v1/personalization/user/{id}/profile`.
struct UserProfileBody: Encodable {
    struct Preferences: Encodable {
        let preferred_categories: [String: Double]
        let blocked_categories: [String]
        let attributes: [String: String]
    }
    struct RecentBehavior: Encodable {
        let recent_items: [String]
        let interactions: Int
        let category_affinities: [CategoryAffinity]
    }
    let user_id: String
    let features: RealTimeFeatures
    let preferences: Preferences
    let recent_behavior: RecentBehavior
    let embedding: [Double]?
    let last_updated: Double?
}

/// `PUT /api/v1/personalization/user/{id}/profile`: explicit preferences, merged into the stored ones.
struct ProfileUpdate: Decodable {
    struct Preferences: Decodable {
        var preferredCategories: [String: Double]?
        var blockedCategories: [String]?
        var attributes: [String: String]?
        enum CodingKeys: String, CodingKey {
            case preferredCategories = "preferred_categories", blockedCategories = "blocked_categories", attributes
        }
    }
    var preferences: Preferences
    /// Replace instead of merge.
    var replace: Bool?
}
