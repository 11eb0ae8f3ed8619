// Tests of feature definitions: the Codable shape of config/features.yaml (as its JSON equivalent)
// decodes to the standard set, validation names the field, and specs identify shared state.
import Foundation
import Testing
@testable import QuiverCore

@Suite struct FeaturesDefinitionTests {
    /// config/features.yaml converted to JSON (yaml.safe_load + json.dumps), so that a drift between
    /// the file, this shape and `FeatureDefinitionSet.standard` fails here.
    static let configJSON = #"""
{
  "version": "2026-11-25.1",
  "buckets_per_window": 60,
  "session_gap": "30m",
  "affinity_half_life": "7d",
  "max_categories_per_user": 32,
  "custom_event_types": ["share"],
  "definitions": [
    {"name": "user_views", "key": "user", "event_types": ["view"], "aggregations": ["count", "rate"], "windows": ["5m", "1h", "24h", "7d"]},
    {"name": "user_clicks", "key": "user", "event_types": ["click"], "aggregations": ["count", "rate"], "windows": ["5m", "1h", "24h", "7d"]},
    {"name": "user_carts", "key": "user", "event_types": ["add_to_cart"], "aggregations": ["count"], "windows": ["1h", "24h", "7d"]},
    {"name": "user_purchases", "key": "user", "event_types": ["purchase"], "aggregations": ["count", "sum"], "windows": ["24h", "7d"]},
    {"name": "user_ratings", "key": "user", "event_types": ["rating"], "aggregations": ["count", "mean", "min", "max"], "windows": ["7d"]},
    {"name": "user_dwell", "key": "user", "event_types": ["dwell"], "aggregations": ["sum", "mean", "max"], "windows": ["1h", "24h"]},
    {"name": "user_events", "key": "user", "event_types": [], "aggregations": ["count", "distinct", "decayed_count", "recency", "last_n"], "windows": ["1m", "5m", "1h", "24h", "7d"], "distinct_cap": 256, "last_n": 20},
    {"name": "user_category_events", "key": "user_category", "event_types": ["view", "click", "add_to_cart", "purchase"], "aggregations": ["count", "decayed_count"], "windows": ["1h", "24h", "7d"]},
    {"name": "item_views", "key": "item", "event_types": ["view"], "aggregations": ["count"], "windows": ["1h", "24h", "7d"]},
    {"name": "item_clicks", "key": "item", "event_types": ["click"], "aggregations": ["count"], "windows": ["1h", "24h", "7d"]},
    {"name": "item_purchases", "key": "item", "event_types": ["purchase"], "aggregations": ["count", "sum"], "windows": ["24h", "7d"]},
    {"name": "item_events", "key": "item", "event_types": [], "aggregations": ["count", "distinct", "recency"], "windows": ["1h", "24h", "7d"], "distinct_cap": 1024},
    {"name": "global_events", "key": "global", "event_types": [], "aggregations": ["count", "rate", "distinct"], "windows": ["1m", "1h", "24h"], "distinct_cap": 4096},
    {"name": "global_views", "key": "global", "event_types": ["view"], "aggregations": ["count"], "windows": ["24h"]},
    {"name": "global_clicks", "key": "global", "event_types": ["click"], "aggregations": ["count"], "windows": ["24h"]}
  ],
  "derived": [
    {"name": "user_ctr_24h", "kind": "ratio", "numerator": "user_clicks.count.24h", "denominator": "user_views.count.24h", "prior": 0.05, "prior_strength": 20},
    {"name": "user_ctr_7d", "kind": "ratio", "numerator": "user_clicks.count.7d", "denominator": "user_views.count.7d", "prior": 0.05, "prior_strength": 20},
    {"name": "user_cart_rate_7d", "kind": "ratio", "numerator": "user_carts.count.7d", "denominator": "user_views.count.7d", "prior": 0.02, "prior_strength": 20},
    {"name": "user_purchase_rate_7d", "kind": "ratio", "numerator": "user_purchases.count.7d", "denominator": "user_clicks.count.7d", "prior": 0.02, "prior_strength": 20},
    {"name": "user_activity_trend", "kind": "trend", "short": "user_events.count.1h", "long": "user_events.count.7d"},
    {"name": "item_ctr_24h", "kind": "ratio", "numerator": "item_clicks.count.24h", "denominator": "item_views.count.24h", "prior": 0.05, "prior_strength": 50},
    {"name": "item_ctr_7d", "kind": "ratio", "numerator": "item_clicks.count.7d", "denominator": "item_views.count.7d", "prior": 0.05, "prior_strength": 50},
    {"name": "item_trending", "kind": "trend", "short": "item_events.count.1h", "long": "item_events.count.7d"},
    {"name": "item_trending_daily", "kind": "trend", "short": "item_events.count.24h", "long": "item_events.count.7d"},
    {"name": "global_ctr_24h", "kind": "ratio", "numerator": "global_clicks.count.24h", "denominator": "global_views.count.24h", "prior": 0.05, "prior_strength": 100}
  ]
}
"""#

    @Test func configFileShapeDecodesToTheStandardSet() throws {
        let decoded = try JSONDecoder().decode(FeatureDefinitionSet.self, from: Data(Self.configJSON.utf8))
        #expect(decoded == FeatureDefinitionSet.standard)
        try decoded.validate()
    }

    @Test func standardSetRoundTripsThroughJSON() throws {
        let data = try JSONEncoder().encode(FeatureDefinitionSet.standard)
        let back = try JSONDecoder().decode(FeatureDefinitionSet.self, from: data)
        #expect(back == FeatureDefinitionSet.standard)
    }

    @Test func optionalFieldsTakeDefaults() throws {
        let json = #"{"version": "v1", "definitions": [{"name": "clicks", "key": "user", "aggregations": ["count"], "windows": ["1h"]}]}"#
        let set = try JSONDecoder().decode(FeatureDefinitionSet.self, from: Data(json.utf8))
        #expect(set.bucketsPerWindow == 60)
        #expect(set.sessionGap == FeatureWindow(seconds: 1_800))
        #expect(set.definitions[0].eventTypes.isEmpty)
        #expect(set.derived.isEmpty)
    }

    @Test func malformedWindowIsADecodingError() {
        let json = #"{"version": "v1", "definitions": [{"name": "c", "key": "user", "aggregations": ["count"], "windows": ["1y"]}]}"#
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(FeatureDefinitionSet.self, from: Data(json.utf8))
        }
    }

    static func base() -> FeatureDefinitionSet {
        FeatureDefinitionSet(version: "v1", definitions: [
            FeatureDefinition(name: "clicks", key: .user, eventTypes: [.click], aggregations: [.count], windows: [.oneHour]),
            FeatureDefinition(name: "views", key: .user, eventTypes: [.view], aggregations: [.count], windows: [.oneHour]),
        ])
    }

    static let invalid: [(String, @Sendable (inout FeatureDefinitionSet) -> Void, String)] = [
        ("empty version", { $0.version = "" }, "version"),
        ("zero buckets", { $0.bucketsPerWindow = 0 }, "buckets_per_window"),
        ("bad name", { $0.definitions[1].name = "Views!" }, "definitions[1].name"),
        ("duplicate name", { $0.definitions[1].name = "clicks"; $0.definitions[1].eventTypes = [.click] }, "definitions[1].name"),
        ("no aggregation", { $0.definitions[0].aggregations = [] }, "definitions[0].aggregations"),
        ("no window", { $0.definitions[0].windows = [] }, "definitions[0].windows"),
        ("repeated window", { $0.definitions[0].windows = [.oneHour, .oneHour] }, "definitions[0].windows"),
        ("unknown type", { $0.definitions[0].eventTypes = ["teleport"] }, "definitions[0].event_types[0]"),
        ("distinct cap", { $0.definitions[0].distinctCap = 0 }, "definitions[0].distinct_cap"),
        ("unknown operand", {
            $0.derived = [DerivedFeatureDefinition(name: "ctr", kind: .ratio, numerator: "clicks.count.2h",
                                                   denominator: "views.count.1h")]
        }, "derived[0].numerator"),
        ("recency trend", {
            $0.definitions[0].aggregations = [.count, .recency]
            $0.derived = [DerivedFeatureDefinition(name: "t", kind: .trend, numerator: "clicks.recency",
                                                   denominator: "views.count.1h")]
        }, "derived[0]"),
        ("custom type clash", { $0.customEventTypes = ["click"] }, "custom_event_types[0]"),
    ]

    @Test(arguments: 0..<invalid.count)
    func validationNamesTheField(case index: Int) throws {
        var set = Self.base()
        Self.invalid[index].1(&set)
        let error = try #require(throws: FeatureDefinitionError.self) { try set.validate() }
        #expect(error.field == Self.invalid[index].2, "\(Self.invalid[index].0): \(error)")
    }

    @Test func customEventTypesBecomeValid() throws {
        var set = Self.base()
        set.customEventTypes = ["share"]
        set.definitions[0].eventTypes = ["share"]
        try set.validate()
    }

    @Test func outputNamesFollowAggregationThenWindowOrder() {
        let d = FeatureDefinition(name: "e", key: .user, eventTypes: [], aggregations: [.count, .recency, .lastN, .max],
                                  windows: [.oneHour, .oneWeek])
        #expect(d.outputNames == ["e.count.1h", "e.count.7d", "e.recency", "e.max.1h", "e.max.7d"])
    }

    @Test func renamedDefinitionsShareAStreamSpec() {
        let a = FeatureDefinition(name: "a", key: .user, eventTypes: [.view, .click], aggregations: [.count, .sum],
                                  windows: [.oneHour])
        var b = a
        b.name = "b"
        b.eventTypes = [.click, .view]
        b.aggregations = [.sum, .count]
        #expect(FeatureStreamSpec(definition: a, bucketsPerWindow: 60) == FeatureStreamSpec(definition: b, bucketsPerWindow: 60))
        b.windows = [.oneDay]
        #expect(FeatureStreamSpec(definition: a, bucketsPerWindow: 60) != FeatureStreamSpec(definition: b, bucketsPerWindow: 60))
    }
}
