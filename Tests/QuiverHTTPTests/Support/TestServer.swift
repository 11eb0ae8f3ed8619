// TestServer: starts an HTTPServer on a free loopback port with a router of test endpoints, and
// always shuts it down, so each test owns its own server.
import Foundation
import Synchronization
@testable import QuiverHTTP

enum TestServer {
    static func router() -> Router {
        var router = Router()
        router.get("/hello") { _ in .text("ok") }
        router.post("/echo") { request in
            HTTPResponse(status: .ok, headers: ["content-type": "application/octet-stream"], body: request.body)
        }
        router.get("/big") { _ in
            .json(Array(("[" + (0..<500).map { "{\"item_id\":\"i\($0)\",\"score\":0.5}" }.joined(separator: ",") + "]").utf8))
        }
        router.get("/items/{id}") { request in .text("item \(request.pathParameters["id"]!)") }
        router.add(.get, "/slow", .suspending({ request in
            let ms = (try? request.queryParameters()["ms"]).flatMap { $0.flatMap { Int($0) } } ?? 200
            try? await Task.sleep(for: .milliseconds(ms))
            return .text("slow")
        }))
        router.webSocket("/ws", handler: EchoWebSocketHandler())
        var small = WebSocketOptions()
        small.maxFrameBytes = 1000
        small.maxMessageBytes = 1000
        router.webSocket("/ws-small", options: small, handler: EchoWebSocketHandler())
        var idle = WebSocketOptions()
        idle.idlePingMs = 200
        router.webSocket("/ws-idle", options: idle, handler: EchoWebSocketHandler())
        var flood = WebSocketOptions()
        flood.maxQueuedBytes = 1 << 20
        router.webSocket("/ws-flood", options: flood, handler: FloodWebSocketHandler(recorder: closeRecorder))
        router.webSocket("/ws-room", handler: RoomWebSocketHandler())
        return router
    }

    /// Close codes seen by the flood endpoint's handler.
    static let closeRecorder = CloseRecorder()

    static func with(
        _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
        _ body: (HTTPServer) async throws -> Void
    ) async throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.eventLoops = 2
        configure(&configuration)
        let server = try HTTPServer(configuration: configuration, router: router())
        server.start()
        do {
            try await body(server)
        } catch {
            server.shutdown()
            await server.stopped()
            throw error
        }
        server.shutdown()
        await server.stopped()
    }

    /// Waits (bounded) until `condition` holds; returns whether it did.
    static func eventually(timeoutMs: Int = 5000, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}

/// Echoes every message back.
struct EchoWebSocketHandler: WebSocketHandler {
    func received(_ message: WebSocketMessage, on socket: WebSocket) { socket.send(message) }
}

/// On "flood", sends 25 MB without waiting: a client that does not read must be cut off.
struct FloodWebSocketHandler: WebSocketHandler {
    let recorder: CloseRecorder
    func received(_ message: WebSocketMessage, on socket: WebSocket) {
        let chunk = [UInt8](repeating: 0x42, count: 64 * 1024)
        for _ in 0..<400 where socket.isOpen { socket.send(.binary(chunk)) }
    }
    func closed(_ socket: WebSocket, code: WebSocketCloseCode, reason: String) { recorder.record(code) }
}

final class CloseRecorder: Sendable {
    private let codes = Mutex<[WebSocketCloseCode]>([])
    func record(_ code: WebSocketCloseCode) { codes.withLock { $0.append(code) } }
    var all: [WebSocketCloseCode] { codes.withLock { $0 } }
}

/// A chat room: every text message is broadcast to every member, from a task (off the loop).
final class RoomWebSocketHandler: WebSocketHandler {
    private let members = Mutex<Set<WebSocket>>([])
    func opened(_ socket: WebSocket) { _ = members.withLock { $0.insert(socket) } }
    func closed(_ socket: WebSocket, code: WebSocketCloseCode, reason: String) { _ = members.withLock { $0.remove(socket) } }
    func received(_ message: WebSocketMessage, on socket: WebSocket) {
        let everyone = members.withLock { $0 }
        Task { WebSocketBroadcast.send(message, to: everyone) }
    }
}
