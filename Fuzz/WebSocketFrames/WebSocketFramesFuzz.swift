// WebSocketFramesFuzz: libFuzzer entry point for the WebSocket frame decoder and message
// assembler, with and without permessage-deflate. Built by scripts/fuzz-websocket.sh.
// The first input byte picks the mode:
//   even: the rest is raw client bytes, decoded and assembled as a connection would;
//   odd:  the rest is cut into messages that are compressed, fragmented and masked with our own
//         encoder, then decoded, inflated and checked against the originals (round trip).
// Invariants: no crash, no consumption past the input, messages never exceed the limit, the
// verdict does not depend on how raw bytes are split, and round trips are exact.
import CZlib

let maxMessage = 4096

func runRaw(_ chunks: [[UInt8]], deflate: Bool) -> [String] {
    var decoder = WebSocketFrameDecoder(maxFrameBytes: 2048, allowsCompression: deflate)
    decoder.requiresMask = true
    let codec = deflate ? PerMessageDeflateCodec(parameters: PerMessageDeflateParameters()) : nil
    let assembler = WebSocketMessageAssembler(maxMessageBytes: maxMessage, deflate: codec)
    var pending: [UInt8] = []
    var log: [String] = []
    for chunk in chunks {
        pending += chunk
        while true {
            let count = pending.count
            let (consumed, result) = pending.withUnsafeBufferPointer { decoder.decode($0) }
            precondition(consumed <= count)
            switch result {
            case .needMoreData:
                break
            case .failure(let error):
                log.append("fail \(error.code)")
                return log
            case .frame(let frame):
                pending.removeFirst(consumed)
                do {
                    let event = try assembler.receive(frame)
                    switch event {
                    case .text(let s): precondition(s.utf8.count <= maxMessage); log.append("text \(s.utf8.count)")
                    case .binary(let b): precondition(b.count <= maxMessage); log.append("binary \(b.count)")
                    case .close(let code, _): log.append("close \(code)"); return log
                    case .ping, .pong, .none: log.append("\(event)")
                    }
                } catch {
                    log.append("fail \(error.code)")
                    return log
                }
                continue
            }
            break
        }
    }
    return log
}

func roundTrip(_ data: [UInt8]) {
    var parameters = PerMessageDeflateParameters()
    parameters.clientNoContextTakeover = data.count % 3 == 0
    parameters.serverNoContextTakeover = parameters.clientNoContextTakeover
    let sender = PerMessageDeflateCodec(parameters: parameters)
    let receiver = PerMessageDeflateCodec(parameters: parameters)
    let assembler = WebSocketMessageAssembler(maxMessageBytes: 1 << 20, deflate: receiver)
    let decoder = WebSocketFrameDecoder(maxFrameBytes: 1 << 20, allowsCompression: true)
    let messages = data.split(separator: 0xFF, omittingEmptySubsequences: false).map(Array.init)
    for (i, message) in messages.enumerated() {
        guard let compressed = message.withUnsafeBufferPointer({ sender.compress($0) }) else { preconditionFailure("compress") }
        // Fragment the compressed payload into up to three frames.
        let cut1 = compressed.count / 3, cut2 = 2 * compressed.count / 3
        let parts = [Array(compressed[..<cut1]), Array(compressed[cut1..<cut2]), Array(compressed[cut2...])]
        var wire: [UInt8] = []
        for (k, part) in parts.enumerated() {
            WebSocketFrameEncoder.encode(k == 0 ? .binary : .continuation, payload: part, fin: k == 2, rsv1: k == 0,
                                         mask: (UInt8(i & 0xFF), 0x5A, 0xA5, 0x3C), into: &wire)
        }
        var result: [UInt8]?
        var offset = 0
        while offset < wire.count {
            let (consumed, decoded) = wire[offset...].withUnsafeBufferPointer { decoder.decode($0) }
            guard case .frame(let frame) = decoded else { preconditionFailure("decode: \(decoded)") }
            offset += consumed
            let event: WebSocketEvent
            do { event = try assembler.receive(frame) } catch { preconditionFailure("assemble: \(error)") }
            if case .binary(let bytes) = event { result = bytes }
        }
        precondition(result == message, "round trip changed message \(i)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let mode = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if mode & 1 == 1 {
        roundTrip(bytes)
    } else {
        let deflate = mode & 2 == 2
        let whole = runRaw([bytes], deflate: deflate)
        if bytes.count > 1 {
            let cut = Int(mode >> 2) % bytes.count
            let split = runRaw([Array(bytes[..<cut]), Array(bytes[cut...])], deflate: deflate)
            precondition(whole == split, "verdict depends on the split at \(cut): \(whole) vs \(split)")
        }
    }
    return 0
}
