import AssetDedupCore

/// The project's queries on one SQLite connection.
///
/// Everything SQLite-specific (pragmas, `BEGIN IMMEDIATE`, `ON CONFLICT` spelling) stays behind
/// this type so that a PostgreSQL store can later offer the same methods.
public final class SQLiteStore {
    public let db: Database

    public init(db: Database) { self.db = db }

    /// Opens a connection to the file at `path` with the project's settings.
    public convenience init(path: String, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        self.init(db: try Database(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds))
    }

    static let now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
}

extension SQLiteStore {
    /// The applied schema version, read-only (0 before any migration).
    public func schemaVersion() throws -> Int { try db.schemaVersion() }
}
