/// The numeric id of a user row.
public struct UserID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The numeric id of an asset row; what API clients see as `asset_id`.
public struct AssetID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    /// Parses a positive decimal id as it appears in a URL path or CLI argument.
    public init(parsing text: String) throws(ValidationError) {
        guard let value = Int64(text), value > 0 else {
            throw ValidationError(code: .invalidID, message: "asset id must be a positive integer, got '\(text)'")
        }
        self.rawValue = value
    }

    public var description: String { String(rawValue) }
    public static func < (lhs: AssetID, rhs: AssetID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A provider's configured id: a lower-case slug such as `pixverse` or `archive-2`.
///
/// Slugs end up in file paths, URLs and report tables, so they are kept to a safe alphabet.
public struct ProviderID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(parsing text: String) throws(ValidationError) {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count) else {
            throw ValidationError(
                code: .invalidProviderID, message: "provider_id must be 1 to 64 characters, got \(bytes.count)")
        }
        for (index, byte) in bytes.enumerated() {
            let isAlnum =
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            let isJoiner = byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            guard isAlnum || (index > 0 && isJoiner) else {
                throw ValidationError(
                    code: .invalidProviderID,
                    message: "provider_id must be a slug of a-z, 0-9, '-' and '_' starting with a letter or digit")
            }
        }
        self.rawValue = text
    }

    public var description: String { rawValue }
    public static func < (lhs: ProviderID, rhs: ProviderID) -> Bool { lhs.rawValue < rhs.rawValue }
}
