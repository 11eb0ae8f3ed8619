// ServingCatalog: the catalog as the recommender needs it (availability, categories, creation
// time, the item tokens linear models cross with), and CandidateIndex, the precomputed candidate
// lists (popular, trending, fresh, popular per category) that requests read without sorting.
// Invariant: an index is an immutable snapshot; it is rebuilt, never edited, so readers need no lock.

/// One recommendable item.
public struct ServingItem: Sendable, Hashable {
    public var itemID: String
    public var title: String?
    public var categories: [String]
    public var available: Bool
    public var createdAt: Double?
    /// The candidate as the models see it (tokens `category=...`, `tag=...`).
    public var candidate: ScoringCandidate
    /// The candidate hashed for the linear models, once.
    public var itemSide: HashedCrossEncoder.ItemSide

    static let encoder = HashedCrossEncoder()

    public init(_ item: CatalogItem) {
        itemID = item.itemID
        title = item.title
        categories = item.categories
        available = item.available
        createdAt = item.createdAt
        candidate = ScoringCandidate(itemId: item.itemID,
                                     tokens: item.categories.map { "category=\($0)" } + item.tags.map { "tag=\($0)" })
        itemSide = Self.encoder.itemSide(candidate)
    }

    /// An item known only from events (not in the catalog yet): recommendable, no attributes.
    public init(unknownItemID: String) {
        itemID = unknownItemID
        categories = []
        available = true
        candidate = ScoringCandidate(itemId: unknownItemID)
        itemSide = Self.encoder.itemSide(candidate)
    }
}

/// The items that can be recommended.
public struct ServingCatalog: Sendable {
    public private(set) var items: [String: ServingItem] = [:]
    /// Bumped on every change; an index built from an older version is stale.
    public private(set) var version = 0

    public init() {}

    public mutating func upsert(_ item: CatalogItem) {
        items[item.itemID] = ServingItem(item)
        version += 1
    }

    /// Adds a bare entry for an item seen in an event but never declared.
    public mutating func noteItem(_ itemID: String) {
        guard items[itemID] == nil else { return }
        items[itemID] = ServingItem(unknownItemID: itemID)
        version += 1
    }

    public subscript(itemID: String) -> ServingItem? { items[itemID] }
    public var count: Int { items.count }
}

/// Precomputed candidate lists, as of `builtAt`.
public struct CandidateIndex: Sendable {
    public var popular: [String] = []
    public var trending: [String] = []
    public var fresh: [String] = []
    public var popularByCategory: [String: [String]] = [:]
    public var catalogVersion = -1
    public var modelInteractions = -1
    public var builtAt = -Double.infinity

    public init() {}

    /// Builds the lists from the catalog and the popularity models at `timestamp`.
    public static func build(catalog: ServingCatalog, models: RecommendationModels, at timestamp: Double,
                             listLength: Int = 1_000, perCategory: Int = 300) -> CandidateIndex {
        var index = CandidateIndex()
        index.catalogVersion = catalog.version
        index.modelInteractions = models.interactions
        index.builtAt = timestamp
        let items = Array(catalog.items.values)
        let byPopularity = items.map { (item: $0, score: models.popularity.popularity($0.itemID, at: timestamp)) }
            .sorted { a, b in a.score > b.score || (a.score == b.score && a.item.itemID < b.item.itemID) }
        index.popular = byPopularity.prefix(listLength).map(\.item.itemID)
        for (item, _) in byPopularity {
            for category in item.categories where index.popularByCategory[category, default: []].count < perCategory {
                index.popularByCategory[category, default: []].append(item.itemID)
            }
        }
        var trending: [(id: String, score: Double)] = []
        for item in items {
            let score = models.trending(item.itemID, at: timestamp)
            if score > 0 { trending.append((item.itemID, score)) }
        }
        trending.sort { a, b in a.score > b.score || (a.score == b.score && a.id < b.id) }
        index.trending = trending.prefix(listLength).map(\.id)
        var fresh: [(id: String, created: Double)] = []
        for item in items { if let created = item.createdAt { fresh.append((item.itemID, created)) } }
        fresh.sort { a, b in a.created > b.created || (a.created == b.created && a.id < b.id) }
        index.fresh = fresh.prefix(listLength).map(\.id)
        return index
    }
}
