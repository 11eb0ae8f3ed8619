// HTTPParserFuzz: libFuzzer entry point for the HTTP/1.1 request parser (and the router's
// percent-decoding). Built by scripts/fuzz-http-parser.sh with `swiftc -sanitize=fuzzer,address`
// together with the parser's sources. Beyond "never crash" it checks two invariants:
//   1. a parser never claims more bytes than it was given;
//   2. the verdict does not depend on how the bytes were split (whole vs. two chunks).

let fuzzLimits = HTTPParserLimits(maxRequestLineBytes: 256, maxHeaderBytes: 1024, maxHeaderCount: 16, maxBodyBytes: 2048)

/// A comparable summary of what the parser produced.
enum Outcome: Equatable {
    case request(method: String, path: String, query: String?, headers: Int, body: [UInt8])
    case failure(Int)
}

func run(_ chunks: [[UInt8]]) -> [Outcome] {
    var parser = HTTPRequestParser(limits: fuzzLimits)
    var pending: [UInt8] = []
    var outcomes: [Outcome] = []
    for chunk in chunks {
        pending += chunk
        loop: while true {
            let count = pending.count
            let (consumed, event) = pending.withUnsafeBufferPointer { parser.parse($0) }
            precondition(consumed >= 0 && consumed <= count, "consumed \(consumed) of \(count)")
            pending.removeFirst(consumed)
            switch event {
            case .needMoreData: break loop
            case .expectsContinue: continue
            case .request(let request):
                precondition(request.body.count <= fuzzLimits.maxBodyBytes)
                outcomes.append(.request(method: request.method.rawValue, path: request.path, query: request.query,
                                         headers: request.headers.count, body: request.body))
                // What the router does with a path: split it and decode each segment.
                for segment in request.path.split(separator: "/", omittingEmptySubsequences: false) {
                    _ = try? PercentDecoding.decode(segment)
                }
                _ = try? request.queryParameters()
            case .failure(let error):
                precondition(error.status.code >= 400 && error.status.code < 600)
                outcomes.append(.failure(error.status.code))
                return outcomes
            }
        }
    }
    return outcomes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = run([bytes])
    if size > 1 {
        let cut = Int(bytes[0]) % size
        let split = run([Array(bytes[..<cut]), Array(bytes[cut...])])
        precondition(whole == split, "verdict depends on the split at \(cut): \(whole) vs \(split)")
    }
    return 0
}
