// HTTPRequest and HTTPResponse: what the codec hands to handlers and what handlers hand back.
// A request carries its whole body (bodies are bounded by the server's limits); the path stays
// percent-encoded and the router decodes it segment by segment.

/// A complete, validated HTTP/1.x request.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request target as sent (origin form, or the path of an absolute form).
    public var target: String
    /// The path part of the target, still percent-encoded.
    public var path: String
    /// The query part of the target (after `?`), still encoded, or nil.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Path parameters filled in by the router (`/users/{id}` -> `["id": "..."]`), decoded.
    public var pathParameters: [String: String] = [:]

    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) {  // bytes, not Characters
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = target
            query = nil
        }
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// Whether the client wants the connection kept open after this request.
    public var wantsKeepAlive: Bool {
        if version == .http1_1 { return !headers.hasToken("close", in: "connection") }
        return headers.hasToken("keep-alive", in: "connection") && !headers.hasToken("close", in: "connection")
    }

    /// The decoded query parameters, in order. Malformed escapes make this throw.
    public func queryParameters() throws(PercentDecodingError) -> QueryParameters {
        try QueryParameters(parsing: query ?? "")
    }
}

/// A response produced by a handler.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A plain-text response.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["content-type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }

    /// A response whose body is already-encoded JSON.
    public static func json(_ body: [UInt8], status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: jsonHeaders, body: body)
    }

    /// Shared by every JSON response (copy-on-write: no allocation per response).
    static let jsonHeaders = HTTPHeaders(lowercasedFields: [(name: "content-type", value: "application/json")])
}
