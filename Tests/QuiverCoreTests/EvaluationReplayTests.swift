// Prequential replay and in-memory table parsing: protocol order, exclusion of seen items, metric
// arithmetic, and parse errors that name the line.

import Testing
@testable import QuiverCore

/// Recommends a fixed list and records what it was asked and shown, to check the protocol.
struct ScriptedRecommender: ReplayRecommender {
    var list: [String]
    var observed: [ReplayInteraction] = []
    var exclusions: [Set<String>] = []

    mutating func observe(_ interaction: ReplayInteraction) { observed.append(interaction) }

    mutating func recommend(userId: String, count: Int, excluding: Set<String>, at timestamp: Double) -> [String] {
        exclusions.append(excluding)
        return Array(list.filter { !excluding.contains($0) }.prefix(count))
    }
}

@Suite struct EvaluationReplayTests {
    static let log = """
    user_id:token\titem_id:token\trating:float\ttimestamp:float
    u1\ta\t5\t30
    u1\tb\t4\t10
    u2\ta\t3\t20
    u2\tc\t4\t40
    u1\tc\t1\t50

    """

    @Test func parsesRecBoleInteractionsWithTypedHeaders() throws {
        let rows = try ReplayInteraction.parseInteractions(Self.log)
        #expect(rows.count == 5)
        #expect(rows[1] == ReplayInteraction(userId: "u1", itemId: "b", value: 4, timestamp: 10))
    }

    @Test func parseErrorsNameTheLine() {
        #expect(throws: DelimitedTable.ParseError.wrongFieldCount(line: 3, expected: 4, found: 3)) {
            try ReplayInteraction.parseInteractions("user_id\titem_id\trating\ttimestamp\nu\ti\t1\t2\nu\ti\t1\n")
        }
        #expect(throws: DelimitedTable.ParseError.badNumber(line: 2, column: "timestamp")) {
            try ReplayInteraction.parseInteractions("user_id\titem_id\ttimestamp\nu\ti\tyesterday\n")
        }
        #expect(throws: DelimitedTable.ParseError.missingColumn("item_id")) {
            try ReplayInteraction.parseInteractions("user_id,timestamp\nu,1\n", separator: ",")
        }
    }

    @Test func replayTestsThenTrainsInTimeOrderAndExcludesSeenItems() throws {
        let rows = try ReplayInteraction.parseInteractions(Self.log)
        var recommender = ScriptedRecommender(list: ["c", "a", "b"])
        let report = PrequentialReplay(trainFraction: 0.6, cutoff: 2).run(rows, recommender: &recommender)
        // Sorted by time: (u1,b,10) (u2,a,20) (u1,a,30) | (u2,c,40) (u1,c,50).
        #expect(recommender.observed.map(\.timestamp) == [10, 20, 30, 40, 50])
        #expect(report.trainingEvents == 3)
        #expect(report.evaluatedEvents == 2)
        #expect(recommender.exclusions == [["a"], ["a", "b"]])
        // Both test items are "c", ranked first: HR = NDCG = 1.
        #expect(report.hitRate == 1 && report.ndcg == 1)
    }

    @Test func ndcgDiscountsLowerRanks() {
        let rows = [ReplayInteraction(userId: "u", itemId: "x", value: 1, timestamp: 1),
                    ReplayInteraction(userId: "v", itemId: "z", value: 1, timestamp: 2)]
        var recommender = ScriptedRecommender(list: ["y", "z"])
        let report = PrequentialReplay(trainFraction: 0.5, cutoff: 10).run(rows, recommender: &recommender)
        #expect(report.hitRate == 1)
        #expect(abs(report.ndcg - 1 / 1.584962500721156) < 1e-12)
    }

    @Test func topIndicesKeepsTheBestInOrder() {
        #expect(PrequentialReplay.topIndices([0.1, 0.9, 0.5, 0.9, 0.3], k: 3) == [1, 3, 2])
        #expect(PrequentialReplay.topIndices([0.1, 0.9, 0.5], k: 2) { $0 == 1 } == [2, 0])
    }

    @Test func popularityReplayFindsTheHeadOfASkewedStream() {
        var g = SeededRandom(seed: 3)
        let rows = (0..<2_000).map { t -> ReplayInteraction in
            let item = g.nextUnitDouble() < 0.5 ? "hit\(g.next() % 3)" : "tail\(g.next() % 200)"
            return ReplayInteraction(userId: "u\(g.next() % 300)", itemId: item, value: 1, timestamp: Double(t))
        }
        var popular = ScoringModelRecommender(model: DecayedPopularity(halfLife: 1e9))
        let report = PrequentialReplay().run(rows, recommender: &popular)
        #expect(report.evaluatedEvents > 200)
        #expect(report.hitRate > 0.25) // chance level for a random top-10 of ~200 items is ~0.05
        #expect(report.ndcg > 0 && report.ndcg <= report.hitRate)
    }
}
