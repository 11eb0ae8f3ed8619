// Property tests of every window aggregator against a brute-force reference over random streams
// with late and out-of-order events (fixed seeds), plus exact window-boundary cases.
import Foundation
import Testing
@testable import QuiverCore

@Suite struct FeaturesAggregatorTests {
    static let windows: [FeatureWindow] = [.oneMinute, .fiveMinutes, .oneHour, .oneDay, FeatureWindow(seconds: 90)]

    /// Brute force: the events whose bucket is in the window ending at `now`.
    func inWindow(_ events: [FeatureTestEvent], _ g: WindowGeometry, now: Double) -> [FeatureTestEvent] {
        let nowBucket = g.bucket(of: now)
        return events.filter { g.contains(bucket: g.bucket(of: $0.time), nowBucket: nowBucket) }
    }

    @Test(arguments: windows, [1, 12, 60])
    func windowedStatsMatchBruteForce(window: FeatureWindow, buckets: Int) {
        let g = WindowGeometry(window: window, bucketCount: buckets)
        let stream = featureRandomStream(seed: UInt64(window.seconds) &* 31 &+ UInt64(buckets), count: 3_000)
        var stats = WindowedStats(geometry: g)
        var seen: [FeatureTestEvent] = []
        var rng = FeatureTestRandom(seed: 99)
        var checks = 0
        for (i, e) in stream.enumerated() {
            stats.add(time: e.time, value: e.value)
            seen.append(e)
            guard i % 37 == 0 else { continue }
            let newest = seen.map(\.time).max()!
            for now in [newest, newest + rng.unit() * Double(window.seconds) * 1.5] {
                let reference = inWindow(seen, g, now: now)
                let s = stats.summary(at: now)
                #expect(s.count == Double(reference.count))
                #expect(abs(s.sum - reference.reduce(0) { $0 + $1.value }) < 1e-6)
                #expect(s.min == (reference.map(\.value).min() ?? .infinity))
                #expect(s.max == (reference.map(\.value).max() ?? -.infinity))
                checks += 1
            }
        }
        #expect(checks > 100)
        #expect(stats.bucketsHeld <= g.bucketCount)
    }

    @Test(arguments: [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]])
    func sharedBucketStoreMatchesBruteForceForEveryWindowOrder(order: [Int]) {
        // All windows of a stream share one array; any listing order must give the same answers.
        let listed = [FeatureWindow.oneMinute, .fiveMinutes, .oneHour, .oneDay]
        let windows = order.map { listed[$0] }
        let geometries = windows.map { WindowGeometry(window: $0, bucketCount: 30) }
        var store = WindowBucketStore(windowCount: windows.count)
        let stream = featureRandomStream(seed: UInt64(order.first! + 1), count: 2_500, step: 20)
        var checks = 0
        for (i, e) in stream.enumerated() {
            store.add(time: e.time, value: e.value, geometries: geometries)
            guard i % 61 == 0 else { continue }
            let now = stream.prefix(i + 1).map(\.time).max()! + Double(i % 7) * 40
            for (w, g) in geometries.enumerated() {
                let reference = inWindow(Array(stream.prefix(i + 1)), g, now: now)
                let s = store.summary(window: w, geometries: geometries, at: now)
                #expect(s.count == Double(reference.count), "window \(windows[w])")
                #expect(abs(s.sum - reference.reduce(0) { $0 + $1.value }) < 1e-6)
                checks += 1
            }
        }
        #expect(checks > 100)
        #expect(store.bucketsHeld <= geometries.reduce(0) { $0 + $1.bucketCount })
    }

    @Test(arguments: [1, 5, 7, 60, 1_440, 10_080] as [Int64])
    func timeRangeAgreesWithBucketMath(width: Int64) {
        // `lower <= t < upper` must select exactly the times whose bucket is inside the window,
        // including times one ulp either side of every boundary.
        let g = WindowGeometry(window: FeatureWindow(seconds: width * 60), bucketCount: 60)
        var rng = FeatureTestRandom(seed: UInt64(width))
        for _ in 0..<300 {
            let now = 1_764_000_000 + rng.unit() * 1_000_000
            let nowBucket = g.bucket(of: now)
            let (lower, upper) = g.timeRange(nowBucket: nowBucket)
            var times = [lower, lower.nextDown, lower.nextUp, upper, upper.nextDown, upper.nextUp]
            times += (0..<20).map { _ in now - rng.unit() * Double(width) * 70 }
            times += (0..<5).map { _ in Double(nowBucket - Int64(rng.below(62))) * Double(width) }
            for t in times {
                #expect((t >= lower && t < upper) == g.contains(bucket: g.bucket(of: t), nowBucket: nowBucket), "t=\(t)")
            }
        }
        #expect(g.bucket(of: -0.5) == -1)
        #expect(g.bucket(of: -Double(width)) == -1)
    }

    @Test func windowExpiresExactlyAtTheBucketBoundary() {
        // 1-minute window, 60 one-second buckets: an event at t=100.5 counts until bucket 159.
        let g = WindowGeometry(window: .oneMinute, bucketCount: 60)
        var stats = WindowedStats(geometry: g)
        stats.add(time: 100.5, value: 2)
        #expect(stats.summary(at: 100.5).count == 1)
        #expect(stats.summary(at: 159.999).count == 1)
        #expect(stats.summary(at: 160.0).count == 0)
        #expect(stats.summary(at: 99.9).count == 0, "an event after `now` is not in the window")
    }

    @Test func lateEventInsideTheWindowCountsAndOutsideIsDropped() {
        let g = WindowGeometry(window: .oneHour, bucketCount: 60)
        var stats = WindowedStats(geometry: g)
        stats.add(time: 10_000, value: 1)
        let lateAccepted = stats.add(time: 10_000 - 1_800, value: 5)
        let tooLateAccepted = stats.add(time: 10_000 - 7_200, value: 9)
        #expect(lateAccepted, "30 minutes late is inside a 1h window")
        #expect(!tooLateAccepted, "2 hours late is outside")
        let s = stats.summary(at: 10_000)
        #expect(s.count == 2)
        #expect(s.sum == 6)
        #expect(s.max == 5)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func distinctMatchesBruteForceUnderTheCap(seed: UInt64) {
        let stream = featureRandomStream(seed: seed, count: 2_000, items: 150)
        var tracker = DistinctTracker(cap: 256)
        let geometries = Self.windows.map { WindowGeometry(window: $0, bucketCount: 60) }
        for (i, e) in stream.enumerated() {
            tracker.insert(FeatureHash.fnv1a(e.item), time: e.time, horizon: 86_400)
            guard i % 50 == 0 else { continue }
            let seen = stream.prefix(i + 1)
            let now = seen.map(\.time).max()!
            for g in geometries {
                let reference = Set(inWindow(Array(seen), g, now: now).map(\.item)).count
                #expect(tracker.count(geometry: g, at: now) == reference)
            }
        }
        #expect(!tracker.saturated)
    }

    @Test func distinctStaysWithinItsCapAndSaysSo() {
        var tracker = DistinctTracker(cap: 32)
        for i in 0..<1_000 { tracker.insert(FeatureHash.fnv1a("item-\(i)"), time: Double(i), horizon: 10_000) }
        #expect(tracker.heldCount <= 32)
        #expect(tracker.saturated)
        let g = WindowGeometry(window: FeatureWindow(seconds: 10), bucketCount: 10)
        #expect(tracker.count(geometry: g, at: 999) == 10, "the newest items are the ones kept")
    }

    @Test(arguments: [1, 5, 20])
    func recentItemsKeepTheNewestN(limit: Int) {
        // Distinct times so that "newest N" is unambiguous.
        var rng = FeatureTestRandom(seed: UInt64(limit))
        var times = Array(0..<500).map { Double($0) * 1.5 }
        for i in times.indices.reversed() { times.swapAt(i, rng.below(i + 1)) }
        var recent = RecentItems(limit: limit)
        for (i, t) in times.enumerated() {
            recent.insert(itemID: "item-\(Int(t))", time: t)
            let reference = times.prefix(i + 1).sorted(by: >).prefix(limit).map { "item-\(Int($0))" }
            #expect(recent.entries.map(\.itemID) == Array(reference))
        }
    }

    @Test(arguments: [60.0, 3_600, 86_400])
    func decayedCounterMatchesTheClosedForm(halfLife: Double) {
        let stream = featureRandomStream(seed: UInt64(halfLife), count: 1_000)
        var counter = DecayedCounter(halfLife: halfLife)
        for (i, e) in stream.enumerated() {
            counter.add(at: e.time)
            guard i % 40 == 0 else { continue }
            let now = stream.prefix(i + 1).map(\.time).max()! + halfLife / 3
            var reference = 0.0
            for x in stream.prefix(i + 1) {
                reference += pow(2, -(now - x.time) / halfLife)  // not the counter's exp() path
            }
            #expect(abs(counter.value(at: now) - reference) <= 1e-9 * max(1, reference))
        }
    }

    @Test func decayedCounterHalvesPerHalfLife() {
        var counter = DecayedCounter(halfLife: 100)
        counter.add(at: 1_000)
        counter.add(at: 1_000)
        #expect(abs(counter.value(at: 1_100) - 1) < 1e-12)
        counter.add(at: 900)  // a late event: weight 2 at t=1000
        #expect(abs(counter.value(at: 1_000) - 2.5) < 1e-12)
    }

    @Test(arguments: ["30s", "5m", "1h", "24h", "7d", "90s", "2d"])
    func windowNamesRoundTrip(text: String) throws {
        let window = try #require(FeatureWindow(text))
        #expect(window.name == text)
    }

    @Test(arguments: ["", "0m", "-5m", "1y", "h", "5.5m"])
    func malformedWindowsAreRejected(text: String) {
        #expect(FeatureWindow(text) == nil)
    }
}
