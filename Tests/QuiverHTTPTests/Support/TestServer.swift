// TestServer: starts an HTTPServer on a free loopback port with a router of test endpoints, and
// always shuts it down, so each test owns its own server.
import Foundation
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
        return router
    }

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
