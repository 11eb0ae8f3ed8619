// FeatureStateStore: where the engine puts the state of users it evicts from memory and finds it
// again on their next event or read. Invariant: the engine calls the store while holding a shard's
// lock (a batch, several), so implementations must be quick (an adapter to a slow backend should buffer).
import Synchronization

/// Storage for evicted per-user feature state.
///
/// `UserFeatureState` is `Codable`. It uses positive and negative infinity as "nothing seen yet"
/// sentinels, so a JSON encoding needs `nonConformingFloatEncodingStrategy = .convertToString(...)`
/// (and the matching decoding strategy); binary encodings need nothing special.
public protocol FeatureStateStore: Sendable {
    /// Stores (or replaces) a user's state.
    func save(_ state: UserFeatureState, for userID: String)
    /// The stored state of a user, if any.
    func load(userID: String) -> UserFeatureState?
}

/// A `FeatureStateStore` in a dictionary, for tests and the embedded default.
public final class InMemoryFeatureStateStore: FeatureStateStore {
    private let states = Mutex<[String: UserFeatureState]>([:])

    /// Creates an empty store.
    public init() {}

    public func save(_ state: UserFeatureState, for userID: String) {
        states.withLock { $0[userID] = state }
    }

    public func load(userID: String) -> UserFeatureState? {
        states.withLock { $0[userID] }
    }

    /// Number of users stored.
    public var count: Int { states.withLock { $0.count } }
}
