// swift-tools-version:6.1
// Quiver: a real-time personalization server. One executable (`quiver`), our own HTTP/WebSocket
// layer on POSIX sockets, Redis via hiredis, PostgreSQL via libpq, SQLite and zlib from Debian.
// Dependencies point inward: quiver -> QuiverServer -> (QuiverHTTP, QuiverStore) -> QuiverCore.
import Foundation
import PackageDescription

/// The domain core's vector loops (the embedding scan over the catalog, BPR steps) are written
/// on SIMD types; on x86-64 they are compiled for Haswell-class CPUs (AVX2,
/// FMA: every x86 server CPU since 2013) instead of the SSE2 baseline, which runs them at a
/// quarter of the width. QUIVER_TARGET_CPU picks another LLVM CPU name (`x86-64` for the
/// portable baseline, `native` for the build machine).
let cpuSettings: [SwiftSetting] = {
    #if arch(x86_64)
    let cpu = ProcessInfo.processInfo.environment["QUIVER_TARGET_CPU"] ?? "haswell"
    return [.unsafeFlags(["-target-cpu", cpu])]
    #else
    return []
    #endif
}()

/// One set of settings for every target: Swift 6 language mode with strict concurrency.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
] + cpuSettings

let package = Package(
    name: "Quiver",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quiver", targets: ["quiver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // System libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // hiredis.pc adds -D_FILE_OFFSET_BITS=64, a flag SwiftPM refuses (with a warning): the
        // module map names the header by its full path instead (Debian: libhiredis-dev).
        .systemLibrary(name: "CHiredis"),
        .systemLibrary(name: "CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Linux system calls Swift's Glibc module does not export (epoll, eventfd, accept4, thread names).
        .target(name: "CQuiverSystem"),

        // CPU intrinsics Swift cannot emit (prefetch): a header of static inline functions, no library.
        .systemLibrary(name: "CQuiverIntrinsics"),

        // Pure domain: events, features, models, ranking, evaluation. No I/O; the only C import is
        // CQuiverIntrinsics.
        .target(name: "QuiverCore", dependencies: ["CQuiverIntrinsics"], swiftSettings: swiftSettings),

        // Sockets, event loops, HTTP/1.1 codec, router. Knows nothing of recommendations.
        .target(
            name: "QuiverHTTP",
            dependencies: [
                "CZlib", "CQuiverSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),  // SHA-1 of the WebSocket handshake
            ],
            swiftSettings: swiftSettings
        ),

        // The only importer of the database C modules: adapters for SQLite, PostgreSQL, Redis.
        .target(
            name: "QuiverStore",
            dependencies: ["QuiverCore", "CHiredis", "CLibpq", "CSQLite", "CZlib", "CQuiverSystem"],
            swiftSettings: swiftSettings
        ),

        // Wiring: configuration, routes, JSON schemas, readiness.
        .target(
            name: "QuiverServer",
            dependencies: [
                "QuiverCore", "QuiverHTTP", "QuiverStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // The executable: argument parsing and `main`, nothing else.
        .executableTarget(
            name: "quiver",
            dependencies: [
                "QuiverServer", "QuiverHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "QuiverCoreTests", dependencies: ["QuiverCore"], swiftSettings: swiftSettings),
        // Test clients and the real servers' whereabouts, shared by the test targets.
        .target(name: "QuiverTestSupport", dependencies: ["QuiverStore"], path: "Tests/QuiverTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "QuiverHTTPTests", dependencies: ["QuiverHTTP", "CZlib", "QuiverTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "QuiverStoreTests", dependencies: ["QuiverStore", "QuiverTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "QuiverServerTests",
            dependencies: ["QuiverServer", "QuiverHTTP", "QuiverTestSupport"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// In-process benchmarks (ordo-one/benchmark) under Benchmarks/, only when asked for, so that the
// normal build and CI never compile the benchmark harness:
//   QUIVER_BENCHMARKS=1 swift package benchmark
if ProcessInfo.processInfo.environment["QUIVER_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "HTTPCodecBenchmarks",
            dependencies: ["QuiverHTTP", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/HTTPCodec",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ))
    // Plain release executables that print the numbers the closing notes report:
    //   FeatureBench RUNS standard,wide,lean | FeatureBench ml100k DATA/ml-100k RUNS
    //   LearningBench DATA synthetic|replay|ope|perf
    //   RecommendBench [USERS] [REQUESTS] [ROUNDS]
    package.targets.append(.executableTarget(name: "FeatureBench", dependencies: ["QuiverCore"], path: "Benchmarks/FeatureBench"))
    package.targets.append(.executableTarget(name: "LearningBench", dependencies: ["QuiverCore"], path: "Benchmarks/LearningBench"))
    package.targets.append(.executableTarget(name: "RecommendBench", dependencies: ["QuiverCore"], path: "Benchmarks/RecommendBench"))
}
