// JSONBody: Codable bodies in and out of HTTP messages. Decoding failures become the server's
// JSON 400 naming the field at fault; encoding uses snake_case keys as the API does.
import Foundation
import QuiverHTTP

enum JSONBody {
    /// Encodes `value` as a JSON response.
    static func response<T: Encodable>(_ value: T, status: HTTPStatus = .ok) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // JSON has no infinities or NaN; a value that is one (an empty window's min, say) is sent
        // as a string rather than failing the whole response.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return .json(Array(try encoder.encode(value)), status: status)
        } catch {
            return .error(.internalServerError, code: "encoding_failed", message: "could not encode the response")
        }
    }

    /// Decodes the request body, or returns the 4xx response that says what is wrong with it.
    static func decode<T: Decodable>(_ type: T.Type, from request: HTTPRequest) -> Result<T, ErrorResponse> {
        if let contentType = request.headers["content-type"], !contentType.lowercased().hasPrefix("application/json") {
            return .failure(ErrorResponse(.error(.unsupportedMediaType, code: "unsupported_media_type",
                                                 message: "expected Content-Type application/json, got '\(contentType)'")))
        }
        if request.body.isEmpty {
            return .failure(ErrorResponse(.error(.badRequest, code: "missing_body", message: "a JSON request body is required")))
        }
        do {
            return .success(try JSONDecoder().decode(T.self, from: Data(request.body)))
        } catch let error as DecodingError {
            return .failure(ErrorResponse(describe(error)))
        } catch {
            return .failure(ErrorResponse(.error(.badRequest, code: "invalid_json", message: "the body is not valid JSON")))
        }
    }

    static func describe(_ error: DecodingError) -> HTTPResponse {
        let fault = DecodingFault(error)
        if fault.field.isEmpty {
            return .error(.badRequest, code: "invalid_json", message: "the body is not valid JSON")
        }
        return .error(.badRequest, code: fault.isMissing ? "missing_field" : "invalid_field",
                      message: "\(fault.field) \(fault.message)", field: fault.field)
    }
}

/// What a DecodingError says about the input: the field at fault (`events[3].user_id`, empty when
/// the body is not JSON at all) and what is wrong with it.
struct DecodingFault {
    let field: String
    let message: String
    let isMissing: Bool

    init(_ error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }
                .joined().trimmingPrefix(".").description
        }
        switch error {
        case .keyNotFound(let key, let context):
            (field, message, isMissing) = (path(context.codingPath + [key]), "is required", true)
        case .typeMismatch(let type, let context):
            (field, message, isMissing) = (path(context.codingPath), "must be of type \(type)", false)
        case .valueNotFound(let type, let context):
            (field, message, isMissing) = (path(context.codingPath), "must be a \(type), not null", false)
        case .dataCorrupted(let context):
            (field, message, isMissing) = (path(context.codingPath), context.debugDescription, false)
        @unknown default:
            (field, message, isMissing) = ("", "could not be decoded", false)
        }
    }
}

/// An error response carried through `Result`.
struct ErrorResponse: Error {
    let response: HTTPResponse
    init(_ response: HTTPResponse) { self.response = response }
}
