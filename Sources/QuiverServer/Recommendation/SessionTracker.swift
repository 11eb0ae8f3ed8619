// SessionTracker: the per-user session the Q-learning agent plays in. A session is the user's
// requests until `timeout` seconds of silence; each request is a step (observation, chosen
// strategy), feedback to the step's request id credits its reward, and the next request (or the
// session's end) turns the step into a Q-learning transition. Bounded LRU, sharded. With an online
// store a session is also shared between processes (SharedSessions): a process adopts the stored
// copy when it changed after its own (`modifiedAt`), so a user's session continues whichever process
// serves them.
import Foundation
import QuiverCore
import Synchronization

/// One Q-learning transition produced by the session flow.
struct SessionTransition: Sendable {
    var from: SessionObservation
    var strategy: SessionStrategy
    var reward: Double
    /// nil when the session ended.
    var next: SessionObservation?
}

final class SessionTracker: Sendable {
    struct Step: Codable, Sendable {
        var observation: SessionObservation
        var strategy: SessionStrategy
        var requestID: String
        var reward: Double
    }
    struct Session: Codable, Sendable {
        var lastSeen: Double
        var impressions = 0
        var clicks = 0
        var depth = 0
        var lastReward: Double?
        var step: Step?
        /// When any of it last changed (a step begun or recorded, a reward credited).
        var modifiedAt = 0.0
    }
    private let shards: [LockedShard<BoundedLRU<String, Session>>]
    let timeout: Double

    init(capacity: Int, timeout: Double, shardCount: Int = 16) {
        self.timeout = timeout
        shards = (0..<shardCount).map { _ in LockedShard(BoundedLRU(capacity: max(1, capacity / shardCount))) }
    }

    private func shard(_ userID: String) -> LockedShard<BoundedLRU<String, Session>> {
        shards[Int(UInt(bitPattern: userID.hashValue) % UInt(shards.count))]
    }

    /// The observation for the user's next step, and the transitions that are now complete.
    func begin(_ userID: String, now: Double) -> (SessionObservation, [SessionTransition]) {
        shard(userID).withLock { lru in
            var transitions: [SessionTransition] = []
            var session = lru.staleValue(for: userID) ?? Session(lastSeen: now)
            if now - session.lastSeen > timeout {
                if let step = session.step {
                    transitions.append(SessionTransition(from: step.observation, strategy: step.strategy, reward: step.reward, next: nil))
                }
                session = Session(lastSeen: now)
            }
            let observation = SessionObservation(impressions: session.impressions, clicks: session.clicks,
                                                 depth: session.depth, recentReward: session.lastReward)
            if let step = session.step {
                transitions.append(SessionTransition(from: step.observation, strategy: step.strategy, reward: step.reward, next: observation))
            }
            session.modifiedAt = Self.clock()
            lru.set(session, for: userID, expiresAt: .infinity)
            return (observation, transitions)
        }
    }

    /// Records the step just served.
    func record(_ userID: String, observation: SessionObservation, strategy: SessionStrategy, requestID: String,
                shown: Int, now: Double) {
        shard(userID).withLock { lru in
            _ = lru.update(userID) { session in
                if let step = session.step { session.lastReward = step.reward }
                session.step = Step(observation: observation, strategy: strategy, requestID: requestID, reward: 0)
                session.depth += 1
                session.impressions += shown
                session.lastSeen = now
                session.modifiedAt = Self.clock()
            }
        }
    }

    /// Credits feedback to the step that served `requestID`, if it is still the current one.
    func credit(_ userID: String, requestID: String, reward: Double) {
        shard(userID).withLock { lru in
            _ = lru.update(userID) { session in
                guard session.step?.requestID == requestID else { return }
                session.step?.reward += reward
                if reward > 0 { session.clicks += 1 }
                session.modifiedAt = Self.clock()
            }
        }
    }

    /// The user's session as it is now (for sharing), if there is one.
    func exported(_ userID: String) -> Session? {
        shard(userID).withLock { $0.staleValue(for: userID) }
    }

    /// Takes `remote` as the user's session when it changed after the local one.
    func adopt(_ userID: String, _ remote: Session) {
        shard(userID).withLock { lru in
            if let local = lru.staleValue(for: userID), local.modifiedAt >= remote.modifiedAt { return }
            lru.set(remote, for: userID, expiresAt: .infinity)
        }
    }

    static func clock() -> Double { Date().timeIntervalSince1970 }
}
