// HTTPServerTests: the server over real TCP with independent clients (curl, Python's
// http.client) and raw sockets: keep-alive, pipelining, chunked bodies, 100-continue, gzip,
// limits, slow and vanishing clients, the connection cap and graceful shutdown.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverHTTP

@Suite struct HTTPServerTests {
    @Test func servesCurlGetAndHead() async throws {
        try await TestServer.with { server in
            let get = try await TestProcess.run("curl", ["-s", "-i", "http://127.0.0.1:\(server.port)/hello"])
            #expect(get.status == 0)
            #expect(get.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(get.stdout.contains("\r\nDate: "))
            #expect(get.stdout.hasSuffix("\r\n\r\nok"))
            let head = try await TestProcess.run("curl", ["-s", "-I", "http://127.0.0.1:\(server.port)/hello"])
            #expect(head.stdout.contains("Content-Length: 2\r\n"))
            #expect(head.stdout.hasSuffix("\r\n\r\n"))
            let param = try await TestProcess.run("curl", ["-s", "http://127.0.0.1:\(server.port)/items/a%2Fb"])
            #expect(param.stdout == "item a/b")
        }
    }

    @Test func acceptsChunkedBodiesAndExpectContinueFromCurl() async throws {
        try await TestServer.with { server in
            let body = String(repeating: "0123456789", count: 500)
            let chunked = try await TestProcess.run("curl", ["-s", "-H", "Transfer-Encoding: chunked", "-H", "Content-Type: text/plain",
                                                       "--data-binary", "@-", "http://127.0.0.1:\(server.port)/echo"], input: body)
            #expect(chunked.stdout == body)
            let expect = try await TestProcess.run("curl", ["-s", "-v", "-H", "Expect: 100-continue", "--expect100-timeout", "10",
                                                      "--data-binary", "@-", "http://127.0.0.1:\(server.port)/echo"], input: body)
            #expect(expect.stdout == body)
            #expect(expect.stderr.contains("HTTP/1.1 100 Continue"))
        }
    }

    @Test func compressesForClientsThatAcceptGzip() async throws {
        try await TestServer.with { server in
            let plain = try await TestProcess.run("curl", ["-s", "-i", "http://127.0.0.1:\(server.port)/big"])
            #expect(!plain.stdout.contains("Content-Encoding"))
            #expect(plain.stdout.contains("Vary: accept-encoding"))
            let gzip = try await TestProcess.run("curl", ["-s", "-D", "-", "--compressed", "http://127.0.0.1:\(server.port)/big"])
            #expect(gzip.stdout.contains("Content-Encoding: gzip"))
            let plainBody = plain.stdout.components(separatedBy: "\r\n\r\n").last!
            let gzipBody = gzip.stdout.components(separatedBy: "\r\n\r\n").last!
            #expect(gzipBody == plainBody)
            #expect(plainBody.hasPrefix("[{\"item_id\":\"i0\""))
        }
    }

    @Test func servesPythonHTTPClientOverOneKeepAliveConnection() async throws {
        try await TestServer.with { server in
            let script = """
            import http.client, json
            c = http.client.HTTPConnection("127.0.0.1", \(server.port), timeout=10)
            out = []
            for i in range(5):
                c.request("GET", "/hello"); r = c.getresponse(); out.append((r.status, r.read().decode()))
            c.request("POST", "/echo", body=b"x" * 3000, headers={"Content-Type": "application/octet-stream"})
            r = c.getresponse(); out.append((r.status, len(r.read())))
            c.request("GET", "/missing"); r = c.getresponse(); body = json.loads(r.read())
            out.append((r.status, body["error"]["code"]))
            c.request("PATCH", "/hello"); r = c.getresponse(); r.read(); out.append((r.status, r.getheader("Allow")))
            print(json.dumps(out))
            """
            let result = try await TestProcess.run("python3", ["-c", script])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ==
                    #"[[200, "ok"], [200, "ok"], [200, "ok"], [200, "ok"], [200, "ok"], [200, 3000], [404, "not_found"], [405, "GET, HEAD, OPTIONS"]]"#)
        }
    }

    @Test func answersPipelinedRequestsInOrderAcrossSuspendingHandlers() async throws {
        try await TestServer.with { server in
            let connection = try RawConnection(port: server.port)
            connection.send("GET /slow?ms=100 HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                            + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /items/9 HTTP/1.1\r\nHost: a\r\n\r\n")
            let responses = await connection.readResponses(4)
            #expect(responses.map(\.body) == ["slow", "ok", "abc", "item 9"])
        }
    }

    @Test func servesManyConcurrentConnections() async throws {
        try await TestServer.with { server in
            let port = server.port
            let failures = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        await onThread {
                            guard let connection = try? RawConnection(port: port) else { return 1 }
                            var failed = 0
                            for i in 0..<25 {
                                connection.send("GET /items/\(i) HTTP/1.1\r\nHost: a\r\n\r\n")
                                if connection.readResponsesBlocking(1).first?.body != "item \(i)" { failed += 1 }
                            }
                            return failed
                        }
                    }
                }
                return await group.reduce(0, +)
            }
            #expect(failures == 0)
            #expect(await TestServer.eventually { server.openConnections == 0 })
        }
    }

    @Test func answersSlowlorisWith408() async throws {
        try await TestServer.with({ $0.headerTimeoutMs = 400 }) { server in
            let connection = try RawConnection(port: server.port)
            let start = ContinuousClock.now
            var response = ""
            // One byte every 100 ms: the head would take seconds; the server gives up at 400 ms.
            for byte in "GET /hello HTTP/1.1\r\nHost: a\r\n".utf8 {
                connection.send([byte])
                try await Task.sleep(for: .milliseconds(100))
                if ContinuousClock.now - start > .milliseconds(800) { break }
            }
            response = await connection.readToEnd()
            #expect(response.hasPrefix("HTTP/1.1 408 Request Timeout"))
            #expect(response.contains(#""code":"request_timeout""#))
        }
    }

    @Test func closesIdleKeepAliveConnections() async throws {
        try await TestServer.with({ $0.idleTimeoutMs = 200 }) { server in
            let connection = try RawConnection(port: server.port)
            connection.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(await connection.readResponses(1).first?.status == 200)
            #expect(await connection.isClosedByPeer())
        }
    }

    @Test func survivesClientsThatVanishMidBody() async throws {
        try await TestServer.with { server in
            for _ in 0..<20 {
                let connection = try RawConnection(port: server.port)
                connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly ten b")
            }  // each connection closes here, mid-body
            let connection = try RawConnection(port: server.port)
            connection.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(await connection.readResponses(1).first?.body == "ok")
            #expect(await TestServer.eventually { server.openConnections == 1 })
        }
    }

    @Test func refusesOversizedRequestsWithJSONErrors() async throws {
        try await TestServer.with({ $0.limits.maxBodyBytes = 1000; $0.limits.maxHeaderBytes = 1024; $0.limits.maxRequestLineBytes = 256 }) { server in
            let big = try await TestProcess.run("curl", ["-s", "-i", "--data-binary", "@-", "http://127.0.0.1:\(server.port)/echo"],
                                          input: String(repeating: "x", count: 5000))
            #expect(big.stdout.hasPrefix("HTTP/1.1 413 Content Too Large"))
            #expect(big.stdout.contains(#""code":"body_too_large""#))
            let longURI = try await TestProcess.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                       "http://127.0.0.1:\(server.port)/" + String(repeating: "a", count: 600)])
            #expect(longURI.stdout == "414")
            let bigHeader = try await TestProcess.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                                                         "X-Big: " + String(repeating: "b", count: 2000), "http://127.0.0.1:\(server.port)/hello"])
            #expect(bigHeader.stdout == "431")
            let smuggle = try RawConnection(port: server.port)
            smuggle.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
            let answer = await smuggle.readToEnd()
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request"))
            #expect(answer.contains("Connection: close"))
            #expect(!answer.contains("\r\n\r\nok"))  // the smuggled request was never served
            let version = try RawConnection(port: server.port)
            version.send("GET /hello HTTP/3.0\r\nHost: a\r\n\r\n")
            #expect(await version.readToEnd().hasPrefix("HTTP/1.1 505"))
        }
    }

    @Test func refusesMalformedRequestsThatArriveInLaterPackets() async throws {
        try await TestServer.with { server in
            let connection = try RawConnection(port: server.port)
            connection.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\n")
            #expect(await connection.readResponses(1).first?.body == "ok")
            connection.send("Host: a\r\nHost: b\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
            let rest = await connection.readToEnd()
            #expect(rest.hasPrefix("HTTP/1.1 400 Bad Request"))
            #expect(rest.contains("more than one Host header"))
            #expect(!rest.contains("\r\n\r\nok"))
        }
    }

    @Test func refusesAPortAnotherServerListensOn() async throws {
        try await TestServer.with { server in
            var configuration = HTTPServerConfiguration()
            configuration.port = server.port
            #expect(throws: SocketError.self) { try HTTPServer(configuration: configuration, router: TestServer.router()) }
        }
    }

    @Test func capsOpenConnections() async throws {
        try await TestServer.with({ $0.maxConnections = 2; $0.eventLoops = 1 }) { server in
            let first = try RawConnection(port: server.port)
            let second = try RawConnection(port: server.port)
            for connection in [first, second] {
                connection.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(await connection.readResponses(1).first?.status == 200)
            }
            let third = try RawConnection(port: server.port)
            let refused = await third.readToEnd()
            #expect(refused.hasPrefix("HTTP/1.1 503"))
            #expect(refused.contains("too_many_connections"))
        }
    }

    @Test func timesOutHandlersThatNeverAnswer() async throws {
        try await TestServer.with({ $0.handlerTimeoutMs = 200 }) { server in
            let connection = try RawConnection(port: server.port)
            connection.send("GET /slow?ms=3000 HTTP/1.1\r\nHost: a\r\n\r\n")
            let response = await connection.readResponses(1).first
            #expect(response?.status == 503)
            #expect(response?.body.contains("handler_timeout") == true)
        }
    }

    @Test func finishesInFlightRequestsOnShutdown() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.eventLoops = 2
        configuration.shutdownGraceMs = 5000
        let server = try HTTPServer(configuration: configuration, router: TestServer.router())
        server.start()
        let busy = try RawConnection(port: server.port)
        let idle = try RawConnection(port: server.port)
        idle.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(await idle.readResponses(1).first?.status == 200)
        busy.send("GET /slow?ms=300 HTTP/1.1\r\nHost: a\r\n\r\n")
        try await Task.sleep(for: .milliseconds(50))  // let the request reach its handler
        server.shutdown()
        let response = await busy.readResponses(1).first
        #expect(response?.status == 200)
        #expect(response?.body == "slow")
        #expect(response?.headers["connection"] == "close")
        #expect(await idle.isClosedByPeer())
        await server.stopped()
        #expect(throws: (any Error).self) { try RawConnection(port: server.port) }
    }
}
