// PercentDecoding: RFC 3986 percent-decoding of path segments and query components, and the
// parsed query string. Decoding is strict: a `%` not followed by two hex digits, or bytes that
// are not UTF-8 after decoding, is an error the router turns into a 400.

/// A malformed percent-encoding.
public struct PercentDecodingError: Error, Sendable, Equatable {
    public let input: String
}

public enum PercentDecoding {
    /// Decodes `%XX` escapes; with `plusAsSpace` (query strings) `+` becomes a space.
    public static func decode(_ input: Substring, plusAsSpace: Bool = false) throws(PercentDecodingError) -> String {
        let utf8 = input.utf8
        if !utf8.contains(UInt8(ascii: "%")) && !(plusAsSpace && utf8.contains(UInt8(ascii: "+"))) {
            return String(input)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let b = utf8[i]
            if b == UInt8(ascii: "%") {
                let h = utf8.index(after: i)
                guard h != utf8.endIndex, let hi = hexValue(utf8[h]) else { throw PercentDecodingError(input: String(input)) }
                let l = utf8.index(after: h)
                guard l != utf8.endIndex, let lo = hexValue(utf8[l]) else { throw PercentDecodingError(input: String(input)) }
                bytes.append(hi << 4 | lo)
                i = utf8.index(after: l)
            } else {
                bytes.append(plusAsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
                i = utf8.index(after: i)
            }
        }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw PercentDecodingError(input: String(input)) }
        return s
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Decoded query parameters (`a=1&b=x+y&a=2`), in order; a key may repeat.
public struct QueryParameters: Sendable, Sequence {
    public typealias Element = (name: String, value: String)
    public private(set) var items: [Element] = []

    public init(parsing query: String) throws(PercentDecodingError) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = pair.firstIndex(of: "=") {
                let name = try PercentDecoding.decode(pair[..<eq], plusAsSpace: true)
                let value = try PercentDecoding.decode(pair[pair.index(after: eq)...], plusAsSpace: true)
                items.append((name, value))
            } else {
                items.append((try PercentDecoding.decode(pair, plusAsSpace: true), ""))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[Element]> { items.makeIterator() }

    /// The first value for `name`.
    public subscript(name: String) -> String? { items.first { $0.name == name }?.value }

    /// Every value for `name`, in order.
    public func values(_ name: String) -> [String] { items.filter { $0.name == name }.map(\.value) }
}
