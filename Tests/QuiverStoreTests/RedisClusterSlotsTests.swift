// RedisClusterSlotsTests: the pure half of the cluster client, without a server: CRC16 and hash
// slots with the Cluster specification's values, hash tags, the slot map read from a CLUSTER SLOTS
// reply, and MOVED/ASK parsing.
import Testing
@testable import QuiverStore

@Suite struct RedisClusterSlotsTests {
    @Test func crc16IsXmodem() {
        #expect(RedisHashSlot.crc16(Array("123456789".utf8)) == 0x31C3)  // the specification's check value
        #expect(RedisHashSlot.crc16([UInt8]()) == 0)
    }

    @Test(arguments: [("foo", 12182), ("bar", 5061), ("hello", 866), ("", 0)])
    func slotsOfKnownKeys(_ key: String, _ slot: Int) {
        #expect(RedisHashSlot.of(key) == slot)
    }

    @Test func keysWithTheSameTagShareASlot() {
        #expect(RedisHashSlot.of("{user1000}.following") == RedisHashSlot.of("{user1000}.followers"))
        #expect(RedisHashSlot.of("{user1000}.following") == RedisHashSlot.of("user1000"))
    }

    @Test(arguments: [
        ("foo{}{bar}", "foo{}{bar}"),   // an empty tag: the whole key
        ("foo{{bar}}zap", "{bar"),      // from the first `{` to the next `}`
        ("foo{bar}{zap}", "bar"),       // only the first tag counts
        ("{}", "{}"),
        ("{a", "{a"),                   // no closing brace: the whole key
        ("a}b{c", "a}b{c"),
        ("x{y}", "y"),
    ])
    func hashTagsFollowTheSpecification(_ key: String, _ hashed: String) {
        #expect(RedisHashSlot.of(key) == RedisHashSlot.of(hashed))
        let part = Array(key.utf8).withUnsafeBufferPointer { Array(RedisHashSlot.hashedPart(of: $0)) }
        #expect(part == Array(hashed.utf8))
    }

    @Test func slotsAreBinarySafe() {
        #expect(RedisHashSlot.of([0, 255, UInt8(ascii: "{"), 1, UInt8(ascii: "}")]) == RedisHashSlot.of([1]))
    }

    static func node(_ host: String, _ port: Int, _ id: String) -> RedisValue {
        .array([.bulk(Array(host.utf8)), .integer(port), .bulk(Array(id.utf8)), .array([])])
    }

    @Test func readsTheSlotMapOfClusterSlots() throws {
        let reply = RedisValue.array([
            .array([.integer(5461), .integer(10922), Self.node("10.0.0.2", 7001, "b"), Self.node("10.0.0.5", 7004, "e")]),
            .array([.integer(0), .integer(5460), Self.node("10.0.0.1", 7000, "a")]),
            .array([.integer(10923), .integer(16383), Self.node("", 7002, "c")]),  // a node without its address
        ])
        let map = try RedisClusterSlotMap(clusterSlots: reply, answeredBy: RedisNodeAddress(host: "10.0.0.9", port: 7002))
        let a = RedisNodeAddress(host: "10.0.0.1", port: 7000), b = RedisNodeAddress(host: "10.0.0.2", port: 7001)
        let c = RedisNodeAddress(host: "10.0.0.9", port: 7002)
        #expect(map.masters == [a, b, c])
        #expect(map.master(forSlot: 0) == a)
        #expect(map.master(forSlot: 5460) == a)
        #expect(map.master(forSlot: 5461) == b)
        #expect(map.master(forSlot: 16383) == c)
        #expect(map.master(forKey: Array("foo".utf8)) == c)  // slot 12182
        #expect(map.coversAllSlots)
        #expect(map.ranges.map(\.slots) == [0...5460, 5461...10922, 10923...16383])
        #expect(RedisClusterSlotMap(ranges: map.ranges) == map)
    }

    @Test func leavesUnservedSlotsEmpty() throws {
        let reply = RedisValue.array([.array([.integer(100), .integer(200), Self.node("h", 1, "a")])])
        let map = try RedisClusterSlotMap(clusterSlots: reply, answeredBy: RedisNodeAddress(host: "h", port: 1))
        #expect(map.master(forSlot: 99) == nil)
        #expect(map.master(forSlot: 150) == RedisNodeAddress(host: "h", port: 1))
        #expect(!map.coversAllSlots)
        #expect(map.ranges.map(\.slots) == [100...200])
    }

    @Test(arguments: [
        RedisValue.simple("OK"),
        .array([.array([.integer(0), .integer(16384), node("h", 1, "a")])]),  // past the last slot
        .array([.array([.integer(9), .integer(3), node("h", 1, "a")])]),
        .array([.array([.integer(0), .integer(1)])]),
        .array([.array([.integer(0), .integer(1), .array([.bulk(Array("h".utf8)), .integer(0)])])]),
        .array([.array([.integer(0), .integer(1), node("?", 7000, "a")])]),  // an unknown endpoint
    ])
    func refusesMalformedClusterSlots(_ reply: RedisValue) {
        #expect(throws: RedisError.self) {
            try RedisClusterSlotMap(clusterSlots: reply, answeredBy: RedisNodeAddress(host: "h", port: 1))
        }
    }

    @Test func assignsAMovedSlot() {
        let a = RedisNodeAddress(host: "a", port: 1), b = RedisNodeAddress(host: "b", port: 2)
        let c = RedisNodeAddress(host: "c", port: 3)
        var map = RedisClusterSlotMap(ranges: [.init(slots: 0...9999, master: b), .init(slots: 10000...16383, master: c)])
        map.assign(slot: 42, to: c)
        #expect(map.master(forSlot: 42) == c)
        #expect(map.ranges.map(\.slots) == [0...41, 42...42, 43...9999, 10000...16383])
        map.assign(slot: 7, to: a)  // a master the map did not know yet
        #expect(map.masters == [a, b, c])
        #expect(map.master(forSlot: 7) == a)
        #expect(map.master(forSlot: 8) == b)
        #expect(map.master(forSlot: 42) == c)
        // A master left with no slot drops out.
        var single = RedisClusterSlotMap(ranges: [.init(slots: 5...5, master: a), .init(slots: 6...6, master: b)])
        single.assign(slot: 5, to: b)
        #expect(single.masters == [b])
        #expect(single.master(forSlot: 5) == b)
    }

    @Test(arguments: [
        ("MOVED 3999 127.0.0.1:6381", RedisClusterRedirection.moved(slot: 3999, to: RedisNodeAddress(host: "127.0.0.1", port: 6381))),
        ("ASK 3999 127.0.0.1:6381", .ask(slot: 3999, to: RedisNodeAddress(host: "127.0.0.1", port: 6381))),
        ("MOVED 0 :6380", .moved(slot: 0, to: RedisNodeAddress(host: "", port: 6380))),
        ("MOVED 16383 ::1:7000", .moved(slot: 16383, to: RedisNodeAddress(host: "::1", port: 7000))),
        ("ASK 12 redis-2.example:7002", .ask(slot: 12, to: RedisNodeAddress(host: "redis-2.example", port: 7002))),
    ])
    func parsesRedirections(_ text: String, _ expected: RedisClusterRedirection) {
        #expect(RedisClusterRedirection(errorReply: text) == expected)
        #expect(RedisClusterRedirection(errorReply: text)?.slot == expected.slot)
    }

    @Test(arguments: [
        "ERR unknown command", "MOVED", "MOVED 3999", "MOVED x 127.0.0.1:6381", "MOVED 16384 h:1",
        "MOVED 1 h", "MOVED 1 h:0", "TRYAGAIN Multiple keys request during rehashing of slot", "ASKING 1 h:1",
    ])
    func ignoresOtherErrors(_ text: String) {
        #expect(RedisClusterRedirection(errorReply: text) == nil)
    }
}
