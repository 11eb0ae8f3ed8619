// SharedModel: concurrent learners lose no update, and a reader's copy is a stable value.

import Testing
@testable import QuiverCore

@Suite struct ModelsSharedModelTests {
    @Test func concurrentUpdatesAreAllApplied() async {
        let shared = SharedModel(UCB1())
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for i in 0..<250 {
                        shared.update(ModelFeedback(context: ScoringContext(userId: "u\(worker)"),
                                                    candidate: ScoringCandidate(itemId: "arm\(i % 5)"), reward: 1))
                    }
                }
            }
        }
        #expect(shared.current.describe().updateCount == 2_000)
        #expect(shared.current.arms["arm0"]?.pulls == 400)
    }

    @Test func aReaderCopyDoesNotChangeUnderLaterUpdates() {
        let shared = SharedModel(DecayedPopularity(halfLife: 60))
        let item = ScoringCandidate(itemId: "a")
        let context = ScoringContext(userId: "u", timestamp: 0)
        shared.update(ModelFeedback(context: context, candidate: item, reward: 1))
        let copy = shared.current
        shared.mutate { $0.update(ModelFeedback(context: context, candidate: item, reward: 5)) }
        #expect(copy.score([item], context: context) == [1])
        #expect(shared.current.score([item], context: context) == [6])
    }
}
