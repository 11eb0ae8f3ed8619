// Router: method + path pattern -> handler, with `{name}` path parameters, percent-decoded per
// segment. Built once before the server starts, then read-only and shared by every loop.
// Unknown paths get a JSON 404, known paths with another method a JSON 405 with `Allow`.

/// A handler that answers on the event loop: it must not block.
public typealias ImmediateHandler = @Sendable (HTTPRequest) -> HTTPResponse
/// A handler that may wait for I/O: the request is suspended and resumed on its loop when done.
public typealias SuspendingHandler = @Sendable (HTTPRequest) async -> HTTPResponse

/// How a route answers.
public enum RouteHandler: Sendable {
    /// Runs inline on the event loop (fast, CPU-only work).
    case immediate(ImmediateHandler)
    /// Runs as a task off the loop; the connection waits, keeping responses in request order.
    case suspending(SuspendingHandler)
    /// Upgrades to WebSocket (RFC 6455); the endpoint's handler then owns the connection.
    case webSocket(WebSocketEndpoint)
}

/// What the router decided for a request.
public enum RouteResolution: Sendable {
    case handler(RouteHandler)
    case response(HTTPResponse)
}

public struct Router: Sendable {
    struct Node: Sendable {
        var literals: [String: Node] = [:]
        var parameterName: String?
        var parameter: [Node] = []  // zero or one child
        var handlers: [HTTPMethod: RouteHandler] = [:]
    }

    var root = Node()
    /// The node of every route without parameters, by its normalised path: a request path equal to
    /// one of them (so no escapes, no empty segment, no trailing slash) skips the segment walk,
    /// which would reach the same node (literals win over parameters at every level).
    var exact: [String: Node] = [:]
    /// Every route added, as (method, pattern), in order.
    public private(set) var routes: [(method: HTTPMethod, pattern: String)] = []

    public init() {}

    /// Adds a route. `pattern` is a path such as `/api/v1/users/{id}/profile`.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: RouteHandler) {
        let segments = pattern.split(separator: "/").map(String.init)
        Self.insert(&root, segments[...], method, handler)
        routes.append((method, pattern))
        if !pattern.utf8.contains(UInt8(ascii: "{")) && !pattern.utf8.contains(UInt8(ascii: "%")) {
            var node = root
            for segment in segments { node = node.literals[segment]! }
            exact["/" + segments.joined(separator: "/")] = node
        }
    }

    public mutating func get(_ pattern: String, _ handler: @escaping ImmediateHandler) { add(.get, pattern, .immediate(handler)) }
    public mutating func post(_ pattern: String, _ handler: @escaping ImmediateHandler) { add(.post, pattern, .immediate(handler)) }
    public mutating func put(_ pattern: String, _ handler: @escaping ImmediateHandler) { add(.put, pattern, .immediate(handler)) }
    public mutating func delete(_ pattern: String, _ handler: @escaping ImmediateHandler) { add(.delete, pattern, .immediate(handler)) }
    /// A WebSocket endpoint at `pattern` (GET with `Upgrade: websocket`).
    public mutating func webSocket(_ pattern: String, options: WebSocketOptions = WebSocketOptions(), handler: any WebSocketHandler) {
        add(.get, pattern, .webSocket(WebSocketEndpoint(options: options, handler: handler)))
    }

    private static func insert(_ node: inout Node, _ segments: ArraySlice<String>, _ method: HTTPMethod, _ handler: RouteHandler) {
        guard let first = segments.first else {
            node.handlers[method] = handler
            return
        }
        if first.hasPrefix("{") && first.hasSuffix("}") {
            let name = String(first.dropFirst().dropLast())
            precondition(node.parameterName == nil || node.parameterName == name,
                         "conflicting path parameter names {\(node.parameterName!)} and {\(name)}")
            node.parameterName = name
            if node.parameter.isEmpty { node.parameter = [Node()] }
            insert(&node.parameter[0], segments.dropFirst(), method, handler)
        } else {
            insert(&node.literals[first, default: Node()], segments.dropFirst(), method, handler)
        }
    }

    /// Finds the handler for `request`, filling `request.pathParameters`, or the error response.
    public func resolve(_ request: inout HTTPRequest) -> RouteResolution {
        if let node = exact[request.path] { return select(node, for: request) }
        var node = root
        var parameters: [String: String] = [:]
        var segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        if segments.last == "" { segments = segments.dropLast() }  // one trailing slash is ignored
        for raw in segments {
            let segment: String
            do { segment = try PercentDecoding.decode(raw) } catch {
                return .response(.error(.badRequest, code: "bad_path", message: "malformed percent-encoding in path"))
            }
            if let next = node.literals[segment] {
                node = next
            } else if let name = node.parameterName, !segment.isEmpty {
                parameters[name] = segment
                node = node.parameter[0]
            } else {
                return .response(notFound(request))
            }
        }
        if node.handlers.isEmpty { return .response(notFound(request)) }
        if !parameters.isEmpty { request.pathParameters = parameters }
        return select(node, for: request)
    }

    /// The handler of `node` for the request's method, or the 405 (or the OPTIONS answer).
    private func select(_ node: Node, for request: HTTPRequest) -> RouteResolution {
        if let handler = node.handlers[request.method] { return .handler(handler) }
        if request.method == .head, let get = node.handlers[.get] { return .handler(get) }
        let allow = Self.allowed(node)
        if request.method == .options {
            return .response(HTTPResponse(status: .noContent, headers: ["allow": allow]))
        }
        var response = HTTPResponse.error(
            .methodNotAllowed, code: "method_not_allowed",
            message: "\(request.method) is not allowed on \(request.path); allowed: \(allow)")
        response.headers.add("allow", allow)
        return .response(response)
    }

    private func notFound(_ request: HTTPRequest) -> HTTPResponse {
        .error(.notFound, code: "not_found", message: "no route for \(request.method) \(request.path)")
    }

    private static func allowed(_ node: Node) -> String {
        var methods = Set(node.handlers.keys.map(\.rawValue))
        if methods.contains("GET") { methods.insert("HEAD") }
        methods.insert("OPTIONS")
        return methods.sorted().joined(separator: ", ")
    }
}
