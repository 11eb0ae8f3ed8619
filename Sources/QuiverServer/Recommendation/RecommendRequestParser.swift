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
            var reader = JSONScanner(bytes: bytes)
            guard let request = reader.recommendationRequest() else { return nil }
            reader.skipWhitespace()
            return reader.atEnd ? request : nil
        }
    }
}

extension JSONScanner {
    mutating func recommendationRequest() -> RecommendationRequest? {
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
                    guard let n = Int(text), text.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 >= 0x30 && $0 <= 0x39 }) else { return false }
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
                guard let context = reader.requestContext() else { return false }
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

    mutating func requestContext() -> RequestContext? {
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
}
