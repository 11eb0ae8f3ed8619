// HTTPCodec benchmarks: the per-request CPU cost of the HTTP layer without sockets: parsing a
// typical wrk GET, a JSON POST and a chunked POST; routing a path with a parameter; encoding a
// small JSON response. Wall clock, instructions and mallocs per operation.
import Benchmark
import QuiverHTTP

let getRequest = Array("GET /api/v1/features/realtime/u42 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n".utf8)
let postRequest = Array(("POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
    + "Content-Length: 23\r\n\r\n{\"user_id\":\"u1\",\"n\":10}").utf8)
let chunkedRequest = Array(("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    + "10\r\n0123456789abcdef\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n").utf8)

func parseOne(_ bytes: [UInt8]) -> HTTPRequest? {
    var parser = HTTPRequestParser()
    let (_, event) = bytes.withUnsafeBufferPointer { parser.parse($0) }
    if case .request(let request) = event { return request }
    return nil
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .instructions, .mallocCountTotal, .throughput]
    let configuration = Benchmark.Configuration(metrics: metrics, maxDuration: .seconds(2), maxIterations: 1_000_000)

    Benchmark("Parse GET", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(parseOne(getRequest)) }
    }
    Benchmark("Parse POST with JSON body", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(parseOne(postRequest)) }
    }
    Benchmark("Parse chunked POST", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(parseOne(chunkedRequest)) }
    }

    var router = Router()
    router.get("/api/v1/features/realtime/{user_id}") { _ in HTTPResponse() }
    router.get("/health") { _ in HTTPResponse() }
    let routed = parseOne(getRequest)!
    Benchmark("Route a parameter path", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            var request = routed
            blackHole(router.resolve(&request))
        }
    }

    let response = HTTPResponse.json(Array(#"{"user_id":"u1","items":[{"id":"i1","score":0.5}]}"#.utf8))
    let date = HTTPDate.headerLine(1_764_000_000)
    Benchmark("Encode a small JSON response", configuration: configuration) { benchmark in
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        for _ in benchmark.scaledIterations {
            out.removeAll(keepingCapacity: true)
            HTTPResponseEncoder.encode(response, isHead: false, keepAlive: true, date: date, into: &out)
            blackHole(out)
        }
    }
}
