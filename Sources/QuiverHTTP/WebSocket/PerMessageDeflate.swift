// PerMessageDeflate: the permessage-deflate extension (RFC 7692): negotiating its parameters from
// the client's offers, and compressing and inflating messages through zlib (raw deflate, the
// 00 00 FF FF tail removed and restored). Inflation stops at a size limit: a small message cannot
// expand into a huge one (decompression bomb). zlib streams are created on first use only.
import CZlib

/// The parameters agreed for one connection.
public struct PerMessageDeflateParameters: Sendable, Equatable {
    public var serverNoContextTakeover = false
    public var clientNoContextTakeover = false
    /// LZ77 window the server compresses with (9-15).
    public var serverMaxWindowBits = 15
    /// Window the client announced it compresses with, if it gave one.
    public var clientMaxWindowBits: Int?

    public init() {}

    /// The `Sec-WebSocket-Extensions` value answering the offer.
    public var responseHeader: String {
        var parts = ["permessage-deflate"]
        if serverNoContextTakeover { parts.append("server_no_context_takeover") }
        if clientNoContextTakeover { parts.append("client_no_context_takeover") }
        if serverMaxWindowBits != 15 { parts.append("server_max_window_bits=\(serverMaxWindowBits)") }
        if let bits = clientMaxWindowBits { parts.append("client_max_window_bits=\(bits)") }
        return parts.joined(separator: "; ")
    }

    /// Picks the first acceptable permessage-deflate offer of a `Sec-WebSocket-Extensions` value.
    /// Offers with unknown, repeated or out-of-range parameters are declined (RFC 7692 section 5).
    /// `server_max_window_bits=8` is declined too: zlib cannot compress with a 256-byte window.
    public static func negotiate(offers header: String, serverNoContextTakeover: Bool = false) -> PerMessageDeflateParameters? {
        for offer in header.split(separator: ",") {
            let parts = offer.split(separator: ";").map { $0.trimmingASCIIWhitespace() }
            guard parts.first?.lowercased() == "permessage-deflate" else { continue }
            var agreed = PerMessageDeflateParameters()
            agreed.serverNoContextTakeover = serverNoContextTakeover
            var seen = Set<String>()
            var acceptable = true
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                let name = pair[0].trimmingASCIIWhitespace().lowercased()
                var value = pair.count > 1 ? String(pair[1].trimmingASCIIWhitespace()) : nil
                if let v = value, v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { value = String(v.dropFirst().dropLast()) }
                guard seen.insert(name).inserted else { acceptable = false; break }
                switch name {
                case "server_no_context_takeover":
                    guard value == nil else { acceptable = false; break }
                    agreed.serverNoContextTakeover = true
                case "client_no_context_takeover":
                    guard value == nil else { acceptable = false; break }
                    agreed.clientNoContextTakeover = true
                case "server_max_window_bits":
                    guard let v = value, let bits = Int(v), (9...15).contains(bits), v.first != "0" else { acceptable = false; break }
                    agreed.serverMaxWindowBits = bits
                case "client_max_window_bits":
                    if let v = value {
                        guard let bits = Int(v), (8...15).contains(bits), v.first != "0" else { acceptable = false; break }
                        agreed.clientMaxWindowBits = bits
                    }
                default:
                    acceptable = false
                }
                if !acceptable { break }
            }
            if acceptable { return agreed }
        }
        return nil
    }
}

/// A message too large once inflated, or a corrupt deflate stream.
public enum PerMessageDeflateError: Error, Sendable, Equatable {
    case tooLarge
    case corrupt
}

/// The compression state of one connection. Not thread-safe: owned by the connection's loop.
public final class PerMessageDeflateCodec {
    public let parameters: PerMessageDeflateParameters
    private var deflater: UnsafeMutablePointer<z_stream>?
    private var inflater: UnsafeMutablePointer<z_stream>?
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    public init(parameters: PerMessageDeflateParameters) { self.parameters = parameters }

    deinit {
        if let deflater { deflateEnd(deflater); deflater.deallocate() }
        if let inflater { inflateEnd(inflater); inflater.deallocate() }
    }

    /// Compresses one whole message (the payload of its RSV1 frame).
    public func compress(_ message: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        if deflater == nil {
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // memLevel 8 is zlib's default; the window follows server_max_window_bits.
            guard czlib_deflate_init2(stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -Int32(parameters.serverMaxWindowBits), 8,
                                      Z_DEFAULT_STRATEGY) == Z_OK else { stream.deallocate(); return nil }
            deflater = stream
        }
        let stream = deflater!
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(message.count))) + 16)
        var produced = 0
        stream.pointee.next_in = UnsafeMutablePointer(mutating: message.baseAddress)
        stream.pointee.avail_in = uInt(message.count)
        while true {
            if produced == output.count { output += [UInt8](repeating: 0, count: max(64, output.count)) }
            let status: Int32 = output.withUnsafeMutableBufferPointer { out in
                stream.pointee.next_out = out.baseAddress! + produced
                stream.pointee.avail_out = uInt(out.count - produced)
                let rc = deflate(stream, Z_SYNC_FLUSH)
                produced = out.count - Int(stream.pointee.avail_out)
                return rc
            }
            guard status == Z_OK || status == Z_BUF_ERROR else { return nil }
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { break }
        }
        output.removeSubrange(produced...)
        if output.count >= 4 && Array(output.suffix(4)) == Self.tail { output.removeLast(4) }
        if output.isEmpty { output = [0x00] }  // an empty stored block (RFC 7692 section 7.2.3.6)
        if parameters.serverNoContextTakeover { deflateReset(stream) }
        return output
    }

    /// Inflates one frame of a compressed message. Call with `final: true` on the last frame; the
    /// running total `inflatedSoFar + result` never exceeds `limit`.
    public func inflate(_ data: UnsafeBufferPointer<UInt8>, final: Bool, inflatedSoFar: Int, limit: Int) throws(PerMessageDeflateError) -> [UInt8] {
        if inflater == nil {
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            guard czlib_inflate_init2(stream, -15) == Z_OK else { stream.deallocate(); throw .corrupt }
            inflater = stream
        }
        var result: [UInt8] = []
        try run(data, into: &result, inflatedSoFar: inflatedSoFar, limit: limit)
        if final {
            try Self.tail.withUnsafeBufferPointer { tail throws(PerMessageDeflateError) in
                try run(tail, into: &result, inflatedSoFar: inflatedSoFar, limit: limit)
            }
            if parameters.clientNoContextTakeover { inflateReset(inflater!) }
        }
        return result
    }

    private func run(_ input: UnsafeBufferPointer<UInt8>, into result: inout [UInt8], inflatedSoFar: Int, limit: Int) throws(PerMessageDeflateError) {
        guard input.count > 0 else { return }
        let stream = inflater!
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.pointee.avail_in = uInt(input.count)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let (status, produced): (Int32, Int) = chunk.withUnsafeMutableBufferPointer { out in
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                let rc = CZlib.inflate(stream, Z_SYNC_FLUSH)
                return (rc, out.count - Int(stream.pointee.avail_out))
            }
            if status != Z_OK && status != Z_BUF_ERROR && status != Z_STREAM_END { throw .corrupt }
            if produced > 0 {
                if inflatedSoFar + result.count + produced > limit { throw .tooLarge }
                result.append(contentsOf: chunk[..<produced])
            }
            if stream.pointee.avail_in == 0 && produced < chunk.count { return }
            if status == Z_BUF_ERROR && produced == 0 { return }
            if status == Z_STREAM_END { inflateReset(stream); return }  // a final block: start afresh
        }
    }
}
