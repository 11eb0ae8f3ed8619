// CatalogItem: an item of the catalog as the feature engine sees it (categories feed
// user x category affinities). Invariant: `createdAt` is passed in by the caller, never read
// from a clock here.

/// An item that can be recommended.
public struct CatalogItem: Hashable, Sendable, Codable {
    /// Stable identifier. Non-empty, at most `EventLimits.maxIdentifierBytes` UTF-8 bytes.
    public var itemID: String
    /// Human-readable title (optional; not used by features).
    public var title: String?
    /// Categories, most specific last; drive per user x category aggregates.
    public var categories: [String]
    /// Free tags.
    public var tags: [String]
    /// Numeric attributes such as `price`.
    public var attributes: [String: Double]
    /// Optional dense embedding.
    public var embedding: [Float]?
    /// Whether the item may be recommended now.
    public var available: Bool
    /// Creation time in Unix seconds, if known.
    public var createdAt: Double?

    /// Creates an item.
    public init(itemID: String, title: String? = nil, categories: [String] = [], tags: [String] = [],
                attributes: [String: Double] = [:], embedding: [Float]? = nil, available: Bool = true,
                createdAt: Double? = nil) {
        self.itemID = itemID
        self.title = title
        self.categories = categories
        self.tags = tags
        self.attributes = attributes
        self.embedding = embedding
        self.available = available
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case itemID = "item_id", title, categories, tags, attributes, embedding, available
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        itemID = try c.decode(String.self, forKey: .itemID)
        title = try c.decodeIfPresent(String.self, forKey: .title)
        categories = try c.decodeIfPresent([String].self, forKey: .categories) ?? []
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        attributes = try c.decodeIfPresent([String: Double].self, forKey: .attributes) ?? [:]
        embedding = try c.decodeIfPresent([Float].self, forKey: .embedding)
        available = try c.decodeIfPresent(Bool.self, forKey: .available) ?? true
        createdAt = try c.decodeIfPresent(Double.self, forKey: .createdAt)
    }
}
