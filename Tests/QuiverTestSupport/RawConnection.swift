// RawConnection: a blocking TCP client for tests that need byte-level control (pipelining,
// slow senders, half-sent bodies). Every read has a timeout so a test can never hang.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct HTTPTestResponse: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: String
}

public final class RawConnection: @unchecked Sendable {
    public let fd: Int32

    public init(port: Int, receiveTimeoutMs: Int = 5000) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // Every stored property is set: throwing runs deinit, which closes `fd`. Closing it here
        // too would close whatever descriptor another thread opened under that number meanwhile.
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: receiveTimeoutMs / 1000, tv_usec: (receiveTimeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Reads until the peer closes or the timeout passes.
    public func readToEnd() async -> String { await onThread { self.readToEndBlocking() } }

    public func readToEndBlocking() -> String {
        String(decoding: readBytesToEndBlocking(), as: UTF8.self)
    }

    public func readBytesToEndBlocking() -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[..<n]
        }
        return data
    }

    /// The raw bytes until the peer closes or the timeout passes.
    public func readBytesToEnd() async -> [UInt8] { await onThread { self.readBytesToEndBlocking() } }

    /// Reads until `count` complete responses (by Content-Length) have arrived.
    public func readResponses(_ count: Int) async -> [HTTPTestResponse] { await onThread { self.readResponsesBlocking(count) } }

    public func readResponsesBlocking(_ count: Int) -> [HTTPTestResponse] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var responses: [HTTPTestResponse] = []
        while responses.count < count {
            if let (response, used) = Self.parseResponse(data) {
                responses.append(response)
                data.removeFirst(used)
                continue
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[..<n]
        }
        return responses
    }

    /// True when the server has closed the connection (EOF within the timeout).
    public func isClosedByPeer() async -> Bool { await onThread { self.isClosedByPeerBlocking() } }

    public func isClosedByPeerBlocking() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    public static func parseResponse(_ data: [UInt8]) -> (HTTPTestResponse, Int)? {
        let text = String(decoding: data, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<headEnd.lowerBound]
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let headBytes = text.utf8.distance(from: text.startIndex, to: headEnd.upperBound)
        if status < 200 { return (HTTPTestResponse(status: status, headers: headers, body: ""), headBytes) }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard data.count >= headBytes + length else { return nil }
        let body = String(decoding: data[headBytes..<headBytes + length], as: UTF8.self)
        return (HTTPTestResponse(status: status, headers: headers, body: body), headBytes + length)
    }
}
