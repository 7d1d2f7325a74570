/// Bad input from outside (a client, a CLI argument, a legacy row), with a stable code.
///
/// The code is what API clients match on (`{"error":{"code":...}}`); the message is for people.
public struct ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable machine-readable reason.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let invalidSHA256 = Code(rawValue: "invalid_sha256")
        public static let invalidProviderID = Code(rawValue: "invalid_provider_id")
        public static let invalidUserName = Code(rawValue: "invalid_user_name")
        public static let invalidID = Code(rawValue: "invalid_id")
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
