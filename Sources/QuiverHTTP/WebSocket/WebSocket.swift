// WebSocket: the handler-facing side of one WebSocket connection: a Sendable handle to send text
// or binary messages and to close, from any thread or task, and the protocol a handler implements.
// Sends from the connection's own loop (inside a callback) go straight to its output buffer;
// sends from elsewhere travel through the loop's inbox. Frames are encoded on the loop, which owns
// the connection's compression state.
import Synchronization

/// A complete message received from or sent to a peer.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// What an endpoint does with its connections. Callbacks run on the connection's event loop:
/// they must not block (hand slow work to a task and `send` from there).
public protocol WebSocketHandler: Sendable {
    /// The handshake is done; messages can be sent.
    func opened(_ socket: WebSocket)
    /// A whole message arrived (fragments joined, inflated, UTF-8 checked).
    func received(_ message: WebSocketMessage, on socket: WebSocket)
    /// The connection ended: the peer's close code, ours, or 1006 when it just vanished.
    func closed(_ socket: WebSocket, code: WebSocketCloseCode, reason: String)
}

extension WebSocketHandler {
    public func opened(_ socket: WebSocket) {}
    public func closed(_ socket: WebSocket, code: WebSocketCloseCode, reason: String) {}
}

/// A route that upgrades to WebSocket.
public struct WebSocketEndpoint: Sendable {
    public let options: WebSocketOptions
    public let handler: any WebSocketHandler

    public init(options: WebSocketOptions = WebSocketOptions(), handler: any WebSocketHandler) {
        self.options = options
        self.handler = handler
    }
}

/// A handle to one WebSocket connection.
public final class WebSocket: Sendable, Hashable {
    /// Unique for the life of the process.
    public let id: UInt64
    /// The request that was upgraded (path, query, headers).
    public let request: HTTPRequest
    /// The subprotocol agreed in the handshake, if any.
    public let subprotocol: String?
    let loop: EventLoop
    let fd: Int32
    let serial: UInt64
    private let open = Atomic<Bool>(true)

    init(id: UInt64, request: HTTPRequest, subprotocol: String?, loop: EventLoop, fd: Int32, serial: UInt64) {
        self.id = id
        self.request = request
        self.subprotocol = subprotocol
        self.loop = loop
        self.fd = fd
        self.serial = serial
    }

    /// Whether the connection is still open (false once a close was sent or the peer vanished).
    public var isOpen: Bool { open.load(ordering: .relaxed) }
    func markClosed() { open.store(false, ordering: .relaxed) }

    /// Sends a message. Returns false when the connection is already closed.
    @discardableResult
    public func send(_ message: WebSocketMessage) -> Bool {
        guard isOpen else { return false }
        loop.sendWebSocket(.message(message), fd: fd, serial: serial)
        return true
    }

    public func send(text: String) { send(.text(text)) }
    public func send(binary: [UInt8]) { send(.binary(binary)) }

    /// Starts the close handshake with `code` and `reason`.
    public func close(code: WebSocketCloseCode = .normal, reason: String = "") {
        guard isOpen else { return }
        loop.sendWebSocket(.close(code, reason), fd: fd, serial: serial)
    }

    public static func == (a: WebSocket, b: WebSocket) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

/// An outgoing action for a WebSocket connection, carried to its loop.
enum WebSocketOutbound: Sendable {
    case message(WebSocketMessage)
    case close(WebSocketCloseCode, String)
}

/// Sends one message to many connections: each loop gets one wake-up for all its connections,
/// and an uncompressed frame is encoded once per loop.
public enum WebSocketBroadcast {
    /// Sends `message` to every open socket in `sockets`.
    public static func send(_ message: WebSocketMessage, to sockets: some Sequence<WebSocket>) {
        var byLoop: [ObjectIdentifier: (EventLoop, [(Int32, UInt64)])] = [:]
        for socket in sockets where socket.isOpen {
            byLoop[ObjectIdentifier(socket.loop), default: (socket.loop, [])].1.append((socket.fd, socket.serial))
        }
        for (_, (loop, targets)) in byLoop {
            loop.post(.webSocketBroadcast(message: message, targets: targets))
        }
    }
}
