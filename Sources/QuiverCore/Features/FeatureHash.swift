// FeatureHash: the stable 64-bit FNV-1a hash of identifiers, used to pick shards and to key
// distinct counters. Invariant: the same string hashes the same in every process and release,
// unlike `Hasher`, so persisted state and shard placement stay meaningful across restarts.

/// Stable hashing of identifiers.
public enum FeatureHash {
    /// FNV-1a, 64 bits, over the UTF-8 bytes of `text`.
    @inline(__always)
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// A well-mixed shard index in `0..<count` for a hash.
    @inline(__always)
    static func shard(_ hash: UInt64, count: Int) -> Int {
        Int((hash ^ (hash >> 29)) % UInt64(count))
    }
}
