// UTF8Validator: incremental UTF-8 validation (RFC 3629) for text messages that arrive in
// fragments, so an invalid byte fails the message at once (close 1007) rather than at its end.
// A table-free state machine: it tracks how many continuation bytes are still due and the range
// the next one must fall in (to refuse overlong forms, surrogates and code points past U+10FFFF).

public struct UTF8Validator: Sendable {
    private var pending = 0  // continuation bytes still expected
    private var lower: UInt8 = 0x80  // allowed range of the next continuation byte
    private var upper: UInt8 = 0xBF

    public init() {}

    /// Whether the bytes so far end on a character boundary.
    public var isComplete: Bool { pending == 0 }

    /// Feeds more bytes; false as soon as they cannot be valid UTF-8.
    public mutating func validate(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let count = bytes.count
        while i < count {
            let b = bytes[i]
            if pending == 0 {
                // Fast path: runs of ASCII.
                if b < 0x80 { i += 1; continue }
                switch b {
                case 0xC2...0xDF: pending = 1; lower = 0x80; upper = 0xBF
                case 0xE0: pending = 2; lower = 0xA0; upper = 0xBF
                case 0xE1...0xEC, 0xEE...0xEF: pending = 2; lower = 0x80; upper = 0xBF
                case 0xED: pending = 2; lower = 0x80; upper = 0x9F
                case 0xF0: pending = 3; lower = 0x90; upper = 0xBF
                case 0xF1...0xF3: pending = 3; lower = 0x80; upper = 0xBF
                case 0xF4: pending = 3; lower = 0x80; upper = 0x8F
                default: return false
                }
            } else {
                guard b >= lower && b <= upper else { return false }
                pending -= 1
                lower = 0x80
                upper = 0xBF
            }
            i += 1
        }
        return true
    }

    public mutating func validate(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { validate($0) }
    }
}
