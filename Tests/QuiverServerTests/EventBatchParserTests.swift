// EventBatchParserTests: the fast event-batch reader against JSONDecoder on thousands of random
// bodies (fixed seed): whenever the fast path answers, its events equal JSONDecoder's, and it never
// accepts a body in which JSONDecoder finds a bad event. Usual batches take the fast path.
import Foundation
import QuiverCore
import Testing
@testable import QuiverServer

@Suite struct EventBatchParserTests {
    /// What JSONDecoder makes of the body: the events, or nil if the body or any event is refused.
    static func slow(_ body: String) -> [UserEvent]? {
        guard let batch = try? JSONDecoder().decode(EventBatch.self, from: Data(body.utf8)) else { return nil }
        var events: [UserEvent] = []
        for lenient in batch.events {
            guard case .success(let event) = lenient.result else { return nil }
            events.append(event)
        }
        return events
    }

    @Test func takesUsualBatches() throws {
        let body = #"{"events": [{"user_id": "u1", "item_id": "i9", "type": "click"}, {"user_id": "u\u00e9", "type": "view", "value": 2.5, "timestamp": 1700000000, "context": {"device": "tv", "attributes": {"k": "v"}}}, {"user_id": "u2", "item_id": null, "type": "rating", "value": 4}]}"#
        let fast = try #require(EventBatchParser.parse(Array(body.utf8)))
        #expect(fast == Self.slow(body))
        #expect(fast.count == 3 && fast[1].userID == "ué" && fast[1].context.attributes == ["k": "v"] && fast[0].value == 1)
        for refused in [#"{"events": [{"user_id": "u1"}]}"#, #"{"events": [{"user_id": 5, "type": "view"}]}"#,
                        #"{"events": {"user_id": "u1", "type": "view"}}"#, #"{"events": [{"user_id": "u1", "type": "view", "type": "click"}]}"#,
                        #"{"events": [{"user_id": "u1", "type": "view", "value": "1"}]}"#, #"{"events": []} x"#] {
            #expect(EventBatchParser.parse(Array(refused.utf8)) == nil, "\(refused)")
        }
    }

    @Test func readsRawUTF8AndRefusesInvalidBytes() throws {
        // Strings without escapes are read straight from the body: ASCII, other UTF-8, and bytes
        // that are not UTF-8 (refused here; the route then answers 400 from JSONDecoder's reading).
        let raw = #"{"events": [{"user_id": "Zoë-日本", "item_id": "i1", "type": "view"}, {"user_id": "ascii", "type": "click"}]}"#
        let fast = try #require(EventBatchParser.parse(Array(raw.utf8)))
        #expect(fast == Self.slow(raw))
        #expect(fast.map(\.userID) == ["Zoë-日本", "ascii"])
        for bad: [UInt8] in [[0xFF], [0xC3], [0xC3, 0x28], [0xED, 0xA0, 0x80]] {  // stray, truncated, bad continuation, surrogate
            let body = Array(#"{"events": [{"user_id": "u"#.utf8) + bad + Array(#"", "type": "view"}]}"#.utf8)
            #expect(EventBatchParser.parse(body) == nil, "\(bad)")
        }
    }

    @Test func agreesWithJSONDecoderOnRandomBodies() {
        var g = SeededRandom(seed: 123)
        func pick<T>(_ options: [T]) -> T { options[Int(g.next() % UInt64(options.count))] }
        func ws() -> String { pick(["", " ", "\n", "\t"]) }
        func str() -> String {
            "\"" + (0..<Int(g.next() % 4)).map { _ in pick(["a", "é", "😀", "\\n", "\\\"", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\q"]) }.joined() + "\""
        }
        func number() -> String { pick(["1", "0", "-2.5", "1e3", "01", "1.", "-", "1E-2", "3"]) }
        func value() -> String { pick([str(), number(), "true", "null", "[]", "{}", "nul"]) }
        func context() -> String {
            let fields = (0..<Int(g.next() % 3)).map { _ -> String in
                let key = pick(["device", "locale", "page", "attributes", "other"])
                let v = key == "attributes" ? pick(["{" + str() + ":" + str() + "}", "{}", "null", "{\"k\": 2}"]) : value()
                return "\"\(key)\":" + ws() + v
            }
            return pick(["{" + fields.joined(separator: ",") + "}", "null", "[]"])
        }
        func event() -> String {
            var fields: [String] = []
            if g.next() % 10 != 0 { fields.append("\"user_id\":" + (g.next() % 8 == 0 ? value() : str())) }
            if g.next() % 10 != 0 { fields.append("\"type\":" + (g.next() % 8 == 0 ? value() : str())) }
            for key in ["item_id", "value", "timestamp", "context", "extra", "type"] where g.next() % 3 == 0 {
                switch key {
                case "item_id": fields.append("\"item_id\":" + pick([str(), "null", "7"]))
                case "value", "timestamp": fields.append("\"\(key)\":" + (g.next() % 5 == 0 ? value() : number()))
                case "context": fields.append("\"context\":" + context())
                default: fields.append("\"\(key)\":" + value())
                }
            }
            return "{" + ws() + fields.joined(separator: "," + ws()) + "}"
        }
        var taken = 0, agreed = 0
        for _ in 0..<4_000 {
            let events = (0..<Int(g.next() % 4)).map { _ in event() }
            let body = "{" + ws() + "\"events\":" + ws() + "[" + events.joined(separator: ",") + "]" + pick(["", ",\"x\":1", ",\"x\":[1]"]) + "}" + pick(["", " ", "x"])
            guard let fast = EventBatchParser.parse(Array(body.utf8)) else { continue }
            taken += 1
            if let slow = Self.slow(body), slow == fast { agreed += 1 } else { Issue.record("fast path disagrees on \(body)") }
        }
        #expect(taken > 200 && agreed == taken, "\(agreed) of \(taken)")
    }
}
