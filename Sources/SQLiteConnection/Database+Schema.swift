import CSQLite
import SQLInterface
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

    /// Indexes on `table` as SQLite records them (`pragma_index_list`, `pragma_index_info`).
    public func indexes(on table: String) throws -> [SQLIndexFacts] {
        try query(
            """
            SELECT il.name, il."unique", il.partial, group_concat(ii.name, ',')
            FROM pragma_index_list(?) il JOIN pragma_index_info(il.name) ii
            GROUP BY il.name ORDER BY il.name
            """, [table], cached: false
        ) { row in
            SQLIndexFacts(
                name: row.text(0), isUnique: row.int(1) == 1, isPartial: row.int(2) == 1,
                columns: row.text(3).split(separator: ",").map(String.init))
        }
    }

    public var dataVersion: UInt64? { UInt64(lastTransactionDataVersion) }

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

/// Migrations on SQLite: foreign keys off for the table rebuilds, `foreign_key_check` after.
extension Database {
    public func migrationTransaction(_ body: () throws -> Void) throws {
        try execute("PRAGMA foreign_keys=OFF")
        defer { try? execute("PRAGMA foreign_keys=ON") }
        try writeTransaction(body)
    }

    public func danglingReferences() throws -> [String] {
        try query("PRAGMA foreign_key_check", cached: false) { "\($0.text(0)) row \($0.int(1))" }
    }
}
