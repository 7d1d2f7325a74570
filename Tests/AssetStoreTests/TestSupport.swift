import AssetDedupCore
import SQLiteStore
import Foundation

/// Runs `body` with a fresh temp folder that is removed afterwards, whatever happens.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("assetdedup-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Runs `body` with a store on a fresh database file, migrated to `version` (default: latest).
func withTemporaryDatabase<T>(version: Int? = nil, _ body: (SQLiteStore, String) throws -> T) throws -> T {
    try withTemporaryDirectory { dir in
        let path = dir + "/test.sqlite"
        let store = try SQLiteStore(path: path)
        try Migrator(db: store.db).up(to: version)
        return try body(store, dir)
    }
}

/// Every row of a table, in primary-key order, with columns named: what "byte for byte" means.
func dump(_ db: Database, _ table: String) throws -> [[String: SQLValue]] {
    let columns = try db.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [table], cached: false) { $0.text(0) }
    let list = columns.joined(separator: ", ")
    return try db.query("SELECT \(list) FROM \(table) ORDER BY 1, 2", cached: false) { row in
        var values: [String: SQLValue] = [:]
        for (index, name) in columns.enumerated() { values[name] = row.value(Int32(index)) }
        return values
    }
}

/// The schema as structure (columns, indexes, foreign keys per table), to prove a round trip
/// or a refused migration left it as it was. SQLite's stored text is not compared: a table
/// rebuilt by rename is stored as `CREATE TABLE "assets"`, the same table in other spelling.
func schema(_ db: Database) throws -> [String] {
    let tables = try db.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", cached: false) { $0.text(0) }
    var lines: [String] = []
    for table in tables {
        lines += try db.query("SELECT cid, name, type, \"notnull\", coalesce(dflt_value, ''), pk FROM pragma_table_info(?)", [table], cached: false) {
            "\(table) column \($0.int(0)) \($0.text(1)) \($0.text(2)) notnull=\($0.int(3)) default=\($0.text(4)) pk=\($0.int(5))"
        }
        lines += try db.query("SELECT name, \"unique\", partial FROM pragma_index_list(?) ORDER BY name", [table], cached: false) {
            "\(table) index \($0.text(0)) unique=\($0.int(1)) partial=\($0.int(2))"
        }
        lines += try db.query("SELECT \"table\", \"from\", coalesce(\"to\", ''), on_delete FROM pragma_foreign_key_list(?)", [table], cached: false) {
            "\(table) fk \($0.text(1)) -> \($0.text(0)).\($0.text(2)) on delete \($0.text(3))"
        }
    }
    return lines
}

func digest(_ seed: UInt8) -> SHA256Digest { SHA256Digest(bytes: [UInt8](repeating: seed, count: 32)) }
