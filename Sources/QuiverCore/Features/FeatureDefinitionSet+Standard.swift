// The standard definition set: the same features as config/features.yaml, for a server started
// without configuration and for tests. Invariant: equal to the decoded config file (a test decodes
// the JSON equivalent and compares).

extension FeatureDefinitionSet {
    /// The default features: per-user counts and rates by event type, per user x category
    /// activity, item popularity, CTR and trending, global activity.
    public static let standard: FeatureDefinitionSet = {
        let w5m = FeatureWindow.fiveMinutes, w1m = FeatureWindow.oneMinute, w1h = FeatureWindow.oneHour
        let w24h = FeatureWindow.oneDay, w7d = FeatureWindow.oneWeek
        func d(_ name: String, _ key: FeatureKeyKind, _ types: [EventType], _ aggregations: [FeatureAggregation],
               _ windows: [FeatureWindow], distinctCap: Int? = nil, lastN: Int? = nil) -> FeatureDefinition {
            FeatureDefinition(name: name, key: key, eventTypes: types, aggregations: aggregations, windows: windows,
                              distinctCap: distinctCap, lastN: lastN)
        }
        func ratio(_ name: String, _ a: String, _ b: String, _ prior: Double, _ strength: Double) -> DerivedFeatureDefinition {
            DerivedFeatureDefinition(name: name, kind: .ratio, numerator: a, denominator: b, prior: prior,
                                     priorStrength: strength)
        }
        func trend(_ name: String, _ a: String, _ b: String) -> DerivedFeatureDefinition {
            DerivedFeatureDefinition(name: name, kind: .trend, numerator: a, denominator: b)
        }
        return FeatureDefinitionSet(
            version: "2026-11-25.1", bucketsPerWindow: 60, sessionGap: FeatureWindow(seconds: 1_800),
            affinityHalfLife: w7d, maxCategoriesPerUser: 32, customEventTypes: ["share"],
            definitions: [
                d("user_views", .user, [.view], [.count, .rate], [w5m, w1h, w24h, w7d]),
                d("user_clicks", .user, [.click], [.count, .rate], [w5m, w1h, w24h, w7d]),
                d("user_carts", .user, [.addToCart], [.count], [w1h, w24h, w7d]),
                d("user_purchases", .user, [.purchase], [.count, .sum], [w24h, w7d]),
                d("user_ratings", .user, [.rating], [.count, .mean, .min, .max], [w7d]),
                d("user_dwell", .user, [.dwell], [.sum, .mean, .max], [w1h, w24h]),
                d("user_events", .user, [], [.count, .distinct, .decayedCount, .recency, .lastN],
                  [w1m, w5m, w1h, w24h, w7d], distinctCap: 256, lastN: 20),
                d("user_category_events", .userCategory, [.view, .click, .addToCart, .purchase],
                  [.count, .decayedCount], [w1h, w24h, w7d]),
                d("item_views", .item, [.view], [.count], [w1h, w24h, w7d]),
                d("item_clicks", .item, [.click], [.count], [w1h, w24h, w7d]),
                d("item_purchases", .item, [.purchase], [.count, .sum], [w24h, w7d]),
                d("item_events", .item, [], [.count, .distinct, .recency], [w1h, w24h, w7d], distinctCap: 1_024),
                d("global_events", .global, [], [.count, .rate, .distinct], [w1m, w1h, w24h], distinctCap: 4_096),
                d("global_views", .global, [.view], [.count], [w24h]),
                d("global_clicks", .global, [.click], [.count], [w24h]),
            ],
            derived: [
                ratio("user_ctr_24h", "user_clicks.count.24h", "user_views.count.24h", 0.05, 20),
                ratio("user_ctr_7d", "user_clicks.count.7d", "user_views.count.7d", 0.05, 20),
                ratio("user_cart_rate_7d", "user_carts.count.7d", "user_views.count.7d", 0.02, 20),
                ratio("user_purchase_rate_7d", "user_purchases.count.7d", "user_clicks.count.7d", 0.02, 20),
                trend("user_activity_trend", "user_events.count.1h", "user_events.count.7d"),
                ratio("item_ctr_24h", "item_clicks.count.24h", "item_views.count.24h", 0.05, 50),
                ratio("item_ctr_7d", "item_clicks.count.7d", "item_views.count.7d", 0.05, 50),
                trend("item_trending", "item_events.count.1h", "item_events.count.7d"),
                trend("item_trending_daily", "item_events.count.24h", "item_events.count.7d"),
                ratio("global_ctr_24h", "global_clicks.count.24h", "global_views.count.24h", 0.05, 100),
            ])
    }()
}
