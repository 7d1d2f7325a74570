import CSQLite
import SQLInterface

/// A failed SQLite call: the extended result code, SQLite's message and the SQL that failed.
///
/// Callers match on `code` (or the helpers below) rather than on message text.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code (`sqlite3_extended_errcode`), e.g. 2067 for a UNIQUE violation.
    public let code: Int32
    public let message: String
    public let sql: String?

    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The primary result code (low byte of the extended code).
    public var primaryCode: Int32 { code & 0xff }
    /// A UNIQUE or PRIMARY KEY constraint refused the write.
    public var isUniqueViolation: Bool {
        code == CSQLITE_CONSTRAINT_UNIQUE || code == CSQLITE_CONSTRAINT_PRIMARYKEY
    }
    /// Another connection holds the lock longer than the busy timeout.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    /// A lock held past the busy timeout passes; anything else will fail again (`StoreFailure`).
    public var isTransient: Bool { isBusy }

    public var description: String {
        var text = "SQLite error \(code): \(message)"
        if let sql { text += " (in: \(sql.prefix(200)))" }
        return text
    }
}
