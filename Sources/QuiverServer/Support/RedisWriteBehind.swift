// RedisWriteBehind: SETs (and DELs) to the online store that the caller does not wait for. They
// queue by key (a newer command for a key replaces an unsent one) and one background writer sends
// every queued command in one pipeline. Bounded: beyond `maxPending` queued keys new values are dropped and counted.
// The shared result cache and the evicted feature states write through it.
import Dispatch
import QuiverStore
import Synchronization

final class RedisWriteBehind: Sendable {
    struct Counters: Sendable {
        /// Pipelines sent, and the SETs they carried.
        var roundTrips = 0
        var entries = 0
        /// Values dropped because the queue was full.
        var dropped = 0
    }

    let store: RedisOnlineStore
    let maxPending: Int
    private let queue: DispatchQueue
    /// Queued SETs by key, and whether a drain is scheduled.
    private let pending = Mutex<(commands: [String: RedisClusterCommand], scheduled: Bool)>(([:], false))
    private let counts = Mutex(Counters())
    /// Told, after each pipeline, which keys were written (a reply of OK); on the writer's queue.
    private let written: @Sendable ([String]) -> Void

    init(store: RedisOnlineStore, label: String, maxPending: Int = 10_000, written: @escaping @Sendable ([String]) -> Void = { _ in }) {
        self.store = store
        self.maxPending = maxPending
        self.written = written
        queue = DispatchQueue(label: label)
    }

    var counters: Counters { counts.withLock { $0 } }

    /// Queues `SET key value <options>`; false when it was dropped (the queue is full).
    @discardableResult
    func set(_ key: String, _ value: [UInt8], options: [String]) -> Bool {
        enqueue(RedisClusterCommand(arguments: [Array("SET".utf8), Array(key.utf8), value] + options.map { Array($0.utf8) },
                                    key: Array(key.utf8)), for: key)
    }

    private func enqueue(_ command: RedisClusterCommand, for key: String) -> Bool {
        let schedule = pending.withLock { p -> Bool? in
            guard p.commands.count < maxPending || p.commands[key] != nil else { return nil }
            p.commands[key] = command
            defer { p.scheduled = true }
            return !p.scheduled
        }
        guard let schedule else {
            counts.withLock { $0.dropped += 1 }
            return false
        }
        if schedule { queue.async { [self] in drain() } }
        return true
    }

    /// Queues `DEL key`, unless a command for the key is already queued (a newer value, which will
    /// replace the old one anyway); false when dropped (the queue is full).
    @discardableResult
    func delete(_ key: String) -> Bool {
        if pending.withLock({ $0.commands[key] != nil }) { return true }
        return enqueue(RedisClusterCommand(arguments: [Array("DEL".utf8), Array(key.utf8)], key: Array(key.utf8)), for: key)
    }

    /// Removes and returns the value queued for `key`, if it has not been sent yet.
    func takePending(_ key: String) -> [UInt8]? {
        pending.withLock { p -> [UInt8]? in
            guard let command = p.commands[key], command.arguments.first == Array("SET".utf8) else { return nil }
            p.commands[key] = nil
            return command.arguments[2]
        }
    }

    private func drain() {
        let commands = pending.withLock { p -> [String: RedisClusterCommand] in
            defer { p.commands.removeAll(); p.scheduled = false }
            return p.commands
        }
        guard !commands.isEmpty else { return }
        let keys = Array(commands.keys)
        let replies = store.pipeline(keys.map { commands[$0]! })
        counts.withLock { $0.roundTrips += 1; $0.entries += commands.count }
        guard let replies else { return }  // the store is down: these values are not in Redis
        written(zip(keys, replies).filter { $0.1 == .simple("OK") }.map(\.0))
    }
}
