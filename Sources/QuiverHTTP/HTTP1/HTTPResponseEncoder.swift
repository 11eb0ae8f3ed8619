// HTTPResponseEncoder: serialises responses into a connection's output buffer. Every response
// gets Date and (unless its status forbids a body) Content-Length; HEAD gets the length without
// the body. Status lines are pre-encoded once per status code.

/// Writes HTTP/1.1 responses as bytes.
public enum HTTPResponseEncoder {
    /// Appends the encoded response to `out`.
    /// - Parameters:
    ///   - response: the response; its `content-length` and `date` fields are set here.
    ///   - isHead: the request was HEAD: send headers only.
    ///   - keepAlive: whether the connection stays open; `false` adds `Connection: close`.
    ///   - date: the current IMF-fixdate, cached by the caller.
    public static func encode(
        _ response: HTTPResponse, isHead: Bool, keepAlive: Bool, version: HTTPVersion = .http1_1,
        date: [UInt8], into out: inout [UInt8]
    ) {
        encode(response, isHead: isHead, keepAlive: keepAlive, version: version, date: date, varyAcceptEncoding: false, into: &out)
    }

    /// The same, with `Vary: accept-encoding` written after the response's own fields (as if it
    /// were the last of them) without copying the response's header list to add it.
    static func encode(
        _ response: HTTPResponse, isHead: Bool, keepAlive: Bool, version: HTTPVersion,
        date: [UInt8], varyAcceptEncoding: Bool, into out: inout [UInt8]
    ) {
        appendStatusLine(response.status, into: &out)
        out.append(contentsOf: date)
        var wroteConnection = false
        for field in response.headers.fields {
            if field.name == "content-length" || field.name == "date" { continue }
            if field.name == "connection" {
                // A handler's own Connection field (such as `Upgrade` on a 101) wins over keep-alive.
                if !keepAlive { continue }
                wroteConnection = true
            }
            appendCanonicalName(field.name, into: &out)
            out.append(UInt8(ascii: ":"))
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: field.value.utf8)
            out.append(CR); out.append(LF)
        }
        if varyAcceptEncoding { out.append(contentsOf: varyAcceptEncodingLine) }
        if !response.status.forbidsBody {
            out.append(contentsOf: contentLengthPrefix)
            appendDecimal(response.body.count, into: &out)
            out.append(CR); out.append(LF)
        }
        if !keepAlive {
            out.append(contentsOf: connectionClose)
        } else if version == .http1_0 && !wroteConnection {
            out.append(contentsOf: connectionKeepAlive)
        }
        out.append(CR); out.append(LF)
        if !isHead && !response.status.forbidsBody {
            out.append(contentsOf: response.body)
        }
    }

    /// The interim `100 Continue` response.
    public static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    static let contentLengthPrefix: [UInt8] = Array("Content-Length: ".utf8)
    static let varyAcceptEncodingLine: [UInt8] = Array("Vary: accept-encoding\r\n".utf8)
    static let connectionClose: [UInt8] = Array("Connection: close\r\n".utf8)
    static let connectionKeepAlive: [UInt8] = Array("Connection: keep-alive\r\n".utf8)
    /// Pre-encoded status lines of the usual statuses, 200 first (the most frequent), so that a
    /// response finds its line by comparing a code or two; any other status is formatted.
    static let commonStatusLines: [(status: HTTPStatus, line: [UInt8])] =
        [HTTPStatus.ok, .created, .accepted, .noContent, .multiStatus, .notModified, .badRequest,
         .notFound, .methodNotAllowed, .requestTimeout, .contentTooLarge, .serviceUnavailable].map {
            ($0, Array("HTTP/1.1 \($0.code) \($0.reason)\r\n".utf8))
        }

    static func appendStatusLine(_ status: HTTPStatus, into out: inout [UInt8]) {
        for common in commonStatusLines where common.status.code == status.code {
            if common.status.reason == status.reason {
                out.append(contentsOf: common.line)
                return
            }
            break
        }
        out.append(contentsOf: "HTTP/1.1 \(status.code) \(status.reason)\r\n".utf8)
    }

    /// Writes `content-type` as `Content-Type` (cosmetic; field names are case-insensitive).
    static func appendCanonicalName(_ name: String, into out: inout [UInt8]) {
        var upper = true
        for c in name.utf8 {
            out.append(upper && c >= 0x61 && c <= 0x7A ? c - 0x20 : c)
            upper = c == UInt8(ascii: "-")
        }
    }

    static func appendDecimal(_ value: Int, into out: inout [UInt8]) {
        if value < 10 { out.append(UInt8(0x30 + value)); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while n > 0 { buf[count] = UInt8(0x30 + n % 10); n /= 10; count += 1 }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buf[i]) }
        }
    }
}
