// FeatureVersionHistory: the stack of loaded definition sets, newest active, and the compiled
// schema of the active one. Loading pushes, rollback pops. Invariant: the schema keeps the
// previous version's streams live, so a rollback lands on warm state; at most `limit` versions are
// remembered.

struct FeatureVersionHistory: Sendable {
    static let limit = 16
    private(set) var stack: [FeatureDefinitionSet]
    private var registry = FeatureStreamRegistry()
    private var generation = 0
    private(set) var current: FeatureSchema

    init(initial: FeatureDefinitionSet) throws(FeatureDefinitionError) {
        try initial.validate()
        stack = [initial]
        current = FeatureSchema(active: initial, retained: nil, registry: &registry, generation: 0)
    }

    /// Validates and activates `set`; the active version becomes the rollback target.
    mutating func load(_ set: FeatureDefinitionSet) throws(FeatureDefinitionError) -> FeatureSchema {
        try set.validate()
        guard set.version != current.definitions.version else {
            throw FeatureDefinitionError(field: "version", message: "version \(set.version) is already active")
        }
        stack.append(set)
        if stack.count > Self.limit { stack.removeFirst() }
        return recompile()
    }

    /// Returns to the previous version.
    mutating func rollback() throws(FeatureDefinitionError) -> FeatureSchema {
        guard stack.count > 1 else {
            throw FeatureDefinitionError(field: "version", message: "no previous version to roll back to")
        }
        stack.removeLast()
        return recompile()
    }

    private mutating func recompile() -> FeatureSchema {
        generation += 1
        let retained = stack.count > 1 ? stack[stack.count - 2] : nil
        current = FeatureSchema(active: stack[stack.count - 1], retained: retained, registry: &registry,
                                generation: generation)
        return current
    }
}
