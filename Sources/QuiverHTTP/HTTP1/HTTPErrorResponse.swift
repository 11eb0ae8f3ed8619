// HTTPErrorResponse: the one JSON error shape every error of the server uses, from the parser's
// 400s to a handler's validation failure:
//   {"error": {"status": 404, "code": "not_found", "message": "...", "field": "user_id"}}
// `field` is present only when one input field is at fault.

extension HTTPResponse {
    /// A JSON error response in the server's single error shape.
    /// - Parameters:
    ///   - status: the HTTP status.
    ///   - code: a stable machine-readable code in snake_case (`bad_request`, `not_found`, ...).
    ///   - message: a sentence for a human.
    ///   - field: the input field at fault, if one is.
    public static func error(
        _ status: HTTPStatus, code: String, message: String, field: String? = nil
    ) -> HTTPResponse {
        var json = #"{"error":{"status":"#
        json += String(status.code)
        json += #","code":"#
        JSONString.append(code, to: &json)
        json += #","message":"#
        JSONString.append(message, to: &json)
        if let field {
            json += #","field":"#
            JSONString.append(field, to: &json)
        }
        json += "}}"
        return .json(Array(json.utf8), status: status)
    }
}

/// Minimal JSON string escaping for the layer that must not depend on Foundation's encoder.
public enum JSONString {
    /// Appends `value` as a quoted, escaped JSON string.
    public static func append(_ value: String, to out: inout String) {
        out.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }

    /// `value` as a quoted, escaped JSON string.
    public static func quoted(_ value: String) -> String {
        var out = ""
        append(value, to: &out)
        return out
    }
}
