// swift-tools-version:6.1
// Quiver's in-process benchmarks (ordo-one/benchmark), a package of its own so that the main
// build and CI never compile the benchmark harness. Run: cd Benchmarks && swift package benchmark
// Server-level benchmarks (wrk against the running server, side by side with the peers) live in
// scripts/bench-*.sh.
import PackageDescription

let package = Package(
    name: "QuiverBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "HTTPCodec",
            dependencies: [
                .product(name: "QuiverHTTP", package: "Quiver"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "HTTPCodec",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
