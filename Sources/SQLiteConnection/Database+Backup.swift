import CSQLite
import SQLInterface

/// Online copies with SQLite's backup API: consistent while other connections write.
extension Database {
    /// Copies every page of this database into `destination` (this connection's `main` into
    /// the other's), in one step.
    ///
    /// One step holds a read transaction for the whole copy, so the copy is one snapshot; in WAL
    /// mode that blocks no writer (an incremental copy would restart each time another
    /// connection commits, and might never finish under load). "If the destination database is
    /// ... in use by another connection, sqlite3_backup_step() fails with SQLITE_BUSY": the
    /// step is retried within this connection's busy timeout.
    public func copy(into destination: Database) throws {
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw destination.error(sqlite3_errcode(destination.handle), sql: "backup")
        }
        var rc: Int32
        var waitedMilliseconds: Int32 = 0
        repeat {
            rc = sqlite3_backup_step(backup, -1)
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED {
                guard waitedMilliseconds < busyTimeoutMilliseconds else { break }
                sqlite3_sleep(50)
                waitedMilliseconds += 50
            }
        } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
        // "sqlite3_backup_finish() ... returns SQLITE_OK if no errors occurred" and frees the
        // backup object in every case.
        let finished = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else { throw SQLiteError(code: rc, message: "backup step failed", sql: "backup") }
        try destination.check(finished, sql: "backup")
    }
}
