// EventType: the open set of user-behaviour event types (view, click, ... plus custom types from
// config). A type is its raw string; the built-ins are `static let` members, and custom types are
// any other non-empty name that the active feature definition set declares.

/// The kind of a user-behaviour event, such as `view` or `purchase`.
///
/// An open set: built-in types are static members, custom types come from configuration
/// (`FeatureDefinitionSet.customEventTypes`) and are created with `EventType(rawValue:)`.
public struct EventType: RawRepresentable, Hashable, Sendable, Codable, Comparable,
    ExpressibleByStringLiteral, CustomStringConvertible
{
    /// The wire name of the type, e.g. `add_to_cart`.
    public let rawValue: String

    /// Creates a type from its wire name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Creates a type from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: EventType, rhs: EventType) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The user looked at an item (impression opened, detail page).
    public static let view: EventType = "view"
    /// The user clicked an item.
    public static let click: EventType = "click"
    /// The user added an item to a cart.
    public static let addToCart: EventType = "add_to_cart"
    /// The user bought an item; `value` is usually the amount.
    public static let purchase: EventType = "purchase"
    /// The user rated an item; `value` is the rating.
    public static let rating: EventType = "rating"
    /// The user dwelt on an item; `value` is the dwell time in seconds.
    public static let dwell: EventType = "dwell"

    /// The built-in types, always accepted.
    public static let builtIn: [EventType] = [.view, .click, .addToCart, .purchase, .rating, .dwell]
}
