// RedisClusterTests: the cluster client against the real 3-master cluster of scripts/services.sh:
// routing to every master, hash slots as the server computes them, hash tags, pipelines across
// nodes, threads sharing a client, reconnection, and a live slot migration (ASK during it, MOVED
// after it, no wrong value read by a concurrent writer); and the cluster URL. Serialized: the
// migration test moves a slot and puts it back.
import Foundation
import QuiverTestSupport
import Synchronization
import Testing
@testable import QuiverStore

@Suite(.serialized, .enabled(if: TestServers.redisClusterAvailable, "needs QUIVER_TEST_REDIS_CLUSTER_URL (scripts/test.sh)"))
struct RedisClusterTests {
    /// A unique hash-tag-free prefix per test, so runs never see each other's keys.
    let prefix = "quiver-test:\(UUID().uuidString)"

    func client() throws -> RedisClusterClient {
        try RedisClusterClient(url: TestServers.requireRedisCluster())
    }

    @Test func routesKeysToEveryMaster() async throws {
        let cluster = try client()
        let keys = (0..<300).map { "\(prefix):k\($0)" }
        let result = try await onThread { () throws -> (replies: [RedisValue], direct: [RedisValue], counters: RedisClusterClient.Counters) in
            var replies: [RedisValue] = []
            for key in keys { replies.append(try cluster.command(["SET", key, "v-\(key)", "EX", "60"], key: key)) }
            for key in keys { replies.append(try cluster.command(["GET", key], key: key)) }
            // Each key is where the map says: its master answers it directly, without MOVED.
            var direct: [RedisValue] = []
            let map = cluster.slotMap
            for node in map.masters {
                let connection = try RedisConnection(endpoint: RedisEndpoint(host: node.host, port: node.port))
                for key in keys where map.master(forKey: Array(key.utf8)) == node {
                    direct.append(try connection.command(["GET", key]))
                }
            }
            for key in keys { _ = try cluster.command(["DEL", key], key: key) }
            return (replies, direct, cluster.counters)
        }
        #expect(result.replies.prefix(300).allSatisfy { $0 == .simple("OK") })
        #expect(result.replies.suffix(300).map(\.string) == keys.map { "v-\($0)" })
        #expect(result.direct.count == 300)
        #expect(result.direct.allSatisfy { $0.string?.hasPrefix("v-\(prefix)") == true })
        let map = cluster.slotMap
        #expect(map.masters.count == 3)
        #expect(map.coversAllSlots)
        #expect(Set(keys.compactMap { map.master(forKey: Array($0.utf8)) }).count == 3)
        #expect(result.counters.moved == 0)
        #expect(result.counters.asked == 0)
        #expect(result.counters.connectionsOpened == 3)  // one per master, reused for every command
    }

    @Test func computesTheSlotsTheServerComputes() async throws {
        let cluster = try client()
        let keys = (0..<200).map { "\(prefix):\($0)" } + ["foo", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "{", "}{", "a{b}c{d}", "héllo", ""]
        let slots = try await onThread {
            try keys.map { key in try cluster.command(["CLUSTER", "KEYSLOT", key], key: key) }
        }
        #expect(slots == keys.map { .integer(RedisHashSlot.of($0)) })
    }

    @Test func keepsHashTaggedKeysTogether() async throws {
        let cluster = try client()
        let following = "{\(prefix):user1000}.following", followers = "{\(prefix):user1000}.followers"
        let plainA = "\(prefix):a", plainB = "\(prefix):b"
        let replies = try await onThread {
            [
                try cluster.command(["SADD", following, "u1", "u2", "u3"], key: following),
                try cluster.command(["SADD", followers, "u2", "u3", "u4"], key: followers),
                try cluster.command(["SINTERCARD", "2", following, followers], key: following),  // both keys on one node
                try cluster.command(["MSET", plainA, "1", plainB, "2"], key: plainA),
                try cluster.command(["DEL", following, followers], key: following),
                try cluster.command(["DEL", plainA], key: plainA),
                try cluster.command(["DEL", plainB], key: plainB),
            ]
        }
        #expect(RedisHashSlot.of(following) == RedisHashSlot.of(followers))
        #expect(replies[0] == .integer(3))
        #expect(replies[1] == .integer(3))
        #expect(replies[2] == .integer(2))
        if RedisHashSlot.of(plainA) != RedisHashSlot.of(plainB) {
            // Keys of different slots in one command: the cluster refuses it, as an error reply.
            guard case .error(let message) = replies[3] else { Issue.record("expected CROSSSLOT, got \(replies[3])"); return }
            #expect(message.hasPrefix("CROSSSLOT"))
        }
        #expect(replies[4] == .integer(2))
    }

    @Test func pipelinesABatchAcrossNodes() async throws {
        let cluster = try client()
        let keys = (0..<200).map { "\(prefix):p\($0)" }
        let (replies, counters) = try await onThread { () throws -> ([RedisValue], RedisClusterClient.Counters) in
            var batch = keys.map { RedisClusterCommand(["SET", $0, "value-\($0)", "EX", "60"], key: $0) }
            batch += keys.map { RedisClusterCommand(["GET", $0], key: $0) }
            batch.append(RedisClusterCommand(["INCR", keys[0]], key: keys[0]))  // an error reply in its place
            batch.append(RedisClusterCommand(["STRLEN", keys[1]], key: keys[1]))
            let replies = try cluster.pipeline(batch)
            _ = try cluster.pipeline(keys.map { RedisClusterCommand(["DEL", $0], key: $0) })
            return (replies, cluster.counters)
        }
        #expect(replies.count == 402)
        #expect(replies.prefix(200).allSatisfy { $0 == .simple("OK") })
        #expect(replies[200..<400].map(\.string) == keys.map { "value-\($0)" })
        guard case .error(let message) = replies[400] else { Issue.record("INCR on text must fail: \(replies[400])"); return }
        #expect(message.hasPrefix("ERR"))
        #expect(replies[401] == .integer("value-\(keys[1])".utf8.count))
        #expect(counters.connectionsOpened == 3)  // each node's group went over one connection
        #expect(counters.moved == 0)
    }

    @Test func sharesOneClientAcrossThreads() async throws {
        let cluster = try client()
        let threads = 8, perThread = 100
        let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<threads {
                group.addTask { [prefix] in
                    try await onThread {
                        var wrong = 0
                        for i in 0..<perThread {
                            let key = "\(prefix):t\(t):\(i)"
                            _ = try cluster.command(["SET", key, "\(t)-\(i)", "EX", "60"], key: key)
                            if try cluster.command(["GET", key], key: key).string != "\(t)-\(i)" { wrong += 1 }
                            _ = try cluster.command(["DEL", key], key: key)
                        }
                        return wrong
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(wrong == 0)
        // Connections are opened only when every pooled one is in use: at most one per thread and node.
        #expect(cluster.counters.connectionsOpened <= threads * 3)
        #expect(cluster.counters.moved == 0)
    }

    @Test func reconnectsAfterTheServerDropsItsConnection() async throws {
        let cluster = try client()
        let key = "\(prefix):reconnect"
        typealias Counters = RedisClusterClient.Counters
        let (killed, reply, before, after) = try await onThread { () throws -> (RedisValue, RedisValue, Counters, Counters) in
            _ = try cluster.command(["SET", key, "before", "EX", "60"], key: key)
            let id = try cluster.command(["CLIENT", "ID"], key: key)  // the pooled connection to the key's node
            let before = cluster.counters
            guard case .integer(let clientID) = id, let node = cluster.slotMap.master(forKey: Array(key.utf8)) else {
                return (id, .null, before, before)
            }
            let admin = try RedisConnection(endpoint: RedisEndpoint(host: node.host, port: node.port))
            let killed = try admin.command(["CLIENT", "KILL", "ID", String(clientID)])
            let reply = try cluster.command(["GET", key], key: key)
            let after = cluster.counters
            _ = try cluster.command(["DEL", key], key: key)
            return (killed, reply, before, after)
        }
        #expect(killed == .integer(1))
        #expect(reply.string == "before")
        #expect(after.staleConnectionRetries - before.staleConnectionRetries == 1)
        #expect(after.connectionsOpened - before.connectionsOpened == 1)
    }

    @Test func failsClearlyWhenNoSeedAnswers() {
        #expect(throws: RedisError.self) {
            try RedisClusterClient(RedisClusterClient.Configuration(seeds: [RedisEndpoint(host: "127.0.0.1", port: 1)], timeoutMs: 200))
        }
    }

    // MARK: A live migration

    /// Moves a slot from one master to another while three clients use it: one reads and writes
    /// in steps (ASK while the slot migrates, then MOVED), one pipelines with a map read before
    /// the move, and one writes and reads back continuously on its own thread.
    @Test func followsAskDuringAMigrationAndMovedAfterIt() async throws {
        let url = try TestServers.requireRedisCluster()
        let cluster = try client()
        let stale = try client()  // its map is read now; it will not see the move until MOVED
        let tag = "{\(prefix)}"
        let slot = RedisHashSlot.of(tag)
        let keys = (0..<20).map { "\(tag):\($0)" }
        let source = try #require(cluster.slotMap.master(forSlot: slot))
        let target = try #require(cluster.slotMap.masters.first { $0 != source })
        let admin = ClusterAdmin(masters: cluster.slotMap.masters)

        let writer = ConcurrentWriter(url: url, keys: (0..<5).map { "\(tag):w\($0)" })
        writer.start()
        do {
            try await onThread { for key in keys { _ = try cluster.command(["SET", key, "v0"], key: key) } }
            try await writer.waitForRounds(20)

            // The migration starts: half of the keys move to the target.
            let (during, duringCounters) = try await onThread { () throws -> ([RedisValue], RedisClusterClient.Counters) in
                try admin.beginMigration(slot: slot, from: source, to: target)
                try admin.migrateKeys(keys.prefix(10), slot: slot, from: source, to: target)
                var replies: [RedisValue] = []
                for key in keys { replies.append(try cluster.command(["GET", key], key: key)) }
                for key in keys { replies.append(try cluster.command(["SET", key, "v1"], key: key)) }
                replies.append(try cluster.command(["SET", "\(tag):new", "fresh"], key: "\(tag):new"))  // not on the source: ASK
                replies += try cluster.pipeline(keys.map { RedisClusterCommand(["GET", $0], key: $0) })
                return (replies, cluster.counters)
            }
            #expect(during.prefix(20).map(\.string) == Array(repeating: "v0", count: 20))
            #expect(during[20..<40].allSatisfy { $0 == .simple("OK") })
            #expect(during[40] == .simple("OK"))
            #expect(during.suffix(20).map(\.string) == Array(repeating: "v1", count: 20))
            #expect(duringCounters.asked >= 10 + 10 + 1 + 10)  // GETs, SETs, the new key, the pipeline
            #expect(duringCounters.moved == 0)
            #expect(cluster.slotMap.master(forSlot: slot) == source)  // ASK leaves the map alone
            try await writer.waitForRounds(20)

            // The migration ends: every key is on the target, which every master now names.
            let (after, afterCounters) = try await onThread { () throws -> ([RedisValue], RedisClusterClient.Counters) in
                try admin.finishMigration(slot: slot, from: source, to: target)
                var replies: [RedisValue] = []
                for key in keys { replies.append(try cluster.command(["GET", key], key: key)) }
                for key in keys { replies.append(try cluster.command(["SET", key, "v2"], key: key)) }
                replies += try stale.pipeline(keys.map { RedisClusterCommand(["GET", $0], key: $0) } + [RedisClusterCommand(["GET", "\(tag):new"], key: "\(tag):new")])
                return (replies, cluster.counters)
            }
            #expect(after.prefix(20).map(\.string) == Array(repeating: "v1", count: 20))
            #expect(after[20..<40].allSatisfy { $0 == .simple("OK") })
            #expect(after.suffix(21).map(\.string) == Array(repeating: "v2", count: 20) + ["fresh"])
            #expect(afterCounters.moved - duringCounters.moved == 1)  // one MOVED, then the map knows
            #expect(cluster.slotMap.master(forSlot: slot) == target)
            #expect(stale.counters.moved >= 1)
            #expect(stale.slotMap.master(forSlot: slot) == target)
            try await writer.waitForRounds(20)
        } catch {
            _ = await onThread { writer.stop() }
            try? await onThread {
                try admin.restore(slot: slot, to: source)
                for key in keys + ["\(tag):new"] + writer.keys { _ = try? cluster.command(["DEL", key], key: key) }
            }
            throw error
        }
        let report = await onThread { writer.stop() }
        #expect(report.errors == [])
        #expect(report.wrongReads == 0)
        #expect(report.rounds >= 60)

        // Put the slot back, so that the next run starts from the same cluster.
        try await onThread {
            try admin.restore(slot: slot, to: source)
            for key in keys + ["\(tag):new"] + writer.keys { _ = try cluster.command(["DEL", key], key: key) }
        }
        let owner = try await onThread { try admin.owner(of: slot) }
        #expect(owner == source)
        #expect(cluster.slotMap.master(forSlot: slot) == source)
    }
}

@Suite struct RedisClusterConfigurationTests {
    @Test func parsesClusterURLs() throws {
        let config = try #require(RedisClusterClient.Configuration(url: "redis://:pw@127.0.0.1:17000,127.0.0.1:17001,redis://h:17002"))
        #expect(config.seeds == [
            RedisEndpoint(host: "127.0.0.1", port: 17000, password: "pw"),
            RedisEndpoint(host: "127.0.0.1", port: 17001, password: "pw"),
            RedisEndpoint(host: "h", port: 17002, password: "pw"),
        ])
        #expect(RedisClusterClient.Configuration(url: "redis://h:1")?.seeds == [RedisEndpoint(host: "h", port: 1)])
        #expect(RedisClusterClient.Configuration(url: "redis://h:1/0")?.seeds == [RedisEndpoint(host: "h", port: 1)])
    }

    @Test(arguments: ["http://h:1", "redis://h:1,", "redis://h:1,,h:2", "redis://h:1/2", "redis://h:99999"])
    func refusesBadClusterURLs(_ url: String) {
        #expect(RedisClusterClient.Configuration(url: url) == nil)
    }
}

/// Administration of the test cluster through plain connections: slot migration by the steps
/// `redis-cli --cluster reshard` takes (IMPORTING, MIGRATING, MIGRATE, SETSLOT NODE everywhere).
struct ClusterAdmin: Sendable {
    let masters: [RedisNodeAddress]

    func run(_ node: RedisNodeAddress, _ arguments: [String]) throws -> RedisValue {
        let connection = try RedisConnection(endpoint: RedisEndpoint(host: node.host, port: node.port), timeoutMs: 5000)
        let reply = try connection.command(arguments)
        if case .error(let message) = reply { throw RedisError(message: "\(node) \(arguments.joined(separator: " ")): \(message)") }
        return reply
    }

    func id(of node: RedisNodeAddress) throws -> String {
        try run(node, ["CLUSTER", "MYID"]).string ?? ""
    }

    func owner(of slot: Int) throws -> RedisNodeAddress? {
        try RedisClusterSlotMap(clusterSlots: run(masters[0], ["CLUSTER", "SLOTS"]), answeredBy: masters[0]).master(forSlot: slot)
    }

    func beginMigration(slot: Int, from source: RedisNodeAddress, to target: RedisNodeAddress) throws {
        _ = try run(target, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", id(of: source)])
        _ = try run(source, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", id(of: target)])
    }

    func migrateKeys(_ keys: some Collection<String>, slot: Int, from source: RedisNodeAddress, to target: RedisNodeAddress) throws {
        guard !keys.isEmpty else { return }
        _ = try run(source, ["MIGRATE", target.host, String(target.port), "", "0", "5000", "KEYS"] + keys)
    }

    /// Moves the keys still on the source, then names the target as the owner on every master.
    func finishMigration(slot: Int, from source: RedisNodeAddress, to target: RedisNodeAddress) throws {
        while true {
            guard case .array(let batch) = try run(source, ["CLUSTER", "GETKEYSINSLOT", String(slot), "100"]), !batch.isEmpty else { break }
            try migrateKeys(batch.compactMap(\.string), slot: slot, from: source, to: target)
        }
        let targetID = try id(of: target)
        for node in [target, source] + masters.filter({ $0 != source && $0 != target }) {
            _ = try run(node, ["CLUSTER", "SETSLOT", String(slot), "NODE", targetID])
        }
    }

    /// Gives the slot back to `owner` from wherever it is, with its keys, clears any half-done
    /// migration, and deletes keys of the slot stranded on other masters by an interrupted one.
    func restore(slot: Int, to owner: RedisNodeAddress) throws {
        for node in masters { _ = try run(node, ["CLUSTER", "SETSLOT", String(slot), "STABLE"]) }
        if let current = try self.owner(of: slot), current != owner {
            try beginMigration(slot: slot, from: current, to: owner)
            try finishMigration(slot: slot, from: current, to: owner)
        }
        let ownerID = try id(of: owner)
        for node in masters where node != owner {
            guard try run(node, ["CLUSTER", "COUNTKEYSINSLOT", String(slot)]) != .integer(0) else { continue }
            // A master serves a slot it does not own only while importing it, and only after ASKING.
            let connection = try RedisConnection(endpoint: RedisEndpoint(host: node.host, port: node.port), timeoutMs: 5000)
            _ = try connection.command(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", ownerID])
            while case .array(let keys) = try connection.command(["CLUSTER", "GETKEYSINSLOT", String(slot), "100"]), !keys.isEmpty {
                _ = try connection.pipeline([[Array("ASKING".utf8)], [Array("DEL".utf8)] + keys.compactMap { $0.string.map { Array($0.utf8) } }])
            }
            _ = try connection.command(["CLUSTER", "SETSLOT", String(slot), "STABLE"])
        }
    }
}

/// Writes a counter to its keys and reads each back at once, on a thread of its own, through its
/// own cluster client, until stopped: a read that does not return the value just written is wrong.
final class ConcurrentWriter: Sendable {
    struct Report: Sendable {
        var rounds = 0
        var wrongReads = 0
        var errors: [String] = []
    }

    let url: String
    let keys: [String]
    private let state = Mutex((report: Report(), stopped: false))
    private let progress = NSCondition()
    private let done = DispatchSemaphore(value: 0)

    init(url: String, keys: [String]) {
        self.url = url
        self.keys = keys
    }

    func start() {
        Thread { [self] in
            defer { done.signal() }
            let cluster: RedisClusterClient
            do { cluster = try RedisClusterClient(url: url) } catch {
                state.withLock { $0.report.errors.append("\(error)") }
                return
            }
            var round = 0
            while !state.withLock({ $0.stopped }) {
                round += 1
                for key in keys {
                    do {
                        _ = try cluster.command(["SET", key, "\(round)"], key: key)
                        let read = try cluster.command(["GET", key], key: key)
                        if read.string != "\(round)" { state.withLock { $0.report.wrongReads += 1 } }
                    } catch {
                        state.withLock { $0.report.errors.append("\(error)") }
                    }
                }
                progress.lock()
                state.withLock { $0.report.rounds += 1 }
                progress.broadcast()
                progress.unlock()
            }
        }.start()
    }

    /// Waits (off the cooperative pool) until `count` more rounds are done, or the writer stopped.
    func waitForRounds(_ count: Int) async throws {
        try await onThread { [self] in
            progress.lock()
            defer { progress.unlock() }
            let goal = state.withLock { $0.report.rounds } + count
            while state.withLock({ $0.report.rounds < goal && $0.report.errors.isEmpty }) {
                guard progress.wait(until: Date().addingTimeInterval(30)) else { throw RedisError(message: "the writer made no progress") }
            }
        }
    }

    @discardableResult
    func stop() -> Report {
        let alreadyStopped = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return s.stopped
        }
        if !alreadyStopped { done.wait() }
        return state.withLock { $0.report }
    }
}
