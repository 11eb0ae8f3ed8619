// SeenItemsTests: the per-user seen list against a plain reference (an array per user, a repeat
// moves the item to the end, the oldest dropped beyond the limit) on random streams with repeats.
import Testing
@testable import QuiverCore

@Suite struct SeenItemsTests {
    @Test func matchesAReferenceListPerUser() {
        var g = SeededRandom(seed: 5)
        for limit in [1, 3, 20] {
            var seen = SeenItems(limit: limit)
            var reference: [String: [String]] = [:]
            for _ in 0..<3_000 {
                let user = "u\(g.next() % 7)", item = "i\(g.next() % 30)"
                seen.insert(item, for: user)
                var list = reference[user] ?? []
                list.removeAll { $0 == item }
                list.append(item)
                if list.count > limit { list.removeFirst(list.count - limit) }
                reference[user] = list
            }
            #expect(seen.userCount == reference.count)
            for (user, list) in reference {
                #expect(seen.items(of: user) == list, "limit \(limit), \(user)")
                #expect(seen.set(of: user) == Set(list))
                for i in 0..<30 { #expect(seen.contains("i\(i)", for: user) == list.contains("i\(i)")) }
            }
        }
    }
}
