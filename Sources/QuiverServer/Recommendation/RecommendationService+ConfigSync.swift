// RecommendationService+ConfigSync: scenario sets and feature definitions shared by every process
// on one PostgreSQL. A process publishes each set it applies (PUT, reload, rollback) to
// `config_versions` before answering; every process looks for newer published sets every
// `scenarioSyncInterval` seconds on a thread of its own and applies them (a scenario set it
// replaces becomes its rollback target; feature definitions load as a new version, keeping the
// state of unchanged streams). At start, the newest published sets win over the configured files.
// Without PostgreSQL nothing is published and each process keeps its own.
import Foundation
import QuiverCore
import QuiverStore
import Synchronization

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

    /// Publishes the feature engine's active definitions (after a PUT or a rollback here).
    func publishFeatureDefinitions() async throws {
        guard let configVersions else { return }
        let definitions = features.engine.activeDefinitions
        let json = String(decoding: try JSONEncoder().encode(definitions), as: UTF8.self)
        let published = try await pool.run { try configVersions.publish(kind: "features", version: definitions.version, body: json) }
        featureSync.withLock { $0 = max($0, published) }
    }

    /// The newest published entry of `kind`, if it is newer than the last one seen.
    private func newlyPublished(_ kind: String, seen: borrowing Mutex<Double>) -> PostgresConfigVersions.Entry? {
        guard let configVersions, let entry = try? configVersions.newest(kind: kind) else { return nil }
        let isNew = seen.withLock { last -> Bool in
            guard entry.createdAt > last else { return false }
            last = entry.createdAt
            return true
        }
        return isNew ? entry : nil
    }

    /// Applies the newest published scenario set and feature definitions that are newer than what
    /// this process applied last.
    func syncConfiguration() {
        if let entry = newlyPublished("features", seen: featureSync) {
            do {
                let definitions = try JSONDecoder().decode(FeatureDefinitionSet.self, from: Data(entry.body.utf8))
                if definitions != features.engine.activeDefinitions {
                    try features.engine.load(definitions)
                    logger.info("feature definitions from another process", metadata: ["version": "\(definitions.version)"])
                }
            } catch {
                logger.error("published feature definitions not loaded", metadata: ["version": "\(entry.version)", "error": "\(error)"])
            }
        }
        guard let entry = newlyPublished("scenarios", seen: scenarioSync) else { return }
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
    func startConfigSync() {
        guard configVersions != nil else { return }
        syncConfiguration()
        Thread.detachNewThread { [self] in
            while scenarioSyncStop.wait(timeout: .now() + Self.scenarioSyncInterval) == .timedOut {
                syncConfiguration()
            }
        }
    }
}
