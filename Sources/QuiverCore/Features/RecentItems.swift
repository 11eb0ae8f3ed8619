// RecentItems: the last-N aggregation, the N items with the newest event times of a stream.
// Invariant: entries are sorted newest first and never exceed `limit`; a late event lands at its
// own time's position or is dropped if older than all N held.

/// The N items with the newest timestamps of a stream (ordered newest first).
public struct RecentItems: Hashable, Sendable, Codable {
    /// One remembered item.
    public struct Entry: Hashable, Sendable, Codable {
        /// Item identifier.
        public var itemID: String
        /// Event time in Unix seconds.
        public var time: Double
    }

    /// Maximum items remembered.
    public let limit: Int
    /// Entries, newest first; ties keep arrival order.
    public private(set) var entries: [Entry] = []

    /// Creates an empty list keeping `limit` items (0: disabled).
    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Records an item; out-of-order events land at their time's position.
    public mutating func insert(itemID: String, time: Double) {
        guard limit > 0 else { return }
        if entries.count >= limit, let oldest = entries.last, time <= oldest.time { return }
        var index = entries.count
        while index > 0, entries[index - 1].time < time { index -= 1 }
        entries.insert(Entry(itemID: itemID, time: time), at: index)
        if entries.count > limit { entries.removeLast() }
    }

    /// Approximate heap bytes held.
    public var estimatedBytes: Int {
        entries.reduce(32 + entries.capacity * 32) { $0 + ($1.itemID.utf8.count > 15 ? $1.itemID.utf8.count : 0) }
    }
}
