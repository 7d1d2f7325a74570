/// What the shared SQL store needs of one database connection, whatever the backend.
///
/// The queries in `SQLStore` are written once, in the SQL that SQLite and PostgreSQL share:
/// positional parameters (`?`, or `?N` to reuse one), `RETURNING`, `ON CONFLICT ... DO NOTHING`,
/// ISO-8601 text timestamps made in Swift. What differs is named in `SQLDialect`. A backend
/// implements this protocol, a dialect and a migration plan (see docs/DESIGN.md "Store seam").
///
/// A connection belongs to one thread at a time: the server gives each worker thread its own.
public protocol SQLConnection: AnyObject {
    associatedtype Row: SQLRow

    /// The spellings this backend needs where SQLite and PostgreSQL differ.
    static var dialect: SQLDialect { get }

    /// Runs one or more statements without parameters or rows (schema scripts).
    func execute(_ sql: String) throws

    /// Runs a statement and maps each row. `cached`: keep the prepared statement for reuse
    /// (hot per-request queries); one-off SQL (migrations, reports) passes false.
    func query<T>(_ sql: String, _ arguments: [SQLBindable], cached: Bool, row transform: (Row) throws -> T) throws
        -> [T]

    /// Runs a statement and hands each row to `body` without collecting them (report scans).
    func forEachRow(_ sql: String, _ arguments: [SQLBindable], cached: Bool, _ body: (Row) throws -> Void) throws

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ arguments: [SQLBindable], cached: Bool) throws -> Int

    /// Runs `body` in a transaction whose writes are serialised with every other writer's, as
    /// if writers ran one at a time (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: `SERIALIZABLE`,
    /// retried on a serialisation failure, so `body` must only touch the database).
    func writeTransaction<T>(_ body: () throws -> T) throws -> T

    /// Runs `body` in a read-only transaction: several reads see one snapshot.
    func readTransaction<T>(_ body: () throws -> T) throws -> T

    /// Whether a transaction is open on this connection.
    var inTransaction: Bool { get }

    /// Schema introspection for migration guards and the migrations report.
    func tableExists(_ name: String) throws -> Bool
    func indexExists(_ name: String) throws -> Bool
    /// Every index on `table`: name, unique, partial, and its columns in index order.
    func indexes(on table: String) throws -> [SQLIndexFacts]

    /// A number that changes whenever any connection commits a change, read after this
    /// connection's last transaction without a round trip, or nil when the backend has none.
    /// Caches of rows (the token cache) stay valid while it does not move.
    var dataVersion: UInt64? { get }

    /// Runs `body` failing at once instead of waiting for another writer's lock: for
    /// best-effort writes that must not hold a request up.
    func withoutWaitingForLocks<T>(_ body: () throws -> T) throws -> T

    /// Runs one migration's steps in one transaction. SQLite turns foreign keys off around it,
    /// as its documented table-rebuild procedure requires; PostgreSQL's DDL is transactional and
    /// needs no rebuilds, so a plain write transaction does.
    func migrationTransaction(_ body: () throws -> Void) throws

    /// References left dangling by a migration, checked before it commits ("table row id").
    func danglingReferences() throws -> [String]
}

extension SQLConnection {
    public func query<T>(_ sql: String, _ arguments: [SQLBindable] = [], row transform: (Row) throws -> T) throws
        -> [T]
    { try query(sql, arguments, cached: true, row: transform) }

    public func query<T>(_ sql: String, cached: Bool, row transform: (Row) throws -> T) throws -> [T] {
        try query(sql, [], cached: cached, row: transform)
    }

    /// Streams rows of a one-off query (reports): not kept prepared.
    public func forEachRow(_ sql: String, _ arguments: [SQLBindable] = [], _ body: (Row) throws -> Void) throws {
        try forEachRow(sql, arguments, cached: false, body)
    }

    /// Runs a statement and maps its first row, if any.
    public func queryFirst<T>(
        _ sql: String, _ arguments: [SQLBindable] = [], cached: Bool = true, row transform: (Row) throws -> T
    ) throws -> T? {
        var first: T?
        try forEachRow(sql, arguments, cached: cached) { row in
            if first == nil { first = try transform(row) }
        }
        return first
    }

    @discardableResult
    public func run(_ sql: String, _ arguments: [SQLBindable] = []) throws -> Int {
        try run(sql, arguments, cached: true)
    }

    @discardableResult
    public func run(_ sql: String, cached: Bool) throws -> Int { try run(sql, [], cached: cached) }

    // Defaults for a backend that has nothing to add.
    public var dataVersion: UInt64? { nil }
    public func withoutWaitingForLocks<T>(_ body: () throws -> T) throws -> T { try body() }
    public func migrationTransaction(_ body: () throws -> Void) throws { try writeTransaction(body) }
    public func danglingReferences() throws -> [String] { [] }

    /// The highest applied migration, read-only (0 before any migration).
    public func schemaVersion() throws -> Int {
        guard try tableExists("schema_migrations") else { return 0 }
        return Int(try queryFirst("SELECT coalesce(max(version), 0) FROM schema_migrations") { $0.int(0) } ?? 0)
    }
}

/// One row of a running query, valid only inside the row closure (do not keep it).
/// Columns are numbered from 0 in select-list order.
public protocol SQLRow {
    func isNull(_ column: Int32) -> Bool
    func int(_ column: Int32) -> Int64
    func text(_ column: Int32) -> String
    func blob(_ column: Int32) -> [UInt8]
    func double(_ column: Int32) -> Double
}

extension SQLRow {
    public func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }
    public func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }
}

/// Where SQLite and PostgreSQL spell the same thing differently.
public struct SQLDialect: Sendable {
    /// The backend's name, for messages and `migrate status`.
    public var name: String
    /// An expression for the current UTC time as ISO-8601 text with milliseconds and `Z`.
    public var now: String
    /// Column type of an auto-numbered 64-bit primary key (with `PRIMARY KEY`).
    public var autoIncrementPrimaryKey: String
    /// Column type for bytes.
    public var blobType: String
    /// `string_agg`/`group_concat`: joins `expression` over a group with `separator` (a literal).
    public var concatenate: @Sendable (_ expression: String, _ separator: String) -> String
    /// A condition "the 64-bit integers `a` and `b` differ in at most `limit` bits", or nil when
    /// the backend has no popcount (SQLite: the candidates are checked in Swift, rows in process
    /// are cheap). PostgreSQL filters in the query so thousands of candidates never cross the wire.
    public var hammingWithin: (@Sendable (_ a: String, _ b: String, _ limit: String) -> String)?

    public init(
        name: String, now: String, autoIncrementPrimaryKey: String, blobType: String,
        concatenate: @escaping @Sendable (String, String) -> String,
        hammingWithin: (@Sendable (String, String, String) -> String)? = nil
    ) {
        self.name = name
        self.now = now
        self.autoIncrementPrimaryKey = autoIncrementPrimaryKey
        self.blobType = blobType
        self.concatenate = concatenate
        self.hammingWithin = hammingWithin
    }
}

/// One index as the backend's catalog records it.
public struct SQLIndexFacts: Equatable, Sendable {
    public var name: String
    public var isUnique: Bool
    public var isPartial: Bool
    public var columns: [String]

    public init(name: String, isUnique: Bool, isPartial: Bool, columns: [String]) {
        self.name = name
        self.isUnique = isUnique
        self.isPartial = isPartial
        self.columns = columns
    }
}
