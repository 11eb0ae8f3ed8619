// FeatureSchema: a validated FeatureDefinitionSet compiled for the hot path: per event type, the
// stream ids to update for each key kind, and per key kind a ScalarPlan that reads the outputs.
// Stream ids come from FeatureStreamRegistry, which is append-only, so state indexed by stream id
// stays valid across versions. Invariant: routes cover the *live* streams (the active version's plus
// the previous version's, so a rollback finds warm state); plans read only the active version's.

/// Append-only registry of stream specs per key kind; a spec keeps its id forever.
struct FeatureStreamRegistry: Sendable {
    private(set) var specs: [[FeatureStreamSpec]] = Array(repeating: [], count: FeatureKeyKind.allCases.count)
    private var ids: [FeatureStreamSpec: Int] = [:]

    mutating func id(for spec: FeatureStreamSpec) -> Int {
        if let id = ids[spec] { return id }
        let kind = spec.key.index
        specs[kind].append(spec)
        ids[spec] = specs[kind].count - 1
        return specs[kind].count - 1
    }
}

extension FeatureKeyKind {
    /// Dense index 0..<4 used to address per-kind arrays.
    var index: Int {
        switch self {
        case .user: 0
        case .userCategory: 1
        case .item: 2
        case .global: 3
        }
    }
}

/// Stream ids to update for one event type, per key kind. A class so that taking a route per
/// event retains one object rather than four arrays.
final class EventRoute: Sendable {
    let user: [Int]
    let category: [Int]
    let item: [Int]
    let global: [Int]

    init(user: [Int], category: [Int], item: [Int], global: [Int]) {
        self.user = user
        self.category = category
        self.item = item
        self.global = global
    }
}

/// A compiled, immutable definition set, shared by reference between shards.
public final class FeatureSchema: Sendable {
    /// The definition set this schema was compiled from.
    public let definitions: FeatureDefinitionSet
    /// Increases with every load or rollback; state carries the generation it was migrated to.
    public let generation: Int
    /// Stream specs per key kind, indexed by stream id.
    let specs: [[FeatureStreamSpec]]
    /// Each spec's signature, per key kind, indexed by stream id: the arrays a leaving user's state
    /// is stamped with, so that one coming back under this schema compares equal at once.
    let signatures: [[String]]
    /// Whether a stream id is live, per key kind.
    let live: [[Bool]]
    /// Event types with a route, and their routes (parallel): searched linearly, comparing the
    /// short type names, which is cheaper than hashing them per event.
    let routeTypes: [EventType]
    let routeList: [EventRoute]
    let defaultRoute: EventRoute
    let userPlan: ScalarPlan
    let categoryPlan: ScalarPlan
    let itemPlan: ScalarPlan
    let globalPlan: ScalarPlan
    /// Layout of the dense user vector.
    public let layout: FeatureVectorLayout
    /// Stream id of each active definition (parallel to `definitions.definitions`).
    let activeStreamIDs: [Int]

    /// Compiles `active` (validated), keeping `retained`'s streams live too.
    init(active: FeatureDefinitionSet, retained: FeatureDefinitionSet?, registry: inout FeatureStreamRegistry,
         generation: Int) {
        definitions = active
        self.generation = generation
        var activeIDs: [Int] = []
        var liveIDs: [(FeatureKeyKind, Int, [EventType])] = []
        for d in active.definitions {
            let spec = FeatureStreamSpec(definition: d, bucketsPerWindow: active.bucketsPerWindow)
            let id = registry.id(for: spec)
            activeIDs.append(id)
            liveIDs.append((d.key, id, spec.eventTypes))
        }
        for d in retained?.definitions ?? [] {
            let spec = FeatureStreamSpec(definition: d, bucketsPerWindow: retained!.bucketsPerWindow)
            liveIDs.append((d.key, registry.id(for: spec), spec.eventTypes))
        }
        specs = registry.specs
        signatures = registry.specs.map { $0.map(\.signature) }
        activeStreamIDs = activeIDs
        var live = specs.map { Array(repeating: false, count: $0.count) }
        var types = Set(EventType.builtIn).union(active.customEventTypes).union(retained?.customEventTypes ?? [])
        for (kind, id, eventTypes) in liveIDs { live[kind.index][id] = true; types.formUnion(eventTypes) }
        self.live = live

        func route(for type: EventType?) -> EventRoute {
            var ids: [[Int]] = Array(repeating: [], count: FeatureKeyKind.allCases.count)
            var seen = Set<[Int]>()
            for (kind, id, eventTypes) in liveIDs where eventTypes.isEmpty || (type.map(eventTypes.contains) ?? false) {
                guard seen.insert([kind.index, id]).inserted else { continue }
                ids[kind.index].append(id)
            }
            return EventRoute(user: ids[FeatureKeyKind.user.index], category: ids[FeatureKeyKind.userCategory.index],
                              item: ids[FeatureKeyKind.item.index], global: ids[FeatureKeyKind.global.index])
        }
        let ordered = EventType.builtIn + types.subtracting(EventType.builtIn).sorted()
        routeTypes = ordered
        routeList = ordered.map { route(for: $0) }
        defaultRoute = route(for: nil)

        var plans: [ScalarPlan] = []
        for kind in FeatureKeyKind.allCases {
            plans.append(ScalarPlan(kind: kind, set: active, streamIDs: activeIDs, specs: specs[kind.index]))
        }
        userPlan = plans[FeatureKeyKind.user.index]
        categoryPlan = plans[FeatureKeyKind.userCategory.index]
        itemPlan = plans[FeatureKeyKind.item.index]
        globalPlan = plans[FeatureKeyKind.global.index]
        layout = FeatureVectorLayout(version: active.version, userOutputs: userPlan.names,
                                     derivedCount: userPlan.derived.count)
    }

    @inline(__always)
    func route(for type: EventType) -> EventRoute {
        for i in routeTypes.indices where routeTypes[i] == type { return routeList[i] }
        return defaultRoute
    }

    /// Upper bound of one resident user's state in bytes under this schema.
    public var maxBytesPerUser: Int {
        func liveSpecs(_ kind: FeatureKeyKind) -> [FeatureStreamSpec] {
            specs[kind.index].indices.filter { live[kind.index][$0] }.map { specs[kind.index][$0] }
        }
        let user = StreamArena.maxBytes(liveSpecs(.user), directory: specs[FeatureKeyKind.user.index].count)
        let category = StreamArena.maxBytes(liveSpecs(.userCategory),
                                            directory: specs[FeatureKeyKind.userCategory.index].count)
        // Category entries: inline state (2x for array growth), name (at most 256 bytes), arena.
        let perCategory = category + 2 * MemoryLayout<CategoryFeatureState>.stride + 256
        return MemoryLayout<UserFeatureState>.stride + 64 + user + definitions.maxCategoriesPerUser * perCategory
    }
}
