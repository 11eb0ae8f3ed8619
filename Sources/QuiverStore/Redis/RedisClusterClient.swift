// RedisClusterClient: Redis Cluster over RedisConnection. Each command goes to the master serving
// its key's slot; MOVED updates the slot map (and refreshes it from CLUSTER SLOTS) and retries,
// ASK sends ASKING then the command to the named node for that one command, leaving the map as it
// is. Connections are pooled per node and checked out by one caller at a time, so the client is
// thread-safe; every call blocks (run it on BlockingIOPool threads).
import Foundation
import Synchronization

/// One command of a pipelined batch, with the key whose slot routes it.
public struct RedisClusterCommand: Sendable, Equatable {
    public var arguments: [[UInt8]]
    public var key: [UInt8]

    public init(arguments: [[UInt8]], key: [UInt8]) {
        self.arguments = arguments
        self.key = key
    }

    public init(_ arguments: [String], key: String) {
        self.init(arguments: arguments.map { Array($0.utf8) }, key: Array(key.utf8))
    }
}

/// A thread-safe, blocking client of a Redis Cluster.
public final class RedisClusterClient: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Nodes asked for the slot map (any master or replica of the cluster will do).
        public var seeds: [RedisEndpoint]
        /// Connect, read and write timeout of every connection.
        public var timeoutMs: Int
        /// Redirections (MOVED, ASK, TRYAGAIN, a failed node) one command may follow.
        public var maxRedirections: Int
        /// Idle connections kept per node; a caller that finds none opens one. Set it to at least
        /// the number of threads calling the client at once (the server's `io.threads`), or
        /// connections beyond it are closed after each command and opened again for the next.
        public var idleConnectionsPerNode: Int

        public init(seeds: [RedisEndpoint], timeoutMs: Int = 1000, maxRedirections: Int = 5, idleConnectionsPerNode: Int = 16) {
            self.seeds = seeds
            self.timeoutMs = timeoutMs
            self.maxRedirections = maxRedirections
            self.idleConnectionsPerNode = idleConnectionsPerNode
        }

        /// Parses `redis://[:password@]host:port,host:port,...` (each seed may repeat `redis://`);
        /// the first password given applies to every node. Nil when a seed is malformed or names a
        /// database other than 0 (a cluster has only database 0).
        public init?(url: String) {
            guard url.hasPrefix("redis://") else { return nil }
            var seeds: [RedisEndpoint] = []
            for part in url.dropFirst("redis://".count).split(separator: ",", omittingEmptySubsequences: false) {
                let text = part.hasPrefix("redis://") ? part.dropFirst("redis://".count) : part
                guard !text.isEmpty, let seed = RedisEndpoint(url: "redis://" + text), seed.database == 0 else { return nil }
                seeds.append(seed)
            }
            let password = seeds.lazy.compactMap(\.password).first
            for i in seeds.indices where seeds[i].password == nil { seeds[i].password = password }
            self.init(seeds: seeds)
        }
    }

    /// What the client has done so far, for metrics and tests.
    public struct Counters: Sendable, Equatable {
        /// MOVED replies followed.
        public var moved = 0
        /// ASK replies followed.
        public var asked = 0
        /// TRYAGAIN replies waited out (a multi-key command during a slot's migration).
        public var triedAgain = 0
        /// Slot maps read with CLUSTER SLOTS (the first one included).
        public var refreshes = 0
        /// Connections opened.
        public var connectionsOpened = 0
        /// Commands sent again on a new connection after an idle pooled one failed.
        public var staleConnectionRetries = 0
    }

    /// A connection in the pool. Unchecked: a connection is either in the pool (touched only
    /// under the lock) or checked out by exactly one caller.
    private struct IdleConnection: @unchecked Sendable {
        let connection: RedisConnection
    }

    /// A checked-out connection, and whether it had been sitting in the pool.
    private struct Lease {
        let connection: RedisConnection
        let reused: Bool
    }

    private struct State: Sendable {
        var map = RedisClusterSlotMap()
        var idle: [RedisNodeAddress: [IdleConnection]] = [:]
        var refreshing = false
        var counters = Counters()
    }

    public let configuration: Configuration
    private let state = Mutex(State())

    /// Connects to the first seed that answers and reads the slot map.
    public init(_ configuration: Configuration) throws(RedisError) {
        precondition(!configuration.seeds.isEmpty, "a cluster client needs at least one seed")
        self.configuration = configuration
        try refreshSlotMap()
    }

    /// A client for `redis://host:port,host:port,...` with the default settings.
    public convenience init(url: String) throws(RedisError) {
        guard let configuration = Configuration(url: url) else {
            throw RedisError(message: "not a Redis Cluster URL: \(url)")
        }
        try self.init(configuration)
    }

    /// The slot map the client routes by right now.
    public var slotMap: RedisClusterSlotMap { state.withLock { $0.map } }

    public var counters: Counters { state.withLock { $0.counters } }

    // MARK: Commands

    /// Runs one command on the master serving `key`'s slot, following redirections. A Redis error
    /// reply other than a redirection comes back as `.error`; failing to reach the cluster throws.
    public func command(_ arguments: [String], key: String) throws(RedisError) -> RedisValue {
        try command(arguments.map { Array($0.utf8) }, key: Array(key.utf8))
    }

    public func command(_ arguments: [[UInt8]], key: [UInt8]) throws(RedisError) -> RedisValue {
        let slot = RedisHashSlot.of(key)
        return try run(arguments, slot: slot, first: Hop(node: try master(forSlot: slot), asking: false))
    }

    /// Runs a batch: commands are grouped by the node serving their key and each group is written
    /// in one go before any reply is read, so the batch costs about one round trip in all. Replies
    /// come back in the batch's order. Commands answered with a redirection are then run again one
    /// by one, in batch order, so commands on one key keep their order only while its slot stays put.
    public func pipeline(_ commands: [RedisClusterCommand]) throws(RedisError) -> [RedisValue] {
        let slots = commands.map { RedisHashSlot.of($0.key) }
        var map = slotMap
        if slots.contains(where: { map.master(forSlot: $0) == nil }) {
            try refreshSlotMap()
            map = slotMap
        }
        var groups: [(node: RedisNodeAddress, indices: [Int])] = []
        var groupOfNode: [RedisNodeAddress: Int] = [:]
        for (i, slot) in slots.enumerated() {
            guard let node = map.master(forSlot: slot) else { throw RedisError(message: "no master serves slot \(slot)") }
            if let g = groupOfNode[node] { groups[g].indices.append(i) } else {
                groupOfNode[node] = groups.count
                groups.append((node, [i]))
            }
        }

        // Write every group, then read every group: the nodes work on their groups at once.
        var replies = [RedisValue?](repeating: nil, count: commands.count)
        var sent: [(group: Int, lease: Lease)] = []
        var failures: [(group: Int, error: RedisError, reused: Bool)] = []
        for (g, group) in groups.enumerated() {
            var leased: Lease?
            do throws(RedisError) {
                let lease = try checkout(group.node)
                leased = lease
                for i in group.indices { try lease.connection.append(commands[i].arguments) }
                try lease.connection.flush()
                sent.append((g, lease))
            } catch {
                failures.append((g, error, leased?.reused ?? false))  // a half-written lease is dropped
            }
        }
        for (g, lease) in sent {
            do throws(RedisError) {
                for i in groups[g].indices { replies[i] = try lease.connection.readReply() }
                checkin(lease, to: groups[g].node)
            } catch {
                failures.append((g, error, lease.reused))
            }
        }

        // A failed group on a fresh connection is an error; on an idle pooled connection (which
        // the server may have closed) its unanswered commands are run again below.
        if let failure = failures.first(where: { !$0.reused }) { throw failure.error }
        var again: [(index: Int, hop: Hop)] = []
        for failure in failures {
            dropIdleConnections(to: groups[failure.group].node, countingRetry: true)
            for i in groups[failure.group].indices where replies[i] == nil {
                again.append((i, Hop(node: groups[failure.group].node, asking: false)))
            }
        }

        var movedSlots: [(slot: Int, node: RedisNodeAddress)] = []
        for group in groups {
            for i in group.indices {
                guard case .error(let message)? = replies[i] else { continue }
                switch Self.redirection(message, sentTo: group.node) {
                case .moved(let slot, let node)?:
                    movedSlots.append((slot, node))
                    again.append((i, Hop(node: node, asking: false)))
                case .ask(_, let node)?:
                    state.withLock { $0.counters.asked += 1 }
                    again.append((i, Hop(node: node, asking: true)))
                case nil:
                    if message.hasPrefix("TRYAGAIN") { again.append((i, Hop(node: group.node, asking: false))) }
                }
            }
        }
        if !movedSlots.isEmpty { noteMoved(movedSlots) }
        for (i, hop) in again.sorted(by: { $0.index < $1.index }) {
            replies[i] = try run(commands[i].arguments, slot: slots[i], first: hop)
        }
        return replies.map { $0 ?? .null }
    }

    /// Where to send a command next, and whether ASKING must precede it.
    private struct Hop: Equatable {
        var node: RedisNodeAddress
        var asking: Bool
    }

    /// Sends a command, then follows what it is told, up to `maxRedirections` times.
    private func run(_ arguments: [[UInt8]], slot: Int, first: Hop) throws(RedisError) -> RedisValue {
        var hop = first
        var lastError: RedisError?
        for attempt in 0...configuration.maxRedirections {
            let reply: RedisValue
            do throws(RedisError) {
                reply = try send(arguments, to: hop)
            } catch {
                // The node is unreachable: it may have failed over. Ask the others for the map.
                lastError = error
                try? refreshSlotMap(askingLast: hop.node)
                guard let owner = state.withLock({ $0.map.master(forSlot: slot) }), owner != hop.node else { throw error }
                hop = Hop(node: owner, asking: false)
                continue
            }
            guard case .error(let message) = reply else { return reply }
            switch Self.redirection(message, sentTo: hop.node) {
            case .moved(let movedSlot, let node)?:
                noteMoved([(movedSlot, node)])
                hop = Hop(node: node, asking: false)
            case .ask(_, let node)?:
                state.withLock { $0.counters.asked += 1 }
                hop = Hop(node: node, asking: true)
            case nil:
                guard message.hasPrefix("TRYAGAIN") else { return reply }
                // Some keys of a multi-key command have moved and some have not yet: wait a little.
                state.withLock { $0.counters.triedAgain += 1 }
                Thread.sleep(forTimeInterval: 0.005 * Double(attempt + 1))
                guard let owner = state.withLock({ $0.map.master(forSlot: slot) }) else { return reply }
                hop = Hop(node: owner, asking: false)
            }
        }
        throw RedisError(message: "slot \(slot): more than \(configuration.maxRedirections) redirections (last to \(hop.node))"
            + (lastError.map { "; \($0.message)" } ?? ""))
    }

    /// One round trip to one node (ASKING and the command are pipelined together). An idle pooled
    /// connection that fails is replaced by a new one once, and the command sent again: the server
    /// may have closed it while it sat idle (a command can then run twice if the failure came
    /// after the server had run it, as with any client that retries).
    private func send(_ arguments: [[UInt8]], to hop: Hop) throws(RedisError) -> RedisValue {
        while true {
            let lease = try checkout(hop.node)
            do throws(RedisError) {
                let reply: RedisValue
                if hop.asking {
                    let replies = try lease.connection.pipeline([[Array("ASKING".utf8)], arguments])
                    if case .error = replies[0] { reply = replies[0] } else { reply = replies[1] }
                } else {
                    reply = try lease.connection.command(arguments)
                }
                checkin(lease, to: hop.node)
                return reply
            } catch {
                guard lease.reused else { throw error }
                dropIdleConnections(to: hop.node, countingRetry: true)
            }
        }
    }

    private static func redirection(_ message: String, sentTo node: RedisNodeAddress) -> RedisClusterRedirection? {
        guard message.hasPrefix("MOVED ") || message.hasPrefix("ASK "),
              let redirection = RedisClusterRedirection(errorReply: message)
        else { return nil }
        // An empty host means the node that answered.
        func resolved(_ target: RedisNodeAddress) -> RedisNodeAddress {
            target.host.isEmpty ? RedisNodeAddress(host: node.host, port: target.port) : target
        }
        switch redirection {
        case .moved(let slot, let target): return .moved(slot: slot, to: resolved(target))
        case .ask(let slot, let target): return .ask(slot: slot, to: resolved(target))
        }
    }

    // MARK: The slot map

    private func master(forSlot slot: Int) throws(RedisError) -> RedisNodeAddress {
        if let node = state.withLock({ $0.map.master(forSlot: slot) }) { return node }
        try refreshSlotMap()
        guard let node = state.withLock({ $0.map.master(forSlot: slot) }) else {
            throw RedisError(message: "no master serves slot \(slot)")
        }
        return node
    }

    /// Records MOVED replies: their slots at once, then the whole map read again (a slot rarely
    /// moves alone), unless another caller is already reading it.
    private func noteMoved(_ moves: [(slot: Int, node: RedisNodeAddress)]) {
        let refresh = state.withLock { s -> Bool in
            s.counters.moved += moves.count
            for move in moves { s.map.assign(slot: move.slot, to: move.node) }
            if s.refreshing { return false }
            s.refreshing = true
            return true
        }
        guard refresh else { return }
        try? refreshSlotMap()
        state.withLock { s in
            s.refreshing = false
            // A node's view may lag behind the MOVED that a slot's new owner just sent.
            for move in moves { s.map.assign(slot: move.slot, to: move.node) }
        }
    }

    /// Reads the slot map with CLUSTER SLOTS from the first node that answers: the known masters,
    /// then the seeds (`askingLast` after all others).
    public func refreshSlotMap() throws(RedisError) {
        try refreshSlotMap(askingLast: nil)
    }

    private func refreshSlotMap(askingLast avoided: RedisNodeAddress?) throws(RedisError) {
        var candidates = state.withLock { $0.map.masters }
        for seed in configuration.seeds {
            let node = RedisNodeAddress(host: seed.host, port: seed.port)
            if !candidates.contains(node) { candidates.append(node) }
        }
        if let avoided, let i = candidates.firstIndex(of: avoided) { candidates.append(candidates.remove(at: i)) }
        var lastError = RedisError(message: "no seed node")
        for node in candidates {
            do throws(RedisError) {
                let reply = try send([Array("CLUSTER".utf8), Array("SLOTS".utf8)], to: Hop(node: node, asking: false))
                if case .error(let message) = reply { throw RedisError(message: "CLUSTER SLOTS on \(node): \(message)") }
                let map = try RedisClusterSlotMap(clusterSlots: reply, answeredBy: node)
                guard !map.masters.isEmpty else { throw RedisError(message: "CLUSTER SLOTS on \(node): no slot is served") }
                let dropped = state.withLock { s -> [IdleConnection] in
                    s.map = map
                    s.counters.refreshes += 1
                    // Idle connections to nodes that serve nothing any more are closed (outside the lock).
                    let gone = s.idle.keys.filter { !map.masters.contains($0) }
                    return gone.flatMap { s.idle.removeValue(forKey: $0) ?? [] }
                }
                _ = dropped  // closed here, outside the lock
                return
            } catch {
                lastError = error
            }
        }
        throw RedisError(message: "cannot read the cluster's slot map: \(lastError.message)")
    }

    // MARK: Connections

    private func endpoint(of node: RedisNodeAddress) -> RedisEndpoint {
        RedisEndpoint(host: node.host, port: node.port, password: configuration.seeds.lazy.compactMap(\.password).first, database: 0)
    }

    private func checkout(_ node: RedisNodeAddress) throws(RedisError) -> Lease {
        if let idle = state.withLock({ $0.idle[node]?.popLast() }) {
            return Lease(connection: idle.connection, reused: true)
        }
        let connection = try RedisConnection(endpoint: endpoint(of: node), timeoutMs: configuration.timeoutMs)
        state.withLock { $0.counters.connectionsOpened += 1 }
        return Lease(connection: connection, reused: false)
    }

    /// Returns a healthy connection to the pool; a broken one, or one beyond the pool's size, is
    /// closed when the caller's lease goes away.
    private func checkin(_ lease: Lease, to node: RedisNodeAddress) {
        guard !lease.connection.isBroken else { return }
        let idle = IdleConnection(connection: lease.connection)
        let limit = configuration.idleConnectionsPerNode
        state.withLock { s in
            if s.idle[node, default: []].count < limit { s.idle[node, default: []].append(idle) }
        }
    }

    /// Closes the idle connections to a node after one of them failed: they are likely as dead.
    private func dropIdleConnections(to node: RedisNodeAddress, countingRetry: Bool) {
        let dropped = state.withLock { s -> [IdleConnection] in
            if countingRetry { s.counters.staleConnectionRetries += 1 }
            return s.idle.removeValue(forKey: node) ?? []
        }
        _ = dropped  // freed here, outside the lock
    }
}
