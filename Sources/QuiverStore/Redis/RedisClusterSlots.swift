// RedisClusterSlots: the pure half of the Redis Cluster client, no I/O. A key's hash slot
// (CRC16-XMODEM of the key, or of its first non-empty `{...}` tag, mod 16384, as the Cluster
// specification defines it), the slot map read from `CLUSTER SLOTS` (every slot -> the master
// serving it), and the `MOVED` / `ASK` redirections a node answers with.

/// A Redis node's address as the cluster names it (`host:port`).
public struct RedisNodeAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (the port after the last colon, so `::1:7000` is IPv6). The host may be
    /// empty: Redis sends `:port` when a node does not know its own address.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"),
              let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        self.init(host: String(text[..<colon]), port: port)
    }

    public var description: String { "\(host):\(port)" }

    public static func < (a: Self, b: Self) -> Bool { (a.host, a.port) < (b.host, b.port) }
}

/// Hash slots: which of the cluster's 16384 slots a key belongs to.
public enum RedisHashSlot {
    public static let count = 16384

    /// The slot of a key: CRC16 of its hash tag when it has one, of the whole key otherwise.
    public static func of(_ key: String) -> Int { of(Array(key.utf8)) }

    public static func of(_ key: [UInt8]) -> Int {
        key.withUnsafeBufferPointer { Int(crc16(hashedPart(of: $0)) % UInt16(count)) }
    }

    /// The part of the key that is hashed: between the first `{` and the first `}` after it, when
    /// that is not empty; the whole key otherwise (`foo{}{bar}` hashes whole, `foo{{bar}}` hashes `{bar`).
    static func hashedPart(of key: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1
        else { return key }
        return UnsafeBufferPointer(rebasing: key[(open + 1)..<close])
    }

    /// CRC16-CCITT in its XMODEM form (polynomial 0x1021, initial value 0, no reflection).
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}

/// Which master serves each slot, as one node's `CLUSTER SLOTS` reply said.
public struct RedisClusterSlotMap: Sendable, Equatable {
    /// A run of consecutive slots served by one master.
    public struct Range: Sendable, Equatable {
        public var slots: ClosedRange<Int>
        public var master: RedisNodeAddress

        public init(slots: ClosedRange<Int>, master: RedisNodeAddress) {
            self.slots = slots
            self.master = master
        }
    }

    /// Every slot's master, as an index into `masters`; -1 when no master serves it.
    private var owners: [Int16]
    /// The masters, sorted, without duplicates.
    public private(set) var masters: [RedisNodeAddress]

    /// A map where no slot is served.
    public init() {
        owners = Array(repeating: -1, count: RedisHashSlot.count)
        masters = []
    }

    /// Builds the map from consecutive ranges.
    public init(ranges: [Range]) {
        self.init()
        masters = Array(Set(ranges.map(\.master))).sorted()
        for range in ranges {
            let index = Int16(masters.firstIndex(of: range.master)!)
            for slot in range.slots { owners[slot] = index }
        }
    }

    /// Parses a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, ...], replicas...], ...]`.
    /// A master with an empty host (a node that does not know its address) gets `answeredBy`'s
    /// host, as the specification asks; `?` (an unknown endpoint) makes the reply unusable.
    public init(clusterSlots reply: RedisValue, answeredBy node: RedisNodeAddress) throws(RedisError) {
        guard case .array(let entries) = reply else {
            throw RedisError(message: "CLUSTER SLOTS: expected an array, got \(reply)")
        }
        var ranges: [Range] = []
        for entry in entries {
            guard case .array(let fields) = entry, fields.count >= 3,
                  case .integer(let start) = fields[0], case .integer(let end) = fields[1],
                  0 <= start, start <= end, end < RedisHashSlot.count,
                  case .array(let master) = fields[2], master.count >= 2,
                  var host = master[0].string, case .integer(let port) = master[1], (1...65535).contains(port)
            else { throw RedisError(message: "CLUSTER SLOTS: malformed entry \(entry)") }
            if host.isEmpty { host = node.host }
            guard host != "?" else { throw RedisError(message: "CLUSTER SLOTS: a master's endpoint is unknown (\(entry))") }
            ranges.append(Range(slots: start...end, master: RedisNodeAddress(host: host, port: port)))
        }
        self.init(ranges: ranges)
    }

    /// The master serving `slot`, if any.
    public func master(forSlot slot: Int) -> RedisNodeAddress? {
        let index = owners[slot]
        return index < 0 ? nil : masters[Int(index)]
    }

    /// The master serving `key`'s slot, if any.
    public func master(forKey key: [UInt8]) -> RedisNodeAddress? { master(forSlot: RedisHashSlot.of(key)) }

    /// Whether every slot has a master.
    public var coversAllSlots: Bool { !owners.contains(-1) }

    /// The map as runs of consecutive slots with the same master, in slot order.
    public var ranges: [Range] {
        var result: [Range] = []
        var start = 0
        for slot in 1...RedisHashSlot.count where slot == RedisHashSlot.count || owners[slot] != owners[start] {
            if owners[start] >= 0 { result.append(Range(slots: start...(slot - 1), master: masters[Int(owners[start])])) }
            start = slot
        }
        return result
    }

    /// Records that `slot` is now served by `master` (what a `MOVED` reply says).
    public mutating func assign(slot: Int, to master: RedisNodeAddress) {
        if let index = masters.firstIndex(of: master) {
            owners[slot] = Int16(index)
        } else {
            masters.append(master)
            owners[slot] = Int16(masters.count - 1)
        }
        normalize()
    }

    /// Keeps `masters` sorted and limited to the nodes that serve at least one slot.
    private mutating func normalize() {
        let used = Set(owners.filter { $0 >= 0 })
        let kept = used.map { masters[Int($0)] }.sorted()
        guard kept != masters else { return }
        var remap = [Int16](repeating: -1, count: masters.count)
        for old in used { remap[Int(old)] = Int16(kept.firstIndex(of: masters[Int(old)])!) }
        owners = owners.map { $0 < 0 ? -1 : remap[Int($0)] }
        masters = kept
    }
}

/// A node's answer that the key's slot is elsewhere: for good (`MOVED`) or for this one command
/// while the slot migrates (`ASK`).
public enum RedisClusterRedirection: Sendable, Equatable {
    case moved(slot: Int, to: RedisNodeAddress)
    case ask(slot: Int, to: RedisNodeAddress)

    /// Parses `MOVED <slot> <host>:<port>` or `ASK <slot> <host>:<port>` (an error reply's text);
    /// nil for any other error. An empty host stays empty: it means the node that answered.
    public init?(errorReply text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, let slot = Int(parts[1]), (0..<RedisHashSlot.count).contains(slot),
              let address = RedisNodeAddress(parts[2])
        else { return nil }
        switch parts[0] {
        case "MOVED": self = .moved(slot: slot, to: address)
        case "ASK": self = .ask(slot: slot, to: address)
        default: return nil
        }
    }

    public var slot: Int {
        switch self { case .moved(let slot, _), .ask(let slot, _): slot }
    }

    public var target: RedisNodeAddress {
        switch self { case .moved(_, let to), .ask(_, let to): to }
    }
}
