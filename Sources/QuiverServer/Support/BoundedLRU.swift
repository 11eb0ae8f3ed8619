// BoundedLRU: a least-recently-used map with a fixed capacity and per-entry expiry, as a doubly
// linked list threaded through arrays (no per-entry allocation). Not thread-safe: callers shard it
// behind locks. Invariants: `count <= capacity`, `totalCost <= maxCost` unless one entry alone is
// over it; an expired entry is never returned by `value(for:)`.
struct BoundedLRU<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        var value: Value?  // nil only in a free slot, so an evicted value is released at once
        var expiresAt: Double
        var cost: Int
        var previous: Int
        var next: Int
    }
    let capacity: Int
    /// The most total cost (e.g. bytes) the entries may carry; least recently used go first.
    let maxCost: Int
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var index: [Key: Int] = [:]
    private var head = -1  // most recent
    private var tail = -1  // least recent
    private(set) var evictions = 0
    private(set) var totalCost = 0

    init(capacity: Int, maxCost: Int = .max) {
        precondition(capacity > 0 && maxCost > 0, "capacity and maxCost must be positive")
        self.capacity = capacity
        self.maxCost = maxCost
    }

    var count: Int { index.count }

    /// The live value for `key` at `now`, marking it most recently used.
    mutating func value(for key: Key, now: Double) -> Value? {
        guard let i = index[key] else { return nil }
        guard nodes[i].expiresAt > now else { return nil }
        moveToFront(i)
        return nodes[i].value
    }

    /// The value for `key` even when expired (the stale answer of a fallback), without touching order.
    func staleValue(for key: Key) -> Value? {
        index[key].flatMap { nodes[$0].value }
    }

    /// Inserts or replaces; evicts least recently used entries while over the capacity or the cost
    /// budget (never the entry just set).
    mutating func set(_ value: Value, for key: Key, expiresAt: Double, cost: Int = 0) {
        set(key, expiresAt: expiresAt, cost: cost) { _ in value }
    }

    /// The same with the value made from the one stored (expired or not; nil when absent), in one lookup.
    mutating func set(_ key: Key, expiresAt: Double, cost: Int = 0, _ make: (Value?) -> Value) {
        if let i = index[key] {
            totalCost += cost - nodes[i].cost
            nodes[i].value = make(nodes[i].value)
            nodes[i].expiresAt = expiresAt
            nodes[i].cost = cost
            moveToFront(i)
        } else {
            if index.count >= capacity { evictTail() }
            let node = Node(key: key, value: make(nil), expiresAt: expiresAt, cost: cost, previous: -1, next: -1)
            let i: Int
            if let slot = free.popLast() {
                i = slot
                nodes[i] = node
            } else {
                i = nodes.count
                nodes.append(node)
            }
            index[key] = i
            totalCost += cost
            linkFront(i)
        }
        while totalCost > maxCost && index.count > 1 { evictTail() }
    }

    private mutating func evictTail() {
        let i = tail
        guard i >= 0 else { return }
        unlink(i)
        index[nodes[i].key] = nil
        totalCost -= nodes[i].cost
        nodes[i].value = nil
        nodes[i].cost = 0
        free.append(i)
        evictions += 1
    }

    /// Changes a stored value in place (no reordering); returns false when absent.
    mutating func update(_ key: Key, _ body: (inout Value) -> Void) -> Bool {
        guard let i = index[key], nodes[i].value != nil else { return false }
        body(&nodes[i].value!)
        return true
    }

    private mutating func moveToFront(_ i: Int) {
        guard head != i else { return }
        unlink(i)
        linkFront(i)
    }

    private mutating func unlink(_ i: Int) {
        let (p, n) = (nodes[i].previous, nodes[i].next)
        if p >= 0 { nodes[p].next = n } else { head = n }
        if n >= 0 { nodes[n].previous = p } else { tail = p }
        nodes[i].previous = -1
        nodes[i].next = -1
    }

    private mutating func linkFront(_ i: Int) {
        nodes[i].next = head
        nodes[i].previous = -1
        if head >= 0 { nodes[head].previous = i }
        head = i
        if tail < 0 { tail = i }
    }
}

import Synchronization

/// A mutex-protected value in a class, so that shards can live in an array.
final class LockedShard<Value>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: sending Value) { mutex = Mutex(value) }
    func withLock<Result>(_ body: (inout sending Value) throws -> sending Result) rethrows -> sending Result {
        try mutex.withLock(body)
    }
}
