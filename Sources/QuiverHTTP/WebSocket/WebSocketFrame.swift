// WebSocketFrame: one frame of RFC 6455 section 5.2 (FIN, RSV1-3, opcode, payload), the opcode
// set, and the close codes of section 7.4 with the rule for which may appear on the wire.

/// A frame opcode. Open set: unknown values are representable so the decoder can refuse them.
public struct WebSocketOpcode: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    public static let continuation = WebSocketOpcode(0x0)
    public static let text = WebSocketOpcode(0x1)
    public static let binary = WebSocketOpcode(0x2)
    public static let close = WebSocketOpcode(0x8)
    public static let ping = WebSocketOpcode(0x9)
    public static let pong = WebSocketOpcode(0xA)

    /// Close, ping and pong: at most 125 bytes, never fragmented.
    public var isControl: Bool { rawValue & 0x8 != 0 }
    /// One of the six opcodes RFC 6455 defines.
    public var isKnown: Bool { [0x0, 0x1, 0x2, 0x8, 0x9, 0xA].contains(rawValue) }

    public var description: String {
        switch rawValue {
        case 0x0: return "continuation"
        case 0x1: return "text"
        case 0x2: return "binary"
        case 0x8: return "close"
        case 0x9: return "ping"
        case 0xA: return "pong"
        default: return "opcode(\(rawValue))"
        }
    }
}

/// A decoded frame; the payload is already unmasked.
public struct WebSocketFrame: Sendable, Equatable {
    public var fin: Bool
    /// RSV1: set on the first frame of a message compressed with permessage-deflate.
    public var rsv1: Bool
    public var opcode: WebSocketOpcode
    public var payload: [UInt8]

    public init(fin: Bool = true, rsv1: Bool = false, opcode: WebSocketOpcode, payload: [UInt8] = []) {
        self.fin = fin
        self.rsv1 = rsv1
        self.opcode = opcode
        self.payload = payload
    }
}

/// A close status code (RFC 6455 section 7.4).
public struct WebSocketCloseCode: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }

    public static let normal = WebSocketCloseCode(1000)
    public static let goingAway = WebSocketCloseCode(1001)
    public static let protocolError = WebSocketCloseCode(1002)
    public static let unsupportedData = WebSocketCloseCode(1003)
    /// Received when a close frame carries no code; never sent.
    public static let noStatus = WebSocketCloseCode(1005)
    /// The connection dropped without a close frame; never sent.
    public static let abnormal = WebSocketCloseCode(1006)
    public static let invalidPayload = WebSocketCloseCode(1007)
    public static let policyViolation = WebSocketCloseCode(1008)
    public static let messageTooBig = WebSocketCloseCode(1009)
    public static let mandatoryExtension = WebSocketCloseCode(1010)
    public static let internalError = WebSocketCloseCode(1011)
    public static let tryAgainLater = WebSocketCloseCode(1013)

    /// Whether a peer may send this code in a close frame.
    public var isValidOnTheWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014: return true
        case 3000...4999: return true
        default: return false
        }
    }
}
