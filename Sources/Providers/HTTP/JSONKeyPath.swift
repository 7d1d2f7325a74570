import AssetDedupCore
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
        guard var node = json.withUnsafeBytes({ try? JSONValue.parse($0) }) else { return nil }
        for component in components {
            switch node {
            case .object(let members):
                // A repeated member counts with its last value, as in `JSONFields`.
                guard let member = members.last(where: { $0.0 == component }) else { return nil }
                node = member.1
            case .array(let items) where Int(component).map(items.indices.contains) == true:
                node = items[Int(component)!]
            default: return nil
            }
        }
        switch node {
        case .string(let text) where !text.isEmpty: return text
        case .int(let number): return String(number)
        default: return nil
        }
    }
}
