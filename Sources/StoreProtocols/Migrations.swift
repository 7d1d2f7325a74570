/// Where one migration stands on a database.
public enum MigrationState: Equatable, Sendable {
    case applied(at: String)
    case pending
    /// Applied, but the code's checksum differs from the one recorded: someone edited it.
    case drifted(at: String, recorded: String)
    /// Recorded in the database but unknown to this binary (the database is newer).
    case unknown(at: String)
}

/// One line of `migrate status`.
public struct MigrationStatus: Equatable, Sendable {
    public let version: Int
    public let name: String
    public let state: MigrationState

    public init(version: Int, name: String, state: MigrationState) {
        self.version = version
        self.name = name
        self.state = state
    }
}

/// Why a migration run stopped. The database is left as it was before the failing migration.
public struct MigrationError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A guard refused the change (e.g. a downgrade that would break uniqueness).
        case refused
        /// The requested target version does not exist or is in the wrong direction.
        case badTarget
        /// The database has applied versions this binary does not know (it is newer).
        case unknownVersions
        /// Foreign keys were left dangling.
        case foreignKeyViolation
    }

    public let kind: Kind
    public let version: Int?
    public let message: String

    public init(_ kind: Kind, version: Int? = nil, _ message: String) {
        self.kind = kind
        self.version = version
        self.message = message
    }

    public var description: String {
        if let version { return "migration \(version): \(message)" }
        return message
    }
}
