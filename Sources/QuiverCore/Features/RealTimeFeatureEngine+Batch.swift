// RealTimeFeatureEngine+Batch: batch ingestion that overlaps the cache misses of many events.
// A chunk of events takes the locks of the shards it touches (item shards, then user shards, each
// in ascending order, so concurrent batches cannot deadlock), then applies its events one by one
// with the single-event code while prefetching, for the events a few places later, one level of
// their dependent chain per stage: index entries, slots, buffers, region headers and categories,
// touched words. Invariant: events are applied in batch order by the same code as `ingest(_:receivedAt:)`;
// the stages only prefetch, so the result is exactly that of one-at-a-time ingestion.
import CQuiverIntrinsics
import Synchronization

/// One event of a chunk, with what the stages need (hashes, shards, guessed slots); trivially
/// copyable, so the stages move no reference counts.
struct PendingFeatureEvent {
    let time: Double
    let userHash: UInt64
    let itemHash: UInt64
    let userShard: Int32
    /// -1 when the event names no item.
    let itemShard: Int32
    /// Slots the indexes named in stage 2 (-1: none); guesses, checked by the apply step.
    var itemSlot: Int32 = -1
    var userSlot: Int32 = -1
    /// The event's route under the schema of the batch's start (kept alive by the caller); the
    /// stages only use it to choose what to prefetch, the apply step takes its own.
    let route: Unmanaged<EventRoute>
}

extension RealTimeFeatureEngine {
    /// Events applied under one set of shard locks: readers of a locked shard wait at most this many
    /// events' work.
    static let batchChunk = 64
    /// Events between two prefetch stages of the same event.
    static let prefetchDistance = 1

    /// Folds a batch of validated events, in order, with the result of ingesting them one by one.
    ///
    /// Faster than a loop over `ingest(_:receivedAt:)` for batches of more than a few events: the
    /// cache misses of successive events overlap (see the file note).
    /// - Parameters:
    ///   - events: the events, in the order they are to be applied.
    ///   - receivedAt: server time (Unix seconds) used for events that carry no timestamp.
    public func ingest(_ events: some Collection<UserEvent>, receivedAt: Double) {
        let done: Void? = events.withContiguousStorageIfAvailable { ingest(buffer: $0, receivedAt: receivedAt) }
        if done == nil { Array(events).withUnsafeBufferPointer { ingest(buffer: $0, receivedAt: receivedAt) } }
    }

    private func ingest(buffer events: UnsafeBufferPointer<UserEvent>, receivedAt: Double) {
        guard !events.isEmpty else { return }
        let schema = history.withLock { $0.current }
        var chunk: [PendingFeatureEvent] = []
        chunk.reserveCapacity(Self.batchChunk)
        var scratch = BatchShardTables(itemShards: itemShards.count, userShards: userShards.count)
        var first = 0
        while first < events.count {
            let end = min(events.count, first + Self.batchChunk)
            chunk.removeAll(keepingCapacity: true)
            for i in first..<end {
                let event = events.baseAddress! + i
                let userHash = FeatureHash.fnv1a(event.pointee.userID)
                var itemHash: UInt64 = 0, itemShard: Int32 = -1
                if let itemID = event.pointee.itemID {
                    itemHash = FeatureHash.fnv1a(itemID)
                    itemShard = Int32(FeatureHash.shard(itemHash, count: itemShards.count))
                }
                chunk.append(PendingFeatureEvent(
                    time: event.pointee.timestamp ?? receivedAt, userHash: userHash, itemHash: itemHash,
                    userShard: Int32(FeatureHash.shard(userHash, count: userShards.count)), itemShard: itemShard,
                    route: Unmanaged.passUnretained(schema.route(for: event.pointee.type))))
            }
            ingestChunk(&chunk, events: UnsafeBufferPointer(rebasing: events[first..<end]), scratch: &scratch)
            first = end
        }
        withExtendedLifetime(schema) {}
    }

    private func ingestChunk(_ chunk: inout [PendingFeatureEvent], events: UnsafeBufferPointer<UserEvent>,
                             scratch: inout BatchShardTables) {
        for i in scratch.itemLocked.indices { scratch.itemLocked[i] = false }
        for i in scratch.userLocked.indices { scratch.userLocked[i] = false }
        for e in chunk {
            if e.itemShard >= 0 { scratch.itemLocked[Int(e.itemShard)] = true }
            scratch.userLocked[Int(e.userShard)] = true
        }
        scratch.itemOrder.removeAll(keepingCapacity: true)
        scratch.userOrder.removeAll(keepingCapacity: true)
        for i in scratch.itemLocked.indices where scratch.itemLocked[i] { scratch.itemOrder.append(i) }
        for i in scratch.userLocked.indices where scratch.userLocked[i] { scratch.userOrder.append(i) }
        let itemOrder = scratch.itemOrder[...], userOrder = scratch.userOrder[...]
        let store = self.store
        scratch.items.withUnsafeMutableBufferPointer { items in
            scratch.users.withUnsafeMutableBufferPointer { users in
                lockItemShards(itemOrder, into: items) {
                    lockUserShards(userOrder, into: users) {
                        chunk.withUnsafeMutableBufferPointer { pending in
                            Self.run(pending, events: events, items: items, users: users, store: store)
                        }
                    }
                }
            }
        }
    }

    private func lockItemShards(_ order: ArraySlice<Int>, into table: UnsafeMutableBufferPointer<UnsafeMutablePointer<ItemFeatureShard>?>,
                                _ body: () -> Void) {
        guard let first = order.first else { return body() }
        itemShards[first].shard.withLock { shard in
            withUnsafeMutablePointer(to: &shard) { p in
                table[first] = p
                lockItemShards(order.dropFirst(), into: table, body)
            }
        }
    }

    private func lockUserShards(_ order: ArraySlice<Int>, into table: UnsafeMutableBufferPointer<UnsafeMutablePointer<UserFeatureShard>?>,
                                _ body: () -> Void) {
        guard let first = order.first else { return body() }
        userShards[first].shard.withLock { shard in
            withUnsafeMutablePointer(to: &shard) { p in
                table[first] = p
                lockUserShards(order.dropFirst(), into: table, body)
            }
        }
    }

    /// The pipeline over a chunk whose shards are locked (`items`/`users` by shard number).
    private static func run(_ pending: UnsafeMutableBufferPointer<PendingFeatureEvent>, events: UnsafeBufferPointer<UserEvent>,
                            items: UnsafeMutableBufferPointer<UnsafeMutablePointer<ItemFeatureShard>?>,
                            users: UnsafeMutableBufferPointer<UnsafeMutablePointer<UserFeatureShard>?>,
                            store: any FeatureStateStore) {
        let n = pending.count, d = prefetchDistance
        let stages = 7
        // The stages see shards through raw addresses (no copies, no reference counting).
        func item(_ e: PendingFeatureEvent) -> UnsafeRawPointer { UnsafeRawPointer(items[Int(e.itemShard)].unsafelyUnwrapped) }
        func user(_ e: PendingFeatureEvent) -> UnsafeRawPointer {
            UnsafeRawPointer(users[Int(e.userShard)].unsafelyUnwrapped) + UserFeatureShard.residentsOffset
        }
        for j in -(stages * d)..<n {
            // Stage s works on the event s * d places ahead of the one applied.
            var k = j + 7 * d
            if k >= 0, k < n {  // 1: index entries
                let e = pending[k]
                if e.itemShard >= 0 { FeatureKeyIndex.prefetch(item(e) + ItemFeatureShard.indexOffset, hash: e.itemHash) }
                FeatureKeyIndex.prefetch(user(e) + ResidentUserTable.indexOffset, hash: e.userHash)
            }
            k = j + 6 * d
            if k >= 0, k < n {  // 2: slots
                let e = pending[k]
                if e.itemShard >= 0 { pending[k].itemSlot = ItemFeatureShard.prefetchSlot(item(e), hash: e.itemHash) }
                pending[k].userSlot = ResidentUserTable.prefetchSlot(user(e), hash: e.userHash)
            }
            k = j + 5 * d
            if k >= 0, k < n {  // 3: buffers
                let e = pending[k]
                if e.itemSlot >= 0 { ItemFeatureShard.state(item(e), Int(e.itemSlot)).prefetchBuffers() }
                if e.userSlot >= 0 { ResidentUserTable.state(user(e), Int(e.userSlot)).prefetchBuffers() }
            }
            k = j + 4 * d
            if k >= 0, k < n {  // 4: region headers, the user's category list
                let e = pending[k]
                e.route._withUnsafeGuaranteedRef { route in
                    if e.itemSlot >= 0 {
                        StreamArena.prefetchHeaders(ItemFeatureShard.state(item(e), Int(e.itemSlot)).streams, route.item)
                    }
                    if e.userSlot >= 0 { ResidentUserTable.state(user(e), Int(e.userSlot)).prefetchHeaders(route) }
                }
            }
            k = j + 3 * d
            if k >= 0, k < n {  // 5: touched words (user, item, the shard's global), category buffers
                let e = pending[k]
                e.route._withUnsafeGuaranteedRef { route in
                    var categories = RawItemCategories.none
                    if e.itemSlot >= 0 {
                        let state = ItemFeatureShard.state(item(e), Int(e.itemSlot))
                        StreamArena.prefetchTouched(state.streams, route.item, partyHash: e.userHash)
                        categories = state.categoryHashes
                    }
                    if e.userSlot >= 0 {
                        ResidentUserTable.state(user(e), Int(e.userSlot)).prefetchTouched(route, itemHash: e.itemHash,
                                                                                            categories: categories)
                    }
                    if !route.global.isEmpty {  // the shard's global distinct slot of this user
                        StreamArena.prefetchTouched(UnsafeRawPointer(users[Int(e.userShard)].unsafelyUnwrapped)
                                                        + UserFeatureShard.globalOffset, route.global, partyHash: e.userHash)
                    }
                }
            }
            for stage in stride(from: 2, through: 1, by: -1) {  // 6 and 7: category headers, then touched words
                k = j + stage * d
                guard k >= 0, k < n, pending[k].userSlot >= 0, pending[k].itemSlot >= 0 else { continue }
                let e = pending[k]
                e.route._withUnsafeGuaranteedRef { route in
                    guard !route.category.isEmpty else { return }
                    ResidentUserTable.state(user(e), Int(e.userSlot)).prefetchCategories(
                        route.category, categories: ItemFeatureShard.state(item(e), Int(e.itemSlot)).categoryHashes,
                        itemHash: e.itemHash, touched: stage == 1)
                }
            }
            guard j >= 0 else { continue }
            let e = pending[j]
            let event = events.baseAddress! + j
            var categories: [String] = []
            if let itemID = event.pointee.itemID {
                categories = items[Int(e.itemShard)]!.pointee.apply(
                    itemID: itemID, itemHash: e.itemHash, userID: event.pointee.userID, userHash: e.userHash,
                    type: event.pointee.type, time: e.time, value: event.pointee.value)
            }
            users[Int(e.userShard)]!.pointee.ingest(
                userID: event.pointee.userID, userHash: e.userHash, itemID: event.pointee.itemID, itemHash: e.itemHash,
                categories: categories, type: event.pointee.type, time: e.time, value: event.pointee.value, store: store)
        }
    }
}

/// Which shards a chunk locks, in order, and the locked shards' addresses: allocated once per batch
/// and reused by its chunks.
struct BatchShardTables {
    var itemLocked: [Bool]
    var userLocked: [Bool]
    var itemOrder: [Int] = []
    var userOrder: [Int] = []
    var items: [UnsafeMutablePointer<ItemFeatureShard>?]
    var users: [UnsafeMutablePointer<UserFeatureShard>?]

    init(itemShards: Int, userShards: Int) {
        itemLocked = Array(repeating: false, count: itemShards)
        userLocked = Array(repeating: false, count: userShards)
        itemOrder.reserveCapacity(itemShards)
        userOrder.reserveCapacity(userShards)
        items = Array(repeating: nil, count: itemShards)
        users = Array(repeating: nil, count: userShards)
    }
}

/// An item's category hashes, seen raw by the prefetch stages.
struct RawItemCategories {
    let hashes: UnsafePointer<UInt64>?
    let count: Int

    static var none: RawItemCategories { RawItemCategories(hashes: nil, count: 0) }
}

extension FeatureKeyIndex {
    /// Batch ingestion, stage 2, for any keyed container: the slot the index at `container +
    /// indexOffset` names for `hash` (unchecked: the hash may belong to another key), with that
    /// slot's element of the array at `container + arrayOffset` prefetched (`stride` bytes, at most
    /// `maxLines` cache lines); nil when there is none.
    @inline(__always)
    static func prefetchSlot(in container: UnsafeRawPointer, indexOffset: Int, arrayOffset: Int,
                             stride: Int, maxLines: Int, hash: UInt64) -> Int? {
        guard let s = candidate(container + indexOffset, hash: hash) else { return nil }
        let elements = RawArray(at: container + arrayOffset)
        guard s < elements.count else { return nil }
        elements.prefetchElements(byteOffset: s * stride, bytes: stride, maxLines: maxLines)
        return s
    }
}

extension UserFeatureShard {
    @inline(__always) static var residentsOffset: Int { MemoryLayout<UserFeatureShard>.offset(of: \UserFeatureShard.residents)! }
    @inline(__always) static var globalOffset: Int { MemoryLayout<UserFeatureShard>.offset(of: \UserFeatureShard.global)! }
}

extension ItemFeatureShard {
    @inline(__always) static var indexOffset: Int { MemoryLayout<ItemFeatureShard>.offset(of: \ItemFeatureShard.index)! }
    @inline(__always) static var statesOffset: Int { MemoryLayout<ItemFeatureShard>.offset(of: \ItemFeatureShard.states)! }
    @inline(__always) static var itemIDsOffset: Int { MemoryLayout<ItemFeatureShard>.offset(of: \ItemFeatureShard.itemIDs)! }

    /// Batch ingestion, stage 2: prefetches the slot the index of the shard at `shard` names for
    /// `hash` (unchecked) and returns it, -1 when there is none.
    @inline(__always)
    static func prefetchSlot(_ shard: UnsafeRawPointer, hash: UInt64) -> Int32 {
        guard let s = FeatureKeyIndex.prefetchSlot(in: shard, indexOffset: indexOffset, arrayOffset: statesOffset,
                                                   stride: MemoryLayout<ItemFeatureState>.stride, maxLines: 2, hash: hash)
        else { return -1 }
        RawArray(at: shard + itemIDsOffset).prefetchElements(byteOffset: s * 16, bytes: 16, maxLines: 1)
        return Int32(s)
    }

    /// The raw view of the item state in `slot` of the shard at `shard`.
    @inline(__always)
    static func state(_ shard: UnsafeRawPointer, _ slot: Int) -> RawItemState {
        RawItemState(base: RawArray(at: shard + statesOffset).elements + slot * MemoryLayout<ItemFeatureState>.stride)
    }
}

/// An `ItemFeatureState` seen through its address by the prefetch stages.
struct RawItemState {
    let base: UnsafeRawPointer

    @inline(__always) static var streamsOffset: Int { MemoryLayout<ItemFeatureState>.offset(of: \ItemFeatureState.streams)! }
    @inline(__always) static var hashesOffset: Int { MemoryLayout<ItemFeatureState>.offset(of: \ItemFeatureState.categoryHashes)! }
    @inline(__always) static var categoriesOffset: Int { MemoryLayout<ItemFeatureState>.offset(of: \ItemFeatureState.categories)! }

    var streams: UnsafeRawPointer { base + Self.streamsOffset }

    /// Stage 3: the heads of the item's buffers (the category names too: the apply step returns them).
    @inline(__always)
    func prefetchBuffers() {
        StreamArena.prefetchBuffer(streams)
        RawArray(at: base + Self.hashesOffset).prefetchHead()
        RawArray(at: base + Self.categoriesOffset).prefetchHead()
    }

    /// The category hashes (their storage head is cached from stage 3).
    var categoryHashes: RawItemCategories {
        let hashes = RawArray(at: base + Self.hashesOffset)
        return RawItemCategories(hashes: hashes.elements.assumingMemoryBound(to: UInt64.self), count: hashes.count)
    }
}

extension ResidentUserTable {
    @inline(__always) static var slotsOffset: Int { MemoryLayout<ResidentUserTable>.offset(of: \ResidentUserTable.slots)! }
    @inline(__always) static var stateOffset: Int { MemoryLayout<Resident>.offset(of: \Resident.state)! }

    /// Batch ingestion, stage 2: prefetches the slot the index of the table at `table` names for
    /// `hash` (unchecked) and returns it, -1 when there is none.
    @inline(__always)
    static func prefetchSlot(_ table: UnsafeRawPointer, hash: UInt64) -> Int32 {
        FeatureKeyIndex.prefetchSlot(in: table, indexOffset: indexOffset, arrayOffset: slotsOffset,
                                     stride: MemoryLayout<Resident>.stride, maxLines: 4, hash: hash).map(Int32.init) ?? -1
    }

    /// The raw view of the user state in `slot` of the table at `table`.
    @inline(__always)
    static func state(_ table: UnsafeRawPointer, _ slot: Int) -> RawUserState {
        RawUserState(base: RawArray(at: table + slotsOffset).elements + slot * MemoryLayout<Resident>.stride + stateOffset)
    }
}

/// A `UserFeatureState` seen through its address by the prefetch stages.
struct RawUserState {
    let base: UnsafeRawPointer

    @inline(__always) static var arenaOffset: Int { MemoryLayout<UserFeatureState>.offset(of: \UserFeatureState.arena)! }
    @inline(__always) static var categoriesOffset: Int { MemoryLayout<UserFeatureState>.offset(of: \UserFeatureState.categories)! }
    static let categoryStride = MemoryLayout<CategoryFeatureState>.stride
    @inline(__always) static var nameHashOffset: Int { MemoryLayout<CategoryFeatureState>.offset(of: \CategoryFeatureState.nameHash)! }
    @inline(__always) static var categoryArenaOffset: Int { MemoryLayout<CategoryFeatureState>.offset(of: \CategoryFeatureState.arena)! }

    var categories: RawArray { RawArray(at: base + Self.categoriesOffset) }

    /// Stage 3: the heads of the user's buffers.
    @inline(__always)
    func prefetchBuffers() {
        StreamArena.prefetchBuffer(base + Self.arenaOffset)
        categories.prefetchHead()
    }

    /// Stage 4: the region headers of the user streams and the lines of the category list.
    @inline(__always)
    func prefetchHeaders(_ route: EventRoute) {
        StreamArena.prefetchHeaders(base + Self.arenaOffset, route.user)
        if !route.category.isEmpty {
            let list = categories
            list.prefetchElements(byteOffset: 0, bytes: list.count * Self.categoryStride, maxLines: 48)
        }
    }

    /// The arena of the user's entry for the category hashed `hash`, if any.
    @inline(__always)
    func categoryArena(_ hash: UInt64) -> UnsafeRawPointer? {
        let list = categories
        var entry = list.elements
        for _ in 0..<list.count {
            if entry.load(fromByteOffset: Self.nameHashOffset, as: UInt64.self) == hash { return entry + Self.categoryArenaOffset }
            entry += Self.categoryStride
        }
        return nil
    }

    /// Stage 5: the words the user streams' update touches, and the buffers of the user's entries
    /// for the item's categories.
    @inline(__always)
    func prefetchTouched(_ route: EventRoute, itemHash: UInt64, categories itemCategories: RawItemCategories) {
        StreamArena.prefetchTouched(base + Self.arenaOffset, route.user, partyHash: itemHash)
        guard !route.category.isEmpty, let hashes = itemCategories.hashes else { return }
        for i in 0..<itemCategories.count {
            if let arena = categoryArena(hashes[i]) { StreamArena.prefetchBuffer(arena) }
        }
    }

    /// Stages 6 and 7: the region headers, then the touched words, of the user's entries for the
    /// item's categories.
    @inline(__always)
    func prefetchCategories(_ streams: [Int], categories itemCategories: RawItemCategories, itemHash: UInt64, touched: Bool) {
        guard let hashes = itemCategories.hashes else { return }
        for i in 0..<itemCategories.count {
            guard let arena = categoryArena(hashes[i]) else { continue }
            if touched {
                StreamArena.prefetchTouched(arena, streams, partyHash: itemHash)
            } else {
                StreamArena.prefetchHeaders(arena, streams)
            }
        }
    }
}
