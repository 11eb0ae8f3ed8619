// EventLoop+Requests: reading bytes, parsing them into requests, dispatching to the router,
// encoding responses and writing them out. The fast path parses straight from the loop's read
// buffer and answers a whole pipelined batch with one write.
#if canImport(Glibc)
import Glibc
#endif

extension EventLoop {
    func onReadable(_ connection: HTTPConnection) {
        while true {
            let n = read(connection.fd, readBuffer.baseAddress, readBuffer.count)
            if n > 0 {
                connection.lastActivity = now
                if connection.lingering { continue }  // discard what a refused client still sends
                received(connection, count: n)
                if self.connection(connection.fd) !== connection { return }
                flush(connection)
                return
            }
            if n == 0 {
                // The peer closed (or half-closed) its side: nothing more can be asked.
                if connection.hasPendingOutput && !connection.lingering && connection.suspended == nil {
                    connection.closeAfterWrite = true
                    connection.readPaused = true
                    updateInterest(connection)
                    flush(connection)
                } else {
                    closeConnection(connection)
                }
                return
            }
            if errno == EINTR { continue }
            if errno != EAGAIN && errno != EWOULDBLOCK { closeConnection(connection) }
            return
        }
    }

    private func received(_ connection: HTTPConnection, count: Int) {
        if connection.requestStartedAt == 0 && connection.webSocket == nil { connection.requestStartedAt = now }
        if connection.inbound.isEmpty {
            let chunk = UnsafeBufferPointer(rebasing: readBuffer[0..<count])
            let wasWebSocket = connection.webSocket != nil
            let consumed = wasWebSocket ? processWebSocket(connection, chunk) : process(connection, chunk)
            if consumed < count, self.connection(connection.fd) === connection, !connection.lingering, !connection.closeAfterWrite {
                connection.inbound.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[consumed...]))
                // Frames sent right behind the upgrade request.
                if !wasWebSocket && connection.webSocket != nil { processInbound(connection) }
            }
        } else {
            if let state = connection.webSocket, state.pendingFrameSize > connection.inbound.capacity {
                connection.inbound.reserveCapacity(state.pendingFrameSize)
            }
            connection.inbound.append(contentsOf: UnsafeBufferPointer(rebasing: readBuffer[0..<count]))
            processInbound(connection)
        }
        if connection.parser.isIdle && connection.inbound.isEmpty && connection.suspended == nil || connection.webSocket != nil {
            connection.requestStartedAt = 0
        }
    }

    func processInbound(_ connection: HTTPConnection) {
        guard !connection.inbound.isEmpty else { return }
        let consumed = connection.inbound.withUnsafeBufferPointer { buffer in
            connection.webSocket == nil ? process(connection, buffer) : processWebSocket(connection, buffer)
        }
        guard self.connection(connection.fd) === connection else { return }
        if connection.lingering || connection.closeAfterWrite {
            connection.inbound = []  // nothing after an error or a close is ever parsed
        } else {
            if consumed == connection.inbound.count {
                connection.inbound.removeAll(keepingCapacity: connection.inbound.capacity <= 16 * 1024)
                connection.webSocket?.pendingFrameSize = 0
            } else if consumed > 0 {
                connection.inbound.removeSubrange(0..<consumed)
            }
        }
    }

    /// Parses and answers requests from `buffer` until it runs out, a handler suspends, or the
    /// connection must close. Returns how many bytes were consumed.
    private func process(_ connection: HTTPConnection, _ buffer: UnsafeBufferPointer<UInt8>) -> Int {
        var offset = 0
        while connection.suspended == nil && !connection.closeAfterWrite && connection.webSocket == nil {
            // Backpressure: a client pipelining without reading its answers waits.
            if connection.outbound.count - connection.outboundOffset > 1 << 20 { break }
            let (consumed, event) = connection.parser.parse(UnsafeBufferPointer(rebasing: buffer[offset...]))
            offset += consumed
            switch event {
            case .needMoreData:
                return offset
            case .expectsContinue:
                connection.outbound.append(contentsOf: HTTPResponseEncoder.continueResponse)
            case .request(let request):
                dispatch(connection, request)
                connection.requestStartedAt = now
            case .failure(let error):
                respondAndClose(connection, error.response)
                return offset
            }
        }
        return offset
    }

    private func dispatch(_ connection: HTTPConnection, _ incoming: HTTPRequest) {
        var request = incoming
        let context = ResponseContext(
            isHead: request.method == .head,
            keepAlive: request.wantsKeepAlive && !draining,
            acceptEncoding: request.headers["accept-encoding"],
            version: request.version)
        switch shared.router.resolve(&request) {
        case .response(let response):
            finish(connection, response, context)
        case .handler(.immediate(let handler)):
            finish(connection, handler(request), context)
        case .handler(.suspending(let handler)):
            connection.nextToken += 1
            let token = connection.nextToken
            connection.suspended = SuspendedRequest(token: token, context: context,
                                                    deadline: now + Int64(config.handlerTimeoutMs))
            pauseReading(connection)
            let fd = connection.fd, serial = connection.serial
            let request = request
            Task { [self] in
                let response = await handler(request)
                post(.resume(fd: fd, serial: serial, token: token, response: response))
            }
        case .handler(.webSocket(let endpoint)):
            upgrade(connection, request, endpoint, context)
        }
    }

    /// Delivers a suspended handler's answer, then continues with pipelined requests.
    func resume(_ connection: HTTPConnection, with response: HTTPResponse, context: ResponseContext) {
        connection.suspended = nil
        finish(connection, response, context)
        guard self.connection(connection.fd) === connection, !connection.lingering else { return }
        if !connection.closeAfterWrite {
            resumeReading(connection)
            processInbound(connection)
        }
        if connection.parser.isIdle && connection.inbound.isEmpty && connection.suspended == nil {
            connection.requestStartedAt = 0
        }
        if self.connection(connection.fd) === connection { flush(connection) }
    }

    func finish(_ connection: HTTPConnection, _ response: HTTPResponse, _ context: ResponseContext) {
        var response = response
        var vary = false  // `Vary: accept-encoding` without touching the header list (the common case)
        let body = response.body.count
        if body >= config.gzipMinBytes && !response.status.forbidsBody && !response.headers.contains("content-encoding")
            && GzipCompressor.isCompressible(contentType: response.headers["content-type"]) {
            if let acceptEncoding = context.acceptEncoding, GzipCompressor.accepts(acceptEncoding),
               let compressed = gzip.compress(response.body) {
                response.body = compressed
                response.headers.add("vary", "accept-encoding")
                response.headers.add("content-encoding", "gzip")
            } else {
                vary = true
            }
        }
        let keepAlive = context.keepAlive && !draining
        HTTPResponseEncoder.encode(response, isHead: context.isHead, keepAlive: keepAlive, version: context.version,
                                   date: dateLine, varyAcceptEncoding: vary, into: &connection.outbound)
        if !keepAlive { connection.closeAfterWrite = true }
    }

    /// Sends an error response (parser failure, timeout) and closes once it is written.
    func respondAndClose(_ connection: HTTPConnection, _ response: HTTPResponse) {
        finish(connection, response, ResponseContext(isHead: false, keepAlive: false, acceptEncoding: nil, version: .http1_1))
        connection.closeAfterWrite = true
        // `inbound` may be borrowed by the caller (processInbound): it is dropped there, not here.
        flush(connection)
    }

    /// Writes what the socket takes now, and nothing else (no closing, no parsing): safe to call
    /// from inside a handler callback. Returns false when the connection failed.
    func writePending(_ connection: HTTPConnection) -> Bool {
        while connection.hasPendingOutput {
            let n = connection.outbound.withUnsafeBytes { bytes in
                send(connection.fd, bytes.baseAddress! + connection.outboundOffset,
                     bytes.count - connection.outboundOffset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                connection.outboundOffset += n
                connection.lastWriteProgress = now
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
            }
        }
        return true
    }

    /// Writes as much pending output as the socket takes; closes when a close was asked for.
    func flush(_ connection: HTTPConnection) {
        guard writePending(connection) else {
            closeConnection(connection)
            return
        }
        if connection.hasPendingOutput {  // the socket is full: wait for EPOLLOUT
            updateInterest(connection)
            return
        }
        if connection.outbound.capacity > 256 * 1024 {
            connection.outbound = []
        } else {
            connection.outbound.removeAll(keepingCapacity: true)
        }
        connection.outboundOffset = 0
        if connection.closeAfterWrite {
            if connection.readPaused && connection.suspended == nil {
                closeConnection(connection)  // the peer already closed its side
            } else {
                lingerAndClose(connection)
                updateInterest(connection)
            }
            return
        }
        updateInterest(connection)
        // Output drained: a pipelining client held back by backpressure may continue.
        if !connection.inbound.isEmpty && connection.suspended == nil && !connection.readPaused {
            processInbound(connection)
            if self.connection(connection.fd) === connection && connection.hasPendingOutput { flush(connection) }
        }
    }
}
