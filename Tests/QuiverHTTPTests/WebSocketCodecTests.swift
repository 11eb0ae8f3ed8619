// WebSocketCodecTests: RFC 6455 sections 5-7 and RFC 7692 without sockets: frames decoded whole
// and split at every byte, each refusal with its close code, fragmentation with interleaved
// control frames, incremental UTF-8, close payloads, permessage-deflate and the handshake.
import Foundation
import Testing
@testable import QuiverHTTP

func clientFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false, masked: Bool = true) -> [UInt8] {
    var out: [UInt8] = []
    WebSocketFrameEncoder.encode(opcode, payload: payload, fin: fin, rsv1: rsv1, mask: masked ? (0x37, 0xFA, 0x21, 0x3D) : nil, into: &out)
    return out
}

func decode(_ bytes: [UInt8], decoder: WebSocketFrameDecoder = WebSocketFrameDecoder()) -> (Int, WebSocketFrameDecoder.Result) {
    bytes.withUnsafeBufferPointer { decoder.decode($0) }
}

@Suite struct WebSocketFrameTests {
    @Test(arguments: [0, 5, 125, 126, 127, 65535, 65536, 200_000])
    func decodesMaskedFramesOfEveryLengthForm(_ length: Int) {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let bytes = clientFrame(.binary, payload)
        let (consumed, result) = decode(bytes)
        #expect(consumed == bytes.count)
        #expect(result == .frame(WebSocketFrame(opcode: .binary, payload: payload)))
        // Every prefix asks for more.
        for cut in [0, 1, 2, 3, 5, 9, 13, bytes.count - 1] where cut < bytes.count {
            #expect(decode(Array(bytes[..<cut])).1 == .needMoreData, "prefix \(cut)")
        }
    }

    @Test func decodesTheRFCExamples() {
        // RFC 6455 section 5.7: a masked "Hello".
        let hello: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        #expect(decode(hello).1 == .frame(WebSocketFrame(opcode: .text, payload: Array("Hello".utf8))))
        let unmaskedServerHello: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        var out: [UInt8] = []
        WebSocketFrameEncoder.encode(.text, payload: Array("Hello".utf8), into: &out)
        #expect(out == unmaskedServerHello)
    }

    @Test func decodesFramesSplitAtEveryByte() {
        let stream = clientFrame(.text, Array("fragment one ".utf8), fin: false) + clientFrame(.ping, [1, 2, 3])
            + clientFrame(.continuation, Array(String(repeating: "ü", count: 100).utf8))
        for cut in 0...stream.count {
            var frames: [WebSocketFrame] = []
            var pending: [UInt8] = []
            for chunk in [Array(stream[..<cut]), Array(stream[cut...])] {
                pending += chunk
                while case (let n, .frame(let frame)) = decode(pending) {
                    frames.append(frame)
                    pending.removeFirst(n)
                }
            }
            #expect(frames.map(\.opcode) == [.text, .ping, .continuation], "split at \(cut)")
            #expect(pending.isEmpty)
        }
    }

    static let refusals: [(String, [UInt8], UInt16)] = [
        ("unmasked client frame", clientFrame(.text, Array("hi".utf8), masked: false), 1002),
        ("RSV2 set", { var f = clientFrame(.text, [0x61]); f[0] |= 0x20; return f }(), 1002),
        ("RSV3 set", { var f = clientFrame(.text, [0x61]); f[0] |= 0x10; return f }(), 1002),
        ("RSV1 without deflate", clientFrame(.text, [0x61], rsv1: true), 1002),
        ("opcode 3", { var f = clientFrame(.text, [0x61]); f[0] = 0x83; return f }(), 1002),
        ("opcode 11", { var f = clientFrame(.text, [0x61]); f[0] = 0x8B; return f }(), 1002),
        ("fragmented ping", clientFrame(.ping, [1], fin: false), 1002),
        ("ping over 125 bytes", clientFrame(.ping, [UInt8](repeating: 1, count: 126)), 1002),
        ("close over 125 bytes", clientFrame(.close, [3, 232] + [UInt8](repeating: 0x61, count: 124)), 1002),
        ("64-bit length with high bit", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], 1002),
    ]

    @Test(arguments: refusals.indices)
    func refusesProtocolViolations(_ index: Int) {
        let (name, bytes, code) = Self.refusals[index]
        guard case .failure(let error) = decode(bytes).1 else { Issue.record("\(name): accepted"); return }
        #expect(error.code.rawValue == code, "\(name)")
    }

    @Test func refusesFramesOverTheLimitWith1009() {
        let decoder = WebSocketFrameDecoder(maxFrameBytes: 1000)
        guard case .failure(let error) = decode(clientFrame(.binary, [UInt8](repeating: 0, count: 1001)), decoder: decoder).1 else {
            Issue.record("accepted"); return
        }
        #expect(error.code == .messageTooBig)
        // Refused from the header alone, before the payload arrives.
        let header = Array(clientFrame(.binary, [UInt8](repeating: 0, count: 70_000))[..<14])
        #expect(decode(header, decoder: decoder).1 == .failure(WebSocketProtocolError(.messageTooBig, "frame of 70000 bytes exceeds 1000")))
    }
}

func failureCode(_ results: [Result<WebSocketEvent, WebSocketProtocolError>]) -> WebSocketCloseCode? {
    if case .failure(let error)? = results.last { return error.code }
    return nil
}

@Suite struct WebSocketAssemblerTests {
    func feed(_ frames: [WebSocketFrame], _ assembler: WebSocketMessageAssembler = WebSocketMessageAssembler()) -> [Result<WebSocketEvent, WebSocketProtocolError>] {
        var out: [Result<WebSocketEvent, WebSocketProtocolError>] = []
        for frame in frames {
            do { out.append(.success(try assembler.receive(frame))) } catch { out.append(.failure(error)); break }
        }
        return out
    }

    @Test func joinsFragmentsAroundControlFrames() {
        let euro = Array("€".utf8)  // split across fragments
        let events = feed([
            WebSocketFrame(fin: false, opcode: .text, payload: Array("a".utf8) + [euro[0]]),
            WebSocketFrame(opcode: .ping, payload: [7]),
            WebSocketFrame(fin: false, opcode: .continuation, payload: [euro[1]]),
            WebSocketFrame(fin: true, opcode: .continuation, payload: [euro[2]] + Array("b".utf8)),
            WebSocketFrame(opcode: .binary, payload: [0, 255]),
        ])
        let expected: [WebSocketEvent] = [WebSocketEvent.none, .ping([7]), WebSocketEvent.none, .text("a€b"), .binary([0, 255])]
        #expect(events.compactMap { try? $0.get() } == expected)
    }

    @Test func refusesBadSequences() {
        let orphan = feed([WebSocketFrame(opcode: .continuation, payload: [1])])
        #expect(failureCode(orphan) == .protocolError)
        let interleaved = feed([WebSocketFrame(fin: false, opcode: .text, payload: [0x61]), WebSocketFrame(opcode: .binary, payload: [1])])
        #expect(failureCode(interleaved) == .protocolError)
    }

    @Test func failsInvalidUTF8Fast() {
        // The first fragment is already invalid: refused before the message ends.
        let events = feed([WebSocketFrame(fin: false, opcode: .text, payload: [0x61, 0xC0, 0xAF])])
        #expect(events.count == 1)
        #expect(failureCode(events) == .invalidPayload)
        let truncated = feed([WebSocketFrame(opcode: .text, payload: [0x61, 0xE2, 0x82])])
        #expect(failureCode(truncated) == .invalidPayload)
    }

    @Test func limitsMessageSizeAcrossFragments() {
        let assembler = WebSocketMessageAssembler(maxMessageBytes: 10)
        let events = feed([WebSocketFrame(fin: false, opcode: .binary, payload: [UInt8](repeating: 0, count: 6)),
                           WebSocketFrame(fin: true, opcode: .continuation, payload: [UInt8](repeating: 0, count: 6))], assembler)
        #expect(failureCode(events) == .messageTooBig)
    }

    @Test(arguments: [
        ([], 1005, true), ([0x03], 0, false), ([0x03, 0xE8], 1000, true), ([0x0B, 0xB8], 3000, true), ([0x13, 0x87], 4999, true),
        ([0x03, 0xE7], 0, false), ([0x03, 0xEC], 0, false), ([0x03, 0xED], 0, false), ([0x03, 0xEE], 0, false),
        ([0x03, 0xF7], 0, false), ([0x0B, 0xB7], 0, false), ([0x13, 0x88], 0, false),
    ] as [([UInt8], UInt16, Bool)])
    func parsesClosePayloads(_ payload: [UInt8], _ code: UInt16, _ valid: Bool) {
        do {
            let event = try WebSocketMessageAssembler.parseClose(payload)
            #expect(valid)
            if case .close(let c, _) = event { #expect(c.rawValue == code) }
        } catch {
            #expect(!valid)
            #expect(error.code == .protocolError)
        }
    }

    @Test func refusesANonUTF8CloseReason() {
        #expect(throws: WebSocketProtocolError(.invalidPayload, "close reason is not valid UTF-8")) {
            try WebSocketMessageAssembler.parseClose([0x03, 0xE8, 0xFF])
        }
    }

    @Test func utf8ValidatorAgreesWithTheStandardLibrary() {
        var seed: UInt64 = 0x9E3779B97F4A7C15
        func next() -> UInt8 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: seed >> 33) }
        let interesting: [UInt8] = [0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x90, 0x8F]
        for _ in 0..<20_000 {
            let length = Int(next() % 6) + 1
            let bytes = (0..<length).map { _ in next() % 2 == 0 ? interesting[Int(next()) % interesting.count] : next() }
            var validator = UTF8Validator()
            let ok = validator.validate(bytes) && validator.isComplete
            #expect(ok == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }
}

@Suite struct PerMessageDeflateTests {
    @Test(arguments: [
        ("permessage-deflate", "permessage-deflate"),
        ("permessage-deflate; client_max_window_bits", "permessage-deflate"),
        ("permessage-deflate; client_max_window_bits=10", "permessage-deflate; client_max_window_bits=10"),
        ("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ("permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=10"),
        ("permessage-deflate; server_max_window_bits=8, permessage-deflate", "permessage-deflate"),
        ("permessage-deflate; unknown=1, permessage-deflate; client_no_context_takeover",
         "permessage-deflate; client_no_context_takeover"),
        ("x-webkit-deflate-frame, permessage-deflate", "permessage-deflate"),
    ])
    func negotiates(_ offer: String, _ answer: String) {
        #expect(PerMessageDeflateParameters.negotiate(offers: offer)?.responseHeader == answer)
    }

    @Test(arguments: ["permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits",
                      "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
                      "permessage-deflate; server_no_context_takeover=1", "permessage-deflate; client_max_window_bits=07", "foo"])
    func declines(_ offer: String) {
        #expect(PerMessageDeflateParameters.negotiate(offers: offer) == nil)
    }

    @Test(arguments: [false, true])
    func roundTripsMessagesWithAndWithoutContextTakeover(_ noContext: Bool) throws {
        var parameters = PerMessageDeflateParameters()
        parameters.serverNoContextTakeover = noContext
        parameters.clientNoContextTakeover = noContext
        let sender = PerMessageDeflateCodec(parameters: parameters)
        let receiver = PerMessageDeflateCodec(parameters: parameters)
        for message in ["", "hello hello hello hello", String(repeating: "{\"item\":42},", count: 5000), "hello hello hello hello"] {
            let bytes = Array(message.utf8)
            let compressed = try #require(bytes.withUnsafeBufferPointer { sender.compress($0) })
            let restored = try compressed.withUnsafeBufferPointer { try receiver.inflate($0, final: true, inflatedSoFar: 0, limit: 1 << 20) }
            #expect(restored == bytes)
        }
    }

    @Test func stopsADecompressionBomb() throws {
        let codec = PerMessageDeflateCodec(parameters: PerMessageDeflateParameters())
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        let bomb = try #require(zeros.withUnsafeBufferPointer { codec.compress($0) })
        #expect(bomb.count < 10_000)
        let receiver = PerMessageDeflateCodec(parameters: PerMessageDeflateParameters())
        #expect(throws: PerMessageDeflateError.tooLarge) {
            try bomb.withUnsafeBufferPointer { try receiver.inflate($0, final: true, inflatedSoFar: 0, limit: 64 * 1024) }
        }
    }
}

@Suite struct WebSocketHandshakeTests {
    func upgradeRequest(_ extra: [(String, String)] = [], drop: String? = nil) -> HTTPRequest {
        var headers = HTTPHeaders()
        let base = [("host", "a"), ("upgrade", "websocket"), ("connection", "keep-alive, Upgrade"),
                    ("sec-websocket-version", "13"), ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")]
        for (name, value) in base where name != drop { headers.add(name, value) }
        for (name, value) in extra { headers.add(name, value) }
        return HTTPRequest(method: .get, target: "/ws", headers: headers)
    }

    @Test func computesTheRFCAcceptValue() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func acceptsAndNegotiates() throws {
        var options = WebSocketOptions()
        options.subprotocols = ["quiver.v1", "chat"]
        let request = upgradeRequest([("sec-websocket-protocol", "other, chat, quiver.v1"),
                                      ("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")])
        let acceptance = try WebSocketHandshake.accept(request, options: options).get()
        #expect(acceptance.response.status.code == 101)
        #expect(acceptance.response.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(acceptance.subprotocol == "chat")
        #expect(acceptance.response.headers["sec-websocket-extensions"] == "permessage-deflate")
    }

    @Test(arguments: [
        ("sec-websocket-version", "8", nil, 426),
        (nil, nil, "sec-websocket-version", 426),
        (nil, nil, "upgrade", 426),
        (nil, nil, "sec-websocket-key", 400),
        ("sec-websocket-key", "c2hvcnQ=", "sec-websocket-key", 400),
    ] as [(String?, String?, String?, Int)])
    func refusesBadUpgrades(_ name: String?, _ value: String?, _ drop: String?, _ status: Int) {
        var extra: [(String, String)] = []
        var dropped = drop
        if let name, let value { extra.append((name, value)); if drop == nil { dropped = name } }
        switch WebSocketHandshake.accept(upgradeRequest(extra, drop: dropped), options: WebSocketOptions()) {
        case .success: Issue.record("accepted")
        case .failure(let refusal):
            #expect(refusal.response.status.code == status)
            if status == 426 { #expect(refusal.response.headers["sec-websocket-version"] == "13") }
        }
    }

    @Test func asksTheOriginHook() {
        var options = WebSocketOptions()
        options.acceptsOrigin = { $0 == "https://shop.example" }
        #expect((try? WebSocketHandshake.accept(upgradeRequest([("origin", "https://shop.example")]), options: options).get()) != nil)
        guard case .failure(let refusal) = WebSocketHandshake.accept(upgradeRequest([("origin", "https://evil.example")]), options: options) else {
            Issue.record("accepted a foreign origin"); return
        }
        #expect(refusal.response.status.code == 403)
    }
}
