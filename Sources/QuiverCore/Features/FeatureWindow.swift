// FeatureWindow: a time span such as `1m`, `5m`, `1h`, `24h`, `7d`, used as a sliding-window
// length or a decay half-life. Invariant: `seconds` is positive and whole; the textual form
// round-trips (`FeatureWindow("90s")!.name == "90s"`).

/// A positive duration in whole seconds, written `30s`, `5m`, `1h`, `24h`, `7d`.
public struct FeatureWindow: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// Length in seconds (positive).
    public let seconds: Int64

    /// Creates a window of `seconds` (must be positive).
    public init(seconds: Int64) {
        precondition(seconds > 0, "a window must be positive")
        self.seconds = seconds
    }

    /// Parses `30s`, `5m`, `1h`, `24h`, `7d`, or bare seconds; `nil` if malformed or not positive.
    public init?(_ text: String) {
        guard let last = text.last else { return nil }
        let multiplier: Int64
        var digits = Substring(text)
        switch last {
        case "s": multiplier = 1; digits = digits.dropLast()
        case "m": multiplier = 60; digits = digits.dropLast()
        case "h": multiplier = 3_600; digits = digits.dropLast()
        case "d": multiplier = 86_400; digits = digits.dropLast()
        case "w": multiplier = 604_800; digits = digits.dropLast()
        default: multiplier = 1
        }
        guard let n = Int64(digits), n > 0, n <= 3_650 * 86_400 / multiplier else { return nil }
        self.seconds = n * multiplier
    }

    /// The conventional textual form: `90s`, `5m`, `1h`, `24h`, `7d` (days only past one day).
    public var name: String {
        if seconds % 86_400 == 0, seconds > 86_400 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    public var description: String { name }

    public static func < (lhs: FeatureWindow, rhs: FeatureWindow) -> Bool { lhs.seconds < rhs.seconds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int64.self), n > 0 {
            self.seconds = n
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = FeatureWindow(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "window must look like 30s, 5m, 1h, 24h or 7d, got \(text)")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    /// One minute.
    public static let oneMinute = FeatureWindow(seconds: 60)
    /// Five minutes.
    public static let fiveMinutes = FeatureWindow(seconds: 300)
    /// One hour.
    public static let oneHour = FeatureWindow(seconds: 3_600)
    /// One day.
    public static let oneDay = FeatureWindow(seconds: 86_400)
    /// One week.
    public static let oneWeek = FeatureWindow(seconds: 604_800)
}
