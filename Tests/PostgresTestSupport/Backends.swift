import Foundation
import PostgresStore
import SQLiteStore
import StoreProtocols

/// The stores a contract suite runs on: one test body, each backend. PostgreSQL is left out
/// only when this run says so (`ASSETDEDUP_TEST_PG=skip`), and then it is not listed at all,
/// so a skipped backend never shows as a passing test.
public enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgresql
    public var description: String { rawValue }

    /// The backends this run reaches.
    public static var available: [Backend] { TestCluster.isSkipped ? [.sqlite] : allCases }
}

/// One fresh, migrated store of one backend for one test, and what a test needs beside it;
/// its folder and its database (a SQLite file there, or a PostgreSQL schema of its own) go
/// when it does. Sendable because nothing in it changes after `init` and `connect` opens a new
/// connection on whichever thread calls it; `store` itself stays on the test's own thread.
public final class StoreUnderTest: @unchecked Sendable {
    public let backend: Backend
    public let store: any AssetDedupStore
    /// A folder of the test's own (files it needs beside the store).
    public let directory: String
    private let open: () throws -> any AssetDedupStore
    private let first: ([SQLBindable], String) throws -> Int?
    private let change: ([SQLBindable], String) throws -> Void
    private let schema: TestSchema?

    public init(_ backend: Backend, version: Int? = nil, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        self.backend = backend
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        switch backend {
        case .sqlite:
            let path = directory + "/test.sqlite"
            let store = try SQLiteStore(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            _ = try Migrator(db: store.db).up(to: version)
            (self.store, schema) = (store, nil)
            open = { try SQLiteStore(path: path) }
            (first, change) = Self.rawSQL(on: store.db)
        case .postgresql:
            let schema = try TestSchema()
            let store = SQLStore(db: try PostgresConnection(url: schema.url))
            _ = try Migrator(db: store.db).up(to: version)
            (self.store, self.schema) = (store, schema)
            open = { SQLStore(db: try PostgresConnection(url: schema.url)) }
            (first, change) = Self.rawSQL(on: store.db)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// `integer` and `run` on one connection, whatever its backend.
    private static func rawSQL<C: SQLConnection>(on db: C) -> (
        first: ([SQLBindable], String) throws -> Int?, change: ([SQLBindable], String) throws -> Void
    ) {
        (
            { arguments, sql in try db.queryFirst(sql, arguments, cached: false) { Int($0.int(0)) } },
            { arguments, sql in try db.run(sql, arguments, cached: false) }
        )
    }

    /// Another connection to the same database, as another process or node would have.
    public func connect() throws -> any AssetDedupStore { try open() }

    /// The first column of the first row of `sql` (`?` placeholders on both backends), for the
    /// few checks no protocol exposes, such as how many rows a table holds.
    public func integer(_ sql: String, _ arguments: [SQLBindable] = []) throws -> Int? { try first(arguments, sql) }

    /// Runs a statement that returns no rows: a test's own setup, such as ageing a row.
    public func run(_ sql: String, _ arguments: [SQLBindable] = []) throws { try change(arguments, sql) }
}

/// Runs `body` on a fresh store of `backend` migrated to `version` (default: the latest).
public func withStore<T>(_ backend: Backend, version: Int? = nil, _ body: (StoreUnderTest) throws -> T) throws -> T {
    try body(try StoreUnderTest(backend, version: version))
}
