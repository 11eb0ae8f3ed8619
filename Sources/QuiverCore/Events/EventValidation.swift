// EventValidator: checks events and catalog items against EventLimits and reports the first
// problem as an EventValidationError naming the JSON field path, e.g.
// `events[3].user_id: must be a non-empty string of at most 256 bytes`.
// Invariant: a value that passes validation can be ingested without any further checks.

/// A validation failure naming the offending field by its JSON path.
public struct EventValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// JSON path of the field, e.g. `events[3].user_id`.
    public let field: String
    /// What is wrong, phrased as the rule: `must be a finite number`.
    public let message: String

    /// Creates an error.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `field: message`, ready for a 4xx JSON body.
    public var description: String { "\(field): \(message)" }
}

/// Size and range limits for ingested events and items.
public struct EventLimits: Hashable, Sendable, Codable {
    /// Maximum UTF-8 length of user, item and category identifiers.
    public var maxIdentifierBytes = 256
    /// Maximum events per batch.
    public var maxBatchSize = 10_000
    /// Maximum free context entries per event.
    public var maxContextEntries = 32
    /// Maximum UTF-8 length of a context key or value (device, locale, page included).
    public var maxContextValueBytes = 256
    /// Maximum categories or tags per item.
    public var maxCategoriesPerItem = 64
    /// Maximum embedding dimension.
    public var maxEmbeddingDimension = 4096
    /// Earliest accepted timestamp (Unix seconds). Backfills of old history are normal, so this
    /// only rejects obviously wrong values.
    public var minTimestamp: Double = 0
    /// Latest accepted timestamp (Unix seconds), year 2100 by default.
    public var maxTimestamp: Double = 4_102_444_800

    /// The default limits.
    public init() {}
}

/// Validates events and items against limits and the set of known event types.
public struct EventValidator: Sendable {
    /// The limits applied.
    public var limits: EventLimits
    /// Accepted event types (built-ins plus custom types from the definition set).
    public var knownTypes: Set<EventType>

    /// Creates a validator.
    /// - Parameters:
    ///   - limits: size and range limits.
    ///   - customTypes: accepted event types beyond `EventType.builtIn`.
    public init(limits: EventLimits = EventLimits(), customTypes: [EventType] = []) {
        self.limits = limits
        self.knownTypes = Set(EventType.builtIn).union(customTypes)
    }

    /// Validates one event. `path` prefixes field names (e.g. `events[3]`).
    public func validate(_ event: UserEvent, path: String = "event") throws(EventValidationError) {
        try checkIdentifier(event.userID, field: "\(path).user_id")
        if let item = event.itemID { try checkIdentifier(item, field: "\(path).item_id") }
        guard knownTypes.contains(event.type) else {
            let names = knownTypes.map(\.rawValue).sorted().joined(separator: ", ")
            throw EventValidationError(field: "\(path).type", message: "must be one of: \(names)")
        }
        guard event.value.isFinite else {
            throw EventValidationError(field: "\(path).value", message: "must be a finite number")
        }
        if let t = event.timestamp {
            guard t.isFinite, t >= limits.minTimestamp, t <= limits.maxTimestamp else {
                throw EventValidationError(
                    field: "\(path).timestamp",
                    message: "must be Unix seconds between \(Int(limits.minTimestamp)) and \(Int(limits.maxTimestamp))")
            }
        }
        try checkContext(event.context, path: "\(path).context")
    }

    /// Validates a batch, naming fields as `events[i].field`.
    public func validate(batch events: [UserEvent]) throws(EventValidationError) {
        guard !events.isEmpty, events.count <= limits.maxBatchSize else {
            throw EventValidationError(
                field: "events", message: "must hold between 1 and \(limits.maxBatchSize) events")
        }
        for (index, event) in events.enumerated() {
            try validate(event, path: "events[\(index)]")
        }
    }

    /// Validates a catalog item. `path` prefixes field names (e.g. `items[2]`, or `item`).
    public func validate(_ item: CatalogItem, path: String = "item") throws(EventValidationError) {
        try checkIdentifier(item.itemID, field: "\(path).item_id")
        guard item.categories.count <= limits.maxCategoriesPerItem else {
            throw EventValidationError(field: "\(path).categories",
                                       message: "must hold at most \(limits.maxCategoriesPerItem) entries")
        }
        for (i, category) in item.categories.enumerated() {
            try checkIdentifier(category, field: "\(path).categories[\(i)]")
        }
        guard item.tags.count <= limits.maxCategoriesPerItem else {
            throw EventValidationError(field: "\(path).tags",
                                       message: "must hold at most \(limits.maxCategoriesPerItem) entries")
        }
        for (i, tag) in item.tags.enumerated() { try checkIdentifier(tag, field: "\(path).tags[\(i)]") }
        for key in item.attributes.keys.sorted() where !(item.attributes[key]?.isFinite ?? true) {
            throw EventValidationError(field: "\(path).attributes.\(key)", message: "must be a finite number")
        }
        if let embedding = item.embedding {
            guard !embedding.isEmpty, embedding.count <= limits.maxEmbeddingDimension else {
                throw EventValidationError(field: "\(path).embedding",
                                           message: "must hold between 1 and \(limits.maxEmbeddingDimension) numbers")
            }
            if let bad = embedding.firstIndex(where: { !$0.isFinite }) {
                throw EventValidationError(field: "\(path).embedding[\(bad)]", message: "must be a finite number")
            }
        }
        if let created = item.createdAt, !created.isFinite || created < limits.minTimestamp {
            throw EventValidationError(field: "\(path).created_at", message: "must be Unix seconds")
        }
    }

    private func checkIdentifier(_ value: String, field: String) throws(EventValidationError) {
        let bytes = value.utf8.count
        guard bytes > 0, bytes <= limits.maxIdentifierBytes else {
            throw EventValidationError(
                field: field, message: "must be a non-empty string of at most \(limits.maxIdentifierBytes) bytes")
        }
    }

    private func checkContext(_ context: EventContext, path: String) throws(EventValidationError) {
        let maxBytes = limits.maxContextValueBytes
        let message = "must be a string of at most \(maxBytes) bytes"
        if let d = context.device, d.utf8.count > maxBytes {
            throw EventValidationError(field: "\(path).device", message: message)
        }
        if let l = context.locale, l.utf8.count > maxBytes {
            throw EventValidationError(field: "\(path).locale", message: message)
        }
        if let p = context.page, p.utf8.count > maxBytes {
            throw EventValidationError(field: "\(path).page", message: message)
        }
        guard context.attributes.count <= limits.maxContextEntries else {
            throw EventValidationError(field: "\(path).attributes",
                                       message: "must hold at most \(limits.maxContextEntries) entries")
        }
        for key in context.attributes.keys.sorted() {
            guard !key.isEmpty, key.utf8.count <= maxBytes, (context.attributes[key]?.utf8.count ?? 0) <= maxBytes
            else { throw EventValidationError(field: "\(path).attributes.\(key)", message: message) }
        }
    }
}
