// SharedSessions: the Q-learning agent's sessions in the online store, so that a user's session
// continues whichever process serves them. Key `quiver:session:{user}` (the user is the hash tag,
// as for the user's cached answers: one cluster node answers both in one round trip), JSON of
// SessionTracker.Session, expiring after the session timeout. Reads come with the shared-cache
// lookup of a recommendation (same pipeline) or, for feedback, on their own; writes go through a
// RedisWriteBehind after the answer. Concurrent steps of one user on two processes: the later
// write wins (`modifiedAt` decides which copy a process adopts).
import Foundation
import QuiverStore

final class SharedSessions: Sendable {
    let store: RedisOnlineStore
    let writer: RedisWriteBehind
    let timeoutMs: Int

    init(store: RedisOnlineStore, timeoutSeconds: Double) {
        self.store = store
        writer = RedisWriteBehind(store: store, label: "quiver.session-writes")
        timeoutMs = max(1, Int(timeoutSeconds * 1000))
    }

    static func key(_ userID: String) -> String { "quiver:session:{\(userID)}" }

    /// Queues the user's session for writing.
    func save(_ userID: String, _ session: SessionTracker.Session) {
        guard let json = try? JSONEncoder().encode(session) else { return }
        writer.set(Self.key(userID), Array(json), options: ["PX", String(timeoutMs)])
    }

    /// The stored session of the user (one round trip; blocking: call it on the I/O pool).
    func fetch(_ userID: String) -> SessionTracker.Session? {
        let key = Self.key(userID)
        guard let replies = store.pipeline([RedisClusterCommand(["GET", key], key: key)]),
              case .bulk(let bytes)? = replies.first else { return nil }
        return Self.decode(bytes)
    }

    static func decode(_ bytes: [UInt8]) -> SessionTracker.Session? {
        try? JSONDecoder().decode(SessionTracker.Session.self, from: Data(bytes))
    }
}
