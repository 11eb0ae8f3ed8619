// WebSocketHandshake: the server side of the opening handshake (RFC 6455 section 4.2): checks
// the upgrade request, computes Sec-WebSocket-Accept (SHA-1 from swift-crypto, then base64),
// negotiates a subprotocol and permessage-deflate, and asks the Origin hook. Refusals are JSON
// errors like every other error of the server (400, 403, 426 with the supported version).
import Crypto
import Foundation

/// How a WebSocket endpoint accepts connections.
public struct WebSocketOptions: Sendable {
    /// Subprotocols the endpoint speaks, in preference order; the first the client offers wins.
    public var subprotocols: [String] = []
    /// Accept permessage-deflate when the client offers it.
    public var allowsCompression = true
    /// Ask clients to compress without context takeover too (less memory per connection).
    public var serverNoContextTakeover = false
    /// Decides whether a browser's `Origin` may connect (nil: any origin, and clients without one).
    public var acceptsOrigin: (@Sendable (String?) -> Bool)?
    public var maxFrameBytes = 16 << 20
    public var maxMessageBytes = 16 << 20
    /// Unsent bytes a connection may queue; a slower consumer is closed with 1008.
    public var maxQueuedBytes = 4 << 20
    /// With no frame received for this long the server pings; after twice as long it closes.
    public var idlePingMs = 30_000

    public init() {}
}

/// An accepted handshake: the 101 response and what was negotiated.
public struct WebSocketAcceptance: Sendable {
    public let response: HTTPResponse
    public let subprotocol: String?
    public let deflate: PerMessageDeflateParameters?
}

public enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a client key.
    public static func acceptValue(forKey key: String) -> String {
        let digest = Insecure.SHA1.hash(data: Array((key + guid).utf8))
        return Data(digest).base64EncodedString()
    }

    /// Checks an upgrade request; returns the 101 answer or the error response.
    public static func accept(_ request: HTTPRequest, options: WebSocketOptions) -> Result<WebSocketAcceptance, ErrorResponseValue> {
        func refuse(_ status: HTTPStatus, _ code: String, _ message: String, _ extra: [(String, String)] = []) -> Result<WebSocketAcceptance, ErrorResponseValue> {
            var response = HTTPResponse.error(status, code: code, message: message)
            for (name, value) in extra { response.headers.add(name, value) }
            return .failure(ErrorResponseValue(response: response))
        }
        guard request.method == .get else {
            return refuse(.methodNotAllowed, "method_not_allowed", "a WebSocket upgrade must use GET", [("allow", "GET")])
        }
        guard request.version == .http1_1 else {
            return refuse(.badRequest, "bad_upgrade", "a WebSocket upgrade needs HTTP/1.1")
        }
        guard request.headers.hasToken("websocket", in: "upgrade") else {
            return refuse(.upgradeRequired, "upgrade_required", "this endpoint speaks WebSocket only",
                          [("upgrade", "websocket"), ("sec-websocket-version", "13")])
        }
        guard request.headers.hasToken("upgrade", in: "connection") else {
            return refuse(.badRequest, "bad_upgrade", "Connection must include 'upgrade'")
        }
        guard request.headers["sec-websocket-version"]?.trimmingASCIIWhitespace() == "13" else {
            return refuse(.upgradeRequired, "unsupported_websocket_version", "Sec-WebSocket-Version must be 13",
                          [("sec-websocket-version", "13")])
        }
        let keys = request.headers.values("sec-websocket-key")
        guard keys.count == 1, let key = keys.first.map({ String($0.trimmingASCIIWhitespace()) }),
              let decoded = Data(base64Encoded: key), decoded.count == 16 else {
            return refuse(.badRequest, "bad_websocket_key", "Sec-WebSocket-Key must be one base64 value of 16 bytes")
        }
        if let check = options.acceptsOrigin, !check(request.headers["origin"]) {
            return refuse(.forbidden, "origin_not_allowed", "origin '\(request.headers["origin"] ?? "")' may not connect")
        }
        var response = HTTPResponse(status: .switchingProtocols)
        response.headers.add("upgrade", "websocket")
        response.headers.add("connection", "Upgrade")
        response.headers.add("sec-websocket-accept", acceptValue(forKey: key))

        var subprotocol: String?
        let offered = request.headers.values("sec-websocket-protocol")
            .flatMap { $0.split(separator: ",").map { String($0.trimmingASCIIWhitespace()) } }
        if !offered.isEmpty {
            subprotocol = offered.first { options.subprotocols.contains($0) }
            if let subprotocol { response.headers.add("sec-websocket-protocol", subprotocol) }
        }
        var deflate: PerMessageDeflateParameters?
        if options.allowsCompression {
            let offers = request.headers.values("sec-websocket-extensions").joined(separator: ", ")
            if !offers.isEmpty,
               let agreed = PerMessageDeflateParameters.negotiate(offers: offers, serverNoContextTakeover: options.serverNoContextTakeover) {
                deflate = agreed
                response.headers.add("sec-websocket-extensions", agreed.responseHeader)
            }
        }
        return .success(WebSocketAcceptance(response: response, subprotocol: subprotocol, deflate: deflate))
    }
}

/// A refusal carried through `Result`.
public struct ErrorResponseValue: Error, Sendable {
    public let response: HTTPResponse
}
extension String {
    func trimmingASCIIWhitespace() -> Substring { Substring(self).trimmingASCIIWhitespace() }
}
