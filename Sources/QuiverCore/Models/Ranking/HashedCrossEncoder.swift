// HashedCrossEncoder: turns (user, context, item) into sparse hashed terms for linear models —
// single tokens plus the crosses user x item attributes, context x item attributes, context x item
// id and dense context value x item attribute. Invariant: hashing is FNV-1a + SplitMix64 over UTF-8
// with fixed constants (never Swift's per-process seeded Hasher), so indices are stable across
// processes and snapshots stay valid.

/// Which terms the encoder emits.
public struct HashedCrossSpec: Sendable, Hashable {
    public var crossUserWithItemAttributes: Bool
    public var crossContextWithItemAttributes: Bool
    public var crossContextWithItemId: Bool
    public var crossDenseWithItemAttributes: Bool

    public init(crossUserWithItemAttributes: Bool = true, crossContextWithItemAttributes: Bool = true,
                crossContextWithItemId: Bool = true, crossDenseWithItemAttributes: Bool = true) {
        self.crossUserWithItemAttributes = crossUserWithItemAttributes
        self.crossContextWithItemAttributes = crossContextWithItemAttributes
        self.crossContextWithItemId = crossContextWithItemId
        self.crossDenseWithItemAttributes = crossDenseWithItemAttributes
    }
}

/// The kind of a hashed term, for explanations.
public enum HashedTermKind: Sendable, Hashable {
    case bias, user, item, contextToken, itemToken, dense
    case userXItemToken, contextXItemToken, contextXItem, denseXItemToken
}

/// Stable hashing of strings and their crosses into `2^bits` buckets.
public struct HashedCrossEncoder: Sendable, Hashable {
    public let bits: Int
    public let spec: HashedCrossSpec
    let mask: UInt64
    /// Hashes of dense positions 0..<128, computed once (dense ids are hashed on every request).
    let denseIdHashes: [UInt64]

    public init(bits: Int = 20, spec: HashedCrossSpec = HashedCrossSpec()) {
        precondition((4...30).contains(bits), "bits must be in 4...30")
        self.bits = bits
        self.spec = spec
        mask = (1 << UInt64(bits)) - 1
        denseIdHashes = (0..<128).map { Self.hash(String($0), namespace: 3) }
    }

    public static func == (a: HashedCrossEncoder, b: HashedCrossEncoder) -> Bool { a.bits == b.bits && a.spec == b.spec }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bits)
        hasher.combine(spec)
    }

    /// FNV-1a of `namespace` then `text`, finalised by SplitMix64.
    @inlinable
    public static func hash(_ text: String, namespace: UInt8) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(namespace)
        h = h &* 0x100_0000_01B3
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01B3
        }
        return SeededRandom.splitMix64(&h)
    }

    /// Hash of the cross of two hashed terms (order matters).
    @inlinable
    public static func cross(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var h = a &* 0x9E37_79B9_7F4A_7C15 ^ (b << 1 | b >> 63)
        return SeededRandom.splitMix64(&h)
    }

    /// The context half, hashed once per request.
    public struct ContextSide: Sendable {
        public let user: UInt64
        public let tokens: [UInt64]
        public let dense: [Double]
        public let denseIds: [UInt64]
    }

    /// The item half, hashed once per candidate.
    public struct ItemSide: Sendable, Hashable {
        public let item: UInt64
        public let tokens: [UInt64]
    }

    public func contextSide(_ context: ScoringContext) -> ContextSide {
        ContextSide(user: Self.hash(context.userId, namespace: 1),
                    tokens: context.tokens.map { Self.hash($0, namespace: 2) },
                    dense: context.dense,
                    denseIds: context.dense.indices.map { $0 < denseIdHashes.count ? denseIdHashes[$0] : Self.hash(String($0), namespace: 3) })
    }

    public func itemSide(_ candidate: ScoringCandidate) -> ItemSide {
        ItemSide(item: Self.hash(candidate.itemId, namespace: 4), tokens: candidate.tokens.map { Self.hash($0, namespace: 5) })
    }

    /// Calls `body(index, value, kind, leftOrdinal, rightOrdinal)` for every term; ordinals index
    /// the context/item token (or dense) arrays so explanations can name the term.
    public func forEachTerm(_ c: ContextSide, _ i: ItemSide,
                            _ body: (Int, Double, HashedTermKind, Int, Int) -> Void) {
        forEachContextTerm(c, body)
        forEachItemTerm(c, i, body)
    }

    /// The terms that do not depend on the item (bias, user, context tokens, dense features): the
    /// same for every candidate of a request, so a scorer sums them once.
    public func forEachContextTerm(_ c: ContextSide, _ body: (Int, Double, HashedTermKind, Int, Int) -> Void) {
        let m = mask
        body(0, 1, .bias, 0, 0)
        body(Int(c.user & m), 1, .user, 0, 0)
        for (a, t) in c.tokens.enumerated() { body(Int(t & m), 1, .contextToken, a, 0) }
        for (a, v) in c.dense.enumerated() where v != 0 { body(Int(c.denseIds[a] & m), v, .dense, a, 0) }
    }

    /// The terms that involve the item: its id, its tokens, and the crosses.
    public func forEachItemTerm(_ c: ContextSide, _ i: ItemSide, _ body: (Int, Double, HashedTermKind, Int, Int) -> Void) {
        let m = mask
        body(Int(i.item & m), 1, .item, 0, 0)
        for (b, t) in i.tokens.enumerated() { body(Int(t & m), 1, .itemToken, 0, b) }
        for (b, it) in i.tokens.enumerated() {
            if spec.crossUserWithItemAttributes { body(Int(Self.cross(c.user, it) & m), 1, .userXItemToken, 0, b) }
            if spec.crossContextWithItemAttributes {
                for (a, ct) in c.tokens.enumerated() { body(Int(Self.cross(ct, it) & m), 1, .contextXItemToken, a, b) }
            }
            if spec.crossDenseWithItemAttributes {
                for (a, v) in c.dense.enumerated() where v != 0 {
                    body(Int(Self.cross(c.denseIds[a], it) & m), v, .denseXItemToken, a, b)
                }
            }
        }
        if spec.crossContextWithItemId {
            for (a, ct) in c.tokens.enumerated() { body(Int(Self.cross(ct, i.item) & m), 1, .contextXItem, a, 0) }
        }
    }

    /// The weighted sum of an item's id terms (its id, and its id crossed with each context token):
    /// `forEachItemTerm` less the token terms.
    @inline(__always)
    func itemIdMargin(_ c: ContextSide, _ item: UInt64, weights w: UnsafeBufferPointer<Double>) -> Double {
        let m = mask
        var s = w[Int(item & m)]
        if spec.crossContextWithItemId {
            for ct in c.tokens { s += w[Int(Self.cross(ct, item) & m)] }
        }
        return s
    }

    /// The weighted sum of the terms one item token brings (the token, and its crosses with the
    /// user, the context tokens and the dense values): the same for every item that carries it.
    func itemTokenMargin(_ c: ContextSide, _ it: UInt64, weights w: UnsafeBufferPointer<Double>) -> Double {
        let m = mask
        var s = w[Int(it & m)]
        if spec.crossUserWithItemAttributes { s += w[Int(Self.cross(c.user, it) & m)] }
        if spec.crossContextWithItemAttributes {
            for ct in c.tokens { s += w[Int(Self.cross(ct, it) & m)] }
        }
        if spec.crossDenseWithItemAttributes {
            for (a, v) in c.dense.enumerated() where v != 0 { s += v * w[Int(Self.cross(c.denseIds[a], it) & m)] }
        }
        return s
    }

    /// A readable name of a term, for explanations.
    public func termName(_ kind: HashedTermKind, _ a: Int, _ b: Int,
                         context: ScoringContext, candidate: ScoringCandidate) -> String {
        switch kind {
        case .bias: return "bias"
        case .user: return "user=\(context.userId)"
        case .item: return "item=\(candidate.itemId)"
        case .contextToken: return "ctx:\(context.tokens[a])"
        case .itemToken: return "item:\(candidate.tokens[b])"
        case .dense: return "dense[\(a)]"
        case .userXItemToken: return "user=\(context.userId) x item:\(candidate.tokens[b])"
        case .contextXItemToken: return "ctx:\(context.tokens[a]) x item:\(candidate.tokens[b])"
        case .contextXItem: return "ctx:\(context.tokens[a]) x item=\(candidate.itemId)"
        case .denseXItemToken: return "dense[\(a)] x item:\(candidate.tokens[b])"
        }
    }
}
