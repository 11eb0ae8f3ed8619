// JSONScanner: a small strict reader of JSON text for the request fast paths (recommend bodies,
// event batches): objects, arrays, strings (escapes, surrogate pairs, validated UTF-8), numbers in
// JSON's grammar (kept as their text), true, false and null. Whatever it does not accept, the
// caller hands to Foundation's JSONDecoder, which decides and words the error.

enum JSONScalar {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
}

struct JSONScanner {
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
    mutating func object(_ field: (inout JSONScanner, String) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        // The keys seen so far: the first few on the stack, compared one by one (no hashing, no
        // allocation for the usual small object), the rest in a set.
        let fewCapacity = 8
        return withUnsafeTemporaryAllocation(of: String.self, capacity: fewCapacity) { few in
            var count = 0
            var many = Set<String>()
            defer { few.baseAddress!.deinitialize(count: min(count, fewCapacity)) }
            repeat {
                skipWhitespace()
                guard let key = string() else { return false }
                if count < fewCapacity {
                    for k in 0..<count where few[k] == key { return false }
                    (few.baseAddress! + count).initialize(to: key)
                } else {
                    if count == fewCapacity { many = Set(few) }
                    guard many.insert(key).inserted else { return false }
                }
                count += 1
                guard consume(UInt8(ascii: ":")) else { return false }
                skipWhitespace()
                guard field(&self, key) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}"))
        }
    }

    /// A string, number, true, false or null (nil for an object, an array or malformed text).
    mutating func scalar() -> JSONScalar? {
        skipWhitespace()
        guard i < bytes.count else { return nil }
        switch bytes[i] {
        case UInt8(ascii: "\""): return string().map(JSONScalar.string)
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number().map(JSONScalar.number)
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
        func digits(_ reader: inout JSONScanner) -> Int {
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
        // The usual string has no escape: validated straight from the input.
        var j = i
        var bits: UInt8 = 0  // every byte OR-ed: below 0x80 means ASCII
        while j < bytes.count, bytes[j] != UInt8(ascii: "\""), bytes[j] != UInt8(ascii: "\\"), bytes[j] >= 0x20 {
            bits |= bytes[j]
            j += 1
        }
        if j < bytes.count, bytes[j] == UInt8(ascii: "\"") {
            // ASCII (ids, types, names: nearly every string) is valid UTF-8 as it is; the generic
            // validating initialiser instantiated type metadata on every call (perf: 1 % of an
            // events batch's CPU) and is kept for strings with other bytes.
            let raw = UnsafeBufferPointer(rebasing: bytes[i..<j])
            let text = bits < 0x80 ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
            i = j + 1
            return text
        }
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

    /// Calls `element` for each element of an array (the scanner then at it); false if malformed
    /// or `element` answers false.
    mutating func array(_ element: (inout JSONScanner) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "[")) else { return false }
        if consume(UInt8(ascii: "]")) { return true }
        repeat {
            skipWhitespace()
            guard element(&self) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "]"))
    }

    /// Whether the next value is `null` (not consumed).
    mutating func nextIsNull() -> Bool {
        skipWhitespace()
        return i < bytes.count && bytes[i] == UInt8(ascii: "n")
    }
}
