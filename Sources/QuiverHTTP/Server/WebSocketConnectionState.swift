// WebSocketConnectionState: what a connection carries once upgraded: the frame decoder, the
// message assembler, compression, the handler and its handle, and the close handshake's progress.
// Owned by the connection's loop like the connection itself.

final class WebSocketConnectionState {
    let socket: WebSocket
    let handler: any WebSocketHandler
    let options: WebSocketOptions
    let decoder: WebSocketFrameDecoder
    let assembler: WebSocketMessageAssembler
    let deflate: PerMessageDeflateCodec?
    var lastReceive: Int64
    var pingOutstanding = false
    /// We sent a close frame; the connection ends when the peer answers or at `closeDeadline`.
    var closeSent = false
    var closeDeadline: Int64 = 0
    var closeCode = WebSocketCloseCode.normal
    var closeReason = ""
    /// `handler.closed` has been called (exactly once per connection).
    var notifiedClosed = false
    /// The size of a large frame being received, so the input buffer can be sized for it once.
    var pendingFrameSize = 0

    init(socket: WebSocket, handler: any WebSocketHandler, options: WebSocketOptions,
         deflate: PerMessageDeflateParameters?, now: Int64) {
        self.socket = socket
        self.handler = handler
        self.options = options
        self.deflate = deflate.map(PerMessageDeflateCodec.init)
        decoder = WebSocketFrameDecoder(maxFrameBytes: options.maxFrameBytes, allowsCompression: deflate != nil)
        assembler = WebSocketMessageAssembler(maxMessageBytes: options.maxMessageBytes, deflate: self.deflate)
        lastReceive = now
    }

    /// Tells the handler the connection is over, once.
    func notifyClosed(_ code: WebSocketCloseCode, _ reason: String) {
        guard !notifiedClosed else { return }
        notifiedClosed = true
        socket.markClosed()
        handler.closed(socket, code: code, reason: reason)
    }
}
