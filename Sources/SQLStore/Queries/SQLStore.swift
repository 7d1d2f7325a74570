import AssetDedupCore
@_exported import SQLInterface
@_exported import StoreProtocols

/// The project's queries on one database connection, written once for every SQL backend.
///
/// The SQL here is what SQLite and PostgreSQL share; where they differ the text comes from
/// `Connection.dialect` (see `SQLConnection`). One store per thread, like its connection.
public final class SQLStore<Connection: SQLConnection> {
    public typealias Row = Connection.Row
    public let db: Connection
    /// The backend's migration history (same versions and names on every backend).
    public let migrations: [Migration<Connection>]

    public init(db: Connection, migrations: [Migration<Connection>]) {
        self.db = db
        self.migrations = migrations
    }

    /// The current UTC time as ISO-8601 text, in this backend's SQL.
    static var now: String { Connection.dialect.now }
}

extension SQLStore {
    /// The applied schema version, read-only (0 before any migration).
    public func schemaVersion() throws -> Int { try db.schemaVersion() }
}
