// Socket: thin wrappers over the POSIX socket, epoll and eventfd calls the event loops use.
// Everything is nonblocking and close-on-exec; errors come back as SocketError with errno's text.
#if canImport(Glibc)
import Glibc
#endif
import CQuiverSystem

/// A failed system call: which call, and errno's message.
public struct SocketError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let code: Int32
    public var description: String { "\(call) failed: \(String(cString: strerror(code))) (errno \(code))" }
    init(_ call: String, _ code: Int32 = errno) { self.call = call; self.code = code }
}

enum Socket {
    static let epollIn = cq_epollin
    static let epollOut = cq_epollout
    static let epollRDHup = cq_epollrdhup
    static let epollErr = cq_epollerr
    static let epollHup = cq_epollhup

    /// Opens a nonblocking listening socket on host:port with SO_REUSEPORT (one per event loop).
    /// With `exclusive`, binds without SO_REUSEPORT and does not listen: a probe that fails when
    /// any process already listens on the port, which SO_REUSEPORT alone would share silently.
    static func listen(host: String, port: Int, backlog: Int32, exclusive: Bool = false) throws(SocketError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let info = result else {
            throw SocketError("getaddrinfo(\(host))", rc == EAI_SYSTEM ? errno : EINVAL)
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if !exclusive { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let e = SocketError("bind(\(host):\(port))"); close(fd); throw e
        }
        if exclusive { return fd }
        guard Glibc.listen(fd, backlog) == 0 else {
            let e = SocketError("listen"); close(fd); throw e
        }
        return fd
    }

    /// The local port a socket is bound to.
    static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let family = storage.ss_family
        return withUnsafePointer(to: storage) { pointer -> Int in
            if family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    static func epollAdd(_ epfd: Int32, _ fd: Int32, _ events: UInt32) {
        var event = epoll_event(events: events, data: epoll_data_t(fd: fd))
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event)
    }

    static func epollModify(_ epfd: Int32, _ fd: Int32, _ events: UInt32) {
        var event = epoll_event(events: events, data: epoll_data_t(fd: fd))
        epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event)
    }

    static func epollRemove(_ epfd: Int32, _ fd: Int32) {
        var event = epoll_event()
        epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event)
    }

    /// Milliseconds on the monotonic clock.
    static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
