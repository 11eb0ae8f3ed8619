// BenchmarkRoutes: the two endpoints the peer servers also serve (`../shared/bench/peers.sh`),
// installed only with `server.benchmark_endpoints: true`:
//   GET  /hello -> 200 "ok";  POST /echo {"user_id":"u1","n":10} -> 10 items;
//   WS   /ws    echoes every text and binary message (permessage-deflate when offered).
import Foundation
import QuiverHTTP

struct EchoRequest: Decodable {
    let user_id: String
    let n: Int
}

struct EchoItem: Encodable {
    let id: String
    let score: Double
}

struct EchoResponse: Encodable {
    let user_id: String
    let items: [EchoItem]
}

enum BenchmarkRoutes {
    static func install(into router: inout Router) {
        router.get("/hello") { _ in
            HTTPResponse(status: .ok, headers: ["content-type": "text/plain"], body: helloBody)
        }
        router.post("/echo") { request in
            switch JSONBody.decode(EchoRequest.self, from: request) {
            case .failure(let error):
                return error.response
            case .success(let echo):
                let n = max(0, min(echo.n, 1000))
                let items = (0..<n).map { EchoItem(id: "i\($0 + 1)", score: 0.5) }
                return JSONBody.response(EchoResponse(user_id: echo.user_id, items: items))
            }
        }
        router.webSocket("/ws", handler: EchoWebSocket())
    }

    static let helloBody: [UInt8] = Array("ok".utf8)
}

/// Echoes every WebSocket message back to its sender.
struct EchoWebSocket: WebSocketHandler {
    func received(_ message: WebSocketMessage, on socket: WebSocket) { socket.send(message) }
}
