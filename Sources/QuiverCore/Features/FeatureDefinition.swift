// FeatureDefinition and FeatureDefinitionSet: the versioned, Codable description of which features
// the engine computes (name, source event types, key, aggregations, windows) plus derived ratios and
// trends. The JSON/YAML shape is snake_case and matches config/features.yaml.
// Invariant: a set that passes `validate()` compiles into a FeatureSchema without failure.

/// What a feature is keyed by.
public enum FeatureKeyKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// One state per user.
    case user
    /// One state per user and item category (categories come from the catalog).
    case userCategory = "user_category"
    /// One state per item (popularity, trending, CTR).
    case item
    /// One state for everything.
    case global
}

/// How events of a stream are aggregated.
public enum FeatureAggregation: String, Hashable, Sendable, Codable, CaseIterable {
    /// Number of events in the window.
    case count
    /// Sum of event values in the window.
    case sum
    /// Mean event value in the window (0 when empty).
    case mean
    /// Events per hour over the window.
    case rate
    /// Smallest event value in the window (0 when empty).
    case min
    /// Largest event value in the window (0 when empty).
    case max
    /// Distinct counterparts in the window (exact up to `distinct_cap`): items for user and
    /// user x category keys, users for item and global keys.
    case distinct
    /// Exponentially decayed event count, the window being the half-life.
    case decayedCount = "decayed_count"
    /// Seconds since the newest event (no window).
    case recency
    /// The N newest counterparts (items for user keys, users for item keys); a list, not part of
    /// the dense vector.
    case lastN = "last_n"

    /// Whether the aggregation yields one scalar per window.
    public var isWindowed: Bool {
        switch self {
        case .recency, .lastN: false
        default: true
        }
    }
}

/// One base feature: a stream of events aggregated over windows.
public struct FeatureDefinition: Hashable, Sendable, Codable {
    /// Feature name, unique in its set; outputs are named `name.aggregation.window`.
    public var name: String
    /// What the state is keyed by.
    public var key: FeatureKeyKind
    /// Event types feeding the stream; empty means every type.
    public var eventTypes: [EventType]
    /// Aggregations computed.
    public var aggregations: [FeatureAggregation]
    /// Windows (for `decayed_count`: half-lives).
    public var windows: [FeatureWindow]
    /// Items held by the distinct counter (default 256).
    public var distinctCap: Int?
    /// Items held by `last_n` (default 20).
    public var lastN: Int?

    /// Creates a definition.
    public init(name: String, key: FeatureKeyKind, eventTypes: [EventType], aggregations: [FeatureAggregation],
                windows: [FeatureWindow], distinctCap: Int? = nil, lastN: Int? = nil) {
        self.name = name
        self.key = key
        self.eventTypes = eventTypes
        self.aggregations = aggregations
        self.windows = windows
        self.distinctCap = distinctCap
        self.lastN = lastN
    }

    enum CodingKeys: String, CodingKey {
        case name, key, eventTypes = "event_types", aggregations, windows
        case distinctCap = "distinct_cap", lastN = "last_n"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        key = try c.decode(FeatureKeyKind.self, forKey: .key)
        eventTypes = try c.decodeIfPresent([EventType].self, forKey: .eventTypes) ?? []
        aggregations = try c.decode([FeatureAggregation].self, forKey: .aggregations)
        windows = try c.decodeIfPresent([FeatureWindow].self, forKey: .windows) ?? []
        distinctCap = try c.decodeIfPresent(Int.self, forKey: .distinctCap)
        lastN = try c.decodeIfPresent(Int.self, forKey: .lastN)
    }

    /// Names of the scalar outputs in layout order: aggregations as listed, then windows as listed.
    public var outputNames: [String] {
        var names: [String] = []
        for aggregation in aggregations {
            switch aggregation {
            case .lastN: continue
            case .recency: names.append("\(name).recency")
            default: for window in windows { names.append("\(name).\(aggregation.rawValue).\(window.name)") }
            }
        }
        return names
    }
}

/// A feature computed from two base outputs of the same key.
public struct DerivedFeatureDefinition: Hashable, Sendable, Codable {
    /// The formula.
    public enum Kind: String, Hashable, Sendable, Codable {
        /// `(numerator + prior * prior_strength) / (denominator + prior_strength)`, a smoothed
        /// ratio such as CTR.
        case ratio
        /// `(short / short_window) / ((long + 1) / long_window)`: short-window rate over long-window
        /// rate, 1 meaning steady and above 1 trending.
        case trend
    }

    /// Output name.
    public var name: String
    /// The formula.
    public var kind: Kind
    /// First operand: the numerator (ratio) or the short-window output (trend).
    public var numerator: String
    /// Second operand: the denominator (ratio) or the long-window output (trend).
    public var denominator: String
    /// Prior mean of a ratio (default 0).
    public var prior: Double
    /// Weight of the prior in pseudo-events (default 0).
    public var priorStrength: Double

    /// Creates a derived feature.
    public init(name: String, kind: Kind, numerator: String, denominator: String, prior: Double = 0,
                priorStrength: Double = 0) {
        self.name = name
        self.kind = kind
        self.numerator = numerator
        self.denominator = denominator
        self.prior = prior
        self.priorStrength = priorStrength
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, numerator, denominator, short, long, prior, priorStrength = "prior_strength"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(Kind.self, forKey: .kind)
        switch kind {
        case .ratio:
            numerator = try c.decode(String.self, forKey: .numerator)
            denominator = try c.decode(String.self, forKey: .denominator)
        case .trend:
            numerator = try c.decode(String.self, forKey: .short)
            denominator = try c.decode(String.self, forKey: .long)
        }
        prior = try c.decodeIfPresent(Double.self, forKey: .prior) ?? 0
        priorStrength = try c.decodeIfPresent(Double.self, forKey: .priorStrength) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(kind, forKey: .kind)
        try c.encode(numerator, forKey: kind == .ratio ? .numerator : .short)
        try c.encode(denominator, forKey: kind == .ratio ? .denominator : .long)
        try c.encode(prior, forKey: .prior)
        try c.encode(priorStrength, forKey: .priorStrength)
    }
}

/// A versioned set of feature definitions: what `config/features.yaml` holds.
public struct FeatureDefinitionSet: Hashable, Sendable, Codable {
    /// Version label reported by the engine, e.g. `2026-11-25.1`.
    public var version: String
    /// Buckets per window (resolution = window / buckets). Default 60.
    public var bucketsPerWindow: Int
    /// Inactivity gap that ends a session. Default 30 minutes.
    public var sessionGap: FeatureWindow
    /// Half-life of category affinity scores. Default 7 days.
    public var affinityHalfLife: FeatureWindow
    /// Categories tracked per user (least recently seen evicted first). Default 32.
    public var maxCategoriesPerUser: Int
    /// Event types accepted besides the built-ins.
    public var customEventTypes: [EventType]
    /// Base features, in layout order.
    public var definitions: [FeatureDefinition]
    /// Derived features, in layout order after the base features of their key.
    public var derived: [DerivedFeatureDefinition]

    /// Creates a set.
    public init(version: String, bucketsPerWindow: Int = 60, sessionGap: FeatureWindow = FeatureWindow(seconds: 1_800),
                affinityHalfLife: FeatureWindow = .oneWeek, maxCategoriesPerUser: Int = 32,
                customEventTypes: [EventType] = [], definitions: [FeatureDefinition],
                derived: [DerivedFeatureDefinition] = []) {
        self.version = version
        self.bucketsPerWindow = bucketsPerWindow
        self.sessionGap = sessionGap
        self.affinityHalfLife = affinityHalfLife
        self.maxCategoriesPerUser = maxCategoriesPerUser
        self.customEventTypes = customEventTypes
        self.definitions = definitions
        self.derived = derived
    }

    enum CodingKeys: String, CodingKey {
        case version, bucketsPerWindow = "buckets_per_window", sessionGap = "session_gap"
        case affinityHalfLife = "affinity_half_life", maxCategoriesPerUser = "max_categories_per_user"
        case customEventTypes = "custom_event_types", definitions, derived
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(String.self, forKey: .version)
        bucketsPerWindow = try c.decodeIfPresent(Int.self, forKey: .bucketsPerWindow) ?? 60
        sessionGap = try c.decodeIfPresent(FeatureWindow.self, forKey: .sessionGap) ?? FeatureWindow(seconds: 1_800)
        affinityHalfLife = try c.decodeIfPresent(FeatureWindow.self, forKey: .affinityHalfLife) ?? .oneWeek
        maxCategoriesPerUser = try c.decodeIfPresent(Int.self, forKey: .maxCategoriesPerUser) ?? 32
        customEventTypes = try c.decodeIfPresent([EventType].self, forKey: .customEventTypes) ?? []
        definitions = try c.decode([FeatureDefinition].self, forKey: .definitions)
        derived = try c.decodeIfPresent([DerivedFeatureDefinition].self, forKey: .derived) ?? []
    }
}
