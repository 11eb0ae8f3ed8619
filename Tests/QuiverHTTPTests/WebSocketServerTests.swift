// WebSocketServerTests: the WebSocket layer over real sockets against independent clients:
// Python's `websockets` (with and without permessage-deflate) for conformance, `wsproto` plus
// hand-made invalid frames for every refusal, and raw sockets for pings, idle limits, slow
// consumers, broadcast and the connection cap. Categories follow the Autobahn test suite.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverHTTP

@Suite struct WebSocketServerTests {
    static let websocketsClient = """
    import json, sys
    from websockets.sync.client import connect
    url, compression = sys.argv[1], (None if sys.argv[2] == "none" else "deflate")
    out = {}
    with connect(url, compression=compression, max_size=2**25, open_timeout=10, close_timeout=10) as ws:
        out["extensions"] = [e.name for e in ws.protocol.extensions]
        ws.send("hello ✓"); out["text"] = ws.recv(timeout=10)
        ws.send(b"\\x00\\x01\\xff"); out["binary"] = list(ws.recv(timeout=10))
        big = bytes(range(256)) * 4096
        ws.send(big); out["big_ok"] = ws.recv(timeout=10) == big
        text = "ä" * 300000
        ws.send(text); out["big_text_ok"] = ws.recv(timeout=10) == text
        ws.send(["frag", "mented ", "✓"]); out["fragmented"] = ws.recv(timeout=10)
        out["pong"] = ws.ping(b"are you there").wait(10)
        empty = ws.send(""); out["empty"] = ws.recv(timeout=10)
    out["close_code"] = ws.close_code
    print(json.dumps(out))
    """

    @Test(arguments: ["none", "deflate"])
    func passesThePythonWebsocketsClient(_ compression: String) async throws {
        try await TestServer.with { server in
            let result = try await TestProcess.run("python3", ["-c", Self.websocketsClient, "ws://127.0.0.1:\(server.port)/ws", compression])
            #expect(result.status == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["extensions"] as? [String] == (compression == "none" ? [] : ["permessage-deflate"]))
            #expect(json["text"] as? String == "hello ✓")
            #expect(json["binary"] as? [Int] == [0, 1, 255])
            #expect(json["big_ok"] as? Bool == true)
            #expect(json["big_text_ok"] as? Bool == true)
            #expect(json["fragmented"] as? String == "fragmented ✓")
            #expect(json["pong"] as? Bool == true)
            #expect(json["empty"] as? String == "")
            #expect(json["close_code"] as? Int == 1000)
            #expect(await TestServer.eventually { server.openWebSockets == 0 })
        }
    }

    /// wsproto does the handshake; then each case writes raw (possibly invalid) frames and reports
    /// the close code the server answers with, or "open" when the server kept the connection.
    static let wsprotoClient = """
    import json, socket, struct, sys
    from wsproto import WSConnection, ConnectionType
    from wsproto.events import Request, AcceptConnection, CloseConnection, TextMessage, BytesMessage, Pong

    def frame(opcode, payload, fin=True, rsv=0, mask=True, length=None):
        b0 = (0x80 if fin else 0) | rsv | opcode
        n = len(payload) if length is None else length
        head = bytes([b0])
        m = 0x80 if mask else 0
        if n < 126: head += bytes([m | n])
        elif n < 65536: head += bytes([m | 126]) + struct.pack(">H", n)
        else: head += bytes([m | 127]) + struct.pack(">Q", n)
        if mask:
            key = b"\\x11\\x22\\x33\\x44"
            return head + key + bytes(p ^ key[i % 4] for i, p in enumerate(payload))
        return head + payload

    def run(path, raw):
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
        c = WSConnection(ConnectionType.CLIENT)
        s.sendall(c.send(Request(host="127.0.0.1", target=path)))
        accepted = False
        while not accepted:
            c.receive_data(s.recv(65536))
            for e in c.events():
                if isinstance(e, AcceptConnection): accepted = True
        s.sendall(raw)
        got = []
        try:
            while True:
                data = s.recv(65536)
                if not data: break
                c.receive_data(data)
                for e in c.events():
                    if isinstance(e, CloseConnection): return {"close": e.code, "got": got}
                    if isinstance(e, (TextMessage, BytesMessage)): got.append(e.data if isinstance(e.data, str) else list(e.data))
                    if isinstance(e, Pong): got.append("pong:" + e.payload.decode())
        except socket.timeout:
            return {"close": "open", "got": got}
        return {"close": "eof", "got": got}

    cases = {
        "unmasked": run("/ws", frame(1, b"hi", mask=False)),
        "rsv2": run("/ws", frame(1, b"hi", rsv=0x20)),
        "rsv1_without_deflate": run("/ws", frame(1, b"hi", rsv=0x40)),
        "opcode_5": run("/ws", frame(5, b"")),
        "opcode_13": run("/ws", frame(13, b"")),
        "fragmented_ping": run("/ws", frame(9, b"x", fin=False)),
        "long_ping": run("/ws", frame(9, b"x" * 126)),
        "orphan_continuation": run("/ws", frame(0, b"x")),
        "text_inside_fragmented": run("/ws", frame(1, b"a", fin=False) + frame(1, b"b")),
        "invalid_utf8": run("/ws", frame(1, b"\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5\\xed\\xa0\\x80edited")),
        "invalid_utf8_first_fragment": run("/ws", frame(1, b"\\xff", fin=False)),
        "frame_too_big": run("/ws-small", frame(2, b"x" * 1001)),
        "message_too_big": run("/ws-small", frame(2, b"x" * 600, fin=False) + frame(0, b"x" * 600)),
        "close_1005": run("/ws", frame(8, struct.pack(">H", 1005))),
        "close_999": run("/ws", frame(8, struct.pack(">H", 999))),
        "close_one_byte": run("/ws", frame(8, b"\\x03")),
        "close_bad_reason": run("/ws", frame(8, struct.pack(">H", 1000) + b"\\xff")),
        "close_3000": run("/ws", frame(8, struct.pack(">H", 3000) + "bye".encode())),
        "close_empty": run("/ws", frame(8, b"")),
        "ping_then_close": run("/ws", frame(9, b"hey") + frame(8, struct.pack(">H", 1000))),
        "fragments_around_ping": run("/ws", frame(1, b"Hel", fin=False) + frame(9, b"p") + frame(0, b"lo") + frame(8, struct.pack(">H", 1000))),
    }
    print(json.dumps(cases))
    """

    @Test func refusesInvalidFramesWithTheRightCloseCode() async throws {
        try await TestServer.with { server in
            let result = try await TestProcess.run("python3", ["-c", Self.wsprotoClient, String(server.port)])
            #expect(result.status == 0, "\(result.stderr)")
            let cases = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: Any]])
            let expected: [String: Int] = [
                "unmasked": 1002, "rsv2": 1002, "rsv1_without_deflate": 1002, "opcode_5": 1002, "opcode_13": 1002,
                "fragmented_ping": 1002, "long_ping": 1002, "orphan_continuation": 1002, "text_inside_fragmented": 1002,
                "invalid_utf8": 1007, "invalid_utf8_first_fragment": 1007, "frame_too_big": 1009, "message_too_big": 1009,
                "close_1005": 1002, "close_999": 1002, "close_one_byte": 1002, "close_bad_reason": 1007,
                "close_3000": 3000, "close_empty": 1005, "ping_then_close": 1000, "fragments_around_ping": 1000,
            ]
            for (name, code) in expected {
                #expect(cases[name]?["close"] as? Int == code, "\(name): \(String(describing: cases[name]))")
            }
            #expect(cases["ping_then_close"]?["got"] as? [String] == ["pong:hey"])
            #expect((cases["fragments_around_ping"]?["got"] as? [Any])?.compactMap { $0 as? String } == ["pong:p", "Hello"])
        }
    }

    func handshake(_ connection: RawConnection, path: String) async -> HTTPTestResponse? {
        connection.send("GET \(path) HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        return await connection.readResponses(1).first
    }

    @Test func pingsIdleClientsAndClosesSilentOnes() async throws {
        try await TestServer.with { server in
            let connection = try RawConnection(port: server.port)
            let response = await handshake(connection, path: "/ws-idle")
            #expect(response?.status == 101)
            #expect(response?.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            let rest = await connection.readBytesToEnd()
            // A ping (0x89, empty) after 200 ms of silence, then a close 1001 after 400 ms.
            #expect(rest.prefix(2) == [0x89, 0x00])
            #expect(Array(rest.dropFirst(2).prefix(4)) == [0x88, UInt8(2 + "idle timeout".utf8.count), 0x03, 0xE9])
        }
    }

    @Test func cutsOffConsumersThatDoNotRead() async throws {
        try await TestServer.with { server in
            let connection = try RawConnection(port: server.port, receiveTimeoutMs: 200)
            #expect(await handshake(connection, path: "/ws-flood")?.status == 101)
            var ask: [UInt8] = []
            WebSocketFrameEncoder.encode(.text, payload: Array("flood".utf8), mask: (1, 2, 3, 4), into: &ask)
            connection.send(ask)
            // Never read: the server must stop queueing and close with 1008.
            #expect(await TestServer.eventually(timeoutMs: 10_000) { TestServer.closeRecorder.all.contains(.policyViolation) })
        }
    }

    @Test func broadcastsToEveryMember() async throws {
        try await TestServer.with { server in
            let script = """
            import json, sys, time
            from websockets.sync.client import connect
            url = sys.argv[1]
            clients = [connect(url, compression=(None if i % 2 else "deflate")) for i in range(6)]
            time.sleep(0.2)
            clients[0].send("hello room")
            got = [c.recv(timeout=10) for c in clients]
            for c in clients: c.close()
            print(json.dumps(got))
            """
            let result = try await TestProcess.run("python3", ["-c", script, "ws://127.0.0.1:\(server.port)/ws-room"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[" + Array(repeating: "\"hello room\"", count: 6).joined(separator: ", ") + "]")
        }
    }

    @Test func capsWebSocketConnectionsAndRefusesPlainRequests() async throws {
        try await TestServer.with({ $0.maxWebSocketConnections = 1 }) { server in
            let first = try RawConnection(port: server.port)
            #expect(await handshake(first, path: "/ws")?.status == 101)
            let second = try RawConnection(port: server.port)
            #expect(await handshake(second, path: "/ws")?.status == 503)
            let plain = try await TestProcess.run("curl", ["-s", "-i", "http://127.0.0.1:\(server.port)/ws"])
            #expect(plain.stdout.hasPrefix("HTTP/1.1 426 Upgrade Required"))
            #expect(plain.stdout.contains("Sec-Websocket-Version: 13"))
        }
    }

    @Test func closesWebSocketsWithGoingAwayOnShutdown() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.eventLoops = 1
        let server = try HTTPServer(configuration: configuration, router: TestServer.router())
        server.start()
        let connection = try RawConnection(port: server.port)
        #expect(await handshake(connection, path: "/ws")?.status == 101)
        server.shutdown()
        let rest = await connection.readBytesToEnd()
        #expect(Array(rest.prefix(4)) == [0x88, UInt8(2 + "server shutting down".utf8.count), 0x03, 0xE9])
        await server.stopped()
    }
}
