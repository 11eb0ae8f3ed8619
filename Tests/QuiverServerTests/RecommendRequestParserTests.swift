// RecommendRequestParserTests: the fast recommend-body reader against JSONDecoder on thousands of
// random bodies (fixed seed): whenever the fast path answers, its request equals JSONDecoder's;
// when JSONDecoder refuses a body, the fast path never accepts it. The usual bodies take the fast
// path; bodies it does not know go to JSONDecoder.
import Foundation
import QuiverCore
import Testing
@testable import QuiverServer

@Suite struct RecommendRequestParserTests {
    static func same(_ a: RecommendationRequest, _ b: RecommendationRequest) -> Bool {
        a.userID == b.userID && a.count == b.count && a.scenario == b.scenario && a.useCache == b.useCache
            && a.timestamp == b.timestamp && a.filters == nil && b.filters == nil
            && a.context?.device == b.context?.device && a.context?.locale == b.context?.locale
            && a.context?.page == b.context?.page && a.context?.itemID == b.context?.itemID
            && a.context?.attributes == b.context?.attributes && (a.context == nil) == (b.context == nil)
    }

    @Test func takesTheUsualBodies() throws {
        let bodies = [
            #"{"user_id":"user17","n_recommendations":10,"scenario":"homepage","use_cache":true}"#,
            #"{"user_id": "u1", "context": {"device": "mobile", "item_id": "i9", "attributes": {"tab": "new"}}, "timestamp": 1700000000.5}"#,
            " {\"user_id\":\"\\u00e9\\ud83d\\ude00\\n\"} \n",
        ]
        for body in bodies {
            let fast = try #require(RecommendRequestParser.parse(Array(body.utf8)), "\(body)")
            let slow = try JSONDecoder().decode(RecommendationRequest.self, from: Data(body.utf8))
            #expect(Self.same(fast, slow), "\(body)")
        }
        for body in [#"{"requests": [{"user_id": "u1"}]}"#, #"{"user_id": "u1", "filters": {"exclude_items": ["i1"]}}"#,
                     #"{"user_id": "u1", "user_id": "u2"}"#, #"{"user_id": 7}"#, #"{"user_id": "u1"} x"#,
                     #"{"user_id": "u1", "n_recommendations": 1e1}"#, "{\"user_id\": \"a\u{01}\"}"] {
            #expect(RecommendRequestParser.parse(Array(body.utf8)) == nil, "\(body)")
        }
    }

    @Test func agreesWithJSONDecoderOnRandomBodies() {
        var g = SeededRandom(seed: 99)
        func pick<T>(_ options: [T]) -> T { options[Int(g.next() % UInt64(options.count))] }
        func ws() -> String { pick(["", " ", "\n", "\t ", "\r\n"]) }
        func str() -> String {
            let parts = (0..<Int(g.next() % 5)).map { _ in
                pick(["a", "Z", "é", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00", "\\ud83d", "\\x", " ", "\\t", "\u{7f}"])
            }
            return "\"" + parts.joined() + "\""
        }
        func number() -> String { pick(["10", "0", "-3", "10.0", "1e1", "007", "-", "1.", "2.5", "1E+2", "99999999999999999999", "-0"]) }
        func value() -> String {
            pick([str(), number(), "true", "false", "null", "[1]", "{\"a\": 1}", "tru", "\"unterminated"])
        }
        func contextValue() -> String {
            let keys = ["device", "locale", "page", "item_id", "attributes", "other"]
            let fields = (0..<Int(g.next() % 4)).map { _ -> String in
                let key = pick(keys)
                let v = key == "attributes" ? pick(["{" + ws() + str() + ":" + str() + "}", "{}", "null", "[]", "{\"k\": 1}"]) : value()
                return ws() + "\"\(key)\"" + ws() + ":" + ws() + v
            }
            return pick(["{" + fields.joined(separator: ",") + "}", "null", "[]"])
        }
        var agreed = 0, fastTaken = 0
        for _ in 0..<8_000 {
            let keys = ["user_id", "n_recommendations", "scenario", "use_cache", "timestamp", "context", "extra", "user_id"]
            var fields: [String] = []
            for _ in 0..<Int(g.next() % 6) {
                let key = pick(keys)
                let v: String
                switch key {
                case "user_id", "scenario": v = g.next() % 5 == 0 ? value() : str()
                case "n_recommendations", "timestamp": v = g.next() % 5 == 0 ? value() : number()
                case "use_cache": v = pick(["true", "false", "null", "1"])
                case "context": v = contextValue()
                default: v = value()
                }
                fields.append(ws() + "\"\(key)\"" + ws() + ":" + ws() + v + ws())
            }
            let body = ws() + "{" + fields.joined(separator: ",") + "}" + pick(["", " ", "x", "}"])
            let slow = try? JSONDecoder().decode(RecommendationRequest.self, from: Data(body.utf8))
            guard let fast = RecommendRequestParser.parse(Array(body.utf8)) else { continue }
            fastTaken += 1
            if let slow, Self.same(fast, slow) { agreed += 1 } else {
                Issue.record("fast path disagrees with JSONDecoder on \(body)")
            }
        }
        #expect(fastTaken > 150 && agreed == fastTaken, "\(agreed) of \(fastTaken)")
    }
}
