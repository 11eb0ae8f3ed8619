// RealTimeFeatures and FeatureVectorLayout: the output shapes of the feature engine. The seed's
// four groups (temporal, behavioral, contextual, aggregated) as name -> value maps, and the dense
// user vector whose layout is fixed by the active definition version (docs/features.md).
// Invariant: `layout.names[i]` names `vector.values[i]` for the version in `layout.version`.

/// The group a feature belongs to, as in the seed's `RealTimeFeatures`.
public enum FeatureGroup: String, Hashable, Sendable, Codable {
    /// Time of day, day of week, session age, time since last event.
    case temporal
    /// Per-window counts, rates and category affinities of the user.
    case behavioral
    /// Derived from the request context.
    case contextual
    /// Derived ratios and trends.
    case aggregated
}

/// The stable layout of the dense user vector of one definition version.
///
/// Blocks, in order: 8 temporal slots, 6 contextual slots, the user-key outputs of the active
/// definitions (base outputs then derived), and 2 category-summary slots.
public struct FeatureVectorLayout: Hashable, Sendable, Codable {
    /// Definition version the layout belongs to.
    public let version: String
    /// Slot names, in order.
    public let names: [String]
    /// Group of each slot.
    public let groups: [FeatureGroup]

    /// Fixed temporal slots at the start of every layout.
    public static let temporalNames = [
        "hour_of_day", "hour_sin", "hour_cos", "day_of_week", "is_weekend",
        "session_age_seconds", "session_event_count", "time_since_last_event_seconds",
    ]
    /// Fixed contextual slots after the temporal block.
    public static let contextualNames = [
        "device_mobile", "device_desktop", "device_tablet", "device_other", "has_locale", "has_page",
    ]
    /// Category summary slots at the end of every layout.
    public static let categorySummaryNames = ["category_count", "top_category_share"]

    /// Offset of the first user-key output.
    public static let userOutputOffset = temporalNames.count + contextualNames.count

    init(version: String, userOutputs: [String], derivedCount: Int) {
        self.version = version
        let t = Self.temporalNames, c = Self.contextualNames, s = Self.categorySummaryNames
        names = t + c + userOutputs + s
        groups = Array(repeating: .temporal, count: t.count) + Array(repeating: .contextual, count: c.count)
            + Array(repeating: .behavioral, count: userOutputs.count - derivedCount)
            + Array(repeating: .aggregated, count: derivedCount) + Array(repeating: .behavioral, count: s.count)
    }

    /// Number of slots.
    public var count: Int { names.count }

    /// Index of a slot by name.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// A user's dense feature vector with the version of its layout.
public struct FeatureVector: Hashable, Sendable, Codable {
    /// Definition version whose layout the values follow.
    public let version: String
    /// Values, one per layout slot.
    public var values: [Double]

    /// Creates a vector.
    public init(version: String, values: [Double]) {
        self.version = version
        self.values = values
    }
}

/// A category and the user's affinity to it: the decayed share of the user's categorized events.
public struct CategoryAffinity: Hashable, Sendable, Codable {
    /// Category name.
    public let category: String
    /// Share in [0, 1]; all of a user's categories sum to 1.
    public let score: Double
}

/// The seed's `RealTimeFeatures`: four named groups plus the time they were computed for.
public struct RealTimeFeatures: Hashable, Sendable, Codable {
    /// The user.
    public var userID: String
    /// Time of day, day of week, session age, time since last event.
    public var temporal: [String: Double]
    /// Per-window counts and rates, category summary, `affinity.<category>` for the top categories.
    public var behavioral: [String: Double]
    /// From the request context: device one-hot, `has_locale`, `has_page`, `ctx.<key>` for numeric
    /// free values.
    public var contextual: [String: Double]
    /// Derived ratios and trends.
    public var aggregated: [String: Double]
    /// The newest items of the user's `last_n` features, newest first, keyed by feature name.
    public var recentItems: [String: [String]]
    /// Definition version that produced the features.
    public var version: String
    /// The time (Unix seconds) the features describe.
    public var timestamp: Double

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", temporal, behavioral, contextual, aggregated
        case recentItems = "recent_items", version, timestamp
    }
}
