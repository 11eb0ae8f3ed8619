// Prefetcher: keeps the cache warm for active users. When a user's state changes (an event, a
// feedback, a profile update), their cached answers die; if the user asked for a cached answer in
// the last `window` seconds, their last request is recomputed in the background so the next one
// hits. Bounded: one pending recomputation per user (changes coalesce), at most `maxPending` in
// flight (beyond it, prefetches are dropped and counted: load shedding).
import Dispatch
import Foundation
import Synchronization

final class Prefetcher: Sendable {
    private struct Active {
        var request: RecommendationRequest
        var lastSeen: Double
        var pending: Bool
    }
    private let shards: [LockedShard<BoundedLRU<String, Active>>]
    private let inFlight = Atomic<Int>(0)
    private let counts = Mutex<(scheduled: Int, dropped: Int, completed: Int)>((0, 0, 0))
    private let queue = DispatchQueue(label: "quiver.prefetch", attributes: .concurrent)
    let window: Double
    let maxPending: Int

    init(capacity: Int, window: Double, maxPending: Int) {
        self.window = window
        self.maxPending = maxPending
        shards = (0..<16).map { _ in LockedShard(BoundedLRU(capacity: max(1, capacity / 16))) }
    }

    private func shard(_ userID: String) -> LockedShard<BoundedLRU<String, Active>> {
        shards[Int(UInt(bitPattern: userID.hashValue) % UInt(shards.count))]
    }

    /// Remembers the user's latest cacheable request.
    func noteRequest(_ request: RecommendationRequest, now: Double) {
        shard(request.userID).withLock { lru in
            lru.set(request.userID, expiresAt: now + window) { old in
                Active(request: request, lastSeen: now, pending: old?.pending ?? false)
            }
        }
    }

    /// The users changed: recompute the last request of each recently active one with `compute`.
    func usersChanged(_ users: Set<String>, now: Double, compute: @escaping @Sendable (RecommendationRequest) -> Void) {
        for user in users {
            let request = shard(user).withLock { lru -> RecommendationRequest? in
                var chosen: RecommendationRequest?
                _ = lru.update(user) { active in
                    guard now - active.lastSeen <= window, !active.pending else { return }
                    active.pending = true
                    chosen = active.request
                }
                return chosen
            }
            guard let request else { continue }
            guard inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= maxPending else {
                inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                shard(user).withLock { lru in _ = lru.update(user) { $0.pending = false } }
                counts.withLock { $0.dropped += 1 }
                continue
            }
            counts.withLock { $0.scheduled += 1 }
            queue.async { [self] in
                shard(user).withLock { lru in _ = lru.update(user) { $0.pending = false } }
                compute(request)
                inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                counts.withLock { $0.completed += 1 }
            }
        }
    }

    var statistics: (scheduled: Int, dropped: Int, completed: Int) { counts.withLock { $0 } }
}
