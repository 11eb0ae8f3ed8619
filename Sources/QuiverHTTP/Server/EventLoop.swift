// EventLoop: one thread, one epoll instance, its own listening socket (SO_REUSEPORT) and the
// connections it accepted. Nothing here blocks: reads and writes are nonblocking, handlers that
// wait for I/O run as tasks and come back through the loop's inbox (an eventfd wakes the loop).
#if canImport(Glibc)
import Glibc
#endif
import CQuiverSystem
import Synchronization

/// Messages other threads post to a loop.
enum LoopMessage: Sendable {
    case resume(fd: Int32, serial: UInt64, token: UInt64, response: HTTPResponse)
    case beginShutdown(deadline: Int64)
    case webSocketSend(fd: Int32, serial: UInt64, action: WebSocketOutbound)
    case webSocketBroadcast(message: WebSocketMessage, targets: [(Int32, UInt64)])
}

final class EventLoop: @unchecked Sendable {
    // Shared, thread-safe state.
    let index: Int
    let shared: HTTPServerShared
    private let inbox = Mutex<(messages: [LoopMessage], wakePending: Bool)>(([], false))
    let wakeFD: Int32
    let epollFD: Int32

    // Loop-confined state: touched only on this loop's thread.
    var listenFD: Int32
    var connections: [HTTPConnection?] = []
    var openConnections = 0
    var nextSerial: UInt64 = 0
    var now: Int64 = Socket.monotonicMilliseconds()
    var dateLine: [UInt8] = []
    var dateSecond = -1
    var draining = false
    var drainDeadline: Int64 = 0
    var acceptPausedUntil: Int64 = 0
    var lastSweep: Int64 = 0
    /// The thread running this loop, set when `run` starts.
    var thread: pthread_t?
    let readBuffer: UnsafeMutableBufferPointer<UInt8>
    let gzip: GzipCompressor
    var config: HTTPServerConfiguration { shared.configuration }

    init(index: Int, listenFD: Int32, shared: HTTPServerShared) throws(SocketError) {
        self.index = index
        self.listenFD = listenFD
        self.shared = shared
        epollFD = epoll_create1(cq_epoll_cloexec)
        guard epollFD >= 0 else { throw SocketError("epoll_create1") }
        wakeFD = eventfd(0, cq_efd_nonblock | cq_efd_cloexec)
        guard wakeFD >= 0 else { throw SocketError("eventfd") }
        readBuffer = .allocate(capacity: 64 * 1024)
        gzip = GzipCompressor(level: Int32(shared.configuration.gzipLevel))
        Socket.epollAdd(epollFD, wakeFD, Socket.epollIn)
        Socket.epollAdd(epollFD, listenFD, Socket.epollIn)
    }

    deinit {
        if listenFD >= 0 { close(listenFD) }
        readBuffer.deallocate()
        close(epollFD)
        close(wakeFD)
    }

    /// Posts a message from any thread and wakes the loop.
    func post(_ message: LoopMessage) {
        let mustWake = inbox.withLock { state -> Bool in
            state.messages.append(message)
            defer { state.wakePending = true }
            return !state.wakePending
        }
        if mustWake {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    /// The loop body; returns when the loop has drained after shutdown.
    /// Whether the caller is on this loop's thread.
    var isCurrentThread: Bool {
        guard let thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    func run() {
        thread = pthread_self()
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        refreshDate()
        while true {
            let timeout: Int32 = draining ? 50 : 250
            let n = epoll_wait(epollFD, &events, Int32(events.count), timeout)
            now = Socket.monotonicMilliseconds()
            refreshDate()
            if n < 0 && errno != EINTR { break }
            for i in 0..<max(0, Int(n)) {
                let fd = events[i].data.fd
                let flags = events[i].events
                if fd == wakeFD {
                    drainInbox()
                } else if fd == listenFD {
                    acceptConnections()
                } else if let connection = connection(fd) {
                    if flags & (Socket.epollIn | Socket.epollErr | Socket.epollHup | Socket.epollRDHup) != 0 {
                        onReadable(connection)
                    }
                    if flags & Socket.epollOut != 0, self.connection(fd) === connection {
                        flush(connection)
                    }
                }
            }
            if now - lastSweep >= (draining ? 50 : 250) {
                lastSweep = now
                sweepTimeouts()
            }
            if draining && (openConnections == 0 || now >= drainDeadline) { break }
        }
        for case let connection? in connections { closeConnection(connection) }
    }

    func connection(_ fd: Int32) -> HTTPConnection? {
        Int(fd) < connections.count ? connections[Int(fd)] : nil
    }

    private func refreshDate() {
        let second = Int(time(nil))
        if second != dateSecond {
            dateSecond = second
            dateLine = HTTPDate.headerLine(second)
        }
    }

    // MARK: inbox

    private func drainInbox() {
        var counter: UInt64 = 0
        _ = read(wakeFD, &counter, 8)
        let messages = inbox.withLock { state -> [LoopMessage] in
            state.wakePending = false
            defer { state.messages.removeAll(keepingCapacity: true) }
            return state.messages
        }
        for message in messages {
            switch message {
            case .resume(let fd, let serial, let token, let response):
                guard let connection = connection(fd), connection.serial == serial,
                      let suspended = connection.suspended, suspended.token == token else { continue }
                resume(connection, with: response, context: suspended.context)
            case .beginShutdown(let deadline):
                beginDraining(deadline: deadline)
            case .webSocketSend(let fd, let serial, let action):
                guard let connection = connection(fd), connection.serial == serial else { continue }
                apply(action, to: connection, flushNow: true)
            case .webSocketBroadcast(let message, let targets):
                broadcast(message, to: targets)
            }
        }
    }

    private func beginDraining(deadline: Int64) {
        guard !draining else { return }
        draining = true
        drainDeadline = deadline
        if listenFD >= 0 {
            Socket.epollRemove(epollFD, listenFD)
            close(listenFD)
            listenFD = -1
        }
        for case let connection? in connections where connection.isIdle {
            closeConnection(connection)
        }
    }

    // MARK: accepting

    private func acceptConnections() {
        guard !draining, now >= acceptPausedUntil else { return }
        for _ in 0..<64 {
            let fd = cq_accept_nonblocking(listenFD)
            if fd < 0 {
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    // Out of descriptors: stop accepting for a moment instead of spinning.
                    Socket.epollRemove(epollFD, listenFD)
                    acceptPausedUntil = now + 100
                    shared.logger.warning("accept paused: \(SocketError("accept4"))")
                }
                return
            }
            guard shared.reserveConnection() else {
                let busy = shared.overloadResponse
                _ = busy.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(fd)
                continue
            }
            Socket.setNoDelay(fd)
            nextSerial += 1
            let interest = Socket.epollIn | Socket.epollRDHup
            let connection = HTTPConnection(fd: fd, serial: nextSerial, limits: config.limits, now: now, interest: interest)
            if Int(fd) >= connections.count {
                connections.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - connections.count + 64))
            }
            connections[Int(fd)] = connection
            openConnections += 1
            Socket.epollAdd(epollFD, fd, interest)
        }
    }

    // MARK: closing

    func closeConnection(_ connection: HTTPConnection) {
        guard self.connection(connection.fd) === connection else { return }
        connections[Int(connection.fd)] = nil
        openConnections -= 1
        shared.releaseConnection()
        if let state = connection.webSocket {
            shared.releaseWebSocket()
            state.notifyClosed(state.closeSent ? state.closeCode : .abnormal, state.closeSent ? state.closeReason : "")
        }
        Socket.epollRemove(epollFD, connection.fd)
        close(connection.fd)
    }

    /// Shuts the write side and keeps reading (discarding) briefly, so the client sees the
    /// response before a reset caused by unread request bytes.
    func lingerAndClose(_ connection: HTTPConnection) {
        if connection.lingering { return }
        connection.lingering = true
        connection.lingerDeadline = now + 2000
        shutdown(connection.fd, Int32(SHUT_WR))
        if connection.readPaused { resumeReading(connection) }
    }

    func updateInterest(_ connection: HTTPConnection) {
        var events = Socket.epollRDHup
        if !connection.readPaused { events |= Socket.epollIn }
        if connection.hasPendingOutput { events |= Socket.epollOut }
        if events != connection.interest {
            connection.interest = events
            Socket.epollModify(epollFD, connection.fd, events)
        }
    }

    func pauseReading(_ connection: HTTPConnection) {
        connection.readPaused = true
        updateInterest(connection)
    }

    func resumeReading(_ connection: HTTPConnection) {
        connection.readPaused = false
        updateInterest(connection)
    }

    // MARK: timeouts

    private func sweepTimeouts() {
        if acceptPausedUntil != 0 && now >= acceptPausedUntil && listenFD >= 0 {
            acceptPausedUntil = 0
            Socket.epollAdd(epollFD, listenFD, Socket.epollIn)
        }
        for case let connection? in connections {
            if connection.lingering {
                if now >= connection.lingerDeadline { closeConnection(connection) }
            } else if let state = connection.webSocket {
                if connection.hasPendingOutput && now - connection.lastWriteProgress >= Int64(config.writeTimeoutMs) {
                    closeConnection(connection)
                } else {
                    sweepWebSocket(connection, state)
                }
            } else if let suspended = connection.suspended {
                if now >= suspended.deadline {
                    let response = HTTPResponse.error(.serviceUnavailable, code: "handler_timeout",
                                                      message: "the request did not complete within \(config.handlerTimeoutMs) ms")
                    let context = ResponseContext(isHead: suspended.context.isHead, keepAlive: false,
                                                  acceptEncoding: nil, version: suspended.context.version)
                    resume(connection, with: response, context: context)
                }
            } else if connection.hasPendingOutput {
                if now - connection.lastWriteProgress >= Int64(config.writeTimeoutMs) { closeConnection(connection) }
            } else if connection.requestStartedAt != 0 {
                let limit = connection.parser.isReadingBody ? config.bodyTimeoutMs : config.headerTimeoutMs
                if now - connection.requestStartedAt >= Int64(limit) {
                    let error = HTTPResponse.error(.requestTimeout, code: "request_timeout",
                                                   message: "the request did not arrive within \(limit) ms")
                    respondAndClose(connection, error)
                }
            } else if draining || now - connection.lastActivity >= Int64(config.idleTimeoutMs) {
                closeConnection(connection)
            }
        }
    }
}
