// HTTPRequestParserTests: the parser against valid requests fed whole, byte by byte and split at
// every boundary, and against every malformed or oversized shape the server must refuse.
import QuiverTestSupport
import Testing
@testable import QuiverHTTP

/// Feeds `chunks` to a parser the way a connection does (unconsumed bytes are kept and re-fed).
func parseAll(_ chunks: [[UInt8]], limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPRequestParser.Event] {
    var parser = HTTPRequestParser(limits: limits)
    var pending: [UInt8] = []
    var events: [HTTPRequestParser.Event] = []
    for chunk in chunks {
        pending += chunk
        while true {
            let (consumed, event) = pending.withUnsafeBufferPointer { parser.parse($0) }
            pending.removeFirst(consumed)
            switch event {
            case .needMoreData: break
            case .failure: events.append(event); return events
            default: events.append(event); continue
            }
            break
        }
    }
    return events
}

func requests(_ events: [HTTPRequestParser.Event]) -> [HTTPRequest] {
    events.compactMap { if case .request(let r) = $0 { return r } else { return nil } }
}

func failure(_ events: [HTTPRequestParser.Event]) -> HTTPParseError? {
    for case .failure(let e) in events { return e }
    return nil
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct HTTPRequestParserTests {
    static let validRequests: [(String, String, String, [UInt8])] = [
        ("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/hello", []),
        ("POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", "POST", "/echo", bytes("hello")),
        ("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
         "POST", "/c", bytes("hello world")),
        ("GET / HTTP/1.0\r\n\r\n", "GET", "/", []),
        ("\r\nGET /after-blank HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/after-blank", []),
        ("GET http://example.com:8080/abs/path?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", "/abs/path", []),
        ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS", "*", []),
        ("PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "PUT", "/x", bytes("abc")),
    ]

    @Test(arguments: validRequests.indices)
    func parsesValidRequestWhole(_ index: Int) throws {
        let (raw, method, path, body) = Self.validRequests[index]
        let parsed = requests(parseAll([bytes(raw)]))
        let request = try #require(parsed.first)
        #expect(parsed.count == 1)
        #expect(request.method.rawValue == method)
        #expect(request.path == path)
        #expect(request.body == body)
    }

    @Test(arguments: validRequests.indices)
    func parsesValidRequestSplitAtEveryBoundary(_ index: Int) throws {
        let (raw, method, path, body) = Self.validRequests[index]
        let all = bytes(raw)
        for cut in 0...all.count {
            let parsed = requests(parseAll([Array(all[..<cut]), Array(all[cut...])]))
            #expect(parsed.count == 1, "split at \(cut)")
            #expect(parsed.first?.method.rawValue == method, "split at \(cut)")
            #expect(parsed.first?.path == path, "split at \(cut)")
            #expect(parsed.first?.body == body, "split at \(cut)")
        }
        let byteByByte = requests(parseAll(all.map { [$0] }))
        #expect(byteByByte.count == 1)
        #expect(byteByByte.first?.body == body)
    }

    @Test func parsesPipelinedRequestsInOrder() {
        let raw = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: a\r\n\r\n"
        let all = bytes(raw)
        for cut in 0...all.count {
            let parsed = requests(parseAll([Array(all[..<cut]), Array(all[cut...])]))
            #expect(parsed.map(\.path) == ["/1", "/2", "/3"], "split at \(cut)")
            #expect(parsed.count == 3 && parsed[1].body == bytes("hi"))
        }
    }

    @Test func keepsHeadersLowercasedAndTrimmed() throws {
        let request = try #require(requests(parseAll([bytes("GET / HTTP/1.1\r\nHost: a\r\nX-Thing:   v a l  \r\nACCEPT: */*\r\n\r\n")])).first)
        #expect(request.headers["x-thing"] == "v a l")
        #expect(request.headers["accept"] == "*/*")
        #expect(request.query == nil)
    }

    @Test func splitsPathAndQuery() throws {
        let request = try #require(requests(parseAll([bytes("GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: a\r\n\r\n")])).first)
        #expect(request.path == "/a/b")
        #expect(request.query == "x=1&y=%20")
        let query = try request.queryParameters()
        #expect(query["y"] == " ")
    }

    @Test func keepAliveFollowsVersionAndConnectionHeader() throws {
        func keepAlive(_ raw: String) throws -> Bool { try #require(requests(parseAll([bytes(raw)])).first).wantsKeepAlive }
        #expect(try keepAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.0\r\n\r\n"))
        #expect(try keepAlive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
    }

    @Test func signalsExpectContinueBeforeTheBody() {
        let head = bytes("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        let events = parseAll([head, bytes("abc")])
        #expect(events.count == 2)
        if case .expectsContinue = events.first {} else { Issue.record("expected expectsContinue first, got \(events)") }
        #expect(requests(events).first?.body == bytes("abc"))
        // When the body is already there, no interim response is needed.
        #expect(requests(parseAll([head + bytes("abc")])).count == 1)
    }

    static let refused: [(String, String, Int)] = [
        ("duplicate Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
        ("conflicting Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
        ("Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
        ("signed Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400),
        ("CL with TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("TE not ending in chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        ("TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("TE other coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400),
        ("bare LF in head", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400),
        ("bare LF terminator", "GET / HTTP/1.1\r\nHost: a\n\n", 400),
        ("bare CR in value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400),
        ("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        ("invalid name char", "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 400),
        ("NUL in value", "GET / HTTP/1.1\r\nHost: a\u{0}b\r\n\r\n", 400),
        ("missing Host", "GET / HTTP/1.1\r\n\r\n", 400),
        ("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("invalid method char", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400),
        ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
        ("relative target", "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("star without OPTIONS", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("bad chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("chunk without CRLF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400),
        ("chunk size overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400),
        ("negative chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400),
        ("bad trailer", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", 400),
        ("too many blank lines first", String(repeating: "\r\n", count: 9) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("unknown expectation", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417),
    ]

    @Test(arguments: refused.indices)
    func refusesMalformedRequests(_ index: Int) {
        let (name, raw, status) = Self.refused[index]
        let error = failure(parseAll([bytes(raw)]))
        #expect(error?.status.code == status, "\(name): \(String(describing: error))")
        // The same verdict whatever the split.
        let all = bytes(raw)
        for cut in stride(from: 1, to: all.count, by: 3) {
            let split = failure(parseAll([Array(all[..<cut]), Array(all[cut...])]))
            #expect(split?.status.code == status, "\(name) split at \(cut)")
        }
    }

    @Test func refusesTooLongRequestLineWith414() {
        let limits = HTTPParserLimits(maxRequestLineBytes: 64)
        let long = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(failure(parseAll([bytes(long)], limits: limits))?.status.code == 414)
        // Also before the line ends: the parser does not wait for an endless line.
        let partial = "GET /" + String(repeating: "a", count: 100)
        #expect(failure(parseAll([bytes(partial)], limits: limits))?.status.code == 414)
    }

    @Test func refusesTooLargeHeadWith431() {
        let limits = HTTPParserLimits(maxHeaderBytes: 256)
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 300) + "\r\n\r\n"
        #expect(failure(parseAll([bytes(big)], limits: limits))?.status.code == 431)
        let partial = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 300)
        #expect(failure(parseAll([bytes(partial)], limits: limits))?.status.code == 431)
    }

    @Test func refusesTooManyHeadersWith431() {
        let limits = HTTPParserLimits(maxHeaderCount: 5)
        let raw = "GET / HTTP/1.1\r\nHost: a\r\n" + (0..<6).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        #expect(failure(parseAll([bytes(raw)], limits: limits))?.status.code == 431)
    }

    @Test func refusesTooLargeBodiesWith413() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        #expect(failure(parseAll([bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n")], limits: limits))?.status.code == 413)
        let chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n"
        #expect(failure(parseAll([bytes(chunked)], limits: limits))?.status.code == 413)
        let exactly = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"
        #expect(requests(parseAll([bytes(exactly)], limits: limits)).first?.body.count == 10)
    }

    @Test func staysFailedAfterAnError() {
        var parser = HTTPRequestParser()
        let bad = bytes("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        _ = bad.withUnsafeBufferPointer { parser.parse($0) }
        let good = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let (_, event) = good.withUnsafeBufferPointer { parser.parse($0) }
        guard case .failure = event else { Issue.record("a failed parser must not parse further requests"); return }
    }

    @Test func reportsIdleAndBodyStates() {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        let head = bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab")
        let (consumed, _) = head.withUnsafeBufferPointer { parser.parse($0) }
        #expect(consumed == head.count)
        #expect(parser.isReadingBody)
        #expect(!parser.isIdle)
    }
}
