// UserEvent and EventContext: one thing a user did, as the feature engine consumes it.
// Invariant: models never read the wall clock. A missing client timestamp is filled by
// `stamped(at:)` with a time the caller passes in; after that `time` is the event's own time,
// and late or historical events are aggregated by it.

/// The context an event happened in or a request is made in: device, locale, page and free
/// key/values.
public struct EventContext: Hashable, Sendable, Codable {
    /// Device class, e.g. `mobile`, `desktop`, `tablet`.
    public var device: String?
    /// Locale, e.g. `en-US`.
    public var locale: String?
    /// Page or scenario the user is on, e.g. `homepage`.
    public var page: String?
    /// Free key/values supplied by the client. Values that parse as numbers become contextual
    /// features.
    public var attributes: [String: String]

    /// Creates a context.
    public init(device: String? = nil, locale: String? = nil, page: String? = nil,
                attributes: [String: String] = [:]) {
        self.device = device
        self.locale = locale
        self.page = page
        self.attributes = attributes
    }

    /// The empty context.
    public static let empty = EventContext()

    enum CodingKeys: String, CodingKey { case device, locale, page, attributes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        device = try c.decodeIfPresent(String.self, forKey: .device)
        locale = try c.decodeIfPresent(String.self, forKey: .locale)
        page = try c.decodeIfPresent(String.self, forKey: .page)
        attributes = try c.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
    }
}

/// One user-behaviour event: who, on what, what kind, how much, when, and in which context.
public struct UserEvent: Hashable, Sendable, Codable {
    /// The user who acted. Non-empty, at most `EventLimits.maxIdentifierBytes` UTF-8 bytes.
    public var userID: String
    /// The item acted on, if any (a search or a page view may have none).
    public var itemID: String?
    /// What the user did.
    public var type: EventType
    /// The magnitude: 1 for a click, the rating, the amount, the dwell seconds.
    public var value: Double
    /// Unix seconds from the client; `nil` until the server stamps it with `stamped(at:)`.
    public var timestamp: Double?
    /// Where it happened.
    public var context: EventContext

    /// Creates an event.
    public init(userID: String, itemID: String? = nil, type: EventType, value: Double = 1,
                timestamp: Double? = nil, context: EventContext = .empty) {
        self.userID = userID
        self.itemID = itemID
        self.type = type
        self.value = value
        self.timestamp = timestamp
        self.context = context
    }

    /// The same event with `timestamp` set to `serverTime` when the client sent none.
    ///
    /// - Parameter serverTime: the receive time in Unix seconds, read by the caller from its clock.
    public func stamped(at serverTime: Double) -> UserEvent {
        guard timestamp == nil else { return self }
        var copy = self
        copy.timestamp = serverTime
        return copy
    }

    /// The event's time in Unix seconds; `0` when not yet stamped (callers stamp first).
    public var time: Double { timestamp ?? 0 }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", itemID = "item_id", type, value, timestamp, context
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        userID = try c.decode(String.self, forKey: .userID)
        itemID = try c.decodeIfPresent(String.self, forKey: .itemID)
        type = try c.decode(EventType.self, forKey: .type)
        value = try c.decodeIfPresent(Double.self, forKey: .value) ?? 1
        timestamp = try c.decodeIfPresent(Double.self, forKey: .timestamp)
        context = try c.decodeIfPresent(EventContext.self, forKey: .context) ?? .empty
    }
}
