// FeatureDefinitionSet validation: every rule a set must meet before it can be loaded, reported as
// a FeatureDefinitionError naming the field (`definitions[2].windows: must not be empty`).
// Invariant: `validate()` accepts exactly the sets that FeatureSchema can compile.

/// A definition set that cannot be loaded, naming the field.
public struct FeatureDefinitionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Path of the field, e.g. `definitions[2].windows`.
    public let field: String
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `field: message`.
    public var description: String { "\(field): \(message)" }
}

extension FeatureDefinitionSet {
    /// Checks the set; throws the first problem found.
    public func validate() throws(FeatureDefinitionError) {
        guard !version.isEmpty, version.utf8.count <= 128 else {
            throw FeatureDefinitionError(field: "version", message: "must be a non-empty string of at most 128 bytes")
        }
        guard (1...1_024).contains(bucketsPerWindow) else {
            throw FeatureDefinitionError(field: "buckets_per_window", message: "must be between 1 and 1024")
        }
        guard (1...1_024).contains(maxCategoriesPerUser) else {
            throw FeatureDefinitionError(field: "max_categories_per_user", message: "must be between 1 and 1024")
        }
        var known = Set(EventType.builtIn)
        for (i, type) in customEventTypes.enumerated() {
            guard Self.isName(type.rawValue), known.insert(type).inserted else {
                throw FeatureDefinitionError(field: "custom_event_types[\(i)]",
                                             message: "must be a new lower_snake_case name")
            }
        }
        var outputs: [String: (key: FeatureKeyKind, window: FeatureWindow?)] = [:]
        for (i, d) in definitions.enumerated() {
            let path = "definitions[\(i)]"
            guard Self.isName(d.name) else {
                throw FeatureDefinitionError(field: "\(path).name", message: "must be a lower_snake_case name of at most 64 bytes")
            }
            guard !d.aggregations.isEmpty else {
                throw FeatureDefinitionError(field: "\(path).aggregations", message: "must not be empty")
            }
            for (j, type) in d.eventTypes.enumerated() where !known.contains(type) {
                throw FeatureDefinitionError(field: "\(path).event_types[\(j)]",
                                             message: "unknown event type \(type); declare it in custom_event_types")
            }
            let windowed = d.aggregations.contains { $0.isWindowed }
            guard !windowed || (1...16).contains(d.windows.count) else {
                throw FeatureDefinitionError(field: "\(path).windows", message: "must hold between 1 and 16 windows")
            }
            guard Set(d.windows).count == d.windows.count else {
                throw FeatureDefinitionError(field: "\(path).windows", message: "must not repeat a window")
            }
            guard Set(d.aggregations).count == d.aggregations.count else {
                throw FeatureDefinitionError(field: "\(path).aggregations", message: "must not repeat an aggregation")
            }
            if let cap = d.distinctCap, !(1...65_536).contains(cap) {
                throw FeatureDefinitionError(field: "\(path).distinct_cap", message: "must be between 1 and 65536")
            }
            if let n = d.lastN, !(1...1_000).contains(n) {
                throw FeatureDefinitionError(field: "\(path).last_n", message: "must be between 1 and 1000")
            }
            for aggregation in d.aggregations where aggregation != .lastN {
                let windows: [FeatureWindow?] = aggregation.isWindowed ? d.windows : [nil]
                for w in windows {
                    let name = w.map { "\(d.name).\(aggregation.rawValue).\($0.name)" } ?? "\(d.name).recency"
                    guard outputs.updateValue((d.key, w), forKey: name) == nil else {
                        throw FeatureDefinitionError(field: "\(path).name", message: "output \(name) is defined twice")
                    }
                }
            }
        }
        for (i, derived) in derived.enumerated() {
            let path = "derived[\(i)]"
            guard Self.isName(derived.name), outputs[derived.name] == nil else {
                throw FeatureDefinitionError(field: "\(path).name", message: "must be a new lower_snake_case name")
            }
            let (first, second) = derived.kind == .ratio ? ("numerator", "denominator") : ("short", "long")
            guard let a = outputs[derived.numerator] else {
                throw FeatureDefinitionError(field: "\(path).\(first)", message: "unknown output \(derived.numerator)")
            }
            guard let b = outputs[derived.denominator] else {
                throw FeatureDefinitionError(field: "\(path).\(second)", message: "unknown output \(derived.denominator)")
            }
            guard a.key == b.key, a.key != .userCategory else {
                throw FeatureDefinitionError(field: path, message: "operands must share a user, item or global key")
            }
            if derived.kind == .trend, a.window == nil || b.window == nil {
                throw FeatureDefinitionError(field: path, message: "trend operands must be windowed outputs")
            }
            guard derived.prior.isFinite, derived.priorStrength.isFinite, derived.priorStrength >= 0 else {
                throw FeatureDefinitionError(field: "\(path).prior_strength", message: "must be a finite number >= 0")
            }
            outputs[derived.name] = (a.key, nil)
        }
    }

    static func isName(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 64, let first = s.utf8.first, first >= 97, first <= 122 else { return false }
        return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }
}
