// RecommendationService+ScenarioSync: scenario sets shared by every process on one PostgreSQL.
// A process publishes each set it applies (PUT, reload, rollback) to `config_versions` before
// answering; every process looks for a newer published set every `scenarioSyncInterval` seconds on
// a thread of its own and applies it (the set it replaces becomes its rollback target). At start,
// the newest published set wins over the scenarios file. Without PostgreSQL nothing is published
// and each process keeps its own sets.
import Foundation
import QuiverCore
import QuiverStore

extension RecommendationService {
    static let scenarioSyncInterval = 2.0

    /// Makes `set` the active scenario set, publishing it first when the sets are shared.
    func applyScenarios(_ set: ScenarioSet) async throws {
        if let configVersions {
            let json = String(decoding: try JSONEncoder().encode(set), as: UTF8.self)
            let published = try await pool.run { try configVersions.publish(kind: "scenarios", version: set.version, body: json) }
            scenarioSync.withLock { $0 = max($0, published) }
        }
        scenarios.withLock { state in state = (set, state.current) }
    }

    /// Applies the newest published set if it is newer than what this process applied last.
    func syncScenarios() {
        guard let configVersions, let entry = try? configVersions.newest(kind: "scenarios") else { return }
        let isNew = scenarioSync.withLock { seen -> Bool in
            guard entry.createdAt > seen else { return false }
            seen = entry.createdAt
            return true
        }
        guard isNew else { return }
        do {
            let set = try Self.parseScenarios(entry.body)
            let changed = scenarios.withLock { state -> Bool in
                guard state.current != set else { return false }
                state = (set, state.current)
                return true
            }
            if changed { logger.info("scenario set from another process", metadata: ["version": "\(set.version)"]) }
        } catch {
            logger.error("published scenario set unreadable", metadata: ["version": "\(entry.version)", "error": "\(error)"])
        }
    }

    /// Polls for published sets until `shutdown()`.
    func startScenarioSync() {
        guard configVersions != nil else { return }
        syncScenarios()
        Thread.detachNewThread { [self] in
            while scenarioSyncStop.wait(timeout: .now() + Self.scenarioSyncInterval) == .timedOut {
                syncScenarios()
            }
        }
    }
}
