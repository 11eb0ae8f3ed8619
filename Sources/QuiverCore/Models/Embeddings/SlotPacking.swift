// SlotPacking: model slot lists (Int32, non-negative) as little-endian UInt32 bytes for the
// embedding model's snapshots, four bytes a slot; unpacking rejects a length that is not a
// multiple of four instead of trapping.

enum SlotPacking {
    static func pack<S: Sequence>(_ slots: S) -> [UInt8] where S.Element == Int32 {
        var bytes: [UInt8] = []
        for slot in slots {
            let v = UInt32(bitPattern: slot)
            bytes.append(UInt8(truncatingIfNeeded: v))
            bytes.append(UInt8(truncatingIfNeeded: v >> 8))
            bytes.append(UInt8(truncatingIfNeeded: v >> 16))
            bytes.append(UInt8(truncatingIfNeeded: v >> 24))
        }
        return bytes
    }

    /// The slots in `bytes`, or nil when its length is not a multiple of four or a slot exceeds Int32.
    static func unpack(_ bytes: [UInt8]) -> [Int32]? {
        guard bytes.count % 4 == 0 else { return nil }
        var slots: [Int32] = []
        slots.reserveCapacity(bytes.count / 4)
        var at = 0
        while at < bytes.count {
            let v = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
            guard v <= UInt32(Int32.max) else { return nil }
            slots.append(Int32(v))
            at += 4
        }
        return slots
    }
}
