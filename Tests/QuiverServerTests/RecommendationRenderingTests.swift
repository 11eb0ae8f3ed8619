// RecommendationRenderingTests: a cache hit's response, spliced from the answer's pre-rendered
// parts, is byte for byte the response rendered whole; JSON strings are escaped the same way
// whether they need escapes or not.
import QuiverCore
import Testing
@testable import QuiverServer

@Suite struct RecommendationRenderingTests {
    static let summaries = [
        AnswerSummary(scenario: "homepage", modelVersion: "v1+f2+m30", explanation: "3 items for u1 on homepage: 3 popular now.",
                      strategy: nil, strategyPropensity: nil, arm: nil, coldStart: false, degradation: nil, candidates: 410),
        AnswerSummary(scenario: "item \"page\"", modelVersion: "v\\2", explanation: "line\nbreak\ttab \u{1} ünï",
                      strategy: "explore", strategyPropensity: 0.25, arm: "treatment", coldStart: true, degradation: nil, candidates: 0),
        AnswerSummary(scenario: "s", modelVersion: "", explanation: "", strategy: "exploit", strategyPropensity: nil, arm: "a",
                      coldStart: false, degradation: "models_busy", candidates: 7),
    ]

    @Test(arguments: summaries)
    func splicesTheSameBytesAsAWholeRendering(_ summary: AnswerSummary) {
        let items = Array(#"[{"item_id":"i\"1","rank":1}]"#.utf8)
        let answer = CachedAnswer(recommendationsJSON: items, summary: summary, impressionItems: [], tokens: [], dense: [],
                                  impressionTail: "")
        for (requestID, userID, latency) in [("abc-1f", "u1", 0.0123456), ("x\"y", "user\\n", 12.0), ("r", "ü", 0.0)] {
            var whole = JSONWriter()
            RecommendationRendering.response(requestID: requestID, userID: userID, itemsJSON: items, summary: summary,
                                             latencyMs: latency, cached: true, into: &whole)
            let spliced = RecommendationRendering.hitResponse(requestID: requestID, userID: userID, answer: answer,
                                                              latencyMs: latency)
            #expect(spliced == whole.bytes)
        }
    }

    @Test(arguments: ["", "plain", "quote \" back \\ slash / nl \n cr \r tab \t ctl \u{1}\u{1F}", "ünïcödé ✓ 🎯", "\"", "end\\"])
    func escapesStrings(_ text: String) {
        var w = JSONWriter()
        w.string(text)
        var expected: [UInt8] = [0x22]
        for byte in text.utf8 {
            switch byte {
            case 0x22: expected += Array(#"\""#.utf8)
            case 0x5C: expected += Array(#"\\"#.utf8)
            case 0x0A: expected += Array(#"\n"#.utf8)
            case 0x0D: expected += Array(#"\r"#.utf8)
            case 0x09: expected += Array(#"\t"#.utf8)
            case 0..<0x20: expected += Array("\\u00".utf8) + Array(String(byte, radix: 16).leftPadded(to: 2).utf8)
            default: expected.append(byte)
            }
        }
        expected.append(0x22)
        #expect(w.bytes == expected)
    }
}

extension String {
    fileprivate func leftPadded(to count: Int) -> String { String(repeating: "0", count: max(0, count - self.count)) + self }
}
