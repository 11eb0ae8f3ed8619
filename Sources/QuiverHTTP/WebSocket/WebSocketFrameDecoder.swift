// WebSocketFrameDecoder: parses client frames (RFC 6455 section 5.2) from bytes, a pure function
// like the HTTP parser: fed the unconsumed bytes, it says how many it used. It refuses, with the
// close code to send: unmasked frames, reserved bits not negotiated, unknown opcodes, fragmented
// or oversized control frames (1002), and frames larger than the limit (1009).

/// Why the peer's bytes end the connection: the close code to send and a reason.
public struct WebSocketProtocolError: Error, Sendable, Equatable {
    public let code: WebSocketCloseCode
    public let reason: String
    public init(_ code: WebSocketCloseCode, _ reason: String) { self.code = code; self.reason = reason }
}

public struct WebSocketFrameDecoder: Sendable {
    public enum Result: Sendable, Equatable {
        case needMoreData
        case frame(WebSocketFrame)
        case failure(WebSocketProtocolError)
    }

    /// Largest payload of one frame.
    public var maxFrameBytes: Int
    /// RSV1 is allowed (on the first frame of a data message) only with permessage-deflate.
    public var allowsCompression: Bool
    /// Servers require masked frames; a client-side decoder would not.
    public var requiresMask: Bool

    public init(maxFrameBytes: Int = 16 << 20, allowsCompression: Bool = false, requiresMask: Bool = true) {
        self.maxFrameBytes = maxFrameBytes
        self.allowsCompression = allowsCompression
        self.requiresMask = requiresMask
    }

    /// Decodes one frame from the front of `buffer`.
    public func decode(_ buffer: UnsafeBufferPointer<UInt8>) -> (consumed: Int, result: Result) {
        guard buffer.count >= 2 else { return (0, .needMoreData) }
        let b0 = buffer[0], b1 = buffer[1]
        let fin = b0 & 0x80 != 0
        let rsv1 = b0 & 0x40 != 0
        let opcode = WebSocketOpcode(b0 & 0x0F)
        let masked = b1 & 0x80 != 0
        guard opcode.isKnown else { return (0, .failure(.init(.protocolError, "unknown opcode \(opcode.rawValue)"))) }
        if b0 & 0x30 != 0 { return (0, .failure(.init(.protocolError, "reserved bits RSV2/RSV3 set"))) }
        if rsv1 && (!allowsCompression || opcode.isControl || opcode == .continuation) {
            return (0, .failure(.init(.protocolError, "RSV1 set without a negotiated extension for it")))
        }
        if opcode.isControl && !fin { return (0, .failure(.init(.protocolError, "fragmented control frame"))) }
        if requiresMask && !masked { return (0, .failure(.init(.protocolError, "client frames must be masked"))) }

        var offset = 2
        var length = Int(b1 & 0x7F)
        if length == 126 {
            guard buffer.count >= 4 else { return (0, .needMoreData) }
            length = Int(buffer[2]) << 8 | Int(buffer[3])
            offset = 4
        } else if length == 127 {
            guard buffer.count >= 10 else { return (0, .needMoreData) }
            if buffer[2] & 0x80 != 0 { return (0, .failure(.init(.protocolError, "64-bit length with the high bit set"))) }
            var value: UInt64 = 0
            for i in 2..<10 { value = value << 8 | UInt64(buffer[i]) }
            guard value <= UInt64(maxFrameBytes) else {
                return (0, .failure(.init(.messageTooBig, "frame of \(value) bytes exceeds \(maxFrameBytes)")))
            }
            length = Int(value)
            offset = 10
        }
        if opcode.isControl && length > 125 {
            return (0, .failure(.init(.protocolError, "control frame payload over 125 bytes")))
        }
        if length > maxFrameBytes {
            return (0, .failure(.init(.messageTooBig, "frame of \(length) bytes exceeds \(maxFrameBytes)")))
        }
        var mask: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        if masked {
            guard buffer.count >= offset + 4 else { return (0, .needMoreData) }
            mask = (buffer[offset], buffer[offset + 1], buffer[offset + 2], buffer[offset + 3])
            offset += 4
        }
        guard buffer.count >= offset + length else { return (0, .needMoreData) }
        let source = UnsafeBufferPointer(rebasing: buffer[offset..<offset + length])
        let payload: [UInt8]
        if masked {
            // Copy and unmask in one pass.
            payload = [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
                Self.unmask(source, mask, into: out)
                initialized = length
            }
        } else {
            payload = [UInt8](source)
        }
        return (offset + length, .frame(WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, payload: payload)))
    }

    /// The size of the whole frame at the front of `buffer` once its header is there, so the
    /// caller can reserve room for it; nil while the header is incomplete.
    public func frameSize(_ buffer: UnsafeBufferPointer<UInt8>) -> Int? {
        guard buffer.count >= 2 else { return nil }
        let maskBytes = buffer[1] & 0x80 != 0 ? 4 : 0
        let length7 = Int(buffer[1] & 0x7F)
        if length7 < 126 { return 2 + maskBytes + length7 }
        if length7 == 126 {
            guard buffer.count >= 4 else { return nil }
            return 4 + maskBytes + (Int(buffer[2]) << 8 | Int(buffer[3]))
        }
        guard buffer.count >= 10 else { return nil }
        var value: UInt64 = 0
        for i in 2..<10 { value = value << 8 | UInt64(buffer[i]) }
        return value <= UInt64(maxFrameBytes) ? 10 + maskBytes + Int(value) : nil
    }

    static func unmask(_ source: UnsafeBufferPointer<UInt8>, _ mask: (UInt8, UInt8, UInt8, UInt8),
                       into out: UnsafeMutableBufferPointer<UInt8>) {
        let word = UInt64(mask.0) | UInt64(mask.1) << 8 | UInt64(mask.2) << 16 | UInt64(mask.3) << 24
        let wide = word | word << 32
        let key = [mask.0, mask.1, mask.2, mask.3]
        let count = source.count
        let src = UnsafeRawPointer(source.baseAddress!)
        let dst = UnsafeMutableRawPointer(out.baseAddress!)
        var i = 0
        while i + 8 <= count {
            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ wide, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            out[i] = source[i] ^ key[i & 3]
            i += 1
        }
    }

    /// XORs `payload` with the 4-byte masking key (its own inverse).
    static func applyMask(_ mask: (UInt8, UInt8, UInt8, UInt8), to payload: inout [UInt8]) {
        let key = [mask.0, mask.1, mask.2, mask.3]
        let word = UInt64(mask.0) | UInt64(mask.1) << 8 | UInt64(mask.2) << 16 | UInt64(mask.3) << 24
        let wide = word | word << 32
        payload.withUnsafeMutableBytes { raw in
            let count = raw.count
            var i = 0
            while i + 8 <= count {
                let v = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ wide
                raw.storeBytes(of: v, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < count {
                raw[i] ^= key[i & 3]
                i += 1
            }
        }
    }
}
