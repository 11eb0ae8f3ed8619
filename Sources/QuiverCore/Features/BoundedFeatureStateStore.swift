// BoundedFeatureStateStore: an in-memory second tier for evicted users with a hard bound: it
// keeps at most `capacity` states, drops the oldest saved beyond that (counted in `dropped`), and
// hands a state back only once (the engine holds it again after a load). Memory stays bounded
// however many distinct users arrive; a dropped user starts from empty features.
import Synchronization

public final class BoundedFeatureStateStore: FeatureStateStore {
    private struct Storage {
        var states: [String: (state: UserFeatureState, generation: UInt64)] = [:]
        var order: [(userID: String, generation: UInt64)] = []
        var head = 0
        var generation: UInt64 = 0
        var dropped = 0
    }

    private let storage = Mutex(Storage())
    public let capacity: Int

    /// - Parameter capacity: the most evicted states kept.
    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public func save(_ state: UserFeatureState, for userID: String) {
        storage.withLock { s in
            s.generation += 1
            s.states[userID] = (state, s.generation)
            s.order.append((userID, s.generation))
            while s.states.count > capacity, s.head < s.order.count {
                let oldest = s.order[s.head]
                s.head += 1
                if let current = s.states[oldest.userID], current.generation == oldest.generation {
                    s.states[oldest.userID] = nil
                    s.dropped += 1
                }
            }
            if s.head > 4096 && s.head * 2 > s.order.count {  // compact the queue now and then
                s.order.removeFirst(s.head)
                s.head = 0
            }
        }
    }

    public func load(userID: String) -> UserFeatureState? {
        storage.withLock { $0.states.removeValue(forKey: userID)?.state }
    }

    /// States held right now.
    public var count: Int { storage.withLock { $0.states.count } }
    /// States dropped to honour the bound since the start.
    public var dropped: Int { storage.withLock { $0.dropped } }
}
