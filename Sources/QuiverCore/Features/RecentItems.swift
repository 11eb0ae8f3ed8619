// RecentItems: the last-N aggregation, the N items with the newest event times of a stream.
// Storage is oldest first so the common in-order event is an append; up to 2N entries are held and
// the oldest N are dropped in one step, keeping inserts amortized O(1). Invariant: `entries` are the
// N newest by time, newest first; a late event lands at its own time's position or is dropped if
// older than all N held.

/// The N items with the newest timestamps of a stream.
public struct RecentItems: Hashable, Sendable, Codable {
    /// One remembered item.
    public struct Entry: Hashable, Sendable, Codable {
        /// Item identifier.
        public var itemID: String
        /// Event time in Unix seconds.
        public var time: Double
    }

    /// Maximum items reported.
    public let limit: Int
    /// Held entries, oldest first (between 0 and 2 * limit of them).
    private(set) var held: [Entry] = []

    /// Creates an empty list keeping `limit` items (0: disabled).
    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// A list holding `held`, oldest first (for conversion from `StreamArena`).
    init(limit: Int, held: [Entry]) {
        self.limit = max(0, limit)
        self.held = held
    }

    /// Entries held (reading it touches the list's storage).
    var heldCount: Int { held.count }

    /// The newest `limit` entries, newest first; equal times keep the later arrival first.
    public var entries: [Entry] { Array(held.suffix(limit).reversed()) }

    /// Records an item; out-of-order events land at their time's position.
    public mutating func insert(itemID: String, time: Double) {
        guard limit > 0 else { return }
        let n = held.count
        if n >= limit, time < held[n - limit].time { return }
        // Room for N at first (most keys see fewer events); a busy key grows once, to 2N.
        if held.capacity == 0 { held.reserveCapacity(limit) }
        var index = n
        while index > 0, held[index - 1].time > time { index -= 1 }
        held.insert(Entry(itemID: itemID, time: time), at: index)
        if held.count >= 2 * limit { held.removeFirst(held.count - limit) }
    }

    /// Approximate heap bytes held.
    public var estimatedBytes: Int {
        held.reduce(32 + held.capacity * 32) { $0 + ($1.itemID.utf8.count > 15 ? $1.itemID.utf8.count : 0) }
    }
}
