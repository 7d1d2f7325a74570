import AssetDedupCore
import struct Crypto.SHA256
import SQLInterface

/// One versioned, reversible schema change.
///
/// A migration is a list of steps for each direction. Most steps are SQL; a few need Swift
/// (merging colliding rows, refusing an unsafe downgrade). The checksum covers the SQL text and
/// the names of the Swift steps, so editing an applied migration shows up as drift.
public struct Migration<Connection: SQLConnection>: Sendable {
    /// One unit of work inside a migration's transaction.
    public enum Step: Sendable {
        case sql(String)
        /// A named Swift step; bump the name when its behaviour changes so drift is visible.
        case swift(String, @Sendable (Connection) throws -> Void)
    }

    public let version: Int
    public let name: String
    public let up: [Step]
    public let down: [Step]
    /// True when the database is already in this migration's target state without a record of
    /// it (a legacy database made by the seed system): the migration is then recorded, not run.
    public let isAlreadyApplied: @Sendable (Connection) throws -> Bool

    public init(
        version: Int, name: String, up: [Step], down: [Step],
        isAlreadyApplied: @escaping @Sendable (Connection) throws -> Bool = { _ in false }
    ) {
        self.version = version
        self.name = name
        self.up = up
        self.down = down
        self.isAlreadyApplied = isAlreadyApplied
    }

    /// SHA-256 (hex) of both directions' SQL and Swift step names.
    public var checksum: String {
        var text = "\(version) \(name)\n"
        for (label, steps) in [("up", up), ("down", down)] {
            text += "-- \(label)\n"
            for step in steps {
                switch step {
                case .sql(let sql): text += sql + "\n"
                case .swift(let name, _): text += "-- swift: \(name)\n"
                }
            }
        }
        return SHA256Digest(bytes: SHA256.hash(data: Array(text.utf8))).hex
    }
}
