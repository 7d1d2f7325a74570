import Foundation

/// A dotted path into a JSON answer (`data.id`, `items.0.id`) naming the provider's asset id.
///
/// Services nest the id differently; a path in the config beats one adapter per service.
public struct JSONKeyPath: Sendable, Equatable, CustomStringConvertible {
    public let components: [String]

    /// Fails on an empty path or an empty component (`data..id`).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !text.isEmpty, !parts.contains(where: \.isEmpty) else { return nil }
        components = parts
    }

    public var description: String { components.joined(separator: ".") }

    /// The non-empty string or the integer at the path in `json`, as text; nil when the answer
    /// is not JSON or holds something else there. Numeric components index arrays.
    public func string(in json: Data) -> String? {
        guard var node = try? JSONDecoder().decode(JSONValue.self, from: json) else { return nil }
        for component in components {
            switch node {
            case .object(let members) where members[component] != nil: node = members[component]!
            case .array(let items) where Int(component).map(items.indices.contains) == true:
                node = items[Int(component)!]
            default: return nil
            }
        }
        switch node {
        case .string(let text) where !text.isEmpty: return text
        case .integer(let number): return String(number)
        default: return nil
        }
    }
}

/// Just enough JSON to walk a key path, keeping integers exact and booleans apart from numbers.
private indirect enum JSONValue: Decodable {
    case string(String)
    case integer(Int64)
    case other
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() || (try? container.decode(Bool.self)) != nil {
            self = .other
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if (try? container.decode(Double.self)) != nil {
            self = .other
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([JSONValue].self) {
            self = .array(items)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}
