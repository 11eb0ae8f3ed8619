// HTTPConnection: the state of one client connection, owned and touched only by its event loop.
// Invariant: responses leave in request order. While a suspending handler runs, the connection
// stops reading and parsing, so pipelined requests wait their turn in `inbound`.

/// What the connection needs to finish the response of the request in progress.
struct ResponseContext {
    let isHead: Bool
    let keepAlive: Bool
    /// The request's Accept-Encoding, parsed only when a response is large enough to compress.
    let acceptEncoding: String?
    let version: HTTPVersion
}

/// A request handed to a suspending handler, waiting for its answer.
struct SuspendedRequest {
    let token: UInt64
    let context: ResponseContext
    let deadline: Int64
}

final class HTTPConnection {
    let fd: Int32
    /// Distinguishes this connection from a later one that reuses the same fd number.
    let serial: UInt64
    var parser: HTTPRequestParser
    /// Bytes received and not yet consumed by the parser.
    var inbound: [UInt8] = []
    /// Encoded responses not yet written, from `outboundOffset` on.
    var outbound: [UInt8] = []
    var outboundOffset = 0
    var suspended: SuspendedRequest?
    var nextToken: UInt64 = 0
    /// Close once `outbound` is written (error, `Connection: close`, shutdown).
    var closeAfterWrite = false
    /// Write side shut down; reading and discarding until the peer closes or `lingerDeadline`.
    var lingering = false
    var lingerDeadline: Int64 = 0
    /// When the first byte of the request in progress arrived; 0 when between requests.
    var requestStartedAt: Int64 = 0
    var lastActivity: Int64
    var lastWriteProgress: Int64
    /// The epoll events currently registered.
    var interest: UInt32
    var readPaused = false
    /// Set once the connection has been upgraded to WebSocket.
    var webSocket: WebSocketConnectionState?

    init(fd: Int32, serial: UInt64, limits: HTTPParserLimits, now: Int64, interest: UInt32) {
        self.fd = fd
        self.serial = serial
        self.parser = HTTPRequestParser(limits: limits)
        self.lastActivity = now
        self.lastWriteProgress = now
        self.interest = interest
    }

    var hasPendingOutput: Bool { outboundOffset < outbound.count }
    var isIdle: Bool { webSocket == nil && suspended == nil && !hasPendingOutput && requestStartedAt == 0 && inbound.isEmpty }
}
