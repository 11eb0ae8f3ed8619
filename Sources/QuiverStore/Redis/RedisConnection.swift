// RedisConnection: one hiredis context, owned by this object and freed in deinit. Commands go
// through redisCommandArgv (binary-safe, never the variadic redisCommand); pipelines through
// redisAppendCommandArgv + redisGetReply. Blocking with timeouts: call it from a BlockingIOPool
// thread, never from an event loop. Not thread-safe.
import CHiredis

/// A value of the Redis protocol (RESP2, as hiredis 0.14 speaks it).
public enum RedisValue: Sendable, Equatable {
    case simple(String)
    case bulk([UInt8])
    case integer(Int)
    case array([RedisValue])
    case null
    case error(String)

    /// The value as text, for simple and bulk strings.
    public var string: String? {
        switch self {
        case .simple(let s): return s
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }
}

/// A failed connection or command (I/O error, timeout, protocol error).
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { "redis: \(message)" }
}

/// Where and how to reach a Redis server, parsed from `redis://[:password@]host[:port][/db]`.
public struct RedisEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var password: String?
    public var database: Int

    public init(host: String = "127.0.0.1", port: Int = 6379, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.password = password
        self.database = database
    }

    /// Parses a `redis://` URL; nil when it is not one.
    public init?(url: String) {
        guard url.hasPrefix("redis://") else { return nil }
        var rest = Substring(url.dropFirst("redis://".count))
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            password = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init)
            if password?.isEmpty == true { password = nil }
            rest = rest[rest.index(after: at)...]
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty { guard let n = Int(db), n >= 0 else { return nil }; database = n }
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            host = String(rest[..<colon])
        }
        if host.isEmpty { host = "127.0.0.1" }
        self.init(host: host, port: port, password: password, database: database)
    }
}

/// A synchronous connection to one Redis server.
public final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    public let endpoint: RedisEndpoint

    /// Connects, authenticates and selects the database, each within `timeoutMs`.
    public init(endpoint: RedisEndpoint, timeoutMs: Int = 1000) throws(RedisError) {
        self.endpoint = endpoint
        let timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        guard let context = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), timeout) else {
            throw RedisError(message: "cannot allocate a hiredis context")
        }
        self.context = context
        if context.pointee.err != 0 {
            // Every stored property is set: throwing runs deinit, which calls redisFree.
            let message = Self.errorText(context)
            throw RedisError(message: "connect to \(endpoint.host):\(endpoint.port): \(message)")
        }
        redisSetTimeout(context, timeout)
        if let password = endpoint.password {
            if case .error(let e) = try command(["AUTH", password]) { throw RedisError(message: "AUTH: \(e)") }
        }
        if endpoint.database != 0 {
            if case .error(let e) = try command(["SELECT", String(endpoint.database)]) { throw RedisError(message: "SELECT: \(e)") }
        }
    }

    deinit { redisFree(context) }

    /// Whether an I/O or protocol error has made the connection unusable.
    public var isBroken: Bool { context.pointee.err != 0 }

    /// Runs one command given as text arguments.
    public func command(_ arguments: [String]) throws(RedisError) -> RedisValue {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Runs one command given as binary-safe arguments. A Redis error reply is returned as
    /// `.error`; a failure to talk to the server throws.
    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisValue {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        if isBroken { throw RedisError(message: "connection is broken: \(Self.errorText(context))") }
        let raw = Self.withArgv(arguments) { argc, argv, lengths in redisCommandArgv(context, argc, argv, lengths) }
        guard let raw else { throw RedisError(message: Self.errorText(context)) }
        defer { freeReplyObject(raw) }
        return Self.value(of: raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Runs several commands in one round trip: writes them all, then reads their replies in
    /// order. Error replies come back as `.error` in their place; a failure to talk to the server
    /// throws and leaves the connection broken (the replies not yet read are lost).
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisValue] {
        for arguments in commands { try append(arguments) }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    /// Queues a command in the output buffer without sending it (`redisAppendCommandArgv`).
    func append(_ arguments: [[UInt8]]) throws(RedisError) {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        if isBroken { throw RedisError(message: "connection is broken: \(Self.errorText(context))") }
        let status = Self.withArgv(arguments) { argc, argv, lengths in redisAppendCommandArgv(context, argc, argv, lengths) }
        if status != REDIS_OK { throw RedisError(message: "cannot queue a command: \(Self.errorText(context))") }
    }

    /// Writes the whole output buffer to the socket (blocking), without reading.
    func flush() throws(RedisError) {
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK { throw RedisError(message: Self.errorText(context)) }
        }
    }

    /// Reads the next reply (flushing what is queued first), in the order the commands were sent.
    func readReply() throws(RedisError) -> RedisValue {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw RedisError(message: Self.errorText(context))
        }
        defer { freeReplyObject(raw) }
        return Self.value(of: raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Calls `body` with C copies of the arguments (each NUL-terminated; hiredis takes explicit
    /// lengths, so arguments may hold NULs), valid only during the call.
    private static func withArgv<R>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int>?) -> R
    ) -> R {
        let lengths = arguments.map(\.count)
        let storage: [UnsafeMutablePointer<CChar>] = arguments.map { bytes in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            bytes.withUnsafeBufferPointer { src in
                src.withMemoryRebound(to: CChar.self) { if let base = $0.baseAddress { p.initialize(from: base, count: bytes.count) } }
            }
            p[bytes.count] = 0
            return p
        }
        defer { storage.forEach { $0.deallocate() } }
        var argv: [UnsafePointer<CChar>?] = storage.map { UnsafePointer($0) }
        return lengths.withUnsafeBufferPointer { lens in
            argv.withUnsafeMutableBufferPointer { args in body(Int32(arguments.count), args.baseAddress, lens.baseAddress) }
        }
    }

    static func value(of reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(r.str.map { Array(UnsafeRawBufferPointer(start: $0, count: r.len)) } ?? [])
        case REDIS_REPLY_STATUS:
            return .simple(r.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_ERROR:
            return .error(r.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisValue] = []
            items.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = r.element[i] { items.append(value(of: element)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .null
        }
    }

    static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
