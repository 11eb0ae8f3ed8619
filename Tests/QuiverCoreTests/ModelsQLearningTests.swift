// Q-learning: learns the optimal policy of a small known MDP (checked against value iteration),
// and the session-state discretisation follows its documented bins.

import Testing
@testable import QuiverCore

@Suite struct ModelsQLearningTests {
    /// A 3-state chain. Action 0 "stay" pays 0.2 in states 0 and 1 and 1.0 in state 2; action 1
    /// "advance" pays nothing and moves 0 -> 1 -> 2 (and 2 -> 0). With gamma 0.9 the optimal policy
    /// is advance, advance, stay — a short-sighted agent would stay in state 0 forever.
    static func step(_ s: Int, _ a: Int) -> (reward: Double, next: Int) {
        if a == 0 { return (s == 2 ? 1.0 : 0.2, s) }
        return (0, (s + 1) % 3)
    }

    static func valueIterationPolicy(gamma: Double) -> [Int] {
        var v = [0.0, 0.0, 0.0]
        for _ in 0..<500 {
            v = (0..<3).map { s in (0..<2).map { a in let t = step(s, a); return t.reward + gamma * v[t.next] }.max()! }
        }
        return (0..<3).map { s in
            let q = (0..<2).map { a in let t = step(s, a); return t.reward + gamma * v[t.next] }
            return q[1] > q[0] ? 1 : 0
        }
    }

    @Test func learnsTheOptimalPolicyOfAChainMDP() {
        let optimal = Self.valueIterationPolicy(gamma: 0.9)
        #expect(optimal == [1, 1, 0])
        var agent = TabularQLearning(stateCount: 3, actionCount: 2, discount: 0.9,
                                     epsilon: .inverse(initial: 0.5, scale: 5_000, floor: 0.1))
        var g = SeededRandom(seed: 4)
        for _ in 0..<400 {
            var s = Int(g.next() % 3)
            for _ in 0..<50 {
                let (a, p) = agent.chooseAction(state: s, using: &g)
                #expect(p > 0)
                let t = Self.step(s, a)
                agent.update(state: s, action: a, reward: t.reward, nextState: t.next)
                s = t.next
            }
        }
        #expect((0..<3).map { agent.greedyAction(state: $0) } == optimal)
        #expect(abs(agent.value(state: 2, action: 0) - 10) < 1.0)
        #expect(abs(agent.actionProbabilities(state: 0).reduce(0, +) - 1) < 1e-12)
    }

    static let discretisationTable: [(SessionObservation, Int)] = [
        (SessionObservation(impressions: 0, clicks: 0, depth: 0, recentReward: nil), 0),
        (SessionObservation(impressions: 10, clicks: 1, depth: 3, recentReward: 0), 16),   // 1*12 + 1*3 + 1
        (SessionObservation(impressions: 10, clicks: 2, depth: 7, recentReward: 1), 32),   // 2*12 + 2*3 + 2
        (SessionObservation(impressions: 4, clicks: 4, depth: 30, recentReward: 0.5), 47), // 3*12 + 3*3 + 2
    ]

    @Test(arguments: discretisationTable)
    func sessionObservationsDiscretiseAsDocumented(observation: SessionObservation, state: Int) {
        #expect(observation.stateIndex == state)
        #expect((0..<SessionObservation.stateCount).contains(observation.stateIndex))
    }

    @Test func sessionAgentPrefersTheStrategyThatPays() {
        var agent = SessionStrategyAgent(discount: 0.5)
        var g = SeededRandom(seed: 9)
        let start = SessionObservation(impressions: 0, clicks: 0, depth: 0, recentReward: nil)
        for _ in 0..<3_000 {
            let (strategy, _) = agent.chooseStrategy(for: start, using: &g)
            let reward = strategy == .similarToLast ? 1.0 : (g.nextUnitDouble() < 0.3 ? 1 : 0)
            agent.learn(from: start, strategy: strategy, reward: reward, next: nil)
        }
        #expect(agent.bestStrategy(for: start) == .similarToLast)
        #expect(agent.strategyValues(for: start)[.similarToLast]! > 0.9)
        #expect(agent.describe().updateCount == 3_000)
    }
}
