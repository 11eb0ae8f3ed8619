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
    static let okStatusLine: [UInt8] = Array("HTTP/1.1 200 OK\r\n".utf8)
    static let connectionClose: [UInt8] = Array("Connection: close\r\n".utf8)
    static let connectionKeepAlive: [UInt8] = Array("Connection: keep-alive\r\n".utf8)
    static let commonStatusLines: [Int: [UInt8]] = {
        var lines: [Int: [UInt8]] = [:]
        for status in [HTTPStatus.ok, .created, .accepted, .noContent, .multiStatus, .notModified, .badRequest,
                       .notFound, .methodNotAllowed, .requestTimeout, .contentTooLarge, .serviceUnavailable] {
            lines[status.code] = Array("HTTP/1.1 \(status.code) \(status.reason)\r\n".utf8)
        }
        return lines
    }()

    static func appendStatusLine(_ status: HTTPStatus, into out: inout [UInt8]) {
        if status.code == 200 && status.reason == "OK" {
            out.append(contentsOf: okStatusLine)
            return
        }
        if let line = commonStatusLines[status.code], status.reason == reasonOfCommon(status.code) {
            out.append(contentsOf: line)
        } else {
            out.append(contentsOf: "HTTP/1.1 \(status.code) \(status.reason)\r\n".utf8)
        }
    }

    private static func reasonOfCommon(_ code: Int) -> String? {
        switch code {
        case 200: return HTTPStatus.ok.reason
        case 201: return HTTPStatus.created.reason
        case 202: return HTTPStatus.accepted.reason
        case 204: return HTTPStatus.noContent.reason
        case 207: return HTTPStatus.multiStatus.reason
        case 304: return HTTPStatus.notModified.reason
        case 400: return HTTPStatus.badRequest.reason
        case 404: return HTTPStatus.notFound.reason
        case 405: return HTTPStatus.methodNotAllowed.reason
        case 408: return HTTPStatus.requestTimeout.reason
        case 413: return HTTPStatus.contentTooLarge.reason
        case 503: return HTTPStatus.serviceUnavailable.reason
        default: return nil
        }
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
