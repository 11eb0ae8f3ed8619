// InteractionReplayWindow: the last `capacity` positive (user slot, item slot) pairs the embedding
// model learned, in a ring, from which each new event replays a few uniformly drawn past ones
// (experience replay: an online model sees each event once, so it revisits old ones cheaply).
// Invariant: `count <= capacity`; entries are stored raw with the write position, so a restored
// window draws exactly the same pairs as the original.

/// A fixed-size ring of recent positive interactions, as model slots.
struct InteractionReplayWindow: Sendable, Hashable {
    let capacity: Int
    private(set) var users: [Int32] = []
    private(set) var items: [Int32] = []
    /// Where the next pair goes once the ring is full.
    private(set) var head = 0

    init(capacity: Int) {
        precondition(capacity >= 0, "replay window capacity must be >= 0")
        self.capacity = capacity
    }

    var count: Int { users.count }

    subscript(position: Int) -> (user: Int, item: Int) { (Int(users[position]), Int(items[position])) }

    mutating func append(user: Int, item: Int) {
        guard capacity > 0 else { return }
        if users.count < capacity {
            users.append(Int32(user))
            items.append(Int32(item))
        } else {
            users[head] = Int32(user)
            items[head] = Int32(item)
            head = (head + 1) % capacity
        }
    }

    // MARK: snapshot

    /// Capacity, write position, then the stored pairs (user, item, user, item, ...).
    func write(to w: inout ModelSnapshotWriter) {
        w.write(capacity)
        w.write(head)
        w.write(bytes: SlotPacking.pack(zip(users, items).flatMap { [$0.0, $0.1] }))
    }

    /// Reads what `write(to:)` wrote, checking every slot against `userCount` and `itemCount`.
    init(userCount: Int, itemCount: Int, from r: inout ModelSnapshotReader) throws {
        let capacity = try r.readInt()
        let head = try r.readInt()
        guard let pairs = SlotPacking.unpack(try r.readBytes()), pairs.count % 2 == 0 else {
            throw ModelSnapshotError.invalid("replay window bytes")
        }
        let n = pairs.count / 2
        guard capacity >= 0, n <= capacity, head >= 0, head < max(capacity, 1), head == 0 || n == capacity else {
            throw ModelSnapshotError.invalid("replay window shape")
        }
        self.init(capacity: capacity)
        for e in 0..<n {
            guard Int(pairs[2 * e]) < userCount, Int(pairs[2 * e + 1]) < itemCount else {
                throw ModelSnapshotError.invalid("replay window slot")
            }
            users.append(pairs[2 * e])
            items.append(pairs[2 * e + 1])
        }
        self.head = head
    }
}
