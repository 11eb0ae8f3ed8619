// ResidentUserTable: the users of one shard whose state is in memory, with least-recently-used
// order kept as an intrusive doubly linked list over slot indices (O(1) lookup, touch, insert,
// evict). Invariant: at most `capacity` users are resident; inserting beyond it evicts the least
// recently used user and hands its state back to the caller for the FeatureStateStore.

struct ResidentUserTable: Sendable {
    let capacity: Int
    private var index: [String: Int32] = [:]
    private var ids: [String] = []
    var states: [UserFeatureState] = []
    private var previous: [Int32] = []
    private var next: [Int32] = []
    private var head: Int32 = -1
    private var tail: Int32 = -1
    private var free: [Int32] = []

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { index.count }

    /// The slot of a resident user.
    @inline(__always)
    func slot(of userID: String) -> Int? {
        index[userID].map(Int.init)
    }

    /// Marks a slot most recently used.
    @inline(__always)
    mutating func touch(_ slot: Int) {
        let s = Int32(slot)
        guard head != s else { return }
        unlink(s)
        pushFront(s)
    }

    /// Inserts a user (not resident) and returns its slot and the evicted user, if any.
    mutating func insert(_ userID: String, state: UserFeatureState) -> (slot: Int, evicted: (String, UserFeatureState)?) {
        var evicted: (String, UserFeatureState)?
        if index.count >= capacity, tail >= 0 {
            let victim = tail
            unlink(victim)
            let victimID = ids[Int(victim)]
            index[victimID] = nil
            evicted = (victimID, states[Int(victim)])
            states[Int(victim)] = UserFeatureState()
            ids[Int(victim)] = ""
            free.append(victim)
        }
        let s: Int32
        if let reused = free.popLast() {
            s = reused
            ids[Int(s)] = userID
            states[Int(s)] = state
        } else {
            s = Int32(ids.count)
            ids.append(userID)
            states.append(state)
            previous.append(-1)
            next.append(-1)
        }
        index[userID] = s
        pushFront(s)
        return (Int(s), evicted)
    }

    /// All resident users and states (for flushing to a store).
    var residents: [(String, UserFeatureState)] {
        index.map { ($0.key, states[Int($0.value)]) }
    }

    /// Approximate heap bytes of all resident states.
    var estimatedBytes: Int {
        index.values.reduce(0) { $0 + states[Int($1)].estimatedBytes + ids[Int($1)].utf8.count + 64 }
    }

    private mutating func unlink(_ s: Int32) {
        let p = previous[Int(s)], n = next[Int(s)]
        if p >= 0 { next[Int(p)] = n } else if head == s { head = n }
        if n >= 0 { previous[Int(n)] = p } else if tail == s { tail = p }
        previous[Int(s)] = -1
        next[Int(s)] = -1
    }

    private mutating func pushFront(_ s: Int32) {
        previous[Int(s)] = -1
        next[Int(s)] = head
        if head >= 0 { previous[Int(head)] = s }
        head = s
        if tail < 0 { tail = s }
    }
}
