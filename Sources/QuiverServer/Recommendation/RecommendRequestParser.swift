// RecommendRequestParser: a fast path for the common recommend body, a flat JSON object such as
// {"user_id": "u1", "n_recommendations": 10, "scenario": "homepage", "use_cache": true,
//  "context": {"device": "mobile", "attributes": {"k": "v"}}} — Foundation's JSONDecoder cost ~12% of a
// cache hit. It reads only what it is sure of and answers nil for anything else (filters, arrays,
// duplicate keys, a wrong type, a number that is not a plain integer where one is wanted, invalid
// UTF-8, trailing bytes...), so the caller falls back to JSONDecoder, which decides and words the
// error. Whenever it answers, the answer equals JSONDecoder's (tested on random bodies).

enum RecommendRequestParser {
    static func parse(_ body: [UInt8]) -> RecommendationRequest? {
        body.withUnsafeBufferPointer { bytes in
            var reader = Reader(bytes: bytes)
            guard let request = reader.request() else { return nil }
            reader.skipWhitespace()
            return reader.atEnd ? request : nil
        }
    }

    private enum Scalar {
        case string(String)
        case number(String)
        case bool(Bool)
        case null
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        var atEnd: Bool { i == bytes.count }

        mutating func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        /// Calls `field` for each key of an object (the reader then at its value); nil if malformed,
        /// a key repeats, or `field` answers false.
        mutating func object(_ field: (inout Reader, String) -> Bool) -> Bool {
            guard consume(UInt8(ascii: "{")) else { return false }
            if consume(UInt8(ascii: "}")) { return true }
            var seen = Set<String>()
            repeat {
                skipWhitespace()
                guard let key = string(), seen.insert(key).inserted, consume(UInt8(ascii: ":")) else { return false }
                skipWhitespace()
                guard field(&self, key) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}"))
        }

        mutating func request() -> RecommendationRequest? {
            var userID: String?
            var request = RecommendationRequest(userID: "")
            let ok = object { reader, key in
                switch key {
                case "user_id":
                    guard case .string(let s)? = reader.scalar() else { return false }
                    userID = s
                case "n_recommendations":
                    switch reader.scalar() {
                    case .null?: request.count = nil
                    case .number(let text)?:
                        guard let n = Int(text), text.allSatisfy({ $0 == "-" || $0.isASCII && $0.isNumber }) else { return false }
                        request.count = n
                    default: return false
                    }
                case "scenario":
                    switch reader.scalar() {
                    case .null?: request.scenario = nil
                    case .string(let s)?: request.scenario = s
                    default: return false
                    }
                case "use_cache":
                    switch reader.scalar() {
                    case .null?: request.useCache = nil
                    case .bool(let b)?: request.useCache = b
                    default: return false
                    }
                case "timestamp":
                    switch reader.scalar() {
                    case .null?: request.timestamp = nil
                    case .number(let text)?:
                        guard let t = Double(text), t.isFinite else { return false }
                        request.timestamp = t
                    default: return false
                    }
                case "context":
                    reader.skipWhitespace()
                    if reader.i < reader.bytes.count, reader.bytes[reader.i] == UInt8(ascii: "n") {
                        guard case .null? = reader.scalar() else { return false }
                        request.context = nil
                        return true
                    }
                    guard let context = reader.context() else { return false }
                    request.context = context
                case "filters":
                    return false  // JSONDecoder's job
                default:
                    // Ignored by JSONDecoder too, if it is a plain value.
                    guard reader.scalar() != nil else { return false }
                }
                return true
            }
            guard ok, let userID else { return nil }
            request.userID = userID
            return request
        }

        mutating func context() -> RequestContext? {
            var context = RequestContext()
            let ok = object { reader, key in
                switch key {
                case "device", "locale", "page", "item_id":
                    let value: String?
                    switch reader.scalar() {
                    case .null?: value = nil
                    case .string(let s)?: value = s
                    default: return false
                    }
                    switch key {
                    case "device": context.device = value
                    case "locale": context.locale = value
                    case "page": context.page = value
                    default: context.itemID = value
                    }
                case "attributes":
                    var attributes: [String: String] = [:]
                    reader.skipWhitespace()
                    if reader.i < reader.bytes.count, reader.bytes[reader.i] == UInt8(ascii: "n") {
                        guard case .null? = reader.scalar() else { return false }
                        context.attributes = [:]
                        return true
                    }
                    guard reader.object({ reader, name in
                        guard case .string(let s)? = reader.scalar() else { return false }
                        attributes[name] = s
                        return true
                    }) else { return false }
                    context.attributes = attributes
                default:
                    guard reader.scalar() != nil else { return false }
                }
                return true
            }
            return ok ? context : nil
        }

        /// A string, number, true, false or null (nil for an object, an array or malformed text).
        mutating func scalar() -> Scalar? {
            skipWhitespace()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "\""): return string().map(Scalar.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number().map(Scalar.number)
            default: return nil
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.count - i >= count else { return false }
            for k in 0..<count where bytes[i + k] != word.utf8Start[k] { return false }
            i += count
            return true
        }

        /// A number in JSON's grammar, as its text.
        mutating func number() -> String? {
            let start = i
            func digits(_ reader: inout Reader) -> Int {
                let from = reader.i
                while reader.i < reader.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(reader.bytes[reader.i]) { reader.i += 1 }
                return reader.i - from
            }
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "0") { i += 1 } else if digits(&self) == 0 { return nil }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard digits(&self) > 0 else { return nil }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits(&self) > 0 else { return nil }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        }

        /// A string with its escapes resolved; nil for invalid UTF-8, control characters or a bad escape.
        mutating func string() -> String? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                switch b {
                case UInt8(ascii: "\""):
                    return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard i < bytes.count else { return nil }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A high surrogate must be followed by \u and a low one.
                            guard literal("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(scalar) {
                            return nil
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        out.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default: return nil
                    }
                case 0..<0x20:
                    return nil
                default:
                    out.append(b)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard bytes.count - i >= 4 else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                i += 1
                let digit: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
            }
            return value
        }
    }
}
