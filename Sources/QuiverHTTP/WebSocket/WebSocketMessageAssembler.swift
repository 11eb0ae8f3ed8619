// WebSocketMessageAssembler: turns decoded frames into messages: joins fragments (control frames
// may come between them), inflates permessage-deflate messages, validates text as UTF-8 as it
// arrives (fail fast), enforces the message size limit, and parses close frames.
// Invariant: at most one data message is open; every refusal names the close code to send.

/// What a frame meant for the connection.
public enum WebSocketEvent: Sendable, Equatable {
    /// Nothing to deliver yet (a fragment of a message in progress).
    case none
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The peer's close frame: its code (1005 when it sent none) and reason.
    case close(WebSocketCloseCode, String)
}

public final class WebSocketMessageAssembler {
    /// Largest message, after inflation.
    public let maxMessageBytes: Int
    let deflate: PerMessageDeflateCodec?

    private var messageOpcode: WebSocketOpcode?
    private var messageCompressed = false
    private var buffer: [UInt8] = []
    private var utf8 = UTF8Validator()

    public init(maxMessageBytes: Int = 16 << 20, deflate: PerMessageDeflateCodec? = nil) {
        self.maxMessageBytes = maxMessageBytes
        self.deflate = deflate
    }

    /// Whether a fragmented message is in progress.
    public var isInsideMessage: Bool { messageOpcode != nil }

    /// Applies one frame.
    public func receive(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> WebSocketEvent {
        switch frame.opcode {
        case .ping: return .ping(frame.payload)
        case .pong: return .pong(frame.payload)
        case .close: return try Self.parseClose(frame.payload)
        case .text, .binary:
            guard messageOpcode == nil else {
                throw WebSocketProtocolError(.protocolError, "a new data frame arrived inside a fragmented message")
            }
            if frame.fin && !frame.rsv1 {
                // A whole uncompressed message in one frame: no copy into the message buffer.
                if frame.payload.count > maxMessageBytes {
                    throw WebSocketProtocolError(.messageTooBig, "message exceeds \(maxMessageBytes) bytes")
                }
                if frame.opcode == .binary { return .binary(frame.payload) }
                var validator = UTF8Validator()
                guard validator.validate(frame.payload) else {
                    throw WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8")
                }
                guard validator.isComplete else {
                    throw WebSocketProtocolError(.invalidPayload, "text message ends inside a UTF-8 sequence")
                }
                return .text(String(decoding: frame.payload, as: UTF8.self))
            }
            messageOpcode = frame.opcode
            messageCompressed = frame.rsv1
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            utf8 = UTF8Validator()
        case .continuation:
            guard messageOpcode != nil else {
                throw WebSocketProtocolError(.protocolError, "a continuation frame without a message to continue")
            }
        default:
            throw WebSocketProtocolError(.protocolError, "unknown opcode \(frame.opcode.rawValue)")
        }
        try append(frame.payload, final: frame.fin)
        guard frame.fin, let opcode = messageOpcode else { return .none }
        messageOpcode = nil
        let message = buffer
        buffer = []
        if opcode == .text {
            guard utf8.isComplete else { throw WebSocketProtocolError(.invalidPayload, "text message ends inside a UTF-8 sequence") }
            return .text(String(decoding: message, as: UTF8.self))
        }
        return .binary(message)
    }

    private func append(_ payload: [UInt8], final: Bool) throws(WebSocketProtocolError) {
        var data = payload
        if messageCompressed {
            guard let deflate else { throw WebSocketProtocolError(.protocolError, "compressed message without permessage-deflate") }
            do {
                data = try payload.withUnsafeBufferPointer { p throws(PerMessageDeflateError) in
                    try deflate.inflate(p, final: final, inflatedSoFar: buffer.count, limit: maxMessageBytes)
                }
            } catch .tooLarge {
                throw WebSocketProtocolError(.messageTooBig, "message inflates past \(maxMessageBytes) bytes")
            } catch {
                throw WebSocketProtocolError(.invalidPayload, "corrupt permessage-deflate data")
            }
        } else if buffer.count + data.count > maxMessageBytes {
            throw WebSocketProtocolError(.messageTooBig, "message exceeds \(maxMessageBytes) bytes")
        }
        if messageOpcode == .text && !utf8.validate(data) {
            throw WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8")
        }
        buffer.append(contentsOf: data)
    }

    /// A close frame's payload: empty, or a valid code and an optional UTF-8 reason.
    static func parseClose(_ payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketEvent {
        if payload.isEmpty { return .close(.noStatus, "") }
        guard payload.count >= 2 else { throw WebSocketProtocolError(.protocolError, "close frame with a 1-byte payload") }
        let code = WebSocketCloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1]))
        guard code.isValidOnTheWire else { throw WebSocketProtocolError(.protocolError, "invalid close code \(code.rawValue)") }
        guard let reason = String(validating: payload[2...], as: UTF8.self) else {
            throw WebSocketProtocolError(.invalidPayload, "close reason is not valid UTF-8")
        }
        return .close(code, reason)
    }
}
