/// Why a JSON document does not have the shape an endpoint expects; `path` names the field
/// (`items[3].sha256`), empty for the document itself.
public enum JSONShapeError: Error, Equatable {
    case missing(path: String)
    case wrongType(path: String)
}

/// Reads the members of one JSON object by name, for request bodies.
///
/// A member that appears twice counts with its last value, as in JavaScript's `JSON.parse`.
/// Unknown members are ignored, so clients may send more than an endpoint reads.
public struct JSONFields {
    private let members: [(String, JSONValue)]
    private let path: String

    /// Fails unless `value` is an object.
    public init(_ value: JSONValue, path: String = "") throws {
        guard case .object(let members) = value else { throw JSONShapeError.wrongType(path: path) }
        self.members = members
        self.path = path
    }

    private func fieldPath(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    /// The member's value; `null` counts as absent.
    private func lookup(_ name: String) -> JSONValue? {
        guard let value = members.last(where: { $0.0 == name })?.1, value != .null else { return nil }
        return value
    }

    public func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else { throw JSONShapeError.missing(path: fieldPath(name)) }
        return value
    }

    public func optionalString(_ name: String) throws -> String? {
        guard let value = lookup(name) else { return nil }
        guard case .string(let text) = value else { throw JSONShapeError.wrongType(path: fieldPath(name)) }
        return text
    }

    /// An integer member (a JSON number without a fraction, within `Int64`).
    public func optionalInt(_ name: String) throws -> Int64? {
        guard let value = lookup(name) else { return nil }
        guard case .int(let number) = value else { throw JSONShapeError.wrongType(path: fieldPath(name)) }
        return number
    }

    /// An array member, each element with its path (`name[i]`) for errors further down.
    public func array(_ name: String) throws -> [(path: String, value: JSONValue)] {
        guard let value = lookup(name) else { throw JSONShapeError.missing(path: fieldPath(name)) }
        guard case .array(let elements) = value else { throw JSONShapeError.wrongType(path: fieldPath(name)) }
        let base = fieldPath(name)
        return elements.enumerated().map { ("\(base)[\($0.offset)]", $0.element) }
    }
}

/// A request body type read from parsed JSON.
public protocol JSONReadable {
    init(json: JSONValue) throws
}
