// ConfigurationDocument: one way to read the declarative files (feature definitions, scenarios)
// and their bodies on reload: YAML is a superset of JSON, so either is loaded with Yams and then
// decoded through Codable via JSON. Errors are the loaders' own (Yams, DecodingError), so the
// callers can name the field at fault.
import Foundation
import Yams

enum ConfigurationDocument {
    /// The document is not an object (empty, a scalar, a list, or values JSON cannot hold).
    struct NotAnObject: Error, CustomStringConvertible {
        var description: String { "expected an object" }
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        guard let object = try Yams.load(yaml: text), object is [String: Any], JSONSerialization.isValidJSONObject(object) else {
            throw NotAnObject()
        }
        return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: object))
    }
}
