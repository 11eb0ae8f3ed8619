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
    /// The candidate as the models see it (tokens `category=...`, `tag=...`); hashed once for
    /// the linear models into the catalog's `sides`.
    public var candidate: ScoringCandidate

    static let encoder = HashedCrossEncoder()

    public init(_ item: CatalogItem) {
        itemID = item.itemID
        title = item.title
        categories = item.categories
        available = item.available
        createdAt = item.createdAt
        candidate = ScoringCandidate(itemId: item.itemID,
                                     tokens: item.categories.map { "category=\($0)" } + item.tags.map { "tag=\($0)" })
    }

    /// An item known only from events (not in the catalog yet): recommendable, no attributes.
    public init(unknownItemID: String) {
        itemID = unknownItemID
        categories = []
        available = true
        candidate = ScoringCandidate(itemId: unknownItemID)
    }
}

/// The items that can be recommended, at stable dense positions (an item keeps its position
/// for life; new items are appended), so per-request work runs on integers, not strings.
public struct ServingCatalog: Sendable {
    public private(set) var items: [ServingItem] = []
    private var positions: [String: Int32] = [:]
    /// The positions of unavailable items, one bit each (sized for every position): the
    /// availability filter without touching the items themselves.
    private(set) var unavailable = PositionSet(count: 0)
    /// Per position, up to four category ids (interned names, -1 for none); an item with more
    /// than four has `ServingCatalog.moreCategories` in the last lane and is read by name. Lets
    /// per-candidate category work read 16 contiguous bytes instead of the item's name array.
    private(set) var positionCategories: [SIMD4<Int32>] = []
    private(set) var categoryIDs: [String: Int32] = [:]
    /// Every position's candidate hashed for the linear models, flat, for the click model's batch
    /// scorer (the only copy: items keep the unhashed candidate).
    public private(set) var sides = HashedItemSides()
    static let moreCategories: Int32 = -2
    /// Bumped on every change; an index built from an older version is stale.
    public private(set) var version = 0

    public init() {}

    public mutating func upsert(_ item: CatalogItem) {
        let p: Int32
        if let existing = positions[item.itemID] {
            p = existing
            items[Int(p)] = ServingItem(item)
        } else {
            p = Int32(items.count)
            positions[item.itemID] = p
            items.append(ServingItem(item))
            unavailable.grow(toHold: items.count)
            positionCategories.append(SIMD4(repeating: -1))
        }
        sides.set(ServingItem.encoder.itemSide(items[Int(p)].candidate), at: Int(p))
        unavailable.set(p, !item.available)
        var lanes = SIMD4<Int32>(repeating: -1)
        for (n, category) in item.categories.prefix(4).enumerated() {
            lanes[n] = categoryID(category)
        }
        if item.categories.count > 4 { lanes[3] = Self.moreCategories }
        positionCategories[Int(p)] = lanes
        version += 1
    }

    /// The interned id of a category name (assigned on first sight).
    private mutating func categoryID(_ name: String) -> Int32 {
        if let id = categoryIDs[name] { return id }
        let id = Int32(categoryIDs.count)
        categoryIDs[name] = id
        return id
    }

    /// Adds a bare entry for an item seen in an event but never declared.
    public mutating func noteItem(_ itemID: String) {
        guard positions[itemID] == nil else { return }
        positions[itemID] = Int32(items.count)
        items.append(ServingItem(unknownItemID: itemID))
        sides.set(ServingItem.encoder.itemSide(items[items.count - 1].candidate), at: items.count - 1)
        unavailable.grow(toHold: items.count)
        positionCategories.append(SIMD4(repeating: -1))
        version += 1
    }

    public subscript(itemID: String) -> ServingItem? { positions[itemID].map { items[Int($0)] } }
    public func position(of itemID: String) -> Int32? { positions[itemID] }
    public var count: Int { items.count }
}

/// Precomputed candidate lists and per-position lookups, as of `builtAt`: popularity and
/// trending scores, and where each catalog item sits in the co-visitation and embedding models.
/// Positions added to the catalog after the build have no entry (score 0) until the next build.
public struct CandidateIndex: Sendable {
    public var popular: [Int32] = []
    public var trending: [Int32] = []
    public var fresh: [Int32] = []
    public var popularByCategory: [String: [Int32]] = [:]
    /// The ids of the first 200 popular items: the fallback when the models cannot be read.
    public var popularItemIDs: [String] = []
    /// Per catalog position.
    public var popularity: [Double] = []
    public var trendingScore: [Double] = []
    public var coVisitationSlot: [Int32] = []
    public var embeddingSlot: [Int32] = []
    /// Per model slot: the catalog position (-1: not in the catalog when built).
    public var coVisitationPosition: [Int32] = []
    public var embeddingPosition: [Int32] = []
    public var catalogVersion = -1
    public var modelInteractions = -1
    public var builtAt = -Double.infinity

    public init() {}

    /// Builds the lists from the catalog and the models at `timestamp`.
    public static func build(catalog: ServingCatalog, models: RecommendationModels, at timestamp: Double,
                             listLength: Int = 1_000, perCategory: Int = 300) -> CandidateIndex {
        var index = CandidateIndex()
        index.catalogVersion = catalog.version
        index.modelInteractions = models.interactions
        index.builtAt = timestamp
        let items = catalog.items
        index.popularity = items.map { models.popularity.popularity($0.itemID, at: timestamp) }
        index.trendingScore = items.map { models.trending($0.itemID, at: timestamp) }
        index.coVisitationSlot = items.map { models.coVisitation.slot(of: $0.itemID) ?? -1 }
        index.embeddingSlot = items.map { models.embeddings.slot(of: $0.itemID) ?? -1 }
        index.coVisitationPosition = [Int32](repeating: -1, count: models.coVisitation.itemCount)
        index.embeddingPosition = [Int32](repeating: -1, count: models.embeddings.itemCount)
        for position in items.indices {
            let c = index.coVisitationSlot[position], e = index.embeddingSlot[position]
            if c >= 0 { index.coVisitationPosition[Int(c)] = Int32(position) }
            if e >= 0 { index.embeddingPosition[Int(e)] = Int32(position) }
        }
        func ranked(_ scores: [Double], floor: Double) -> [Int32] {
            TopK.select(scores, k: listLength, floor: floor).map { Int32($0.index) }
        }
        index.popular = ranked(index.popularity, floor: -.infinity)
        index.popularItemIDs = index.popular.prefix(200).map { items[Int($0)].itemID }
        let allByPopularity = TopK.select(index.popularity, k: items.count).map { Int32($0.index) }
        for position in allByPopularity {
            for category in items[Int(position)].categories where index.popularByCategory[category, default: []].count < perCategory {
                index.popularByCategory[category, default: []].append(position)
            }
        }
        index.trending = ranked(index.trendingScore, floor: 0)
        let created = items.map { $0.createdAt ?? -.infinity }
        index.fresh = ranked(created, floor: -.infinity).filter { items[Int($0)].createdAt != nil }
        return index
    }
}
