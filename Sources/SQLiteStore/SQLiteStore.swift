import SQLInterface
@_exported import SQLStore
@_exported import SQLiteConnection

// The SQLite backend of the store seam: the generic `SQLStore` over `Database` (SQLiteConnection)
// with SQLite's migration plan. The embedded default.

/// The embedded default: SQLite through `Database`.
public typealias SQLiteStore = SQLStore<Database>

extension SQLStore where Connection == Database {
    public convenience init(db: Database) { self.init(db: db, migrations: MigrationPlan.all) }

    /// Opens a connection to the SQLite file at `path` with the project's settings.
    public convenience init(path: String, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        self.init(db: try Database(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds))
    }
}

extension Migrator where Connection == Database {
    /// SQLite's plan, the embedded default.
    public init(db: Database) throws { try self.init(db: db, plan: MigrationPlan.all) }
}

/// SQLite's errors are the store's failures: a unique violation and a busy lock mean the same here
/// as on any backend.
extension SQLiteError: SQLFailure {}
