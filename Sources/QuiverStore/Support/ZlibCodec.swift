// ZlibCodec: zlib compression of snapshots (models, state) for the stores. Format: the original
// length as 8 bytes little-endian, then one zlib stream. Invariant: `decompress` never traps on
// bad bytes; it throws, and refuses outputs larger than the limit.
import CZlib

public struct ZlibError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { "zlib: \(message)" }
}

public enum ZlibCodec {
    /// Compresses `bytes` (level 6).
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var bound = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: 8 + Int(bound))
        var length = UInt64(bytes.count)
        for i in 0..<8 { output[i] = UInt8(truncatingIfNeeded: length); length >>= 8 }
        let rc = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                compress2(out.baseAddress! + 8, &bound, input.baseAddress, uLong(bytes.count), 6)
            }
        }
        precondition(rc == Z_OK, "compress2 cannot fail with a compressBound-sized buffer")
        output.removeLast(output.count - 8 - Int(bound))
        return output
    }

    /// Restores what `compress` produced; throws on corrupt input or an output over `limit` bytes.
    public static func decompress(_ bytes: [UInt8], limit: Int = 1 << 31) throws(ZlibError) -> [UInt8] {
        guard bytes.count >= 8 else { throw ZlibError(message: "truncated header") }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
        guard length <= UInt64(limit) else { throw ZlibError(message: "declared length \(length) exceeds the limit") }
        guard length > 0 else { return [] }
        var output = [UInt8](repeating: 0, count: Int(length))
        var produced = uLong(length)
        let rc = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &produced, input.baseAddress! + 8, uLong(bytes.count - 8))
            }
        }
        guard rc == Z_OK, produced == uLong(length) else { throw ZlibError(message: "corrupt stream (code \(rc))") }
        return output
    }
}
