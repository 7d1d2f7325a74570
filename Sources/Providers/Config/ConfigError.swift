/// A config file problem, with the file and entry named.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// A JSON decoding failure as one line with the JSON path: `providers[1].timeout: ...`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "top level" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let inside = path(context.codingPath)
            return "\(inside == "top level" ? "" : "\(inside): ")missing \"\(key.stringValue)\""
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(readable(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(readable(type)), found null"
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            return context.codingPath.isEmpty
                ? "not valid JSON\(underlying)"
                : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func readable(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Int.Type: return "a number"
        case is [String: String].Type: return "an object of strings"
        default: return type is any Collection.Type ? "a list" : "an object"
        }
    }
}
