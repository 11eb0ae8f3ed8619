// GzipCompressor: gzip (RFC 1952) through zlib for response bodies, and the Accept-Encoding test.
// One compressor per event loop, reset between bodies; it is not thread-safe and never shared.
import CZlib

/// A reusable zlib deflate stream producing gzip members.
public final class GzipCompressor {
    private var stream = z_stream()
    private var ready = false

    /// - Parameter level: zlib level 1 (fastest) to 9 (smallest).
    public init(level: Int32 = 5) {
        // windowBits 15 + 16 asks zlib for a gzip header and trailer.
        ready = czlib_deflate_init2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK
    }

    deinit { if ready { deflateEnd(&stream) } }

    /// The gzip encoding of `input`, or nil if zlib failed.
    public func compress(_ input: [UInt8]) -> [UInt8]? {
        guard ready else { return nil }
        deflateReset(&stream)
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        let status: Int32 = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Whether an `Accept-Encoding` value allows gzip (listed, or `*`, with a non-zero q-value).
    public static func accepts(_ acceptEncoding: String) -> Bool {
        var gzipQ: Double?
        var starQ: Double?
        for part in acceptEncoding.split(separator: ",") {
            let pieces = part.split(separator: ";")
            let coding = pieces[0].trimmingASCIIWhitespace().lowercased()
            var q = 1.0
            for parameter in pieces.dropFirst() {
                let p = parameter.trimmingASCIIWhitespace()
                if p.lowercased().hasPrefix("q=") { q = Double(p.dropFirst(2)) ?? 0 }
            }
            if coding == "gzip" || coding == "x-gzip" { gzipQ = q } else if coding == "*" { starQ = q }
        }
        if let gzipQ { return gzipQ > 0 }
        if let starQ { return starQ > 0 }
        return false
    }

    /// Whether a content type is worth compressing (text, JSON, XML, JavaScript).
    /// Compares bytes, ASCII case-insensitively: it runs for every response above the gzip threshold.
    public static func isCompressible(contentType: String?) -> Bool {
        guard var type = contentType else { return false }
        return type.withUTF8 { bytes in
            startsWith(bytes, "text/") || contains(bytes, "json") || contains(bytes, "xml") || contains(bytes, "javascript")
        }
    }

    /// Whether `bytes` begins with the lowercase ASCII `word`, ignoring ASCII case.
    private static func startsWith(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        bytes.count >= word.utf8CodeUnitCount && matches(bytes, at: 0, word)
    }

    /// Whether `bytes` holds the lowercase ASCII `word` anywhere, ignoring ASCII case.
    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard bytes.count >= n else { return false }
        for start in 0...(bytes.count - n) where matches(bytes, at: start, word) { return true }
        return false
    }

    @inline(__always)
    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, _ word: StaticString) -> Bool {
        let w = word.utf8Start
        for k in 0..<word.utf8CodeUnitCount {
            let c = bytes[start + k]
            if (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) != w[k] { return false }
        }
        return true
    }
}
