import SQLInterface
import SQLiteConnection
import SQLStore

#if canImport(Glibc)
    import Glibc
#endif

/// `assetdedup backup` and `restore`: whole-database copies of the SQLite store.
///
/// Blobs are not in the database: they are immutable, content-addressed files, and a blob is
/// always committed before the row that names it, so a file-level copy of `<data>/blobs` taken
/// after the database backup holds every blob the backup names.
public enum StoreBackup {
    /// What a finished backup or restore holds.
    public struct Summary: Sendable, Equatable {
        public let schemaVersion: Int
        public let assets: Int
        public let bytes: Int64
    }

    /// Copies the live database at `source` to `target` as one consistent snapshot while the app
    /// keeps serving. Written to a temp file beside `target`, checked, fsynced, then renamed:
    /// `target` is either the old file or a complete new backup, never half of one.
    public static func backup(database source: String, to target: String) throws -> Summary {
        let temp = "\(target).tmp-\(getpid())"
        unlink(temp)
        defer { unlink(temp) }
        do {
            let live = try Database(path: source, readOnly: true)
            let copy = try Database(path: temp)
            try live.copy(into: copy)
            // A single self-contained file: no -wal beside it to forget.
            try copy.execute("PRAGMA journal_mode=DELETE")
            try verify(copy, path: target)
        }
        try syncFile(temp)
        guard rename(temp, target) == 0 else { throw BackupError("cannot rename \(temp) to \(target): \(errnoText)") }
        return try summary(of: Database(path: target, readOnly: true))
    }

    /// Replaces the database at `target` with the backup at `source`, page by page through
    /// SQLite (so its WAL and locks are honoured), in one transaction: on any failure `target`
    /// is unchanged. The caller makes sure no app serves `target` meanwhile.
    public static func restore(from source: String, to target: String) throws -> Summary {
        guard access(source, R_OK) == 0 else { throw BackupError("cannot read backup \(source): \(errnoText)") }
        let backup: Database
        do {
            backup = try Database(path: source, readOnly: true)
            try verify(backup, path: source)
        } catch let error as SQLiteError {
            throw BackupError("\(source) is not a usable AssetDedup backup: \(error.message)")
        }
        let live = try Database(path: target)
        try backup.copy(into: live)
        return try summary(of: live)
    }

    /// A backup is usable when SQLite finds it intact and its schema is one this binary knows.
    static func verify(_ db: Database, path: String) throws {
        let integrity = try db.integrityCheck()
        guard integrity == ["ok"] else {
            throw BackupError("\(path) failed integrity_check: \(integrity.prefix(5).joined(separator: "; "))")
        }
        let version = try db.schemaVersion()
        guard version <= MigrationPlan.latestVersion else {
            throw BackupError(
                "\(path) is at schema version \(version), newer than this binary's \(MigrationPlan.latestVersion)")
        }
    }

    static func summary(of db: Database) throws -> Summary {
        let version = try db.schemaVersion()
        let hasAssets = try db.tableExists("assets")
        let (count, bytes) =
            hasAssets
            ? try db.queryFirst("SELECT count(*), coalesce(sum(size), 0) FROM assets", cached: false) {
                (Int($0.int(0)), $0.int(1))
            } ?? (0, 0) : (0, 0)
        return Summary(schemaVersion: version, assets: count, bytes: bytes)
    }

    static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError("cannot open \(path): \(errnoText)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw BackupError("cannot fsync \(path): \(errnoText)") }
    }

    static var errnoText: String { String(cString: strerror(errno)) }
}

/// A backup or restore that cannot go ahead, with the reason in one line.
public struct BackupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
