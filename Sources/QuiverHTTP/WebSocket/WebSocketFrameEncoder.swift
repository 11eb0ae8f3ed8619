// WebSocketFrameEncoder: writes frames (RFC 6455 section 5.2) with the shortest length form.
// Server frames are never masked; a mask can be given to encode client frames (tests, tools).

public enum WebSocketFrameEncoder {
    /// Appends one frame to `out`.
    public static func encode(
        _ opcode: WebSocketOpcode, payload: UnsafeBufferPointer<UInt8>, fin: Bool = true, rsv1: Bool = false,
        mask: (UInt8, UInt8, UInt8, UInt8)? = nil, into out: inout [UInt8]
    ) {
        out.append((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode.rawValue)
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let n = payload.count
        if n < 126 {
            out.append(maskBit | UInt8(n))
        } else if n <= 0xFFFF {
            out.append(maskBit | 126)
            out.append(UInt8(n >> 8)); out.append(UInt8(n & 0xFF))
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(n) >> UInt64(shift)) & 0xFF)) }
        }
        if let mask {
            out.append(mask.0); out.append(mask.1); out.append(mask.2); out.append(mask.3)
            var masked = Array(payload)
            WebSocketFrameDecoder.applyMask(mask, to: &masked)
            out.append(contentsOf: masked)
        } else {
            out.append(contentsOf: payload)
        }
    }

    public static func encode(
        _ opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true, rsv1: Bool = false,
        mask: (UInt8, UInt8, UInt8, UInt8)? = nil, into out: inout [UInt8]
    ) {
        payload.withUnsafeBufferPointer { encode(opcode, payload: $0, fin: fin, rsv1: rsv1, mask: mask, into: &out) }
    }

    /// The payload of a close frame: the code (big-endian) and a UTF-8 reason cut to fit 125 bytes.
    public static func closePayload(_ code: WebSocketCloseCode, reason: String) -> [UInt8] {
        var payload: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        var reasonBytes = Array(reason.utf8.prefix(123))
        // Do not cut a character in half.
        while !reasonBytes.isEmpty, String(validating: reasonBytes, as: UTF8.self) == nil { reasonBytes.removeLast() }
        payload += reasonBytes
        return payload
    }
}
