// Tests of the engine's key tables: FeatureKeyIndex against a Dictionary under random inserts and
// removals (colliding hashes included), and ResidentUserTable's eviction order against a
// brute-force least-recently-used list.
import Testing
@testable import QuiverCore

@Suite struct FeaturesResidencyTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func keyIndexMatchesADictionary(seed: UInt64) {
        var rng = FeatureTestRandom(seed: seed)
        var index = FeatureKeyIndex()
        var reference: [Int: UInt64] = [:]  // slot -> hash
        var nextSlot = 0
        for _ in 0..<20_000 {
            // Few distinct hashes, so that runs collide and backward-shift deletion is exercised.
            if rng.below(3) > 0 || reference.isEmpty {
                let hash = UInt64(rng.below(64)) &* 0x9e37_79b9
                index.insert(hash, slot: nextSlot)
                reference[nextSlot] = hash
                nextSlot += 1
            } else {
                let slot = Array(reference.keys)[rng.below(reference.count)]
                index.remove(reference[slot]!, slot: slot)
                reference[slot] = nil
            }
            #expect(index.count == reference.count)
            guard !reference.isEmpty else { continue }
            let probe = Array(reference.keys)[rng.below(reference.count)]
            #expect(index.find(reference[probe]!) { $0 == probe } == probe)
        }
        for (slot, hash) in reference { #expect(index.find(hash) { $0 == slot } == slot) }
        #expect(index.find(12_345) { _ in true } == nil)
    }

    @Test(arguments: [4, 5] as [UInt64])
    func residentTableEvictsExactlyTheLeastRecentlyUsed(seed: UInt64) {
        var rng = FeatureTestRandom(seed: seed)
        let capacity = 16
        var table = ResidentUserTable(capacity: capacity)
        var order: [String] = []  // least recently used first
        for _ in 0..<30_000 {
            let id = "user-\(rng.below(40))"
            let hash = rng.below(4) == 0 ? 7 : FeatureHash.fnv1a(id)  // some equal hashes on purpose
            if let slot = table.slot(of: id, hash: hash) {
                table.touch(slot)
                order.removeAll { $0 == id }
                order.append(id)
            } else if !order.contains(id) {
                let (_, evicted) = table.insert(id, hash: hash, state: UserFeatureState())
                if order.count >= capacity {
                    #expect(evicted?.0 == order.removeFirst())
                } else {
                    #expect(evicted == nil)
                }
                order.append(id)
            }
            #expect(table.count == order.count)
        }
        #expect(Set(table.residents.map(\.0)) == Set(order))
    }
}
