// BoundedLRUTests: the LRU behind the result cache, the impression index, sessions and prefetch:
// least recently used goes first, reads refresh, expired entries are not returned (but stay readable
// as stale), the cost budget evicts until under it, freed slots are reused and their values released.
import Testing
@testable import QuiverServer

@Suite struct BoundedLRUTests {
    @Test func evictsTheLeastRecentlyUsed() {
        var lru = BoundedLRU<String, Int>(capacity: 3)
        for (i, key) in ["a", "b", "c"].enumerated() { lru.set(i, for: key, expiresAt: 100) }
        #expect(lru.value(for: "a", now: 0) == 0)  // a is now the most recent
        lru.set(3, for: "d", expiresAt: 100)
        #expect(lru.value(for: "b", now: 0) == nil && lru.count == 3 && lru.evictions == 1)
        #expect(lru.value(for: "a", now: 0) == 0 && lru.value(for: "c", now: 0) == 2 && lru.value(for: "d", now: 0) == 3)
    }

    @Test func expiredEntriesAreOnlyStale() {
        var lru = BoundedLRU<String, Int>(capacity: 2)
        lru.set(7, for: "a", expiresAt: 10)
        #expect(lru.value(for: "a", now: 9.9) == 7)
        #expect(lru.value(for: "a", now: 10) == nil)
        #expect(lru.staleValue(for: "a") == 7)
    }

    @Test func setsFromTheStoredValueExpiredOrNot() {
        var lru = BoundedLRU<String, Int>(capacity: 2)
        lru.set("a", expiresAt: 10) { old in (old ?? 0) + 1 }
        lru.set("a", expiresAt: 10) { old in (old ?? 0) + 1 }
        #expect(lru.value(for: "a", now: 0) == 2)
        lru.set("b", expiresAt: 10) { old in (old ?? 0) + 5 }
        lru.set("b", expiresAt: 20) { old in (old ?? 0) + 5 }
        #expect(lru.value(for: "b", now: 15) == 10)
        lru.set("c", expiresAt: 10) { _ in 1 }  // evicts a, the least recently used
        #expect(lru.value(for: "a", now: 0) == nil && lru.count == 2)
    }

    @Test func staysWithinTheCostBudget() {
        var lru = BoundedLRU<Int, [UInt8]>(capacity: 100, maxCost: 1_000)
        for i in 0..<50 { lru.set([UInt8](repeating: 0, count: 300), for: i, expiresAt: 100, cost: 300) }
        #expect(lru.totalCost <= 1_000 && lru.count == 3)
        #expect(lru.value(for: 49, now: 0) != nil && lru.value(for: 46, now: 0) == nil)
        // Replacing an entry with a bigger one evicts others, never itself.
        lru.set([], for: 48, expiresAt: 100, cost: 900)
        #expect(lru.count == 1 && lru.value(for: 48, now: 0) == [] && lru.totalCost == 900)
        // One entry over the whole budget is kept alone.
        lru.set([], for: 7, expiresAt: 100, cost: 5_000)
        #expect(lru.count == 1 && lru.value(for: 7, now: 0) == [])
    }

    @Test func updatesInPlaceAndReusesFreedSlots() {
        var lru = BoundedLRU<String, Int>(capacity: 2, maxCost: 10)
        lru.set(1, for: "a", expiresAt: 100, cost: 6)
        lru.set(2, for: "b", expiresAt: 100, cost: 6)  // evicts a by cost
        #expect(lru.update("b") { $0 += 40 })
        #expect(!lru.update("a") { $0 += 1 })
        lru.set(3, for: "c", expiresAt: 100, cost: 1)
        #expect(lru.value(for: "b", now: 0) == 42 && lru.value(for: "c", now: 0) == 3 && lru.count == 2)
    }
}
