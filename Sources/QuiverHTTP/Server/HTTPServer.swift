// HTTPServer: binds one SO_REUSEPORT listening socket per event loop, runs each loop on its own
// thread, and shuts down gracefully: stop accepting, let in-flight requests finish within the
// grace period, close the rest. `start` throws if the address cannot be bound.
import CQuiverSystem
import Foundation
import Logging
import Synchronization

/// State every loop of a server shares: configuration, router, connection count.
final class HTTPServerShared: Sendable {
    let configuration: HTTPServerConfiguration
    let router: Router
    let logger: Logger
    let connectionCount = Atomic<Int>(0)
    let webSocketCount = Atomic<Int>(0)
    let webSocketIDs = Atomic<UInt64>(0)
    /// Sent to a client beyond the connection cap, before closing.
    let overloadResponse: [UInt8]

    init(configuration: HTTPServerConfiguration, router: Router, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        var bytes: [UInt8] = []
        HTTPResponseEncoder.encode(
            .error(.serviceUnavailable, code: "too_many_connections",
                   message: "the server is at its limit of \(configuration.maxConnections) connections"),
            isHead: false, keepAlive: false, date: HTTPDate.headerLine(Int(Date().timeIntervalSince1970)), into: &bytes)
        overloadResponse = bytes
    }

    func reserveConnection() -> Bool {
        let (was, _) = connectionCount.add(1, ordering: .relaxed)
        if was >= configuration.maxConnections {
            connectionCount.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseConnection() { connectionCount.subtract(1, ordering: .relaxed) }

    func reserveWebSocket() -> Bool {
        let (was, _) = webSocketCount.add(1, ordering: .relaxed)
        if was >= configuration.maxWebSocketConnections {
            webSocketCount.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseWebSocket() { webSocketCount.subtract(1, ordering: .relaxed) }

    func nextWebSocketID() -> UInt64 { webSocketIDs.add(1, ordering: .relaxed).newValue }
}

/// An HTTP/1.1 server on nonblocking POSIX sockets with one epoll loop per thread.
public final class HTTPServer: Sendable {
    private let shared: HTTPServerShared
    private let loops: [EventLoop]
    private let finished: DispatchGroup
    private let started = Mutex(false)
    private let stopping = Mutex(false)
    /// The port the server listens on (the chosen one when the configuration said 0).
    public let port: Int

    /// Binds the listening sockets. Call `start()` to begin serving.
    public init(configuration: HTTPServerConfiguration, router: Router, logger: Logger = Logger(label: "quiver.http")) throws {
        shared = HTTPServerShared(configuration: configuration, router: router, logger: logger)
        let count = configuration.eventLoops > 0 ? configuration.eventLoops : max(1, ProcessInfo.processInfo.activeProcessorCount)
        var loops: [EventLoop] = []
        // Probe first without SO_REUSEPORT: a port another process listens on is an error here,
        // not a port whose connections the two processes would silently share.
        let probe = try Socket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog, exclusive: true)
        let port = Socket.localPort(probe)
        close(probe)
        for index in 0..<count {
            let fd = try Socket.listen(host: configuration.host, port: port, backlog: configuration.backlog)
            do {
                loops.append(try EventLoop(index: index, listenFD: fd, shared: shared))
            } catch {
                close(fd)
                throw error
            }
        }
        self.loops = loops
        self.port = port
        finished = DispatchGroup()
    }

    /// Number of event loop threads.
    public var eventLoopCount: Int { loops.count }

    /// Open client connections right now, across loops.
    public var openConnections: Int { shared.connectionCount.load(ordering: .relaxed) }

    /// Open WebSocket connections right now, across loops.
    public var openWebSockets: Int { shared.webSocketCount.load(ordering: .relaxed) }

    /// Starts the loop threads. Returns at once.
    public func start() {
        let alreadyStarted = started.withLock { s -> Bool in defer { s = true }; return s }
        guard !alreadyStarted else { return }
        for loop in loops {
            finished.enter()
            let group = finished
            let name = "quiver-loop-\(loop.index)"
            let thread = Thread {
                cq_set_thread_name(name)
                loop.run()
                group.leave()
            }
            thread.name = name
            thread.start()
        }
        shared.logger.info("listening", metadata: ["host": "\(shared.configuration.host)", "port": "\(port)",
                                                   "event_loops": "\(loops.count)"])
    }

    /// Stops accepting, lets in-flight requests finish within the grace period, then closes
    /// every connection. Returns at once; `waitUntilStopped()` waits for the end.
    public func shutdown() {
        let already = stopping.withLock { s -> Bool in defer { s = true }; return s }
        guard !already else { return }
        let deadline = Socket.monotonicMilliseconds() + Int64(shared.configuration.shutdownGraceMs)
        for loop in loops { loop.post(.beginShutdown(deadline: deadline)) }
    }

    /// Blocks the calling thread until every loop has stopped.
    public func waitUntilStopped() {
        finished.wait()
    }

    /// Waits without blocking a thread of the cooperative pool.
    public func stopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            finished.notify(queue: .global()) { continuation.resume() }
        }
    }
}
