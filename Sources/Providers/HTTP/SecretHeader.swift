/// A request header whose value came from an environment variable (an API token).
///
/// The value never appears in `description`, `debugDescription` or a mirror, so interpolating
/// or dumping a provider cannot leak it.
public struct SecretHeader: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let name: String
    /// The environment variable the value was read from (safe to show).
    public let environmentVariable: String
    /// `prefix + $ENV`, e.g. `Bearer <token>`.
    let value: String
    /// The env value alone; also redacted from messages.
    let secret: String

    public init(name: String, environmentVariable: String, prefix: String, secret: String) {
        self.name = name
        self.environmentVariable = environmentVariable
        self.secret = secret
        self.value = prefix + secret
    }

    /// The header line handed to curl.
    var line: String { "\(name): \(value)" }

    public var description: String { "\(name): [from $\(environmentVariable)]" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["name": name, "env": environmentVariable]) }
}
