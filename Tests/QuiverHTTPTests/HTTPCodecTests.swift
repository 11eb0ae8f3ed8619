// HTTPCodecTests: response encoding (Content-Length, Date, HEAD, Connection), the date format,
// and gzip round trips and Accept-Encoding negotiation.
import CZlib
import QuiverTestSupport
import Testing
@testable import QuiverHTTP

@Suite struct HTTPCodecTests {
    @Test func encodesLengthDateAndClose() {
        var out: [UInt8] = []
        HTTPResponseEncoder.encode(.text("hi"), isHead: false, keepAlive: false, date: HTTPDate.headerLine(0), into: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text == "HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
    }

    @Test func headKeepsLengthButDropsBody() {
        var out: [UInt8] = []
        HTTPResponseEncoder.encode(.text("hello"), isHead: true, keepAlive: true, date: [], into: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasSuffix("Content-Length: 5\r\n\r\n"))
    }

    @Test func noContentHasNoLength() {
        var out: [UInt8] = []
        HTTPResponseEncoder.encode(HTTPResponse(status: .noContent), isHead: false, keepAlive: true, date: [], into: &out)
        #expect(!String(decoding: out, as: UTF8.self).contains("Content-Length"))
    }

    @Test(arguments: [0, 7, 10, 99, 12345, 1_000_000_007])
    func writesDecimalLengths(_ n: Int) {
        var out: [UInt8] = []
        HTTPResponseEncoder.appendDecimal(n, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(n))
    }

    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test func gzipRoundTrips() throws {
        let input = Array(String(repeating: "{\"item_id\":\"i42\",\"score\":0.5},", count: 200).utf8)
        let compressor = GzipCompressor()
        for _ in 0..<3 {  // the stream is reset and reused
            let compressed = try #require(compressor.compress(input))
            #expect(compressed.count < input.count / 4)
            #expect(compressed.prefix(2) == [0x1F, 0x8B])
            #expect(gunzip(compressed) == input)
        }
    }

    @Test(arguments: [("gzip", true), ("gzip;q=0", false), ("br, gzip;q=0.5", true), ("*", true),
                      ("*, gzip;q=0", false), ("identity", false), ("GZIP", true), ("deflate", false)])
    func negotiatesGzip(_ header: String, _ expected: Bool) {
        #expect(GzipCompressor.accepts(header) == expected)
    }

    @Test(arguments: [("application/json", true), ("Application/JSON; charset=utf-8", true), ("text/plain", true),
                      ("TEXT/html", true), ("application/problem+json", true), ("application/xml", true),
                      ("application/javascript", true), ("image/png", false), ("application/octet-stream", false),
                      ("", false), ("tex", false), ("application/jso", false)])
    func decidesWhatToCompress(_ contentType: String, _ expected: Bool) {
        #expect(GzipCompressor.isCompressible(contentType: contentType) == expected)
    }

    @Test func compressesNothingWithoutAContentType() {
        #expect(!GzipCompressor.isCompressible(contentType: nil))
    }

    @Test func writesVaryAfterTheResponsesOwnFields() {
        var viaFlag: [UInt8] = [], viaField: [UInt8] = []
        let date = Array("Date: x\r\n".utf8)
        let response = HTTPResponse.json(Array("{}".utf8))
        HTTPResponseEncoder.encode(response, isHead: false, keepAlive: true, version: .http1_1, date: date,
                                   varyAcceptEncoding: true, into: &viaFlag)
        var withField = response
        withField.headers.add("vary", "accept-encoding")
        HTTPResponseEncoder.encode(withField, isHead: false, keepAlive: true, date: date, into: &viaField)
        #expect(viaFlag == viaField)
        #expect(String(decoding: viaFlag, as: UTF8.self)
                    == "HTTP/1.1 200 OK\r\nDate: x\r\nContent-Type: application/json\r\nVary: accept-encoding\r\nContent-Length: 2\r\n\r\n{}")
    }

    func gunzip(_ data: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard czlib_inflate_init2(&stream, 15 + 16) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: 1 << 20)
        var input = data
        let rc = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { return nil }
        return Array(output[..<Int(stream.total_out)])
    }
}
