// HTTPRequestParser: an incremental, strict HTTP/1.1 request parser (RFC 9112), a pure function
// over bytes. The caller feeds every unconsumed byte each time; the parser says how many it used.
// Invariant: it refuses anything that could let two parties frame a request differently
// (smuggling): bare CR/LF, obs-fold, duplicate or conflicting Content-Length, CL with TE, bad tokens.

/// Size limits the parser enforces; each maps to its own status code.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line (method, target, version) -> 414.
    public var maxRequestLineBytes: Int
    /// Largest head (request line and header fields) -> 431.
    public var maxHeaderBytes: Int
    /// Most header fields -> 431.
    public var maxHeaderCount: Int
    /// Largest body, declared or chunked -> 413.
    public var maxBodyBytes: Int

    public init(
        maxRequestLineBytes: Int = 8192, maxHeaderBytes: Int = 16384,
        maxHeaderCount: Int = 100, maxBodyBytes: Int = 1 << 20
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Why a request was refused: the status to answer with, a stable code and a message.
public struct HTTPParseError: Error, Sendable, Equatable {
    public let status: HTTPStatus
    public let code: String
    public let message: String

    static func bad(_ message: String) -> HTTPParseError {
        HTTPParseError(status: .badRequest, code: "bad_request", message: message)
    }

    /// The JSON error response for this failure.
    public var response: HTTPResponse { .error(status, code: code, message: message) }
}

public struct HTTPRequestParser: Sendable {
    /// What one call to `parse` produced.
    public enum Event: Sendable {
        /// Every byte given was used or kept; feed more.
        case needMoreData
        /// The head asked for `Expect: 100-continue` and its body has not arrived yet.
        case expectsContinue
        /// A complete request.
        case request(HTTPRequest)
        /// A malformed or oversized request: answer with the error, then close.
        case failure(HTTPParseError)
    }

    enum State: Sendable {
        case head(scanned: Int)
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(scanned: Int, lineStart: Int, bytes: Int)
        case failed(HTTPParseError)
    }

    public let limits: HTTPParserLimits
    var state: State = .head(scanned: 0)
    var pending: HTTPRequest?
    var expectsContinue = false
    /// Empty lines skipped before the current request line (bounded by `maxLeadingBlankLines`).
    var leadingBlankLines = 0
    static let maxLeadingBlankLines = 8

    public init(limits: HTTPParserLimits = HTTPParserLimits()) { self.limits = limits }

    /// Whether the parser is between requests (no partial request buffered).
    public var isIdle: Bool {
        if case .head(let scanned) = state { return scanned == 0 }
        return false
    }

    /// Whether a request head has been parsed and its body is being read.
    public var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunkSize, .chunkData, .chunkDataEnd, .trailers: return true
        default: return false
        }
    }

    /// Parses from the start of `buffer` (the bytes not yet consumed).
    /// - Returns: how many bytes at the front of `buffer` are consumed, and what they produced.
    public mutating func parse(_ buffer: UnsafeBufferPointer<UInt8>) -> (consumed: Int, event: Event) {
        var offset = 0
        while true {
            switch state {
            case .failed(let error):
                return (offset, .failure(error))

            case .head(let scanned):
                let view = UnsafeBufferPointer(rebasing: buffer[offset...])
                switch scanHead(view, from: scanned) {
                case .incomplete(let newScanned, let skipped):
                    state = .head(scanned: newScanned)
                    return (offset + skipped, .needMoreData)
                case .failure(let error):
                    return fail(error, consumed: offset)
                case .complete(let headEnd, let requestLineEnd, let skipped):
                    let headView = UnsafeBufferPointer(rebasing: view[skipped..<headEnd])
                    offset += headEnd
                    switch parseHead(headView, requestLineEnd: requestLineEnd - skipped) {
                    case .failure(let error):
                        return fail(error, consumed: offset)
                    case .success(let (request, framing)):
                        switch framing {
                        case .none:
                            state = .head(scanned: 0)
                            return (offset, .request(request))
                        case .length(let n):
                            pending = request
                            pending!.body.reserveCapacity(n)
                            state = .fixedBody(remaining: n)
                        case .chunked:
                            pending = request
                            state = .chunkSize
                        }
                        if expectsContinue && offset == buffer.count {
                            expectsContinue = false
                            return (offset, .expectsContinue)
                        }
                        expectsContinue = false
                    }
                }

            case .fixedBody(let remaining):
                let take = min(remaining, buffer.count - offset)
                if take > 0 {
                    pending!.body.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[offset..<offset + take]))
                    offset += take
                }
                if take == remaining { return finishRequest(consumed: offset) }
                state = .fixedBody(remaining: remaining - take)
                return (offset, .needMoreData)

            case .chunkSize:
                let view = UnsafeBufferPointer(rebasing: buffer[offset...])
                guard let lf = view.firstIndex(of: 0x0A) else {
                    if view.count > 4096 { return fail(.bad("chunk size line too long"), consumed: offset) }
                    return (offset, .needMoreData)
                }
                switch parseChunkSize(UnsafeBufferPointer(rebasing: view[..<lf])) {
                case .failure(let error): return fail(error, consumed: offset)
                case .success(let size):
                    offset += lf + 1
                    if size > limits.maxBodyBytes - pending!.body.count {
                        return fail(.init(status: .contentTooLarge, code: "body_too_large",
                                          message: "request body exceeds \(limits.maxBodyBytes) bytes"), consumed: offset)
                    }
                    state = size == 0 ? .trailers(scanned: 0, lineStart: 0, bytes: 0) : .chunkData(remaining: size)
                }

            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - offset)
                if take > 0 {
                    pending!.body.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[offset..<offset + take]))
                    offset += take
                }
                if take < remaining {
                    state = .chunkData(remaining: remaining - take)
                    return (offset, .needMoreData)
                }
                state = .chunkDataEnd

            case .chunkDataEnd:
                if buffer.count - offset < 2 {
                    if buffer.count - offset == 1 && buffer[offset] != 0x0D {
                        return fail(.bad("chunk data not followed by CRLF"), consumed: offset)
                    }
                    return (offset, .needMoreData)
                }
                guard buffer[offset] == 0x0D && buffer[offset + 1] == 0x0A else {
                    return fail(.bad("chunk data not followed by CRLF"), consumed: offset)
                }
                offset += 2
                state = .chunkSize

            case .trailers(var scanned, var lineStart, let bytes):
                let view = UnsafeBufferPointer(rebasing: buffer[offset...])
                while let lfRel = UnsafeBufferPointer(rebasing: view[scanned...]).firstIndex(of: 0x0A) {
                    let lf = scanned + lfRel
                    guard lf > lineStart, view[lf - 1] == 0x0D else {
                        return fail(.bad("trailer line not terminated by CRLF"), consumed: offset)
                    }
                    if lf - 1 == lineStart {  // empty line: end of the trailer section
                        offset += lf + 1
                        return finishRequest(consumed: offset)
                    }
                    let line = UnsafeBufferPointer(rebasing: view[lineStart..<lf - 1])
                    if case .failure(let error) = HTTPRequestParser.parseField(line) {
                        return fail(error, consumed: offset)
                    }
                    lineStart = lf + 1
                    scanned = lf + 1
                }
                if bytes + view.count > limits.maxHeaderBytes {
                    return fail(.init(status: .requestHeaderFieldsTooLarge, code: "trailers_too_large",
                                      message: "trailer section exceeds \(limits.maxHeaderBytes) bytes"), consumed: offset)
                }
                // Trailer lines seen so far are validated: drop them and keep the partial line.
                offset += lineStart
                state = .trailers(scanned: scanned - lineStart, lineStart: 0, bytes: bytes + lineStart)
                return (offset, .needMoreData)
            }
        }
    }

    private mutating func fail(_ error: HTTPParseError, consumed: Int) -> (consumed: Int, event: Event) {
        state = .failed(error)
        pending = nil
        return (consumed, .failure(error))
    }

    private mutating func finishRequest(consumed: Int) -> (consumed: Int, event: Event) {
        let request = pending!
        pending = nil
        state = .head(scanned: 0)
        return (consumed, .request(request))
    }
}
