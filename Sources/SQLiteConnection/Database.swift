import CSQLite
import SQLInterface

/// One SQLite connection, owned by one thread at a time.
///
/// The server gives each worker thread its own `Database`; nothing here is shared, so the
/// handle is opened with `SQLITE_OPEN_NOMUTEX` and the type is deliberately not `Sendable`.
public final class Database: SQLConnection {
    public static let dialect = SQLDialect(
        name: "sqlite",
        now: "strftime('%Y-%m-%dT%H:%M:%fZ','now')",
        autoIncrementPrimaryKey: "INTEGER PRIMARY KEY AUTOINCREMENT",
        blobType: "BLOB",
        concatenate: { expression, separator in "group_concat(\(expression), '\(separator)')" }
    )

    let handle: OpaquePointer
    public let path: String
    /// How long a statement waits for another connection's lock before failing with SQLITE_BUSY.
    public let busyTimeoutMilliseconds: Int32
    private var statementCache: [String: Statement] = [:]
    /// Runs once, before the first connection opens (see `csqlite_configure_process`).
    private static let processConfigured: Void = { _ = csqlite_configure_process() }()

    /// Opens (creating if needed) the database file and applies the connection settings the
    /// whole project relies on: WAL, a busy timeout, foreign keys, `synchronous=NORMAL`.
    public init(path: String, busyTimeoutMilliseconds: Int32 = 5_000, readOnly: Bool = false) throws {
        Self.processConfigured
        var handle: OpaquePointer?
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            // "Whether or not an error occurs when it is opened, resources associated with the
            // database connection handle should be released by passing it to sqlite3_close()."
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw SQLiteError(code: rc, message: "\(message): \(path)")
        }
        self.handle = handle
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        if !readOnly {
            try execute("PRAGMA journal_mode=WAL")
        }
        try execute("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL")
    }

    deinit {
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    // MARK: Errors

    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        let extended = sqlite3_extended_errcode(handle)
        let code = extended & 0xff == rc & 0xff ? extended : rc
        return SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    func check(_ rc: Int32, sql: String?) throws {
        guard rc == SQLITE_OK else { throw error(rc, sql: sql) }
    }

    // MARK: Running SQL

    /// Runs one or more statements that return no rows (schema scripts, pragmas).
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            let extended = sqlite3_extended_errcode(handle)
            throw SQLiteError(code: extended & 0xff == rc & 0xff ? extended : rc, message: text, sql: sql)
        }
    }

    /// Returns a prepared statement, reusing it when `cached` (hot queries run per request).
    func statement(_ sql: String, cached: Bool) throws -> Statement {
        if cached, let statement = statementCache[sql] {
            statement.reset()
            return statement
        }
        let statement = try Statement(database: self, sql: sql)
        if cached { statementCache[sql] = statement }
        return statement
    }

    /// Runs a statement and maps each row; bindings are positional (`?`).
    public func query<T>(
        _ sql: String, _ arguments: [SQLBindable], cached: Bool, row transform: (Row) throws -> T
    ) throws -> [T] {
        let statement = try statement(sql, cached: cached)
        defer { statement.reset() }
        try statement.bind(arguments.map(\.sqlValue))
        var rows: [T] = []
        while try statement.step() {
            rows.append(try transform(Row(handle: statement.handle)))
        }
        return rows
    }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ arguments: [SQLBindable], cached: Bool) throws -> Int {
        let statement = try statement(sql, cached: cached)
        defer { statement.reset() }
        try statement.bind(arguments.map(\.sqlValue))
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// The rowid of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Whether a transaction is open on this connection.
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: Transactions

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so two
    /// writers queue on the busy timeout instead of failing on lock upgrade half-way through.
    public func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if inTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Runs `body` with another busy timeout (0: fail at once when locked), then restores it.
    /// For best-effort writes that must not hold a request up behind a long writer.
    public func withBusyTimeout<T>(milliseconds: Int32, _ body: () throws -> T) rethrows -> T {
        sqlite3_busy_timeout(handle, milliseconds)
        defer { sqlite3_busy_timeout(handle, busyTimeoutMilliseconds) }
        return try body()
    }

    public func withoutWaitingForLocks<T>(_ body: () throws -> T) throws -> T {
        try withBusyTimeout(milliseconds: 0, body)
    }

    /// Runs `body` in a deferred (read) transaction, so several reads see one snapshot.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN DEFERRED")
        defer { if inTransaction { try? execute("COMMIT") } }
        return try body()
    }
}
