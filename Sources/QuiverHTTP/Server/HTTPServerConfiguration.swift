// HTTPServerConfiguration: every knob of the HTTP layer (address, loops, limits, timeouts, gzip)
// with production defaults. The server wiring fills it from config files, environment and flags.

/// Settings of an `HTTPServer`. Times are in milliseconds.
public struct HTTPServerConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free port (see `HTTPServer.port`).
    public var port = 8080
    /// Event loop threads; 0 means one per CPU core.
    public var eventLoops = 0
    public var backlog: Int32 = 1024
    /// Open connections across all loops; beyond it new clients get a 503 and are closed.
    public var maxConnections = 10_000
    /// Open WebSocket connections (a subset of `maxConnections`); beyond it upgrades get a 503.
    public var maxWebSocketConnections = 10_000
    public var limits = HTTPParserLimits()
    /// A request head must arrive within this time from its first byte (slowloris), else 408.
    public var headerTimeoutMs = 10_000
    /// A request body must arrive within this time from the request's first byte, else 408.
    public var bodyTimeoutMs = 30_000
    /// A keep-alive connection with no request in progress is closed after this time.
    public var idleTimeoutMs = 60_000
    /// A client that reads nothing of a pending response for this long is disconnected.
    public var writeTimeoutMs = 30_000
    /// A suspending handler that has not answered by then gets a 503 in its place.
    public var handlerTimeoutMs = 30_000
    /// On shutdown, in-flight requests get this long to finish before connections are closed.
    public var shutdownGraceMs = 10_000
    /// Responses at least this large are gzip-compressed when the client accepts it.
    public var gzipMinBytes = 1024
    /// zlib compression level, 1-9.
    public var gzipLevel = 5

    public init() {}
}
