// EventLoop+WebSocket: upgraded connections on the loop: the handshake answer, frames in
// (decoded, assembled, handed to the handler), frames out (encoded, compressed), ping/pong, the
// close handshake, idle pings and the bound on queued output.
#if canImport(Glibc)
import Glibc
#endif

extension EventLoop {
    /// Answers an upgrade request and, when it is accepted, turns the connection into a WebSocket.
    func upgrade(_ connection: HTTPConnection, _ request: HTTPRequest, _ endpoint: WebSocketEndpoint, _ context: ResponseContext) {
        switch WebSocketHandshake.accept(request, options: endpoint.options) {
        case .failure(let refusal):
            finish(connection, refusal.response, context)
        case .success(let acceptance):
            guard shared.reserveWebSocket() else {
                finish(connection, .error(.serviceUnavailable, code: "too_many_websockets",
                                          message: "the server is at its limit of \(config.maxWebSocketConnections) WebSocket connections"),
                       context)
                return
            }
            finish(connection, acceptance.response, ResponseContext(isHead: false, keepAlive: true, acceptEncoding: nil, version: .http1_1))
            let socket = WebSocket(id: shared.nextWebSocketID(), request: request, subprotocol: acceptance.subprotocol,
                                   loop: self, fd: connection.fd, serial: connection.serial)
            let state = WebSocketConnectionState(socket: socket, handler: endpoint.handler, options: endpoint.options,
                                                 deflate: acceptance.deflate, now: now)
            connection.webSocket = state
            connection.requestStartedAt = 0
            state.handler.opened(socket)
        }
    }

    /// Decodes frames from `buffer` and acts on them. Returns the bytes consumed.
    func processWebSocket(_ connection: HTTPConnection, _ buffer: UnsafeBufferPointer<UInt8>) -> Int {
        guard let state = connection.webSocket else { return 0 }
        var offset = 0
        while !connection.closeAfterWrite {
            let (consumed, result) = state.decoder.decode(UnsafeBufferPointer(rebasing: buffer[offset...]))
            switch result {
            case .needMoreData:
                // Make room for the whole frame at once rather than growing step by step.
                if let size = state.decoder.frameSize(UnsafeBufferPointer(rebasing: buffer[offset...])),
                   size > 64 * 1024, connection.inbound.capacity < size {
                    state.pendingFrameSize = size
                }
                return offset
            case .failure(let error):
                failWebSocket(connection, state, error)
                return buffer.count
            case .frame(let frame):
                offset += consumed
                state.lastReceive = now
                state.pingOutstanding = false
                let event: WebSocketEvent
                do { event = try state.assembler.receive(frame) } catch {
                    failWebSocket(connection, state, error)
                    return buffer.count
                }
                switch event {
                case .none, .pong:
                    break
                case .text(let text):
                    if !state.closeSent { state.handler.received(.text(text), on: state.socket) }
                case .binary(let bytes):
                    if !state.closeSent { state.handler.received(.binary(bytes), on: state.socket) }
                case .ping(let payload):
                    if !state.closeSent { appendFrame(connection, .pong, payload) }
                case .close(let code, let reason):
                    if !state.closeSent {
                        // Echo the peer's code (RFC 6455 section 5.5.1); an empty close gets an empty one.
                        appendFrame(connection, .close, code == .noStatus ? [] : WebSocketFrameEncoder.closePayload(code, reason: ""))
                        state.closeSent = true
                    }
                    connection.closeAfterWrite = true
                    state.notifyClosed(state.closeSent && state.closeCode != .normal ? state.closeCode : code,
                                       state.closeSent && !state.closeReason.isEmpty ? state.closeReason : reason)
                    return buffer.count
                }
                if !enforceQueueBound(connection, state) { return buffer.count }
            }
        }
        return buffer.count
    }

    /// Past `maxQueuedBytes` of unsent output, writes what the socket takes; if the queue is still
    /// over the bound, the consumer is too slow: close with 1008. Returns false when it closed.
    @discardableResult
    func enforceQueueBound(_ connection: HTTPConnection, _ state: WebSocketConnectionState) -> Bool {
        guard connection.outbound.count - connection.outboundOffset > state.options.maxQueuedBytes else { return true }
        if writePending(connection) && connection.outbound.count - connection.outboundOffset <= state.options.maxQueuedBytes {
            return true
        }
        // No more messages are queued from here on; the close frame follows what is queued, and a
        // client that still reads nothing is dropped by the write timeout.
        failWebSocket(connection, state, WebSocketProtocolError(.policyViolation, "the client reads too slowly"))
        return false
    }

    /// Sends a close frame for a protocol failure and closes once it is written.
    func failWebSocket(_ connection: HTTPConnection, _ state: WebSocketConnectionState, _ error: WebSocketProtocolError) {
        if !state.closeSent {
            appendFrame(connection, .close, WebSocketFrameEncoder.closePayload(error.code, reason: error.reason))
            state.closeSent = true
        }
        connection.closeAfterWrite = true
        state.notifyClosed(error.code, error.reason)
    }

    func appendFrame(_ connection: HTTPConnection, _ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        WebSocketFrameEncoder.encode(opcode, payload: payload, into: &connection.outbound)
    }

    /// Appends a data message, compressed when permessage-deflate was agreed.
    func appendMessage(_ connection: HTTPConnection, _ state: WebSocketConnectionState, _ message: WebSocketMessage,
                       uncompressedFrame: [UInt8]? = nil) {
        let (opcode, bytes): (WebSocketOpcode, [UInt8]) = switch message {
        case .text(let text): (.text, Array(text.utf8))
        case .binary(let data): (.binary, data)
        }
        if let deflate = state.deflate, let compressed = bytes.withUnsafeBufferPointer({ deflate.compress($0) }) {
            WebSocketFrameEncoder.encode(opcode, payload: compressed, rsv1: true, into: &connection.outbound)
        } else if let uncompressedFrame {
            connection.outbound.append(contentsOf: uncompressedFrame)
        } else {
            WebSocketFrameEncoder.encode(opcode, payload: bytes, into: &connection.outbound)
        }
    }

    /// Entry point of `WebSocket.send` and `close`: direct on this loop's thread, else via the inbox.
    func sendWebSocket(_ action: WebSocketOutbound, fd: Int32, serial: UInt64) {
        if isCurrentThread {
            guard let connection = connection(fd), connection.serial == serial else { return }
            apply(action, to: connection, flushNow: false)
        } else {
            post(.webSocketSend(fd: fd, serial: serial, action: action))
        }
    }

    func apply(_ action: WebSocketOutbound, to connection: HTTPConnection, flushNow: Bool) {
        guard let state = connection.webSocket, !state.closeSent, !connection.closeAfterWrite else { return }
        switch action {
        case .message(let message):
            appendMessage(connection, state, message)
            enforceQueueBound(connection, state)
        case .close(let code, let reason):
            appendFrame(connection, .close, WebSocketFrameEncoder.closePayload(code, reason: reason))
            state.closeSent = true
            state.closeCode = code
            state.closeReason = reason
            state.closeDeadline = now + 2000
            state.socket.markClosed()
        }
        if flushNow { flush(connection) }
    }

    func broadcast(_ message: WebSocketMessage, to targets: [(Int32, UInt64)]) {
        var frame: [UInt8] = []
        switch message {
        case .text(let text): WebSocketFrameEncoder.encode(.text, payload: Array(text.utf8), into: &frame)
        case .binary(let data): WebSocketFrameEncoder.encode(.binary, payload: data, into: &frame)
        }
        for (fd, serial) in targets {
            guard let connection = connection(fd), connection.serial == serial,
                  let state = connection.webSocket, !state.closeSent, !connection.closeAfterWrite else { continue }
            appendMessage(connection, state, message, uncompressedFrame: frame)
            enforceQueueBound(connection, state)
            flush(connection)
        }
    }

    /// Idle pings, the idle limit and the close handshake's deadline.
    func sweepWebSocket(_ connection: HTTPConnection, _ state: WebSocketConnectionState) {
        if state.closeSent && !connection.closeAfterWrite && now >= state.closeDeadline {
            state.notifyClosed(state.closeCode, state.closeReason)
            closeConnection(connection)
            return
        }
        if draining && !state.closeSent {
            apply(.close(.goingAway, "server shutting down"), to: connection, flushNow: true)
            return
        }
        let quiet = now - state.lastReceive
        if quiet >= 2 * Int64(state.options.idlePingMs) && !state.closeSent {
            apply(.close(.goingAway, "idle timeout"), to: connection, flushNow: true)
        } else if quiet >= Int64(state.options.idlePingMs) && !state.pingOutstanding && !state.closeSent {
            state.pingOutstanding = true
            appendFrame(connection, .ping, [])
            flush(connection)
        }
    }
}
