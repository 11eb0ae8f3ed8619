// ResidentUserTable: the users of one shard whose state is in memory, found by the stable hash of
// their id (FeatureKeyIndex), in least-recently-used order. The order is kept without touching any
// other user's memory: a use stamps the slot with a tick and appends (slot, tick) to a queue; the
// least recently used user is the oldest queue entry whose tick is still its slot's, stale entries
// are skipped and the queue is compacted when it outgrows the table. Invariant: at most `capacity`
// users are resident; inserting beyond it evicts exactly the least recently used user, whose state
// goes back to the caller for the FeatureStateStore.

struct ResidentUserTable: Sendable {
    private struct Use: Sendable {
        var slot: Int32
        var tick: UInt32
    }

    /// One slot: the user's id, hash, latest use and state side by side, so that finding,
    /// touching and updating a user reads one place.
    struct Resident: Sendable {
        var id: String
        var hash: UInt64
        /// Tick of the latest use (0: free slot).
        var lastUse: UInt32
        var state: UserFeatureState
    }

    let capacity: Int
    private var index = FeatureKeyIndex()
    /// Slots, resident or free.
    var slots: [Resident] = []
    private var queue: [Use] = []
    private var queueHead = 0
    private var tick: UInt32 = 0
    private var free: [Int32] = []

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { index.count }

    /// The slot of a resident user whose id hashes to `hash`.
    @inline(__always)
    func slot(of userID: String, hash: UInt64) -> Int? {
        index.find(hash) { slots[$0].id == userID }
    }

    /// Where batch ingestion finds the index (see `RawArray`).
    @inline(__always) static var indexOffset: Int { MemoryLayout<ResidentUserTable>.offset(of: \ResidentUserTable.index)! }

    /// Marks a slot most recently used.
    @inline(__always)
    mutating func touch(_ slot: Int) {
        if slots[slot].lastUse == tick { return }  // already the most recent
        stamp(slot)
    }

    /// Inserts a user (not resident) and returns its slot and the evicted user, if any.
    mutating func insert(_ userID: String, hash: UInt64, state: UserFeatureState)
        -> (slot: Int, evicted: (String, UserFeatureState)?) {
        var evicted: (String, UserFeatureState)?
        if index.count >= capacity, let victim = leastRecentlyUsed() {
            index.remove(slots[victim].hash, slot: victim)
            evicted = (slots[victim].id, slots[victim].state)
            slots[victim] = Resident(id: "", hash: 0, lastUse: 0, state: UserFeatureState())
            free.append(Int32(victim))
        }
        let s: Int
        if let reused = free.popLast() {
            s = Int(reused)
            slots[s] = Resident(id: userID, hash: hash, lastUse: 0, state: state)
        } else {
            s = slots.count
            slots.append(Resident(id: userID, hash: hash, lastUse: 0, state: state))
        }
        index.insert(hash, slot: s)
        stamp(s)
        return (s, evicted)
    }

    /// All resident users and states (for flushing to a store).
    var residents: [(String, UserFeatureState)] {
        slots.filter { $0.lastUse != 0 }.map { ($0.id, $0.state) }
    }

    /// Approximate heap bytes of all resident states.
    var estimatedBytes: Int {
        slots.reduce(0) { $1.lastUse == 0 ? $0 : $0 + $1.state.estimatedBytes + $1.id.utf8.count + 64 }
    }

    private mutating func stamp(_ slot: Int) {
        if tick == UInt32.max { renumber() }
        tick += 1
        slots[slot].lastUse = tick
        queue.append(Use(slot: Int32(slot), tick: tick))
        if queue.count - queueHead > 2 * index.count + 64 { compact() }
    }

    /// The least recently used resident slot (dropping stale queue entries on the way).
    private mutating func leastRecentlyUsed() -> Int? {
        while queueHead < queue.count {
            let use = queue[queueHead]
            queueHead += 1
            if slots[Int(use.slot)].lastUse == use.tick { return Int(use.slot) }
        }
        return nil
    }

    /// Keeps only the current entry of each resident slot, in order.
    private mutating func compact() {
        var kept: [Use] = []
        kept.reserveCapacity(index.count + 64)
        for i in queueHead..<queue.count where slots[Int(queue[i].slot)].lastUse == queue[i].tick { kept.append(queue[i]) }
        queue = kept
        queueHead = 0
    }

    /// Restarts ticks at 1 in LRU order (after 4 billion uses).
    private mutating func renumber() {
        compact()
        for i in queue.indices {
            queue[i].tick = UInt32(i + 1)
            slots[Int(queue[i].slot)].lastUse = UInt32(i + 1)
        }
        tick = UInt32(queue.count)
    }
}
