// HTTPRequestParser+Head: finding the end of a request head, and parsing the request line, the
// header fields and the chunk-size lines. Everything here is a pure function of the bytes given.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let CR: UInt8 = 0x0D
let LF: UInt8 = 0x0A
let SP: UInt8 = 0x20
let HTAB: UInt8 = 0x09

/// How the body of a request is framed.
enum BodyFraming: Sendable { case none, length(Int), chunked }

enum HeadScan {
    case incomplete(scanned: Int, skipped: Int)
    case complete(headEnd: Int, requestLineEnd: Int, skipped: Int)
    case failure(HTTPParseError)
}

/// The `tchar` set of RFC 9110 section 5.6.2, as a 256-entry table.
let isTokenChar: [Bool] = (0..<256).map { b in
    switch UInt8(b) {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(b))
    }
}

/// Bytes allowed in a field value: HTAB, SP, VCHAR, obs-text.
@inline(__always) func isFieldValueChar(_ b: UInt8) -> Bool {
    b == HTAB || (b >= 0x20 && b != 0x7F)
}

@inline(__always) func indexOfLF(_ buf: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
    guard from < buf.count, let base = buf.baseAddress else { return nil }
    guard let hit = memchr(base + from, Int32(LF), buf.count - from) else { return nil }
    return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
}

extension HTTPRequestParser {
    /// Looks for the blank line ending the head, rejecting bare LF as soon as it is seen.
    mutating func scanHead(_ buffer: UnsafeBufferPointer<UInt8>, from scanned: Int) -> HeadScan {
        var skipped = 0
        if scanned == 0 {
            // RFC 9112 section 2.2: ignore empty lines before the request line, but only a few
            // (counted across calls, so the verdict does not depend on how the bytes arrive).
            while buffer.count - skipped >= 2 && buffer[skipped] == CR && buffer[skipped + 1] == LF {
                skipped += 2
                leadingBlankLines += 1
                if leadingBlankLines > Self.maxLeadingBlankLines {
                    return .failure(.bad("more than \(Self.maxLeadingBlankLines) empty lines before the request line"))
                }
            }
        }
        let b = UnsafeBufferPointer(rebasing: buffer[skipped...])
        if scanned == 0 && b.count == 1 && b[0] == CR {
            return .incomplete(scanned: 0, skipped: skipped)  // maybe the start of another blank line
        }
        var i = scanned
        while let lf = indexOfLF(b, from: i) {
            guard lf > 0, b[lf - 1] == CR else { return .failure(.bad("bare LF in request head")) }
            if lf >= 3 && b[lf - 2] == LF && b[lf - 3] == CR {
                leadingBlankLines = 0
                let requestLineEnd = indexOfLF(b, from: 0)! - 1
                return .complete(headEnd: skipped + lf + 1, requestLineEnd: skipped + requestLineEnd, skipped: skipped)
            }
            i = lf + 1
        }
        if b.count > limits.maxRequestLineBytes + 1 {
            let window = UnsafeBufferPointer(rebasing: b[..<(limits.maxRequestLineBytes + 2)])
            if indexOfLF(window, from: 0) == nil {
                return .failure(HTTPParseError(status: .uriTooLong, code: "uri_too_long",
                                               message: "request line exceeds \(limits.maxRequestLineBytes) bytes"))
            }
        }
        if b.count > limits.maxHeaderBytes {
            return .failure(HTTPParseError(status: .requestHeaderFieldsTooLarge, code: "headers_too_large",
                                           message: "request head exceeds \(limits.maxHeaderBytes) bytes"))
        }
        return .incomplete(scanned: b.count, skipped: skipped)
    }

    /// Parses a complete head (ending with CRLF CRLF) into a request and its body framing.
    mutating func parseHead(
        _ head: UnsafeBufferPointer<UInt8>, requestLineEnd: Int
    ) -> Result<(HTTPRequest, BodyFraming), HTTPParseError> {
        if requestLineEnd > limits.maxRequestLineBytes {
            return .failure(HTTPParseError(status: .uriTooLong, code: "uri_too_long",
                                           message: "request line exceeds \(limits.maxRequestLineBytes) bytes"))
        }
        if head.count > limits.maxHeaderBytes {
            return .failure(HTTPParseError(status: .requestHeaderFieldsTooLarge, code: "headers_too_large",
                                           message: "request head exceeds \(limits.maxHeaderBytes) bytes"))
        }
        let line = UnsafeBufferPointer(rebasing: head[..<requestLineEnd])
        let requestLine: (HTTPMethod, String, HTTPVersion)
        switch Self.parseRequestLine(line) {
        case .failure(let e): return .failure(e)
        case .success(let parsed): requestLine = parsed
        }
        let (method, target, version) = requestLine

        // Header fields: from after the request line's CRLF to before the final CRLF.
        var fields: [HTTPHeaders.Element] = []
        var lineStart = requestLineEnd + 2
        let end = head.count - 2
        while lineStart < end {
            let lf = indexOfLF(head, from: lineStart)!
            let fieldLine = UnsafeBufferPointer(rebasing: head[lineStart..<lf - 1])
            switch Self.parseField(fieldLine) {
            case .failure(let e): return .failure(e)
            case .success(let field): fields.append(field)
            }
            if fields.count > limits.maxHeaderCount {
                return .failure(HTTPParseError(status: .requestHeaderFieldsTooLarge, code: "too_many_headers",
                                               message: "more than \(limits.maxHeaderCount) header fields"))
            }
            lineStart = lf + 1
        }
        let headers = HTTPHeaders(lowercasedFields: fields)
        var request = HTTPRequest(method: method, target: target, version: version, headers: headers)
        if let first = target.utf8.first, first != UInt8(ascii: "/"), target != "*" {
            request.path = Self.pathOfAbsoluteForm(target)
            request.query = target.firstIndex(of: "?").map { String(target[target.index(after: $0)...]) }
        }

        // Host: exactly one in HTTP/1.1 (RFC 9112 section 3.2), at most one in HTTP/1.0.
        var hostCount = 0
        var contentLengths: [String] = []
        var transferCodings: [Substring] = []
        var expectation: String?
        for field in fields {
            switch field.name {
            case "host": hostCount += 1
            case "content-length": contentLengths.append(field.value)
            case "transfer-encoding":
                transferCodings += field.value.split(separator: ",").map { $0.trimmingASCIIWhitespace() }
            case "expect": expectation = field.value
            default: break
            }
        }
        if hostCount > 1 || (hostCount == 0 && version == .http1_1) {
            return .failure(.bad(hostCount == 0 ? "missing Host header" : "more than one Host header"))
        }

        var framing = BodyFraming.none
        if !transferCodings.isEmpty {
            if !contentLengths.isEmpty { return .failure(.bad("both Content-Length and Transfer-Encoding")) }
            if version == .http1_0 { return .failure(.bad("Transfer-Encoding in an HTTP/1.0 request")) }
            let lower = transferCodings.map { $0.lowercased() }
            guard lower.last == "chunked", lower.filter({ $0 == "chunked" }).count == 1 else {
                return .failure(.bad("Transfer-Encoding must end with a single 'chunked'"))
            }
            if lower.count > 1 {
                return .failure(HTTPParseError(status: .notImplemented, code: "unsupported_transfer_coding",
                                               message: "transfer coding '\(lower[0])' is not supported"))
            }
            framing = .chunked
        } else if !contentLengths.isEmpty {
            if contentLengths.count > 1 { return .failure(.bad("more than one Content-Length header")) }
            let value = contentLengths[0]
            guard !value.isEmpty, value.utf8.count <= 18, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let length = Int(value) else {
                return .failure(.bad("invalid Content-Length '\(value)'"))
            }
            if length > limits.maxBodyBytes {
                return .failure(HTTPParseError(status: .contentTooLarge, code: "body_too_large",
                                               message: "request body exceeds \(limits.maxBodyBytes) bytes"))
            }
            if length > 0 { framing = .length(length) }
        }

        if let expectation {
            guard expectation.lowercased() == "100-continue" else {
                return .failure(HTTPParseError(status: .expectationFailed, code: "expectation_failed",
                                               message: "unsupported expectation '\(expectation)'"))
            }
            if case .none = framing {} else if version == .http1_1 { expectsContinue = true }
        }
        return .success((request, framing))
    }

    /// `method SP request-target SP HTTP-version`, exactly.
    static func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>) -> Result<(HTTPMethod, String, HTTPVersion), HTTPParseError> {
        guard let sp1 = line.firstIndex(of: SP), sp1 > 0 else { return .failure(.bad("malformed request line")) }
        for i in 0..<sp1 where !isTokenChar[Int(line[i])] {
            return .failure(.bad("invalid character in method"))
        }
        guard let sp2Rel = UnsafeBufferPointer(rebasing: line[(sp1 + 1)...]).firstIndex(of: SP) else {
            return .failure(.bad("malformed request line"))
        }
        let sp2 = sp1 + 1 + sp2Rel
        guard sp2 > sp1 + 1 else { return .failure(.bad("empty request target")) }
        for i in (sp1 + 1)..<sp2 where line[i] <= 0x20 || line[i] >= 0x7F {
            return .failure(.bad("invalid character in request target"))
        }
        let versionBytes = UnsafeBufferPointer(rebasing: line[(sp2 + 1)...])
        guard versionBytes.count == 8,
              versionBytes[0] == UInt8(ascii: "H"), versionBytes[1] == UInt8(ascii: "T"),
              versionBytes[2] == UInt8(ascii: "T"), versionBytes[3] == UInt8(ascii: "P"),
              versionBytes[4] == UInt8(ascii: "/"), versionBytes[6] == UInt8(ascii: "."),
              (0x30...0x39).contains(versionBytes[5]), (0x30...0x39).contains(versionBytes[7]) else {
            return .failure(.bad("malformed HTTP version"))
        }
        let version = HTTPVersion(major: Int(versionBytes[5] - 0x30), minor: Int(versionBytes[7] - 0x30))
        guard version == .http1_1 || version == .http1_0 else {
            return .failure(HTTPParseError(status: .httpVersionNotSupported, code: "http_version_not_supported",
                                           message: "\(version) is not supported; use HTTP/1.1"))
        }
        let method = HTTPMethod(String(decoding: UnsafeBufferPointer(rebasing: line[..<sp1]), as: UTF8.self))
        let target = String(decoding: UnsafeBufferPointer(rebasing: line[(sp1 + 1)..<sp2]), as: UTF8.self)
        let first = line[sp1 + 1]
        if first == UInt8(ascii: "/") {
            return .success((method, target, version))
        }
        if target == "*" {
            guard method == .options else { return .failure(.bad("'*' target is only allowed with OPTIONS")) }
            return .success((method, target, version))
        }
        let lower = target.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            return .success((method, target, version))
        }
        return .failure(.bad("unsupported request target form"))
    }

    /// The path (and query) of an absolute-form target `http://host[:port]/path?query`.
    static func pathOfAbsoluteForm(_ target: String) -> String {
        guard let scheme = target.firstRange(of: "://") else { return "/" }
        let rest = target[scheme.upperBound...]
        guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let pathAndQuery = rest[slash...]
        let path = pathAndQuery.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return path.isEmpty ? "/" : String(path)
    }

    /// `field-name ":" OWS field-value OWS`; no whitespace before the colon, no obs-fold.
    static func parseField(_ line: UnsafeBufferPointer<UInt8>) -> Result<HTTPHeaders.Element, HTTPParseError> {
        guard let first = line.first else { return .failure(.bad("empty header line")) }
        if first == SP || first == HTAB { return .failure(.bad("obsolete line folding is not allowed")) }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
            return .failure(.bad("header line without a field name and colon"))
        }
        for i in 0..<colon where !isTokenChar[Int(line[i])] {
            return .failure(.bad("invalid character in header field name"))
        }
        var start = colon + 1
        var end = line.count
        while start < end && (line[start] == SP || line[start] == HTAB) { start += 1 }
        while end > start && (line[end - 1] == SP || line[end - 1] == HTAB) { end -= 1 }
        for i in start..<end where !isFieldValueChar(line[i]) {
            return .failure(.bad("invalid character in header field value"))
        }
        let name = String(unsafeUninitializedCapacity: colon) { out in
            for i in 0..<colon {
                let c = line[i]
                out[i] = (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c
            }
            return colon
        }
        let value = String(decoding: UnsafeBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
        return .success((name: name, value: value))
    }

    /// `chunk-size [ chunk-ext ]` (the line without its CRLF, which must be there).
    func parseChunkSize(_ lineWithCR: UnsafeBufferPointer<UInt8>) -> Result<Int, HTTPParseError> {
        guard let last = lineWithCR.last, last == CR else { return .failure(.bad("chunk size line not terminated by CRLF")) }
        let line = UnsafeBufferPointer(rebasing: lineWithCR[..<(lineWithCR.count - 1)])
        var size = 0
        var i = 0
        while i < line.count, let digit = PercentDecoding.hexValue(line[i]) {
            if i >= 15 { return .failure(.bad("chunk size too long")) }
            size = size << 4 | Int(digit)
            i += 1
        }
        if i == 0 { return .failure(.bad("invalid chunk size")) }
        // Optional chunk extensions: BWS ";" ...; validated as visible characters, then ignored.
        var j = i
        while j < line.count && (line[j] == SP || line[j] == HTAB) { j += 1 }
        if j < line.count {
            guard line[j] == UInt8(ascii: ";") else { return .failure(.bad("invalid chunk size")) }
            for k in j..<line.count where !isFieldValueChar(line[k]) {
                return .failure(.bad("invalid character in chunk extension"))
            }
        } else if j != i {
            return .failure(.bad("invalid chunk size"))
        }
        return .success(size)
    }
}
