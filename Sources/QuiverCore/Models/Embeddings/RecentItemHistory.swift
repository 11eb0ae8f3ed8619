// RecentItemHistory: each user's last `capacity` distinct items (model slots), oldest first, in one
// flat array of `users x capacity` slots plus a count per user, so a million users cost no more than
// two allocations. Recording an item the user already has moves it to the newest position.
// Invariant: counts[u] <= capacity, and the first counts[u] slots of user u's row are valid items.

/// Bounded, per-user recent-item lists for the embedding model's session context.
struct RecentItemHistory: Sendable, Hashable {
    /// Items kept per user (at most 255: counts are bytes).
    let capacity: Int
    private(set) var slots: [Int32] = []
    private(set) var counts: [UInt8] = []

    init(capacity: Int) {
        precondition((0...255).contains(capacity), "history capacity must be in 0...255")
        self.capacity = capacity
    }

    var userCount: Int { counts.count }

    /// Adds an empty history for the next user slot.
    mutating func appendUser() {
        counts.append(0)
        slots.append(contentsOf: repeatElement(-1, count: capacity))
    }

    /// User `user`'s items, oldest first.
    func items(of user: Int) -> ArraySlice<Int32> {
        let start = user * capacity
        return slots[start..<start + Int(counts[user])]
    }

    /// Makes `item` the newest item of `user`, dropping the oldest when full.
    mutating func record(_ item: Int32, for user: Int) {
        guard capacity > 0 else { return }
        let start = user * capacity
        var count = Int(counts[user])
        if let at = slots[start..<start + count].firstIndex(of: item) {
            // Already there: close the gap, then append at the end.
            for p in at..<start + count - 1 { slots[p] = slots[p + 1] }
            count -= 1
        } else if count == capacity {
            for p in start..<start + count - 1 { slots[p] = slots[p + 1] }
            count -= 1
        }
        slots[start + count] = item
        counts[user] = UInt8(count + 1)
    }

    // MARK: snapshot

    /// Counts (one byte per user), then every user's items, oldest first.
    func write(to w: inout ModelSnapshotWriter) {
        w.write(bytes: counts)
        w.write(bytes: SlotPacking.pack(counts.indices.lazy.flatMap { items(of: $0) }))
    }

    /// Reads what `write(to:)` wrote, checking every count against `capacity` and every slot
    /// against `items`.
    init(capacity: Int, users: Int, items: Int, from r: inout ModelSnapshotReader) throws {
        guard (0...255).contains(capacity) else { throw ModelSnapshotError.invalid("history capacity \(capacity)") }
        self.init(capacity: capacity)
        let storedCounts = try r.readBytes()
        guard let stored = SlotPacking.unpack(try r.readBytes()), storedCounts.count == users,
              storedCounts.allSatisfy({ Int($0) <= capacity }), stored.count == storedCounts.reduce(0, { $0 + Int($1) }),
              stored.allSatisfy({ Int($0) < items }) else {
            throw ModelSnapshotError.invalid("history shape")
        }
        var next = 0
        for user in 0..<users {
            appendUser()
            for _ in 0..<Int(storedCounts[user]) {
                slots[user * capacity + Int(counts[user])] = stored[next]
                counts[user] += 1
                next += 1
            }
        }
    }
}
