import CSQLite
/// Schema introspection used by migration guards and the migrations report.
extension Database {
    public func tableExists(_ name: String) throws -> Bool {
        try queryFirst("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", [name]) { _ in true } ?? false
    }

    public func indexExists(_ name: String) throws -> Bool {
        try queryFirst("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?", [name]) { _ in true } ?? false
    }

    /// The `CREATE ...` text of a schema object, as SQLite stored it.
    public func schemaSQL(_ name: String) throws -> String? {
        try queryFirst("SELECT sql FROM sqlite_schema WHERE name = ?", [name]) { $0.optionalText(0) } ?? nil
    }

    /// The highest applied migration, read-only (0 before any migration).
    public func schemaVersion() throws -> Int {
        guard try tableExists("schema_migrations") else { return 0 }
        return Int(try queryFirst("SELECT coalesce(max(version), 0) FROM schema_migrations") { $0.int(0) } ?? 0)
    }

    /// SQLite's count of changes to the file, by any connection including this one, as of this
    /// connection's last transaction (`SQLITE_FCNTL_DATA_VERSION`). Costs no statement and no
    /// lock: read it right after a transaction to know whether the data it saw has changed since
    /// an earlier one.
    public var lastTransactionDataVersion: UInt32 {
        var version: UInt32 = 0
        sqlite3_file_control(handle, "main", SQLITE_FCNTL_DATA_VERSION, &version)
        return version
    }

    /// `PRAGMA integrity_check` returns the single row "ok" on a sound file.
    public func integrityCheck() throws -> [String] {
        try query("PRAGMA integrity_check", cached: false) { $0.text(0) }
    }
}
